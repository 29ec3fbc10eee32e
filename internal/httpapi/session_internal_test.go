package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/",
		"/":                             "/",
		"/review":                       "/review",
		"/interviews/7?tab=a%20b":       "/interviews/7?tab=a%20b",
		"/review?decision=failed":       "/review?decision=failed",
		"//evil.example/":               "/",
		"/\\evil.example/":              "/",
		"\\\\evil.example":              "/",
		"https://evil.example/":         "/",
		"evil.example":                  "/",
		"/\t/evil.example/path":         "/", // finding 7: Chromium drops the tab and follows //evil.example
		"/\n/evil.example":              "/",
		"/\r/evil.example":              "/",
		"/ /evil.example":               "/",
		"/\x00/evil.example":            "/",
		"/\u3000/evil.example":          "/",
		"/%09/evil.example":             "/%09/evil.example", // still encoded: a path segment on this site
		"javascript:alert(1)":           "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// browserResolve resolves a Location value as a browser does (WHATWG URL):
// leading and trailing C0 controls and spaces are stripped, tabs and newlines
// removed anywhere, and a backslash is a slash in http(s) URLs.
func browserResolve(base *url.URL, loc string) (*url.URL, error) {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(ref), nil
}

// FuzzSafeNext: whatever the query says, the redirect stays on this site as a
// browser reads it, and safeNext is idempotent.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/review", "//evil.example", "/\\evil.example", "/\t/evil.example/path",
		"/%09/evil.example", "https://evil.example", "/a?b=c#d", "/\x00", "/@evil.example", "/.//evil.example"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://livecheck.example/login?next=x")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if safeNext(got) != got {
			t.Fatalf("safeNext(%q) = %q is not stable", next, got)
		}
		u, err := browserResolve(base, got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse: %v", next, got, err)
		}
		if u.Scheme != "https" || u.Host != "livecheck.example" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q leaves the site: %s", next, got, u)
		}
	})
}
