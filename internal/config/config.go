// Package config reads livecheck's settings from environment variables.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ShutdownTimeout bounds a graceful stop (SIGTERM, SIGINT): draining the
// node (its live interviews handed over to other nodes, or ended and
// stored), the queued writes, River's running jobs. A deployment's grace
// period before it kills the process must be longer (kubernetes.yaml).
const ShutdownTimeout = 20 * time.Second

// Config is every setting of the server.
type Config struct {
	DatabaseURL    string
	ListenAddr     string
	BaseURL        string
	TrustedProxies []netip.Prefix
	LogFormat      string // text or json
	LogLevel       string // debug, info, warn, error
	SigningSecret  string // empty: generated on first start and kept in the database

	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string // starttls (default), tls, none

	SessionTTL   time.Duration
	LinkTTL      time.Duration // join link validity after the scheduled time
	PasswordCost int           // bcrypt cost

	// Media and analysis (the live room).
	ICEServers         []string // stun:/turn: URLs
	TURNUsername       string
	TURNPassword       string
	NAT1To1IPs         []string
	UDPPortMin         uint16
	UDPPortMax         uint16
	IncludeLoopback    bool
	ICEAllowPrivate    bool // contact clients' ICE candidates on private and loopback addresses
	RejoinGrace        time.Duration
	CascadePath        string
	LandmarkModel      string
	FaceModel          string // "" means faceid.DefaultModelPath()
	IdentityEvery      time.Duration
	AnalysisFPS        float64
	DecodeNice         int
	DecodeAll          bool // LIVECHECK_DECODE_SKIP=off
	Challenges         int
	InterviewLength    time.Duration
	ChallengeWarmUp    time.Duration
	ChallengeKinds     []string
	ChallengeMix       [][]string
	ChallengeLockAfter int
	ServerLocation     string
	GeoIPCity          string
	GeoIPASN           string
	GeoIPAnonymous     string
	ReuseDays          int
	WebhookPrivate     bool
	RiskReviewAt       float64
	RiskFailAt         float64
	LimitJoin          int
	LimitWS            int
	MaxLive            int
	RetentionDays      int

	// Several nodes on one database (docs/SCALING.md).
	NodeID        string        // this node's id; the host name when empty
	NodeURL       string        // where browsers reach this node directly; BaseURL when empty
	NodeHeartbeat time.Duration // heartbeat period; leases expire after 3 periods without one
	// What candidates are told on the consent page.
	OrgName        string // who invites them; "" shows "the organiser"
	PrivacyContact string // where to ask about their data (e-mail or URL); "" shows none

	// Operations: admin API, metrics, benchmarking.
	APIToken      string // Bearer token of the admin JSON API (/api/...); empty disables the API
	MetricsListen string // listen address of the Prometheus /metrics endpoint; empty: off
	Analysis      string // full (decode and analyse) or decode (decode only: the benchmark floor)
}

// Setting documents one environment variable.
type Setting struct {
	Env     string
	Default string
	Help    string
}

