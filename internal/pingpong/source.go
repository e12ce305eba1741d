package pingpong

import "embed"

// Source is this package's own source, from which the lessons cut the
// snippets their panels show (see internal/teach): the lines that time a
// ping-pong are the ones that ran.
//
//go:embed *.go
var Source embed.FS
