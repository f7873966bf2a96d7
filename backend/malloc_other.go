//go:build !linux && cgo && !noxla

package backend

// keepFreedBuffers leaves the C allocator as it is: the mallopt settings that spare XLA's
// per-step buffers their page faults are glibc's.
func keepFreedBuffers() {}
