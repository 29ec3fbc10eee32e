// Package eval measures presentation-attack detectors the way ISO/IEC 30107-3
// asks: APCER per attack type and BPCER on bona fide items at an operating
// threshold, plus ROC, AUC and EER. It reads the labelled manifest of an
// evaluation set, runs a scoring function over its items on a worker pool, and
// writes the results as a text table, JSON and a standalone SVG ROC plot.
//
// Scores follow one convention throughout: higher means more likely an attack.
// An item is classified as an attack when its score is >= the threshold.
package eval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/livecheck/livecheck/models"
)

// Label is the ground-truth class of an item.
type Label string

// Labels. Genuine is bona fide; every other label is an attack type (a
// presentation-attack instrument species in ISO/IEC 30107 terms).
const (
	Genuine     Label = "genuine"
	Photo       Label = "photo"       // printed or on-screen still photo (video)
	Replay      Label = "replay"      // replayed recording of the person (video)
	FaceSwap    Label = "faceswap"    // real-time face swap (video)
	TalkingHead Label = "talkinghead" // animated still / lip-sync generator (video)
	TTS         Label = "tts"         // text-to-speech (audio)
	VoiceConv   Label = "voiceconv"   // voice conversion (audio)
)

// Labels lists every known label: genuine first, then the video attacks, then the audio attacks.
var Labels = []Label{Genuine, Photo, Replay, FaceSwap, TalkingHead, TTS, VoiceConv}

// Valid reports whether l is a known label.
func (l Label) Valid() bool {
	return slices.Contains(Labels, l)
}

// Attack reports whether l is an attack type (anything but genuine).
func (l Label) Attack() bool { return l != Genuine && l.Valid() }

// Modality returns the modality an attack type belongs to, and "" for
// genuine (bona fide items exist in both modalities) and unknown labels.
func (l Label) Modality() Modality {
	switch l {
	case Photo, Replay, FaceSwap, TalkingHead:
		return Video
	case TTS, VoiceConv:
		return Audio
	}
	return ""
}

// Modality is the medium an item is judged on.
type Modality string

// Modalities.
const (
	Video Modality = "video"
	Audio Modality = "audio"
)

// Item is one row of a manifest.
type Item struct {
	// Line is the 1-based line number of the row in the manifest.
	Line int `json:"line"`
	// File is the file column as written.
	File string `json:"file"`
	// Path is File resolved against the manifest's directory (absolute Files are kept).
	Path string `json:"path"`
	// Label is the ground truth.
	Label Label `json:"label"`
	// Kind is the modality: from the kind column when present, else inferred.
	Kind Modality `json:"kind"`
	// Extra holds the other columns by header name (e.g. source, seconds, notes).
	Extra map[string]string `json:"extra,omitempty"`
}

// ManifestError is a problem in a manifest, with its location.
// It matches models.ErrInvalid with errors.Is.
type ManifestError struct {
	// Path is the manifest's path ("" when parsed from a reader).
	Path string
	// Line is the 1-based line number, 0 when the problem is not on one line.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error formats the problem as "eval: path:line: message".
func (e *ManifestError) Error() string {
	p := e.Path
	if p == "" {
		p = "manifest"
	}
	if e.Line > 0 {
		return fmt.Sprintf("eval: %s:%d: %s", p, e.Line, e.Msg)
	}
	return fmt.Sprintf("eval: %s: %s", p, e.Msg)
}

// Unwrap makes a ManifestError match models.ErrInvalid.
func (e *ManifestError) Unwrap() error { return models.ErrInvalid }

// Extensions used to infer the modality of genuine items without a kind column.
var (
	audioExt = []string{".wav", ".flac", ".ogg", ".opus"}
	videoExt = []string{".ivf", ".webm", ".mp4", ".mkv", ".mov", ".avi", ".y4m"}
)

// maxErrors bounds how many problems one parse reports.
const maxErrors = 20

// ReadManifest reads a manifest file; see ParseManifest for the format. Relative
// file paths are resolved against the directory holding the manifest.
func ReadManifest(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: open manifest: %w", err)
	}
	defer f.Close()
	items, err := parse(f, filepath.Dir(path), path)
	return items, err
}

// ParseManifest reads a manifest from r and resolves relative file paths
// against dir.
//
// The format is UTF-8 text with tab-separated columns (the devset's
// manifest.tsv). Blank lines and lines starting with '#' are skipped. The first
// other line is the header; column names are case-insensitive and must be
// unique. The columns file and label are required, kind (video|audio) is
// optional, and any other column is kept in Item.Extra. Every row must have
// exactly as many fields as the header; fields are trimmed of spaces.
//
// Labels: genuine, photo, replay, faceswap, talkinghead (video), tts and
// voiceconv (audio), case-insensitive. Without a kind value the modality is
// inferred from the label, and for genuine items from the file extension
// (.wav .flac .ogg .opus = audio; .ivf .webm .mp4 .mkv .mov .avi .y4m = video).
// A kind that contradicts an attack label, a duplicate file, an empty file or
// an unknown label is an error. All problems (up to 20) are reported together
// as *ManifestError values joined with errors.Join, each with its line number.
func ParseManifest(r io.Reader, dir string) ([]Item, error) {
	return parse(r, dir, "")
}

