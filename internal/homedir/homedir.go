// Package homedir writes paths the way a user reads them in a notebook's output: the home folder
// as "~", so that what a lab prints (and a saved notebook keeps) names no machine's home.
package homedir

import (
	"os"
	"path/filepath"
	"strings"
)

// Abbrev returns path with the user's home folder written as "~" ("~/.cache/cifarlab/runs"), or
// path unchanged when it is not inside the home folder or the home folder is unknown.
func Abbrev(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return path
	}
	return abbrev(path, filepath.Clean(home))
}

func abbrev(path, home string) string {
	clean := filepath.Clean(path)
	switch {
	case clean == home:
		return "~"
	case strings.HasPrefix(clean, home+string(filepath.Separator)):
		return "~" + string(filepath.Separator) + clean[len(home)+1:]
	}
	return path
}
