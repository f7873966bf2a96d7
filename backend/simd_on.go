//go:build amd64 && goexperiment.simd

package backend

// simdInfo says whether GoMLX's Go backend has its SIMD matrix products: this program was built
// with GOEXPERIMENT=simd on amd64, so it has them (AVX2 or AVX-512, as the CPU allows).
const simdInfo = "SIMD matrix products on (GOEXPERIMENT=simd)"
