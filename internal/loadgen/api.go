package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/livecheck/livecheck/internal/wire"
)

// apiClient calls the server's admin JSON API with the Bearer token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func (a *apiClient) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode >= 300 {
		msg := strings.TrimSpace(string(b))
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, msg)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (a *apiClient) createInterview(ctx context.Context, name string) (wire.InterviewCreated, error) {
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "."))
	return a.createInterviewFor(ctx, name, slug+"@loadgen.invalid")
}

func (a *apiClient) createInterviewFor(ctx context.Context, name, email string) (wire.InterviewCreated, error) {
	var out wire.InterviewCreated
	_, err := a.do(ctx, http.MethodPost, "/api/interviews", wire.InterviewRequest{
		CandidateName: name, CandidateEmail: email, ScheduledAt: time.Now().UTC(),
		Notes: "created by livecheck loadgen"}, &out)
	return out, err
}

func (a *apiClient) interview(ctx context.Context, id int64) (wire.Interview, error) {
	var out wire.Interview
	_, err := a.do(ctx, http.MethodGet, fmt.Sprintf("/api/interviews/%d", id), nil, &out)
	return out, err
}

// post calls POST /api/interviews/:id/<action> (challenge, end) and returns the status.
func (a *apiClient) post(ctx context.Context, id int64, action string) (int, error) {
	return a.do(ctx, http.MethodPost, fmt.Sprintf("/api/interviews/%d/%s", id, action), nil, nil)
}
