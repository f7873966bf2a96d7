//go:build unix

package testutil

import "syscall"

// credential makes a child process run as uid and gid, without supplementary groups.
func credential(uid, gid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}
}
