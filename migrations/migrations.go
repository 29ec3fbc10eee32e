// Package migrations embeds the numbered SQL migrations applied by the store.
package migrations

import "embed"

// FS holds the NNN_name.up.sql files, applied in numeric order.
//
//go:embed *.sql
var FS embed.FS
