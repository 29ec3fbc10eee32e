package httpapi

import (
	"html/template"
	"time"
)

// timeTag renders t as a <time> element whose text is the UTC time. The
// page's script (static/app.js) replaces the text with the viewer's local
// time and keeps the UTC time as the element's title (shown on hover); without
// script the UTC time stays. A zero time renders as a dash.
func timeTag(t time.Time) template.HTML {
	return timeElement(t, "2006-01-02 15:04:05", "")
}

// dateTag is timeTag for a day and hour: scheduled times, link expiries.
func dateTag(t time.Time) template.HTML {
	return timeElement(t, "Mon 2 Jan 2006, 15:04", "long")
}

func timeElement(t time.Time, layout, style string) template.HTML {
	if t.IsZero() {
		return "–"
	}
	u := t.UTC()
	attr := ""
	if style != "" {
		attr = ` data-style="` + style + `"`
	}
	text := template.HTMLEscapeString(u.Format(layout) + " UTC")
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `"` + attr + ` title="` + text + `">` + text + `</time>`)
}
