//go:build unix

package runs

import (
	"io/fs"
	"syscall"
)

// ownerOf returns the user id that owns the file, when the system says.
func ownerOf(info fs.FileInfo) (uid int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
