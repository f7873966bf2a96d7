//go:build !unix

package cifar

// mapFile reads the whole file where memory mapping is not available.
func mapFile(path string) ([]byte, error) { return readWholeFile(path) }