// Settings lists every variable, in the order `livecheck serve --help` prints them.
var Settings = []Setting{
	{"LIVECHECK_DATABASE_URL", "postgres://livecheck:livecheck@127.0.0.1:5432/livecheck?sslmode=disable", "PostgreSQL connection URL"},
	{"LIVECHECK_LISTEN", ":8080", "HTTP listen address"},
	{"LIVECHECK_BASE_URL", "http://localhost:8080", "public base URL used in links and e-mails"},
	{"LIVECHECK_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For is honoured"},
	{"LIVECHECK_LOG_FORMAT", "text", "log format: text or json"},
	{"LIVECHECK_LOG_LEVEL", "info", "log level: debug, info, warn, error"},
	{"LIVECHECK_SIGNING_SECRET", "", "secret for signed links (≥ 32 chars); generated and stored in the database when empty"},
	{"LIVECHECK_SMTP_HOST", "", "SMTP server; invites are not e-mailed when empty"},
	{"LIVECHECK_SMTP_PORT", "587", "SMTP port"},
	{"LIVECHECK_SMTP_USERNAME", "", "SMTP user (PLAIN auth, only over TLS)"},
	{"LIVECHECK_SMTP_PASSWORD", "", "SMTP password"},
	{"LIVECHECK_SMTP_FROM", "livecheck <noreply@localhost>", "sender address of invites"},
	{"LIVECHECK_SMTP_TLS", "starttls", "starttls (required), tls (implicit, port 465) or none (local relays only)"},
	{"LIVECHECK_SESSION_TTL", "12h", "staff login session lifetime"},
	{"LIVECHECK_LINK_TTL", "72h", "join link validity after the scheduled time"},
	{"LIVECHECK_PASSWORD_COST", "12", "bcrypt cost for staff passwords"},
	{"LIVECHECK_ICE_SERVERS", "", "comma-separated STUN/TURN URLs offered to browsers and used by the server"},
	{"LIVECHECK_TURN_USERNAME", "", "TURN username"},
	{"LIVECHECK_TURN_PASSWORD", "", "TURN credential"},
	{"LIVECHECK_NAT_1TO1_IPS", "", "comma-separated public IPs of this host for ICE (behind 1:1 NAT)"},
	{"LIVECHECK_UDP_PORT_MIN", "0", "lowest UDP port for media (0: any)"},
	{"LIVECHECK_UDP_PORT_MAX", "0", "highest UDP port for media (0: any)"},
	{"LIVECHECK_ICE_LOOPBACK", "false", "offer loopback ICE candidates (single-host tests only)"},
	{"LIVECHECK_ICE_ALLOW_PRIVATE", "false", "send ICE checks to browsers' candidates on loopback, private and link-local addresses (single-host tests, private networks); off: public addresses only"},
	{"LIVECHECK_REJOIN_GRACE", "60s", "how long a dropped candidate may rejoin the same session"},
	{"LIVECHECK_CASCADE", "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml", "OpenCV face cascade"},
	{"LIVECHECK_LANDMARK_MODEL", "/usr/share/dlib/shape_predictor_68_face_landmarks.dat", "dlib 68-point landmark model"},
	{"LIVECHECK_FACE_MODEL", "", "face recogniser converted by scripts/setup.sh (empty: $XDG_CACHE_HOME/livecheck/face/dlib-resnet-128.onnx, ~/.cache when unset)"},
	{"LIVECHECK_ANALYSIS_FPS", "5.5", "frames per second analysed outside challenges (on average)"},
	{"LIVECHECK_DECODE_SKIP", "on", "on: outside challenge windows, skip decoding the video frames whose VP8 header says no later frame depends on them (a sender's top temporal layer); off: decode every frame"},
	{"LIVECHECK_DECODE_NICE", "0", "video decoding runs this much nicer than the frames' analysis (Linux threads; 0: same priority)"},
	{"LIVECHECK_IDENTITY_EVERY", "2s", "one face embedded for the identity checks per this interval outside challenges (4 per second in challenges); each costs about 10-30 ms of CPU"},
	{"LIVECHECK_CHALLENGES", "5", "liveness challenges per interview (0 disables them)"},
	{"LIVECHECK_CHALLENGE_KINDS", "", "comma-separated challenge kinds allowed (empty: all of turn_head, look, blink, cover_face, move_closer, flash, read_digits)"},
	{"LIVECHECK_CHALLENGE_MIX", "flash;cover_face;turn_head;read_digits;move_closer", "groups of kinds (\";\" between groups, \",\" within one) the first challenges of every plan cover, one kind from each group in random order, so that no single weakness passes an interview (none: no groups)"},
	{"LIVECHECK_CHALLENGE_LOCK_AFTER", "3", "failed challenges after which challenges stop and the session is flagged for review (0: never)"},
	{"LIVECHECK_INTERVIEW_LENGTH", "30m", "expected interview length; planned challenges are spread over it"},
	{"LIVECHECK_CHALLENGE_WARMUP", "2m", "no planned challenge before this much of the interview has passed"},
	{"LIVECHECK_LIMIT_JOIN", "60", "candidate page requests per IP per minute"},
	{"LIVECHECK_LIMIT_WS", "20", "signaling connections per IP per minute (and 30 per interview)"},
	{"LIVECHECK_MAX_LIVE", "40", "most interviews live at once on this server; more get a busy page"},
	{"LIVECHECK_SERVER_LOCATION", "", "where the media server is, \"lat,lon\" or a city name, for the RTT-versus-distance checks (empty: RTT checks off)"},
	{"LIVECHECK_GEOIP_CITY", "", "MaxMind-format City database (.mmdb); empty: no GeoIP checks"},
	{"LIVECHECK_GEOIP_ASN", "", "MaxMind-format ASN database (.mmdb)"},
	{"LIVECHECK_GEOIP_ANONYMOUS", "", "MaxMind-format Anonymous-IP database (.mmdb)"},
	{"LIVECHECK_REUSE_DAYS", "90", "how far back the same IP, browser, device fingerprint or face for another candidate is looked for"},
	{"LIVECHECK_WEBHOOK_ALLOW_PRIVATE", "false", "allow webhook URLs on private or loopback addresses (tests, internal receivers)"},
	{"LIVECHECK_RISK_REVIEW_AT", "30", "risk score (0-100) from which a session goes to review"},
	{"LIVECHECK_RISK_FAIL_AT", "70", "risk score (0-100) from which a session fails and the interview is flagged"},
	{"LIVECHECK_RETENTION_DAYS", "30", "days biometric evidence is kept"},
	{"LIVECHECK_NODE_ID", "", "this node's id among the nodes sharing the database (unique; empty: the host name)"},
	{"LIVECHECK_NODE_URL", "", "URL at which browsers reach this node directly (empty: LIVECHECK_BASE_URL)"},
	{"LIVECHECK_NODE_HEARTBEAT", "10s", "how often the node renews its registration and interview leases (a lease expires after 3 missed heartbeats)"},
	{"LIVECHECK_ORG_NAME", "", "organisation named to candidates on the consent page (empty: \"the organiser\")"},
	{"LIVECHECK_PRIVACY_CONTACT", "", "e-mail address or https URL candidates can ask about their data (shown on the consent page)"},
	{"LIVECHECK_API_TOKEN", "", "Bearer token of the admin JSON API (/api/...; ≥ 32 chars); the API is off when empty"},
	{"LIVECHECK_METRICS_LISTEN", "", "listen address of Prometheus /metrics and /debug/pprof (keep it private, e.g. 127.0.0.1:9090); off when empty"},
	{"LIVECHECK_ANALYSIS", "full", "full: decode and analyse the candidate's video; decode: decode every frame but skip vision (benchmark floor)"},
}

