//go:build !unix

package testutil

import "syscall"

// credential is not available here; the child runs as the parent.
func credential(uid, gid uint32) *syscall.SysProcAttr { return nil }
