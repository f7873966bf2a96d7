//go:build linux

package fileid

import (
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// Of describes a file so that any change of its content or any replacement changes the
// description: device, inode, size, modification and change times (the kernel sets the change
// time on every write, and no program can set it back). It also returns the change time. ok is
// false where the system does not tell these (then a caller checks the content every time).
func Of(info fs.FileInfo) (id string, changed time.Time, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "", time.Time{}, false
	}
	id = fmt.Sprintf("dev=%d ino=%d size=%d mtime=%d.%09d ctime=%d.%09d",
		st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
	return id, time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}
