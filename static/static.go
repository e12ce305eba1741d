// Package static holds the course's CSS and JavaScript, embedded in the
// binary so the whole course works offline from one file.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed css js
var FS embed.FS

var (
	versionOnce sync.Once
	version     string
)

// Version is a short hash of every embedded file. Asset URLs carry it so a
// browser can cache them for good and still never run stale code.
func Version() string {
	versionOnce.Do(func() {
		h := sha256.New()
		fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := FS.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write([]byte(path))
			h.Write(b)
			return nil
		})
		version = hex.EncodeToString(h.Sum(nil))[:12]
	})
	return version
}

// URL is the address of an embedded file, with the version attached.
func URL(path string) string { return "/static/" + path + "?v=" + Version() }
