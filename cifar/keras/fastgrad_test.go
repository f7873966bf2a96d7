package keras

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// testBackend returns the package's backend or fails the test.
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, _, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// execN compiles and runs a graph function once.
func execN(backend backends.Backend, fn any, args ...any) ([]*tensors.Tensor, error) {
	exec, err := graph.NewExecAny(backend, fn)
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	return exec.Exec(args...)
}

func randomMatrix(rng *rand.Rand, rows, cols int) []float32 {
	v := make([]float32, rows*cols)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// TestFastDotGradientMatchesStock compares the two-GEMM gradient of Dot with GoMLX's own, both
// called directly on the same node, and with the host-computed v·Wᵀ and Xᵀ·v.
func TestFastDotGradientMatchesStock(t *testing.T) {
	backend := testBackend(t)
	stock := stockDotGradient()
	for _, tc := range []struct{ i, j, k int }{{1, 1, 1}, {5, 7, 3}, {32, 40, 10}, {3, 64, 33}} {
		rng := rand.New(rand.NewPCG(uint64(tc.i), uint64(tc.j*100+tc.k)))
		xs, ws, vs := randomMatrix(rng, tc.i, tc.j), randomMatrix(rng, tc.j, tc.k), randomMatrix(rng, tc.i, tc.k)
		outs, err := execN(backend, func(x, w, v *graph.Node) []*graph.Node {
			node := graph.Dot(x, w)
			scalar := shapes.Make(x.DType())
			fast := fastDotVJP(node, []*graph.Node{v}, scalar)
			slow := stock(node, []*graph.Node{v}, scalar)
			return []*graph.Node{fast[0], fast[1], slow[0], slow[1]}
		}, tensors.FromFlatDataAndDimensions(xs, tc.i, tc.j), tensors.FromFlatDataAndDimensions(ws, tc.j, tc.k),
			tensors.FromFlatDataAndDimensions(vs, tc.i, tc.k))
		if err != nil {
			t.Fatal(err)
		}
		// Host reference in float64.
		dx := make([]float64, tc.i*tc.j)
		dw := make([]float64, tc.j*tc.k)
		for a := range tc.i {
			for b := range tc.j {
				for c := range tc.k {
					dx[a*tc.j+b] += float64(vs[a*tc.k+c]) * float64(ws[b*tc.k+c])
					dw[b*tc.k+c] += float64(xs[a*tc.j+b]) * float64(vs[a*tc.k+c])
				}
			}
		}
		for n, want := range [][]float64{dx, dw, dx, dw} {
			got := tensors.MustCopyFlatData[float32](outs[n])
			if len(got) != len(want) {
				t.Fatalf("%v output %d: %d values, want %d", tc, n, len(got), len(want))
			}
			for e := range got {
				if d := math.Abs(float64(got[e]) - want[e]); d > 1e-4*(1+math.Abs(want[e])) {
					t.Fatalf("%v output %d [%d]: got %g, want %g", tc, n, e, got[e], want[e])
				}
			}
		}
	}
}

// TestFastDotGradientRegistered checks that graph.Gradient uses the registered gradient for matrix
// products and still differentiates the other Dot cases (vector·vector, matrix·vector).
func TestFastDotGradientRegistered(t *testing.T) {
	backend := testBackend(t)
	if !fastDotReady {
		t.Fatal("fast Dot gradient not registered by Backend()")
	}
	x := tensors.FromValue([][]float32{{1, 2}, {3, 4}})
	vec := tensors.FromValue([]float32{5, 6})
	outs, err := execN(backend, func(x, vec *graph.Node) []*graph.Node {
		mm := graph.ReduceAllSum(graph.Dot(x, x))   // matrix·matrix: the registered gradient
		mv := graph.ReduceAllSum(graph.Dot(x, vec)) // matrix·vector: stock gradient
		vv := graph.Dot(vec, vec)                   // vector·vector: stock gradient
		return []*graph.Node{graph.Gradient(mm, x)[0], graph.Gradient(mv, vec)[0], graph.Gradient(vv, vec)[0]}
	}, x, vec)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](outs[0])
	// Σ_ik (XX)_ik = Σ_ijk X_ij X_jk; ∂/∂X_ab = Σ_k X_bk + Σ_i X_ia.
	xv := [][]float64{{1, 2}, {3, 4}}
	for a := range 2 {
		for b := range 2 {
			w := xv[b][0] + xv[b][1] + xv[0][a] + xv[1][a]
			if float64(got[a*2+b]) != w {
				t.Errorf("d/dX[%d][%d] = %g, want %g", a, b, got[a*2+b], w)
			}
		}
	}
	if got := tensors.MustCopyFlatData[float32](outs[1]); got[0] != 4 || got[1] != 6 {
		t.Errorf("matrix·vector gradient = %v, want [4 6] (column sums)", got)
	}
	if got := tensors.MustCopyFlatData[float32](outs[2]); got[0] != 10 || got[1] != 12 {
		t.Errorf("vector·vector gradient = %v, want [10 12]", got)
	}
}
