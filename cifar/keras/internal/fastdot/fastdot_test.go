package fastdot_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/cifarlab/cifarlab/cifar/keras"
	"github.com/cifarlab/cifarlab/cifar/keras/internal/fastdot"
)

// fastOrSkip returns the shared keras backend with the fast path installed, or skips the test
// where OpenBLAS cannot be loaded (the stock path is then the only one).
func fastOrSkip(t *testing.T) {
	t.Helper()
	if _, _, err := keras.Backend(); err != nil {
		t.Fatal(err)
	}
	if info, err := fastdot.Install(); err != nil {
		t.Skipf("fast path not available: %s", info)
	}
}

// withPath runs fn with the fast path on or off.
func withPath(fast bool, fn func()) {
	prev := fastdot.SetEnabled(fast)
	defer fastdot.SetEnabled(prev)
	fn()
}

func randomFlat(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// TestMatrixProductsMatchStock compares sgemm with simplego's own DotGeneral for the four
// layouts Dense and its gradient use (plain, transposed lhs, transposed rhs, both).
func TestMatrixProductsMatchStock(t *testing.T) {
	fastOrSkip(t)
	backend, _, _ := keras.Backend()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ m, k, n int }{{1, 1, 1}, {3, 5, 7}, {32, 3072, 512}, {128, 256, 10}, {33, 65, 129}} {
		for _, layout := range []struct{ lc, rc int }{{1, 0}, {0, 0}, {1, 1}, {0, 1}} {
			lhsDims := []int{tc.m, tc.k}
			if layout.lc == 0 {
				lhsDims = []int{tc.k, tc.m}
			}
			rhsDims := []int{tc.k, tc.n}
			if layout.rc == 1 {
				rhsDims = []int{tc.n, tc.k}
			}
			lhs := tensors.FromFlatDataAndDimensions(randomFlat(rng, tc.m*tc.k), lhsDims...)
			rhs := tensors.FromFlatDataAndDimensions(randomFlat(rng, tc.k*tc.n), rhsDims...)
			run := func() []float32 {
				exec, err := graph.NewExecAny(backend, func(a, b *graph.Node) *graph.Node {
					return graph.DotGeneral(a, []int{layout.lc}, nil, b, []int{layout.rc}, nil)
				})
				if err != nil {
					t.Fatal(err)
				}
				defer exec.Finalize()
				out, err := exec.Exec(lhs, rhs)
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float32](out[0])
			}
			var fast, stock []float32
			calls := fastdot.Calls()
			withPath(true, func() { fast = run() })
			if fastdot.Calls() == calls {
				t.Fatalf("%v %v: the product did not go through sgemm", tc, layout)
			}
			withPath(false, func() { stock = run() })
			if len(fast) != tc.m*tc.n || len(stock) != len(fast) {
				t.Fatalf("%v %v: %d and %d values, want %d", tc, layout, len(fast), len(stock), tc.m*tc.n)
			}
			for i := range fast {
				if d := math.Abs(float64(fast[i] - stock[i])); d > 1e-5*math.Sqrt(float64(tc.k))*(1+math.Abs(float64(stock[i]))) {
					t.Fatalf("%v %v [%d]: sgemm %g, stock %g", tc, layout, i, fast[i], stock[i])
				}
			}
		}
	}
}

type trained struct {
	losses  []float64
	weights []keras.LayerWeights
}

