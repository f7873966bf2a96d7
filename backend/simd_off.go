//go:build !(amd64 && goexperiment.simd)

package backend

// simdInfo says whether GoMLX's Go backend has its SIMD matrix products: this program was built
// without GOEXPERIMENT=simd (or not for amd64), so its matrix products are plain Go, several times
// slower.
const simdInfo = "no SIMD: build with GOEXPERIMENT=simd for its fast matrix products"
