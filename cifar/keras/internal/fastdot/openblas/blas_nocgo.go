//go:build !(cgo && linux)

package openblas

import "errors"

func Load(threads int) (string, error) {
	return "", errors.New("openblas: built without cgo, OpenBLAS cannot be loaded")
}

func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	panic("openblas: blasSgemm without cgo")
}
