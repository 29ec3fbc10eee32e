package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

const testAPIToken = "test-api-token-0123456789-abcdefghijklmnop"

type apiResp struct {
	status int
	body   string
	header http.Header
}

// apiCall sends a JSON request with c's cookies; token "" sends no Authorization header.
func apiCall(t *testing.T, env *apptest.Env, c *apptest.Client, method, path, token, body string, hdr ...string) apiResp {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{resp.StatusCode, string(b), resp.Header}
}

const newInterviewJSON = `{"candidate_name":"Api Candidate","candidate_email":"api@candidate.test","claimed_city":"Porto"}`

func TestAPIDisabledByDefault(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	c := env.NewClient()
	// No token is valid, so the request is an ordinary browser POST: CSRF first, then 404.
	if r := apiCall(t, env, c, http.MethodPost, "/api/interviews", testAPIToken, newInterviewJSON); r.status != http.StatusForbidden {
		t.Fatalf("API without LIVECHECK_API_TOKEN, no CSRF token: status %d, want 403 (%s)", r.status, r.body)
	}
	r := apiCall(t, env, c, http.MethodPost, "/api/interviews", testAPIToken, newInterviewJSON, "X-CSRF-Token", c.CSRF())
	if r.status != http.StatusNotFound {
		t.Fatalf("API without LIVECHECK_API_TOKEN: status %d, want 404 (%s)", r.status, r.body)
	}
}

func TestAPIInterviews(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_API_TOKEN": testAPIToken}})
	anon := env.NewClient()

	for _, tc := range []struct{ name, token string }{{"no token", ""}, {"wrong token", testAPIToken + "x"}, {"prefix of the token", testAPIToken[:20]}} {
		// With a valid CSRF token, so that only the Bearer check can refuse it.
		r := apiCall(t, env, anon, http.MethodPost, "/api/interviews", tc.token, newInterviewJSON, "X-CSRF-Token", anon.CSRF())
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: status %d (%s), want 401 with WWW-Authenticate", tc.name, r.status, r.body)
		}
	}

	// A Bearer request needs no CSRF token.
	r := apiCall(t, env, anon, http.MethodPost, "/api/interviews", testAPIToken, newInterviewJSON)
	if r.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.status, r.body)
	}
	var created wire.InterviewCreated
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || created.ID == 0 || !strings.HasPrefix(created.JoinURL, env.URL+"/join/") {
		t.Fatalf("create: %+v (%v)", created, err)
	}
	iv, err := env.Store.Interview(t.Context(), created.ID)
	if err != nil || iv.CandidateName != "Api Candidate" || iv.ClaimedCity != "Porto" || iv.Status != models.StatusScheduled {
		t.Fatalf("stored interview: %+v (%v)", iv, err)
	}
	// The link works for a candidate.
	if got := env.NewClient().Get(strings.TrimPrefix(created.JoinURL, env.URL)); got.Status != http.StatusOK {
		t.Errorf("join link: status %d", got.Status)
	}

	r = apiCall(t, env, anon, http.MethodGet, fmt.Sprintf("/api/interviews/%d", created.ID), testAPIToken, "")
	var got wire.Interview
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &got) != nil || got.Status != "scheduled" || got.Session != nil || got.Live != nil {
		t.Fatalf("get: status %d: %s", r.status, r.body)
	}
	if r := apiCall(t, env, anon, http.MethodGet, "/api/interviews/999999999", testAPIToken, ""); r.status != http.StatusNotFound {
		t.Errorf("unknown interview: status %d", r.status)
	}
	for _, action := range []string{"challenge", "end"} {
		r := apiCall(t, env, anon, http.MethodPost, fmt.Sprintf("/api/interviews/%d/%s", created.ID, action), testAPIToken, "")
		if r.status != http.StatusConflict {
			t.Errorf("%s on an interview that is not live: status %d (%s), want 409", action, r.status, r.body)
		}
	}

	for _, body := range []string{`{`, `{"candidate_name":"","candidate_email":"a@b.test"}`, `{"candidate_name":"X","candidate_email":"not an address"}`,
		`{"candidate_name":"X","candidate_email":"a@b.test","unknown":1}`} {
		if r := apiCall(t, env, anon, http.MethodPost, "/api/interviews", testAPIToken, body); r.status != http.StatusBadRequest {
			t.Errorf("body %s: status %d, want 400", body, r.status)
		}
	}
}

// A signed-in admin's cookie alone must not pass CSRF on /api: only the token is exempt.
func TestAPICookieOnlyPostIsCSRFProtected(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_API_TOKEN": testAPIToken}})
	admin := env.NewClient()
	admin.Login(env.CreateUser(models.RoleAdmin))
	r := apiCall(t, env, admin, http.MethodPost, "/api/interviews", "", newInterviewJSON)
	if r.status != http.StatusForbidden {
		t.Fatalf("cookie-only POST without CSRF token: status %d (%s), want 403", r.status, r.body)
	}
	r = apiCall(t, env, admin, http.MethodPost, "/api/interviews", "not-the-token", newInterviewJSON)
	if r.status != http.StatusForbidden {
		t.Fatalf("cookie POST with an invalid Bearer and no CSRF token: status %d, want 403", r.status)
	}
	// With the CSRF token the cookie is still no API credential.
	r = apiCall(t, env, admin, http.MethodPost, "/api/interviews", "", newInterviewJSON, "X-CSRF-Token", admin.CSRF())
	if r.status != http.StatusUnauthorized {
		t.Fatalf("cookie POST with CSRF token but no Bearer: status %d, want 401", r.status)
	}
	// A staff form POST with a valid token but no session: no CSRF error, but no user either.
	form := strings.NewReader(url.Values{"candidate_name": {"X"}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/interviews", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := env.NewClient().HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("staff form with only the API token: status %d, want 401", resp.StatusCode)
	}
}

// Staff signaling sockets accept the API token (load-generator viewers); other staff pages do not.
func TestAPITokenOnStaffSocket(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_API_TOKEN": testAPIToken}})
	rec := env.CreateUser(models.RoleRecruiter)
	iv, _ := env.CreateInterview("Socket Candidate", env.Clock.Now(), rec.ID)
	c := env.NewClient()
	ws := fmt.Sprintf("/ws/interviews/%d?mode=observe", iv.ID)
	// Not a WebSocket handshake: an admitted caller gets the upgrader's 400.
	if r := apiCall(t, env, c, http.MethodGet, ws, testAPIToken, ""); r.status != http.StatusBadRequest {
		t.Errorf("staff socket with the API token: status %d, want 400 (admitted)", r.status)
	}
	if r := apiCall(t, env, c, http.MethodGet, ws, "wrong", ""); r.status != http.StatusSeeOther {
		t.Errorf("staff socket with a wrong token: status %d, want 303", r.status)
	}
	if r := apiCall(t, env, c, http.MethodGet, fmt.Sprintf("/interviews/%d", iv.ID), testAPIToken, ""); r.status != http.StatusSeeOther {
		t.Errorf("staff page with the API token: status %d, want 303 (sign in)", r.status)
	}
}
