package interview

import (
	"context"
	"errors"
	"fmt"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// ErrNoFaceModel reports that this server cannot read reference photos: the
// face recogniser is not installed (scripts/setup.sh converts it).
var ErrNoFaceModel = errors.New("interview: face comparison is not available on this server")

// ErrNoReference reports an interview (in the actor's scope) without a
// reference photo; it wraps models.ErrNotFound.
var ErrNoReference = fmt.Errorf("interview: no reference photo: %w", models.ErrNotFound)

// noReference turns the store's not-found into ErrNoReference.
func noReference(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return ErrNoReference
	}
	return err
}

// PhotoReader checks an uploaded reference photo (format, size and pixel
// limits, decode-bomb safe), re-encodes it without metadata and describes
// its face; internal/app implements it with internal/faceid. Its errors
// are *InvalidError (a message for the uploader), ErrNoFaceModel, or
// failures of the server. It never logs the photo or its descriptor.
type PhotoReader interface {
	ReadReference(data []byte) (store.ReferencePhoto, error)
}

// WithPhotos makes the service read reference photos with r (nil: none
// can be attached, ErrNoFaceModel).
func (s *Service) WithPhotos(r PhotoReader) *Service {
	s.photos = r
	return s
}

// AttachReference reads data with the service's PhotoReader and stores it
// as the interview's reference photo (replacing any earlier one), audited
// as "reference.attach" or "reference.replace". Recruiters (their own
// interviews), admins and the API token may; a live interview keeps the
// photo it started with (models.ErrConflict). A photo that cannot be used
// is an *InvalidError with the reason.
func (s *Service) AttachReference(ctx context.Context, a Actor, id int64, data []byte) (*store.ReferencePhoto, error) {
	iv, err := s.Get(ctx, a, id, Manage)
	if err != nil {
		return nil, err
	}
	if iv.Status == models.StatusLive {
		return nil, fmt.Errorf("interview: reference photo of a live interview: %w", models.ErrConflict)
	}
	if s.photos == nil {
		return nil, ErrNoFaceModel
	}
	p, err := s.photos.ReadReference(data)
	if err != nil {
		return nil, err
	}
	p.InterviewID, p.CreatedAt = iv.ID, s.now()
	if a.User != nil {
		p.UploadedBy = &a.User.ID
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		action := "reference.attach"
		if _, err := tx.ReferencePhotoOf(ctx, iv.ID); err == nil {
			action = "reference.replace"
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		if err := tx.SaveReferencePhoto(ctx, p); err != nil {
			return err
		}
		e := a.audit(action, iv.ID)
		e.Detail = map[string]any{"width": p.Width, "height": p.Height, "model": p.Model} // never the image or its descriptor
		return tx.Audit(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// RemoveReference deletes the interview's reference photo, audited as
// "reference.remove"; ErrNoReference when there is none. The same
// people as AttachReference may, also not during a live interview.
func (s *Service) RemoveReference(ctx context.Context, a Actor, id int64) error {
	iv, err := s.Get(ctx, a, id, Manage)
	if err != nil {
		return err
	}
	if iv.Status == models.StatusLive {
		return fmt.Errorf("interview: reference photo of a live interview: %w", models.ErrConflict)
	}
	return s.store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.ReferencePhotoOf(ctx, iv.ID); err != nil {
			return noReference(err)
		}
		if err := tx.DeleteReferencePhoto(ctx, iv.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, a.audit("reference.remove", iv.ID))
	})
}

// Reference returns the interview's reference photo for viewing, audited as
// "reference.view" (biometric evidence): reviewers and admins (the Evidence
// action) and the API token; ErrNoReference when there is none.
func (s *Service) Reference(ctx context.Context, a Actor, id int64) (*store.ReferencePhoto, error) {
	iv, err := s.Get(ctx, a, id, Evidence)
	if err != nil {
		return nil, err
	}
	p, err := s.store.ReferencePhotoOf(ctx, iv.ID)
	if err != nil {
		return nil, noReference(err)
	}
	if err := s.store.InTx(ctx, func(tx *store.Store) error { return tx.Audit(ctx, a.audit("reference.view", iv.ID)) }); err != nil {
		return nil, err
	}
	return p, nil
}
