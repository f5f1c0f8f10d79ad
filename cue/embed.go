// Package schemafs embeds the daemongen CUE schema: the single source of truth for what
// RegisterDaemonTaskDefinition accepts.
package schemafs

import "embed"

// FS holds the schema's .cue files, package daemongen, at its root.
//
//go:embed *.cue
var FS embed.FS
