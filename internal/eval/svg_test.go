package eval

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func TestWriteROCSVGIsWellFormed(t *testing.T) {
	rep, err := Evaluate(knownResults(t), "main", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	curves := append(rep.Curves(), Curve{Name: `odd <name> & "quotes"`, Points: ROC([]float64{0, 1}, []float64{0.5}), AUC: math.NaN()})
	var buf bytes.Buffer
	if err := WriteROCSVG(&buf, "ROC <main> & friends", curves); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	var root string
	depth, polylines := 0, 0
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = el.Name.Local
				if el.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", el.Name.Space)
				}
			}
			if el.Name.Local == "polyline" {
				polylines++
				for _, a := range el.Attr {
					if a.Name.Local == "points" && strings.Count(a.Value, ",") < 2 {
						t.Errorf("polyline with too few points: %q", a.Value)
					}
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			texts = append(texts, string(el))
		}
	}
	if root != "svg" || depth != 0 {
		t.Errorf("root %q, depth %d", root, depth)
	}
	if polylines != len(curves) {
		t.Errorf("%d polylines for %d curves", polylines, len(curves))
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"ROC <main> & friends", "main video (AUC 0.800)", `odd <name> & "quotes"`} {
		if !strings.Contains(all, want) {
			t.Errorf("text %q missing (escaping?)", want)
		}
	}
}
