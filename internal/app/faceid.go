package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/vision"
)

// referenceReader reads candidates' reference photos for the interview
// service: faceid.DecodePhoto (limits, decode-bomb safe, EXIF dropped by
// re-encoding), then the face's descriptor with faceid's model. The face
// recogniser and the landmark model are loaded on the first upload (most
// servers never see one) and kept; a missing or altered model makes every
// upload interview.ErrNoFaceModel, logged once without any photo data.
type referenceReader struct {
	cfg    *config.Config
	logger *slog.Logger

	once  sync.Once
	model *faceid.Model
	vcfg  vision.Config
	err   error
}

var _ interview.PhotoReader = (*referenceReader)(nil)

// newReferenceReader returns the reader; model, when not nil, is the face
// recogniser the app already loaded (shared: only the landmark model is
// then loaded on the first upload).
func newReferenceReader(cfg *config.Config, logger *slog.Logger, model *faceid.Model) *referenceReader {
	return &referenceReader{cfg: cfg, logger: logger, model: model}
}

func (r *referenceReader) load() error {
	r.once.Do(func() {
		m := r.model
		if m == nil {
			path := r.cfg.FaceModel
			if path == "" {
				path = faceid.DefaultModelPath()
			}
			var err error
			if m, err = faceid.LoadModel(path, 1); err != nil {
				r.err = err
				r.logger.Error("reference photos are unavailable: face model", "err", err)
				return
			}
		}
		lm, err := vision.LoadLandmarker(r.cfg.LandmarkModel)
		if err != nil {
			if m != r.model {
				m.Close()
			}
			r.err = err
			r.logger.Error("reference photos are unavailable: landmark model", "path", r.cfg.LandmarkModel, "err", err)
			return
		}
		r.model = m
		r.vcfg = vision.Config{Landmarker: lm, Detector: vision.DetectorConfig{FrontalCascade: r.cfg.CascadePath}}
	})
	if r.err != nil {
		return interview.ErrNoFaceModel
	}
	return nil
}

// faceModelInstalled reports whether the face recogniser's file is where
// the configuration says: then sessions compare faces, and candidates are
// told so in the consent notice.
func faceModelInstalled(cfg *config.Config) bool {
	path := cfg.FaceModel
	if path == "" {
		path = faceid.DefaultModelPath()
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// ReadReference implements interview.PhotoReader.
func (r *referenceReader) ReadReference(data []byte) (store.ReferencePhoto, error) {
	p, err := faceid.DecodePhoto(data)
	if errors.Is(err, faceid.ErrPhoto) {
		return store.ReferencePhoto{}, &interview.InvalidError{Message: photoMessage(err)}
	}
	if err != nil {
		return store.ReferencePhoto{}, fmt.Errorf("app: reference photo: %w", err)
	}
	if err := r.load(); err != nil {
		return store.ReferencePhoto{}, err
	}
	s, err := r.model.DescribePhoto(p, r.vcfg)
	if errors.Is(err, faceid.ErrNoFace) {
		return store.ReferencePhoto{}, &interview.InvalidError{Message: "No face could be found in this photo, or it is too small, turned away or covered. " +
			"Use a photo where the candidate looks at the camera and the face is at least 100 pixels wide."}
	}
	if err != nil {
		return store.ReferencePhoto{}, fmt.Errorf("app: reference photo: %w", err)
	}
	b := p.Image.Bounds()
	return store.ReferencePhoto{JPEG: p.JPEG, Width: b.Dx(), Height: b.Dy(), Model: faceid.ModelName, Descriptor: s.D[:]}, nil
}

// photoMessage turns faceid's refusal ("faceid: unusable reference photo:
// the file is empty") into a sentence for the uploader.
func photoMessage(err error) string {
	msg := err.Error()
	if _, detail, ok := strings.Cut(msg, faceid.ErrPhoto.Error()+": "); ok {
		return "This photo cannot be used: " + detail + "."
	}
	return "This photo cannot be used: only JPEG and PNG photos within the size limits are accepted."
}
