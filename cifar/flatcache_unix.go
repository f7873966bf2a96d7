//go:build unix

package cifar

import (
	"io/fs"
	"syscall"
)

// mapFile maps a file into memory privately (copy-on-write): reading it costs no copy, and writes
// to the returned bytes stay in this process and never reach the file. The mapping lives until the
// process exits, like the data set it holds in a notebook cell. It also returns the file's
// information, taken from the mapped file itself.
func mapFile(path string) ([]byte, fs.FileInfo, error) {
	f, info, err := openFlat(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if info.Size() == 0 {
		return nil, info, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(info.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return readWholeFile(path)
	}
	return data, info, nil
}