// Usage returns the settings table for --help.
func Usage() string {
	var b strings.Builder
	b.WriteString("Settings (environment variables):\n")
	for _, st := range Settings {
		def := st.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "  %-28s %s\n  %-28s default: %s\n", st.Env, st.Help, "", def)
	}
	return b.String()
}

// Load reads the settings from getenv (os.Getenv when nil) and validates them.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(key string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		for _, st := range Settings {
			if st.Env == key {
				return st.Default
			}
		}
		return ""
	}
	var errs []error
	dur := func(key string) time.Duration {
		d, err := time.ParseDuration(get(key))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as 30s or 12h, got %q", key, get(key)))
		}
		return d
	}
	num := func(key string, lo, hi int) int {
		n, err := strconv.Atoi(get(key))
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s: want an integer in [%d, %d], got %q", key, lo, hi, get(key)))
		}
		return n
	}
	list := func(key string) []string {
		var out []string
		for _, p := range strings.Split(get(key), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	groups := func(key string) [][]string { // "none": no groups (empty is the default)
		var out [][]string
		if strings.EqualFold(get(key), "none") {
			return nil
		}
		for _, g := range strings.Split(get(key), ";") {
			var kinds []string
			for _, k := range strings.Split(g, ",") {
				if k = strings.TrimSpace(k); k != "" {
					kinds = append(kinds, k)
				}
			}
			if len(kinds) > 0 {
				out = append(out, kinds)
			}
		}
		return out
	}
	c := &Config{
		DatabaseURL:        get("LIVECHECK_DATABASE_URL"),
		ListenAddr:         get("LIVECHECK_LISTEN"),
		BaseURL:            strings.TrimRight(get("LIVECHECK_BASE_URL"), "/"),
		LogFormat:          get("LIVECHECK_LOG_FORMAT"),
		LogLevel:           get("LIVECHECK_LOG_LEVEL"),
		SigningSecret:      get("LIVECHECK_SIGNING_SECRET"),
		SMTPHost:           get("LIVECHECK_SMTP_HOST"),
		SMTPPort:           num("LIVECHECK_SMTP_PORT", 1, 65535),
		SMTPUsername:       get("LIVECHECK_SMTP_USERNAME"),
		SMTPPassword:       get("LIVECHECK_SMTP_PASSWORD"),
		SMTPFrom:           get("LIVECHECK_SMTP_FROM"),
		SMTPTLS:            get("LIVECHECK_SMTP_TLS"),
		SessionTTL:         dur("LIVECHECK_SESSION_TTL"),
		LinkTTL:            dur("LIVECHECK_LINK_TTL"),
		PasswordCost:       num("LIVECHECK_PASSWORD_COST", 4, 31),
		ICEServers:         list("LIVECHECK_ICE_SERVERS"),
		TURNUsername:       get("LIVECHECK_TURN_USERNAME"),
		TURNPassword:       get("LIVECHECK_TURN_PASSWORD"),
		NAT1To1IPs:         list("LIVECHECK_NAT_1TO1_IPS"),
		UDPPortMin:         uint16(num("LIVECHECK_UDP_PORT_MIN", 0, 65535)),
		UDPPortMax:         uint16(num("LIVECHECK_UDP_PORT_MAX", 0, 65535)),
		RejoinGrace:        dur("LIVECHECK_REJOIN_GRACE"),
		CascadePath:        get("LIVECHECK_CASCADE"),
		LandmarkModel:      get("LIVECHECK_LANDMARK_MODEL"),
		FaceModel:          get("LIVECHECK_FACE_MODEL"),
		IdentityEvery:      dur("LIVECHECK_IDENTITY_EVERY"),
		Challenges:         num("LIVECHECK_CHALLENGES", 0, 20),
		InterviewLength:    dur("LIVECHECK_INTERVIEW_LENGTH"),
		ChallengeWarmUp:    dur("LIVECHECK_CHALLENGE_WARMUP"),
		ChallengeKinds:     list("LIVECHECK_CHALLENGE_KINDS"),
		ChallengeMix:       groups("LIVECHECK_CHALLENGE_MIX"),
		ChallengeLockAfter: num("LIVECHECK_CHALLENGE_LOCK_AFTER", 0, 100),
		ServerLocation:     get("LIVECHECK_SERVER_LOCATION"),
		GeoIPCity:          get("LIVECHECK_GEOIP_CITY"),
		GeoIPASN:           get("LIVECHECK_GEOIP_ASN"),
		GeoIPAnonymous:     get("LIVECHECK_GEOIP_ANONYMOUS"),
		ReuseDays:          num("LIVECHECK_REUSE_DAYS", 1, 3650),
		LimitJoin:          num("LIVECHECK_LIMIT_JOIN", 1, 1000000),
		LimitWS:            num("LIVECHECK_LIMIT_WS", 1, 1000000),
		MaxLive:            num("LIVECHECK_MAX_LIVE", 1, 100000),
		RetentionDays:      num("LIVECHECK_RETENTION_DAYS", 1, 3650),
		NodeID:             get("LIVECHECK_NODE_ID"),
		NodeURL:            strings.TrimRight(get("LIVECHECK_NODE_URL"), "/"),
		NodeHeartbeat:      dur("LIVECHECK_NODE_HEARTBEAT"),
		OrgName:            get("LIVECHECK_ORG_NAME"),
		PrivacyContact:     get("LIVECHECK_PRIVACY_CONTACT"),
		APIToken:           get("LIVECHECK_API_TOKEN"),
		MetricsListen:      get("LIVECHECK_METRICS_LISTEN"),
		Analysis:           get("LIVECHECK_ANALYSIS"),
	}
	if len(c.OrgName) > 200 || len(c.PrivacyContact) > 320 {
		errs = append(errs, errors.New("LIVECHECK_ORG_NAME and LIVECHECK_PRIVACY_CONTACT: at most 200 and 320 characters"))
	}
	if c.APIToken != "" && len(c.APIToken) < 32 {
		errs = append(errs, errors.New("LIVECHECK_API_TOKEN: must be at least 32 characters"))
	}
	if c.Analysis != "full" && c.Analysis != "decode" {
		errs = append(errs, fmt.Errorf("LIVECHECK_ANALYSIS: want full or decode, got %q", c.Analysis))
	}
	c.IncludeLoopback, _ = strconv.ParseBool(get("LIVECHECK_ICE_LOOPBACK"))
	c.ICEAllowPrivate, _ = strconv.ParseBool(get("LIVECHECK_ICE_ALLOW_PRIVATE"))
	var err error
	c.RiskReviewAt, err = strconv.ParseFloat(get("LIVECHECK_RISK_REVIEW_AT"), 64)
	if err != nil || c.RiskReviewAt <= 0 || c.RiskReviewAt > 100 {
		errs = append(errs, fmt.Errorf("LIVECHECK_RISK_REVIEW_AT: want a number in (0, 100], got %q", get("LIVECHECK_RISK_REVIEW_AT")))
	}
	c.RiskFailAt, err = strconv.ParseFloat(get("LIVECHECK_RISK_FAIL_AT"), 64)
	if err != nil || c.RiskFailAt < c.RiskReviewAt || c.RiskFailAt > 100 {
		errs = append(errs, fmt.Errorf("LIVECHECK_RISK_FAIL_AT: want a number in [LIVECHECK_RISK_REVIEW_AT, 100], got %q", get("LIVECHECK_RISK_FAIL_AT")))
	}
	c.WebhookPrivate, _ = strconv.ParseBool(get("LIVECHECK_WEBHOOK_ALLOW_PRIVATE"))
	fps, err := strconv.ParseFloat(get("LIVECHECK_ANALYSIS_FPS"), 64)
	if err != nil || fps <= 0 || fps > 30 {
		errs = append(errs, fmt.Errorf("LIVECHECK_ANALYSIS_FPS: want a number in (0, 30], got %q", get("LIVECHECK_ANALYSIS_FPS")))
	}
	c.AnalysisFPS = fps
	if n, err := strconv.Atoi(get("LIVECHECK_DECODE_NICE")); err != nil || n < 0 || n > 19 {
		errs = append(errs, fmt.Errorf("LIVECHECK_DECODE_NICE: want a whole number in [0, 19], got %q", get("LIVECHECK_DECODE_NICE")))
	} else {
		c.DecodeNice = n
	}
	switch get("LIVECHECK_DECODE_SKIP") {
	case "on":
	case "off":
		c.DecodeAll = true
	default:
		errs = append(errs, fmt.Errorf("LIVECHECK_DECODE_SKIP: want on or off, got %q", get("LIVECHECK_DECODE_SKIP")))
	}
	for _, p := range list("LIVECHECK_TRUSTED_PROXIES") {
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				p = fmt.Sprintf("%s/%d", a, a.BitLen())
			}
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("LIVECHECK_TRUSTED_PROXIES: %q is not a CIDR", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("LIVECHECK_BASE_URL: want an absolute http(s) URL, got %q", c.BaseURL))
	}
	if c.NodeID == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			c.NodeID = h
		} else {
			c.NodeID = "livecheck"
		}
	}
	if len(c.NodeID) > 200 {
		errs = append(errs, errors.New("LIVECHECK_NODE_ID: at most 200 characters"))
	}
	if c.NodeURL == "" {
		c.NodeURL = c.BaseURL
	} else if u, err := url.Parse(c.NodeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("LIVECHECK_NODE_URL: want an absolute http(s) URL, got %q", c.NodeURL))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LIVECHECK_LOG_FORMAT: want text or json, got %q", c.LogFormat))
	}
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("LIVECHECK_SMTP_TLS: want starttls, tls or none, got %q", c.SMTPTLS))
	}
	if c.SigningSecret != "" && len(c.SigningSecret) < 32 {
		errs = append(errs, errors.New("LIVECHECK_SIGNING_SECRET: must be at least 32 characters"))
	}
	if c.UDPPortMax < c.UDPPortMin {
		errs = append(errs, errors.New("LIVECHECK_UDP_PORT_MAX must not be below LIVECHECK_UDP_PORT_MIN"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// Secure reports whether the public URL is HTTPS (cookies get the Secure flag, HSTS is sent).
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }
