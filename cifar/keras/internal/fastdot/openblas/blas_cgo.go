//go:build cgo && linux

// Package openblas calls OpenBLAS's cblas_sgemm, loading libopenblas at run time with dlopen so that
// programs build and run where OpenBLAS (or cgo) is missing: Load then reports an error.
package openblas

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
static void free_cstring(char *s) { free(s); }

// CBLAS constants (cblas.h): row-major order, no transpose, transpose.
enum { fdRowMajor = 101, fdNoTrans = 111, fdTrans = 112 };

typedef void (*fd_sgemm_t)(int, int, int, int, int, int, float, const float *, int,
                           const float *, int, float, float *, int);
typedef void (*fd_set_threads_t)(int);

static fd_sgemm_t fd_sgemm;
static fd_set_threads_t fd_set_threads;

// fd_load opens an OpenBLAS shared library at run time; it returns 0 on success. Loading it with
// dlopen (instead of linking -lopenblas) keeps the program buildable and runnable without OpenBLAS.
static int fd_load(const char *name) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return 1;
	fd_sgemm_t s = (fd_sgemm_t)dlsym(h, "cblas_sgemm");
	if (s == NULL) { dlclose(h); return 2; }
	fd_sgemm = s;
	fd_set_threads = (fd_set_threads_t)dlsym(h, "openblas_set_num_threads");
	return 0;
}

static int fd_set_num_threads(int n) {
	if (fd_set_threads == NULL) return 1;
	fd_set_threads(n);
	return 0;
}

static void fd_sgemm_call(int transA, int transB, int m, int n, int k, const float *a, int lda,
                          const float *b, int ldb, float *c, int ldc) {
	fd_sgemm(fdRowMajor, transA ? fdTrans : fdNoTrans, transB ? fdTrans : fdNoTrans, m, n, k,
	         1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// openblasNames are the shared libraries tried, in order (Debian: libopenblas0-pthread provides
// libopenblas.so.0 through the alternatives system).
var openblasNames = []string{"libopenblas.so.0", "libopenblas.so"}

// Load opens OpenBLAS and fixes its thread count; it returns the library's name.
func Load(threads int) (string, error) {
	for _, name := range openblasNames {
		cname := C.CString(name)
		rc := C.fd_load(cname)
		C.free_cstring(cname)
		if rc == 0 {
			if threads > 0 {
				C.fd_set_num_threads(C.int(threads))
			}
			return name, nil
		}
	}
	return "", fmt.Errorf("openblas: no OpenBLAS shared library found (tried %v)", openblasNames)
}

// Sgemm computes c[m,n] = op(a)·op(b) (row-major, beta 0), op transposing when asked.
func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	C.fd_sgemm_call(cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		(*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
