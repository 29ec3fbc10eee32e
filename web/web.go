// Package web embeds livecheck's HTML templates and static assets.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:templates static
var files embed.FS

// Templates returns the html/template sources (templates/*.html).
func Templates() fs.FS {
	sub, _ := fs.Sub(files, "templates")
	return sub
}

// Static returns the assets served under /static/.
func Static() fs.FS {
	sub, _ := fs.Sub(files, "static")
	return sub
}
