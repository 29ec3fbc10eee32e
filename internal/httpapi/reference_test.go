package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

func readFace(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/faces/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngBomb is a valid PNG header declaring w×h pixels followed by a tiny
// IDAT: a decoder that trusted the header would allocate w*h*4 bytes.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func grayPNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 240, 240))
	for i := range img.Pix {
		img.Pix[i] = uint8(100 + i%7)
	}
	img.Set(0, 0, color.Gray{Y: 0})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReferencePhoto: the recruiter attaches, replaces and removes the
// candidate's reference photo on the interview page; it is stored
// re-encoded without metadata with its face's descriptor; unusable files
// get a clear refusal; another recruiter cannot touch it, a reviewer sees
// it (no-store, audited), the recruiter does not; every change is
// audited; nothing of the photo reaches the log.
func TestReferencePhoto(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	owner, other := env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleRecruiter)
	rev := env.CreateUser(models.RoleReviewer)
	iv, _ := env.CreateInterview("Photo Candidate", env.Clock.Now().Add(1e12), owner.ID)
	path := fmt.Sprintf("/interviews/%d/reference", iv.ID)
	rc := env.NewClient()
	rc.Login(owner)

	obama := readFace(t, "obama.jpg")
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"text file":   {[]byte("hello, I am not a photo"), "only JPEG and PNG"},
		"empty":       {[]byte{}, "the file is empty"},
		"PNG bomb":    {pngBomb(60000, 60000), "too large"},
		"tiny":        {pngBomb(20, 20), "too small"},
		"cut JPEG":    {obama[:4000], "damaged"},
		"no face":     {grayPNG(t), "No face could be found"},
		"over 10 MiB": {append(append([]byte{}, obama...), make([]byte, 10<<20)...), "at most 10485760"},
	} {
		r := rc.Upload(path, nil, "photo", "x.jpg", tc.data)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `role="alert"`) {
			t.Errorf("%s: status %d, want 400 saying %q: %.300s", name, r.Status, tc.want, pageError(r.Body))
		}
	}
	if r := rc.Upload(path, nil, "photo", "big.jpg", append(append([]byte{}, obama...), make([]byte, 12<<20)...)); r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "larger than 10 MB") {
		t.Errorf("12 MiB upload: %d %.200s", r.Status, r.Body)
	}
	if _, err := env.Store.ReferencePhotoOf(ctx, iv.ID); err == nil {
		t.Fatal("a refused upload stored a photo")
	}
	if r := rc.Upload(path, map[string][]string{"csrf_token": {"forged"}}, "photo", "o.jpg", obama); r.Status != http.StatusForbidden {
		t.Fatalf("upload without a valid CSRF token: %d", r.Status)
	}

	r := rc.Upload(path, nil, "photo", "obama.jpg", obama)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("attach: %d %.300s", r.Status, pageError(r.Body))
	}
	p, err := env.Store.ReferencePhotoOf(ctx, iv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 910 || p.Height != 1137 || len(p.Descriptor) != 128 || p.UploadedBy == nil || *p.UploadedBy != owner.ID {
		t.Fatalf("stored %dx%d, %d values, by %v", p.Width, p.Height, len(p.Descriptor), p.UploadedBy)
	}
	for _, meta := range []string{"Exif", "Canon", "Pete Souza", "http://ns.adobe.com"} {
		if bytes.Contains(p.JPEG, []byte(meta)) {
			t.Errorf("the stored photo still holds %q", meta)
		}
	}
	page := rc.Get(fmt.Sprintf("/interviews/%d", iv.ID))
	if !strings.Contains(page.Body, "A reference photo is attached (910×1137") || strings.Contains(page.Body, `id="reference-img"`) {
		t.Fatalf("the recruiter's page must say a photo is attached without showing it: %s", section(page.Body, `id="reference"`))
	}
	if r := rc.Get(path); r.Status != http.StatusForbidden {
		t.Fatalf("a recruiter viewing the photo: %d", r.Status)
	}
	if r := rc.Upload(path, nil, "photo", "astronaut.png", readFace(t, "astronaut.png")); r.Status != http.StatusSeeOther {
		t.Fatalf("replace: %d %.300s", r.Status, pageError(r.Body))
	}
	if p2, _ := env.Store.ReferencePhotoOf(ctx, iv.ID); p2 == nil || p2.Width != 512 {
		t.Fatalf("replaced photo: %+v", p2)
	}

	oc := env.NewClient()
	oc.Login(other)
	if r := oc.Upload(path, nil, "photo", "obama.jpg", obama); r.Status != http.StatusNotFound {
		t.Fatalf("another recruiter attaching: %d", r.Status)
	}
	if r := oc.Post(path+"/delete", nil); r.Status != http.StatusNotFound {
		t.Fatalf("another recruiter removing: %d", r.Status)
	}

	vc := env.NewClient()
	vc.Login(rev)
	if r := vc.Upload(path, nil, "photo", "obama.jpg", obama); r.Status != http.StatusForbidden {
		t.Fatalf("a reviewer attaching: %d", r.Status)
	}
	img := vc.Get(path)
	if img.Status != http.StatusOK || img.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(img.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("reviewer viewing the photo: %d %q %q", img.Status, img.Header.Get("Content-Type"), img.Header.Get("Cache-Control"))
	}
	if page := vc.Get(fmt.Sprintf("/interviews/%d", iv.ID)); !strings.Contains(page.Body, `id="reference-img"`) {
		t.Fatal("the reviewer's interview page does not show the reference photo")
	}

	if r := rc.Post(path+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.Status)
	}
	if _, err := env.Store.ReferencePhotoOf(ctx, iv.ID); err == nil {
		t.Fatal("the photo was not removed")
	}
	if r := vc.Get(path); r.Status != http.StatusNotFound {
		t.Fatalf("viewing a removed photo: %d", r.Status)
	}

	if err := env.Store.SetInterviewStatus(ctx, iv.ID, models.StatusLive, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if r := rc.Upload(path, nil, "photo", "obama.jpg", obama); r.Status != http.StatusConflict || !strings.Contains(r.Body, "while the interview is live") {
		t.Errorf("attaching during the call: %d %.200s", r.Status, pageError(r.Body))
	}
	entries, err := env.Store.AuditLog(ctx, fmt.Sprintf("interview:%d", iv.ID), 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Action]++
		if _, ok := e.Detail["descriptor"]; ok {
			t.Errorf("audit entry %s carries the descriptor", e.Action)
		}
	}
	for _, a := range []string{"reference.attach", "reference.replace", "reference.view", "reference.remove"} {
		if seen[a] != 1 {
			t.Errorf("audit %s: %d entries, want 1 (%v)", a, seen[a], seen)
		}
	}
	assertNoPhotoInLogs(t, env, p.JPEG, p.Descriptor)
}