// train fits a reference model for one epoch of `steps` batches of random data.
func train(t *testing.T, name string, steps int) trained {
	t.Helper()
	var m *keras.Model
	var err error
	batch, sparse := 32, false
	switch name {
	case "lab3":
		m, err = keras.Lab3Model("relu")
	case "exercise2":
		m, err = keras.Exercise2Model()
		batch, sparse = 128, true
	}
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := steps * batch
	x := make([]float32, n*3072)
	for i := range x {
		x[i] = rng.Float32()
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(10)
	}
	y := keras.Classes(ids)
	if !sparse {
		if y, err = y.ToOneHot(10); err != nil {
			t.Fatal(err)
		}
	}
	var out trained
	for range 2 { // two epochs: losses of both, shuffled by the seed, dropout on
		h, err := m.Fit(keras.NewArray(x, n, 32, 32, 3), y, keras.FitConfig{Epochs: 1, BatchSize: batch, Verbose: 0})
		if err != nil {
			t.Fatal(err)
		}
		out.losses = append(out.losses, h.Epochs[0].Loss)
	}
	if out.weights, err = m.Weights(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTrainingMatchesStock trains both reference models for a few steps with the fast path
// (sgemm and the vector loops, or whichever this build has) and with simplego's own kernels: losses and weights must agree to float32 rounding, and two runs
// with sgemm must agree exactly (determinism for a seed).
func TestTrainingMatchesStock(t *testing.T) {
	if _, _, err := keras.Backend(); err != nil {
		t.Fatal(err)
	}
	if sgemm, vector := fastdot.Available(); !sgemm && !vector {
		t.Skip("no fast path in this build")
	}
	for _, name := range []string{"lab3", "exercise2"} {
		t.Run(name, func(t *testing.T) {
			var fast, fast2, stock trained
			withPath(true, func() { fast, fast2 = train(t, name, 6), train(t, name, 6) })
			withPath(false, func() { stock = train(t, name, 6) })
			for e := range fast.losses {
				if fast.losses[e] != fast2.losses[e] {
					t.Errorf("epoch %d: loss %v then %v with the same seed", e, fast.losses[e], fast2.losses[e])
				}
				if d := math.Abs(fast.losses[e] - stock.losses[e]); d > 1e-4*math.Abs(stock.losses[e]) {
					t.Errorf("epoch %d: loss %v with sgemm, %v stock", e, fast.losses[e], stock.losses[e])
				}
			}
			var maxDiff float64
			for l := range fast.weights {
				for _, pair := range [][3][]float32{{fast.weights[l].Kernel, stock.weights[l].Kernel, fast2.weights[l].Kernel},
					{fast.weights[l].Bias, stock.weights[l].Bias, fast2.weights[l].Bias}} {
					for i := range pair[0] {
						if pair[0][i] != pair[2][i] {
							t.Fatalf("layer %d: weights differ between two sgemm runs with the same seed", l)
						}
						maxDiff = max(maxDiff, math.Abs(float64(pair[0][i]-pair[1][i])))
					}
				}
			}
			t.Logf("losses sgemm %v, stock %v; max |weight difference| %.3g", fast.losses, stock.losses, maxDiff)
			// Adam's steps are at most lr=1e-3 each, normalised by the gradient's size: a sign flip
			// of a near-zero gradient moves a weight by up to ~lr, so allow a fraction of that.
			if maxDiff > 5e-4 {
				t.Errorf("weights differ by up to %g between sgemm and stock", maxDiff)
			}
		})
	}
}

// TestElementwiseMatchesStock checks the AVX2 element-wise executors against simplego's own, bit
// for bit, for same-shape operands, scalars on either side, sizes with and without a tail, and
// in-place reuse of an operand (the graph's intermediate results are owned and reused).
func TestElementwiseMatchesStock(t *testing.T) {
	backend := vectorBackendOrSkip(t)
	rng := rand.New(rand.NewPCG(3, 4))
	type binFn func(a, b *graph.Node) *graph.Node
	ops := map[string]binFn{"Add": graph.Add, "Sub": graph.Sub, "Mul": graph.Mul, "Div": graph.Div}
	for _, size := range []int{7, 64, 100, 1031, 4096} {
		x := tensors.FromFlatDataAndDimensions(randomFlat(rng, size), size)
		y := tensors.FromFlatDataAndDimensions(randomFlat(rng, size), size)
		for name, op := range ops {
			graphFn := func(a, b *graph.Node) []*graph.Node {
				s := graph.Scalar(a.Graph(), a.DType(), 1.7)
				ea := graph.Exp(a) // an owned intermediate, reused in place
				return []*graph.Node{op(a, b), op(a, s), op(s, b), op(ea, b), graph.Sqrt(graph.Abs(b)), graph.Sqrt(graph.Add(a, b))}
			}
			var fast, stock [][]float32
			vcalls := fastdot.VectorCalls()
			withPath(true, func() { fast = execFloats(t, backend, graphFn, x, y) })
			if want := int64(6); size >= 64 && fastdot.VectorCalls()-vcalls < want {
				t.Errorf("%s size %d: %d vector calls, want at least %d", name, size, fastdot.VectorCalls()-vcalls, want)
			}
			withPath(false, func() { stock = execFloats(t, backend, graphFn, x, y) })
			requireBitIdentical(t, fmt.Sprintf("%s size %d", name, size), fast, stock)
		}
	}
}

// TestRowBroadcastMatchesStock checks the row-broadcast path (x op bias, the bias repeated along
// the leading axis, as a Dense layer adds it) against simplego's own executor, bit for bit, with
// and without a vector tail, and that column broadcasts are left to simplego.
func TestRowBroadcastMatchesStock(t *testing.T) {
	backend := vectorBackendOrSkip(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dims := range [][2]int{{128, 256}, {5, 29}, {32, 10}} {
		rows, cols := dims[0], dims[1]
		x := tensors.FromFlatDataAndDimensions(randomFlat(rng, rows*cols), rows, cols)
		bias := tensors.FromFlatDataAndDimensions(randomFlat(rng, cols), cols)
		column := tensors.FromFlatDataAndDimensions(randomFlat(rng, rows), rows, 1)
		graphFn := func(a, b, c *graph.Node) []*graph.Node {
			row := graph.InsertAxes(b, 0)
			return []*graph.Node{graph.Add(a, row), graph.Sub(graph.Exp(a), row), graph.Mul(a, row), graph.Div(a, row), graph.Add(a, c)}
		}
		var fast, stock [][]float32
		vcalls := fastdot.VectorCalls()
		withPath(true, func() { fast = execFloats(t, backend, graphFn, x, bias, column) })
		if got := fastdot.VectorCalls() - vcalls; got < 4 {
			t.Errorf("%dx%d: %d vector calls, want at least 4 (the row broadcasts)", rows, cols, got)
		}
		withPath(false, func() { stock = execFloats(t, backend, graphFn, x, bias, column) })
		requireBitIdentical(t, fmt.Sprintf("%dx%d", rows, cols), fast, stock)
	}
}

// execFloats builds graphFn, runs it on inputs and returns its float32 outputs.
func execFloats(t *testing.T, backend backends.Backend, graphFn any, inputs ...any) [][]float32 {
	t.Helper()
	exec, err := graph.NewExecAny(backend, graphFn)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	outs, err := exec.Exec(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	var r [][]float32
	for _, o := range outs {
		r = append(r, tensors.MustCopyFlatData[float32](o))
	}
	return r
}

// requireBitIdentical fails the test at the first value whose bits differ between the fast and
// the stock outputs (two NaNs count as equal).
func requireBitIdentical(t *testing.T, what string, fast, stock [][]float32) {
	t.Helper()
	for o := range fast {
		for i := range fast[o] {
			f, s := fast[o][i], stock[o][i]
			if math.Float32bits(f) != math.Float32bits(s) && !(math.IsNaN(float64(f)) && math.IsNaN(float64(s))) {
				t.Fatalf("%s output %d [%d]: fast %g, stock %g", what, o, i, f, s)
			}
		}
	}
}

// vectorBackendOrSkip returns the shared keras backend, or skips the test where the AVX2
// element-wise loops are not available.
func vectorBackendOrSkip(t *testing.T) backends.Backend {
	t.Helper()
	backend, _, err := keras.Backend()
	if err != nil {
		t.Fatal(err)
	}
	if _, vector := fastdot.Available(); !vector {
		t.Skip("no vector loops on this CPU or build")
	}
	return backend
}
