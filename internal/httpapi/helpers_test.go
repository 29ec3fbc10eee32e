package httpapi_test

import (
	"strconv"

	"github.com/livecheck/livecheck/internal/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func storeFilter(q string) store.InterviewFilter { return store.InterviewFilter{Search: q} }
