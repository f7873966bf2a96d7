//go:build !unix

package runs

import "errors"

// freeSpace is not known on this system: the save reports a full disk.
func freeSpace(string) (int64, error) { return 0, errors.New("free space unknown") }