func parse(r io.Reader, dir, name string) ([]Item, error) {
	var errs []error
	fail := func(line int, format string, args ...any) bool {
		errs = append(errs, &ManifestError{Path: name, Line: line, Msg: fmt.Sprintf(format, args...)})
		return len(errs) >= maxErrors
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var (
		header          []string
		fileCol, labCol = -1, -1
		kindCol         = -1
		items           []Item
		seen            = map[string]int{}
		lineNo          int
	)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if header == nil {
			header = fields
			cols := map[string]int{}
			bad := false
			for i, h := range header {
				h = strings.ToLower(h)
				header[i] = h
				if h == "" {
					bad = true
					fail(lineNo, "header column %d has no name", i+1)
					continue
				}
				if j, dup := cols[h]; dup {
					bad = true
					fail(lineNo, "header column %q appears twice (columns %d and %d)", h, j+1, i+1)
					continue
				}
				cols[h] = i
			}
			var ok bool
			if fileCol, ok = cols["file"]; !ok {
				bad = true
				fail(lineNo, "header has no %q column (columns: %s)", "file", strings.Join(header, ", "))
			}
			if labCol, ok = cols["label"]; !ok {
				bad = true
				fail(lineNo, "header has no %q column (columns: %s)", "label", strings.Join(header, ", "))
			}
			if k, ok := cols["kind"]; ok {
				kindCol = k
			}
			if bad {
				return nil, errors.Join(errs...)
			}
			continue
		}
		if len(fields) != len(header) {
			if fail(lineNo, "row has %d fields, header has %d (fields are tab-separated)", len(fields), len(header)) {
				break
			}
			continue
		}
		it, msg := makeItem(fields, header, fileCol, labCol, kindCol, dir)
		if msg != "" {
			if fail(lineNo, "%s", msg) {
				break
			}
			continue
		}
		it.Line = lineNo
		if first, dup := seen[it.Path]; dup {
			if fail(lineNo, "file %q already listed on line %d", it.File, first) {
				break
			}
			continue
		}
		seen[it.Path] = lineNo
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &ManifestError{Path: name, Line: lineNo + 1, Msg: "read: " + err.Error()})
	}
	if header == nil && len(errs) == 0 {
		errs = append(errs, &ManifestError{Path: name, Msg: "empty manifest: no header row"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return items, nil
}

func makeItem(fields, header []string, fileCol, labCol, kindCol int, dir string) (Item, string) {
	it := Item{File: fields[fileCol], Label: Label(strings.ToLower(fields[labCol]))}
	if it.File == "" {
		return it, "empty file field"
	}
	if !it.Label.Valid() {
		names := make([]string, len(Labels))
		for i, l := range Labels {
			names[i] = string(l)
		}
		return it, fmt.Sprintf("unknown label %q (want one of %s)", fields[labCol], strings.Join(names, ", "))
	}
	if filepath.IsAbs(it.File) {
		it.Path = filepath.Clean(it.File)
	} else {
		it.Path = filepath.Join(dir, filepath.FromSlash(it.File))
	}
	kind := ""
	if kindCol >= 0 {
		kind = strings.ToLower(fields[kindCol])
	}
	switch kind {
	case "":
		it.Kind = it.Label.Modality()
		if it.Kind == "" { // genuine: from the extension
			ext := strings.ToLower(filepath.Ext(it.File))
			switch {
			case slices.Contains(audioExt, ext):
				it.Kind = Audio
			case slices.Contains(videoExt, ext):
				it.Kind = Video
			default:
				return it, fmt.Sprintf("cannot tell whether genuine item %q is audio or video: add a kind column (video|audio)", it.File)
			}
		}
	case string(Video), string(Audio):
		it.Kind = Modality(kind)
		if m := it.Label.Modality(); m != "" && m != it.Kind {
			return it, fmt.Sprintf("kind %q contradicts label %q (a %s attack)", kind, it.Label, m)
		}
	default:
		return it, fmt.Sprintf("unknown kind %q (want video or audio)", fields[kindCol])
	}
	for i, h := range header {
		if i == fileCol || i == labCol || i == kindCol {
			continue
		}
		if it.Extra == nil {
			it.Extra = map[string]string{}
		}
		it.Extra[h] = fields[i]
	}
	return it, ""
}
