//go:build !unix

package cifar

import "io/fs"

// mapFile reads the whole file where memory mapping is not available.
func mapFile(path string) ([]byte, fs.FileInfo, error) { return readWholeFile(path) }
