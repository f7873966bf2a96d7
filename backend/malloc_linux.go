//go:build linux && cgo && !noxla

package backend

/*
#include <malloc.h>

// keepFreedBuffers makes glibc's malloc keep freed blocks of up to 32 MiB for reuse instead of
// returning each to the kernel: XLA allocates every step's outputs (new weights, optimizer
// moments) afresh, and with glibc's defaults each of those multi-MiB buffers is a new mmap whose
// pages fault in one by one. 32 MiB is the most mallopt accepts on 64-bit; the trim threshold
// keeps up to 1 GiB of free heap (PyTorch's CPU benchmarks use the same settings through
// GLIBC_TUNABLES). A C library without these settings (musl) keeps its own behaviour.
static void keepFreedBuffers(void) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
*/
import "C"

// keepFreedBuffers sets glibc's malloc for XLA's per-step allocations (see the C comment above).
func keepFreedBuffers() { C.keepFreedBuffers() }
