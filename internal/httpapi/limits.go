package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/signal"
)

// Abuse limits (per client IP unless stated). Each refusal is a 429 with a clear
// message and Retry-After.
const (
	wsLimitIv      = 30 // signaling connections per minute to one interview
	signalMsgLimit = 200
	signalMsgWin   = 10 * time.Second
)

type limiters struct {
	join, wsIP, wsInterview *auth.Throttle
}

func newLimiters(joinPerMin, wsPerMin int, now func() time.Time) limiters {
	return limiters{
		join:        auth.NewThrottle(joinPerMin, time.Minute, now),
		wsIP:        auth.NewThrottle(wsPerMin, time.Minute, now),
		wsInterview: auth.NewThrottle(wsLimitIv, time.Minute, now),
	}
}

// rateLimit counts every request in th under key(c) and refuses those beyond the limit.
func (s *Server) rateLimit(th *auth.Throttle, key func(*gin.Context) string, what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		k := key(c)
		if blocked, wait := th.Blocked(k); blocked {
			secs := int(wait.Seconds()) + 1
			c.Header("Retry-After", strconv.Itoa(secs))
			s.fail(c, http.StatusTooManyRequests, "Too many requests",
				fmt.Sprintf("Too many %s from your network. Wait %d seconds and try again.", what, secs))
			return
		}
		th.Fail(k) // counts the request
		c.Next()
	}
}

func byIP(c *gin.Context) string { return c.ClientIP() }

func byParam(name string) func(*gin.Context) string {
	return func(c *gin.Context) string { return name + ":" + c.Param(name) }
}

// newMessageLimiter bounds the signaling messages of one socket.
func newMessageLimiter() *signal.Limiter {
	return &signal.Limiter{Max: signalMsgLimit, Window: signalMsgWin}
}
