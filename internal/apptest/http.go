package apptest

import (
	"context"
	"net/http"
)

var httpDefault = &http.Client{}

func httpNewRequest(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
}
