package eval

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/models"
)

func TestParseManifestFormat(t *testing.T) {
	src := "\ufeff# evaluation set\n" +
		"Label\tnotes\tFILE\tkind\r\n" +
		"\n" +
		"genuine\tfirst\tmedia/a.ivf\tvideo\r\n" +
		"GENUINE\t\tmedia/b.bin\taudio\r\n" +
		"tts\tsynthetic\t media/c.wav \t\r\n" +
		"# a comment in between\n" +
		"faceswap\t\t/abs/d.ivf\t\n"
	items, err := ParseManifest(strings.NewReader(src), "/data/set")
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{Line: 4, File: "media/a.ivf", Path: "/data/set/media/a.ivf", Label: Genuine, Kind: Video, Extra: map[string]string{"notes": "first"}},
		{Line: 5, File: "media/b.bin", Path: "/data/set/media/b.bin", Label: Genuine, Kind: Audio, Extra: map[string]string{"notes": ""}},
		{Line: 6, File: "media/c.wav", Path: "/data/set/media/c.wav", Label: TTS, Kind: Audio, Extra: map[string]string{"notes": "synthetic"}},
		{Line: 8, File: "/abs/d.ivf", Path: "/abs/d.ivf", Label: FaceSwap, Kind: Video, Extra: map[string]string{"notes": ""}},
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items: %+v", len(items), items)
	}
	for i := range want {
		g, w := items[i], want[i]
		if g.Line != w.Line || g.File != w.File || g.Path != filepath.FromSlash(w.Path) || g.Label != w.Label || g.Kind != w.Kind ||
			len(g.Extra) != len(w.Extra) || g.Extra["notes"] != w.Extra["notes"] {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestReadManifestResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sets", "dev")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "manifest.tsv")
	os.WriteFile(path, []byte("file\tlabel\nclips/x.wav\tgenuine\n../other/y.ivf\treplay\n"), 0o644)
	items, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Path != filepath.Join(sub, "clips", "x.wav") || items[0].Kind != Audio {
		t.Errorf("item 0 %+v", items[0])
	}
	if items[1].Path != filepath.Join(dir, "sets", "other", "y.ivf") || items[1].Kind != Video {
		t.Errorf("item 1 %+v", items[1])
	}
	if _, err := ReadManifest(filepath.Join(dir, "missing.tsv")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing manifest: %v", err)
	}
}

func TestParseManifestErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // substrings of the error, in order
	}{
		{"no file column", "path\tlabel\nx.wav\ttts\n", []string{":1:", `no "file" column`}},
		{"no label column", "file\tclass\nx.wav\ttts\n", []string{":1:", `no "label" column`}},
		{"duplicate column", "file\tlabel\tfile\nx\ttts\ty\n", []string{":1:", `"file" appears twice`}},
		{"unknown label", "file\tlabel\na.wav\ttts\nb.wav\tdeepfake\n", []string{":3:", `unknown label "deepfake"`, "genuine, photo"}},
		{"short row", "file\tlabel\tkind\na.wav\ttts\n", []string{":2:", "2 fields, header has 3"}},
		{"long row", "file\tlabel\na.wav\ttts\textra\n", []string{":2:", "3 fields, header has 2"}},
		{"spaces not tabs", "file\tlabel\na.wav tts\n", []string{":2:", "1 fields"}},
		{"empty file", "file\tlabel\n\tgenuine\n", []string{":2:", "empty file"}},
		{"unknown kind", "file\tlabel\tkind\na.wav\tgenuine\tmovie\n", []string{":2:", `unknown kind "movie"`}},
		{"kind contradicts label", "file\tlabel\tkind\na.wav\ttts\tvideo\n", []string{":2:", `contradicts label "tts"`}},
		{"genuine of unknown modality", "file\tlabel\na.dat\tgenuine\n", []string{":2:", "add a kind column"}},
		{"duplicate file", "file\tlabel\na.wav\ttts\n./a.wav\tgenuine\n", []string{":3:", "already listed on line 2"}},
		{"empty", "# only a comment\n\n", []string{"empty manifest"}},
		{"several problems", "file\tlabel\na.wav\tfoo\nb.wav\nc.wav\tbar\n", []string{":2:", ":3:", ":4:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest(strings.NewReader(c.src), "/d")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, models.ErrInvalid) {
				t.Errorf("error does not match models.ErrInvalid: %v", err)
			}
			msg := err.Error()
			rest := msg
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
			var me *ManifestError
			if !errors.As(err, &me) {
				t.Errorf("not a *ManifestError: %T", err)
			}
		})
	}
	// The path appears in errors from ReadManifest.
	path := filepath.Join(t.TempDir(), "m.tsv")
	os.WriteFile(path, []byte("file\tlabel\nx.wav\tnope\n"), 0o644)
	if _, err := ReadManifest(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("error lacks path and line: %v", err)
	}
}

// TestDevsetManifest parses the shared development manifest when it is
// present (it is not part of the repository; set LIVECHECK_DEVSET to its directory).
func TestDevsetManifest(t *testing.T) {
	dir := os.Getenv("LIVECHECK_DEVSET")
	if dir == "" {
		dir = "../../../shared/devset"
	}
	path := filepath.Join(dir, "manifest.tsv")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no devset manifest at %s (set LIVECHECK_DEVSET)", path)
	}
	items, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	count := map[Modality]int{}
	for _, it := range items {
		count[it.Kind]++
		if it.Extra["source"] == "" || !strings.HasPrefix(it.Path, filepath.Clean(dir)) {
			t.Errorf("line %d: %+v", it.Line, it)
		}
	}
	t.Logf("%d items: %d video, %d audio", len(items), count[Video], count[Audio])
	if count[Video] == 0 || count[Audio] == 0 {
		t.Errorf("expected both modalities: %v", count)
	}
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(knownManifest))
	f.Add([]byte("file\tkind\tlabel\tsource\tseconds\tnotes\nmedia/audio/wav/a.wav\taudio\tgenuine\tx@y:z\t15.00\tn\nmedia/video/ivf/b.ivf\tvideo\tfaceswap\tderived:g01\t7.27\tm\n"))
	f.Add([]byte("\ufeffLABEL\tFile\r\ntts\ta.wav\r\n# c\n\nphoto\tb.ivf\r\n"))
	f.Add([]byte("file\tlabel\nx\tunknown\n\tgenuine\na.wav\n"))
	f.Add([]byte("file\tlabel\tfile\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := ParseManifest(bytes.NewReader(data), "/base")
		if err != nil {
			if !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			if items != nil {
				t.Fatalf("items returned with an error")
			}
			return
		}
		seen := map[string]bool{}
		for _, it := range items {
			if !it.Label.Valid() || (it.Kind != Video && it.Kind != Audio) || it.File == "" || it.Path == "" || it.Line < 2 {
				t.Fatalf("bad item %+v", it)
			}
			if m := it.Label.Modality(); m != "" && m != it.Kind {
				t.Fatalf("attack %s in modality %s", it.Label, it.Kind)
			}
			if seen[it.Path] {
				t.Fatalf("duplicate path %s", it.Path)
			}
			seen[it.Path] = true
		}
	})
}
