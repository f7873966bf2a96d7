//go:build !amd64

package fastdot

// Without the amd64 loops the element-wise ops keep simplego's executors.

var hasVectorOps = false

func vecSame(op int, a, b, c []float32) int                          { return 0 }
func vecScalarRight(op int, a []float32, s float32, c []float32) int { return 0 }
func vecScalarLeft(op int, s float32, b, c []float32) int            { return 0 }
func vecSqrt(a, c []float32) int                                     { return 0 }