// TestReferencePhotoAPI: the admin API attaches (PUT, the file as the
// body), reports and removes (DELETE) the reference photo.
func TestReferencePhotoAPI(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_API_TOKEN": testAPIToken}})
	ctx := context.Background()
	iv, _ := env.CreateInterview("Api Photo", env.Clock.Now().Add(1e12), 0)
	c := env.NewClient()
	path := fmt.Sprintf("/api/interviews/%d/reference", iv.ID)
	put := func(data []byte, token string) apiResp {
		return apiCall(t, env, c, http.MethodPut, path, token, string(data), "Content-Type", "image/jpeg")
	}
	if r := put(readFace(t, "obama.jpg"), ""); r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
		t.Fatalf("PUT without the token: %d", r.status)
	}
	if r := put([]byte("GIF89a not accepted"), testAPIToken); r.status != http.StatusBadRequest || !strings.Contains(r.body, "only JPEG and PNG") {
		t.Fatalf("PUT of a GIF: %d %s", r.status, r.body)
	}
	if r := put(pngBomb(60000, 60000), testAPIToken); r.status != http.StatusBadRequest || !strings.Contains(r.body, "too large") {
		t.Fatalf("PUT of a PNG bomb: %d %s", r.status, r.body)
	}
	r := put(readFace(t, "obama.jpg"), testAPIToken)
	var got wire.ReferencePhoto
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &got) != nil || got.Width != 910 || got.Model == "" {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	var ivw wire.Interview
	if r := apiCall(t, env, c, http.MethodGet, fmt.Sprintf("/api/interviews/%d", iv.ID), testAPIToken, ""); json.Unmarshal([]byte(r.body), &ivw) != nil || ivw.Reference == nil || ivw.Reference.Height != 1137 {
		t.Fatalf("GET interview: %s", r.body)
	}
	if strings.Contains(r.body, "descriptor") || strings.Contains(r.body, `"jpeg"`) {
		t.Fatalf("the API answer carries biometric data: %s", r.body)
	}
	if r := apiCall(t, env, c, http.MethodPut, "/api/interviews/999999/reference", testAPIToken, "x"); r.status != http.StatusNotFound {
		t.Fatalf("PUT to a missing interview: %d", r.status)
	}
	if r := apiCall(t, env, c, http.MethodDelete, path, testAPIToken, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := apiCall(t, env, c, http.MethodDelete, path, testAPIToken, ""); r.status != http.StatusNotFound {
		t.Fatalf("DELETE again: %d %s", r.status, r.body)
	}
	entries, _ := env.Store.AuditLog(ctx, fmt.Sprintf("interview:%d", iv.ID), 20)
	var actions []string
	for _, e := range entries {
		if e.Actor == "api" {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, ",") != "reference.remove,reference.attach" && strings.Join(actions, ",") != "reference.attach,reference.remove" {
		t.Fatalf("API audit entries: %v", actions)
	}
}

// assertNoPhotoInLogs fails when the server's log holds any piece of the
// photo or its descriptor.
func assertNoPhotoInLogs(t *testing.T, env *apptest.Env, jpeg []byte, d []float32) {
	t.Helper()
	logs := env.Logs.String()
	if len(jpeg) > 64 && (strings.Contains(logs, base64.StdEncoding.EncodeToString(jpeg[16:64])) || strings.Contains(logs, string(jpeg[16:64]))) {
		t.Error("the log holds photo bytes")
	}
	for _, v := range d[:8] {
		if s := fmt.Sprint(v); len(s) > 6 && strings.Contains(logs, s) {
			t.Errorf("the log holds a descriptor value %s", s)
		}
	}
}

// pageError is the error paragraph of a page (or its start).
func pageError(body string) string {
	if i := strings.Index(body, `class="error"`); i >= 0 {
		return body[i:min(len(body), i+300)]
	}
	return body[:min(len(body), 300)]
}

// section is the part of a page from marker on.
func section(body, marker string) string {
	if i := strings.Index(body, marker); i >= 0 {
		return body[i:min(len(body), i+800)]
	}
	return "(no " + marker + ")"
}

// TestConsentNamesFaceComparison: the candidate's notice names the
// comparison with the reference photo once one is attached (and the
// comparison across the organisation's interviews when the face model is
// installed); a photo attached after the candidate agreed sends them back
// to the notice, and their new consent records the notice that named it.
func TestConsentNamesFaceComparison(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	owner := env.CreateUser(models.RoleRecruiter)
	iv, token := env.CreateInterview("Consent Face", env.Clock.Now().Add(1e12), owner.ID)
	cand := env.NewClient()
	page := cand.Get("/join/" + token)
	if strings.Contains(page.Body, "reference photo") {
		t.Fatalf("the notice names a reference photo that does not exist: %s", section(page.Body, `id="notice-face"`))
	}
	if r := cand.Post("/join/"+token+"/consent", map[string][]string{"decision": {"given"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("consent: %d", r.Status)
	}
	if r := cand.Get("/join/" + token + "/check"); r.Status != http.StatusOK {
		t.Fatalf("check after consent: %d", r.Status)
	}

	rc := env.NewClient()
	rc.Login(owner)
	if r := rc.Upload(fmt.Sprintf("/interviews/%d/reference", iv.ID), nil, "photo", "obama.jpg", readFace(t, "obama.jpg")); r.Status != http.StatusSeeOther {
		t.Fatalf("attach: %d", r.Status)
	}
	if r := cand.Get("/join/" + token + "/check"); r.Status != http.StatusSeeOther {
		t.Fatalf("a consent that did not name the reference photo still opens the camera check: %d", r.Status)
	}
	page = cand.Get("/join/" + token)
	notice := section(page.Body, `id="notice-face"`)
	if !strings.Contains(page.Body, `id="notice-changed"`) || !strings.Contains(notice, "reference photo") || !strings.Contains(page.Body, `id="consent-decline"`) {
		t.Fatalf("the notice after a photo was attached: %s", notice)
	}
	if !strings.Contains(notice, "interviews of the last") {
		t.Fatalf("the notice does not name the comparison across interviews (face model installed): %s", notice)
	}
	if r := cand.Post("/join/"+token+"/consent", map[string][]string{"decision": {"given"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("consent again: %d", r.Status)
	}
	if r := cand.Get("/join/" + token + "/check"); r.Status != http.StatusOK {
		t.Fatalf("check after the new consent: %d", r.Status)
	}
	cons, err := env.Store.Consents(context.Background(), iv.ID)
	if err != nil || len(cons) != 2 {
		t.Fatalf("consents: %v %v", cons, err)
	}
	var notices []string
	for _, c := range cons {
		notices = append(notices, c.Notice)
	}
	if !strings.Contains(strings.Join(notices, " "), "+reference") || strings.Count(strings.Join(notices, " "), "+reference") != 1 {
		t.Fatalf("stored notices %v: exactly the second must name the reference photo", notices)
	}
}
