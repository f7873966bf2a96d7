// Package homedir writes paths the way a user reads them in a notebook's output: the home folder
// as "~", so that what a lab prints (and a saved notebook keeps) names no machine's home.
package homedir

import (
	"os"
	"path/filepath"
)

// Abbrev returns path with the user's home folder written as "~" ("~/.cache/cifarlab/runs"), or
// path unchanged when it is not inside the home folder, is relative, or the home folder is unknown
// or the root folder.
func Abbrev(path string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return abbrev(path, home)
}

func abbrev(path, home string) string {
	if !filepath.IsAbs(home) || !filepath.IsAbs(path) {
		return path
	}
	home = filepath.Clean(home)
	if home == filepath.VolumeName(home)+string(filepath.Separator) {
		return path
	}
	rel, err := filepath.Rel(home, filepath.Clean(path))
	switch {
	case err != nil:
		return path
	case rel == ".":
		return "~"
	case filepath.IsLocal(rel):
		return "~" + string(filepath.Separator) + rel
	}
	return path
}
