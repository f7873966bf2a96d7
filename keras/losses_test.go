package keras

import (
	"context"
	"io"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestLosses checks each loss on known inputs, including Keras's clipping of probabilities to
// [1e-7, 1-1e-7] and rescaling of rows that do not sum to 1.
func TestLosses(t *testing.T) {
	backend := testBackend(t)
	probs := [][]float32{{0.7, 0.2, 0.1}, {0.1, 0.1, 0.8}, {1, 0, 0}, {2, 1, 1}}
	ids := []int32{0, 2, 1, 0}
	oneHot := [][]float32{{1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}}
	eps := 1e-7
	cce := []float64{-math.Log(0.7), -math.Log(0.8), -math.Log(eps), -math.Log(0.5)}
	mse := []float64{(0.09 + 0.04 + 0.01) / 3, (0.01 + 0.01 + 0.04) / 3, (1 + 1 + 0) / 3.0, (1 + 1 + 1) / 3.0}
	for _, tc := range []struct {
		loss   Loss
		labels *tensors.Tensor
		want   []float64
	}{
		{LossCategoricalCrossentropy, tensors.FromValue(oneHot), cce},
		{LossSparseCategoricalCrossentropy, tensors.FromValue(ids), cce},
		{LossMeanSquaredError, tensors.FromValue(oneHot), mse},
	} {
		t.Run(string(tc.loss), func(t *testing.T) {
			outs, err := execN(backend, func(p, y *graph.Node) []*graph.Node {
				return []*graph.Node{perSampleLoss(tc.loss, p, y), correctCount(p, y)}
			}, tensors.FromValue(probs), tc.labels)
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](outs[0])
			for i, want := range tc.want {
				if math.Abs(float64(got[i])-want) > 1e-5*(1+want) {
					t.Errorf("sample %d: loss %g, want %g", i, got[i], want)
				}
			}
			// Predicted classes are 0, 2, 0, 0: three of the four labels.
			if c := tensors.ToScalar[float32](outs[1]); c != 3 {
				t.Errorf("correct count = %v, want 3", c)
			}
		})
	}
}

// TestCrossEntropyClipsConfidentRight checks the other end of the clip: p = 1 for the right class
// costs -log(1-1e-7), not 0 or NaN, and the gradient stays finite.
func TestCrossEntropyClipsConfidentRight(t *testing.T) {
	outs, err := execN(testBackend(t), func(p, y *graph.Node) []*graph.Node {
		loss := graph.ReduceAllSum(perSampleLoss(LossCategoricalCrossentropy, p, y))
		return []*graph.Node{loss, graph.Gradient(loss, p)[0]}
	}, tensors.FromValue([][]float32{{1, 0}}), tensors.FromValue([][]float32{{1, 0}}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := float64(tensors.ToScalar[float32](outs[0])), -math.Log(float64(float32(1-1e-7))); math.Abs(got-want) > 1e-7 {
		t.Errorf("loss = %g, want %g", got, want)
	}
	for _, g := range tensors.MustCopyFlatData[float32](outs[1]) {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Errorf("gradient %v is not finite", g)
		}
	}
}

// TestActivations checks values and gradients of the activations, ELU's in particular (GoMLX has
// none; it must be finite far in the negative range where exp underflows).
func TestActivations(t *testing.T) {
	backend := testBackend(t)
	xs := []float32{-100, -2, -0.5, 0, 0.5, 3}
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, tc := range []struct {
		name       string
		value, der func(x float64) float64
	}{
		{"linear", func(x float64) float64 { return x }, func(float64) float64 { return 1 }},
		{"relu", func(x float64) float64 { return math.Max(x, 0) }, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return 0
		}},
		{"tanh", math.Tanh, func(x float64) float64 { return 1 - math.Tanh(x)*math.Tanh(x) }},
		{"sigmoid", sigmoid, func(x float64) float64 { return sigmoid(x) * (1 - sigmoid(x)) }},
		{"elu", func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Expm1(x)
		}, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return math.Exp(x)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn, err := activationFor(Activation(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			outs, err := execN(backend, func(x *graph.Node) []*graph.Node {
				y := fn(x)
				return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(y), x)[0]}
			}, tensors.FromValue(xs))
			if err != nil {
				t.Fatal(err)
			}
			values, grads := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
			for i, x := range xs {
				if d := math.Abs(float64(values[i]) - tc.value(float64(x))); d > 1e-6 {
					t.Errorf("%s(%g) = %g, want %g", tc.name, x, values[i], tc.value(float64(x)))
				}
				if d := math.Abs(float64(grads[i]) - tc.der(float64(x))); d > 1e-6 || math.IsNaN(float64(grads[i])) {
					t.Errorf("%s'(%g) = %g, want %g", tc.name, x, grads[i], tc.der(float64(x)))
				}
			}
		})
	}
	outs, err := execN(backend, func(x *graph.Node) *graph.Node { return activations["softmax"](x) },
		tensors.FromValue([][]float32{{1, 2, 3}}))
	if err != nil {
		t.Fatal(err)
	}
	sm := tensors.MustCopyFlatData[float32](outs[0])
	z := math.Exp(1) + math.Exp(2) + math.Exp(3)
	for i, v := range sm {
		if want := math.Exp(float64(i+1)) / z; math.Abs(float64(v)-want) > 1e-6 {
			t.Errorf("softmax[%d] = %g, want %g", i, v, want)
		}
	}
	if _, err := activationFor("swish"); err == nil {
		t.Error("activationFor(swish) succeeded")
	}
}

// TestCrossEntropyFromSoftmaxLogits checks what Keras 3 on TensorFlow does with a softmax output
// (measured in bench/keras with TensorFlow 2.20 and Keras 3.15): the cross-entropy comes from the
// softmax's logits, so a prediction 30 logits wrong costs 30 (the clip to [1e-7, 1-1e-7] would
// cap it at 16.1), and one SGD(1.0) step on it moves the kernel by -(p - y)·x = [+1, -1] (the clip
// would give no gradient at all). The same holds for the sparse loss and for a softmax that is an
// Activation layer of its own; Dropout after the softmax only matters in training.
func TestCrossEntropyFromSoftmaxLogits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []LayerSpec
		loss   Loss
		y      Labels
	}{
		{"sparse", []LayerSpec{Dense(2, "softmax")}, LossSparseCategoricalCrossentropy, Classes([]int{0})},
		{"categorical", []LayerSpec{Dense(2, "softmax")}, LossCategoricalCrossentropy, OneHot([]float32{1, 0}, 2)},
		{"activation layer", []LayerSpec{Dense(2, "linear"), ActivationLayer(Softmax)}, LossSparseCategoricalCrossentropy, Classes([]int{0})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewModel(ModelSpec{InputShape: []int{1}, Layers: tc.layers, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(CompileConfig{Optimizer: SGD(1), Loss: tc.loss}); err != nil {
				t.Fatal(err)
			}
			m.SetOutput(io.Discard)
			w := []LayerWeights{{Kernel: []float32{0, 30}, KernelShape: []int{1, 2}, Bias: []float32{0, 0}}}
			if err := m.SetWeights(w); err != nil {
				t.Fatal(err)
			}
			x := NewArray([]float32{1}, 1, 1)
			loss, _, err := m.Evaluate(x, tc.y, 1)
			if err != nil {
				t.Fatal(err)
			}
			if want := 30 + math.Log1p(math.Exp(-30)); math.Abs(loss-want) > 1e-4 {
				t.Errorf("loss = %g, want %g (from the logits; the clipped value is 16.118)", loss, want)
			}
			if _, err := m.Fit(context.Background(), x, tc.y, FitConfig{Epochs: 1, BatchSize: 1, NoShuffle: true}); err != nil {
				t.Fatal(err)
			}
			got, err := m.Weights()
			if err != nil {
				t.Fatal(err)
			}
			if k := got[0].Kernel; math.Abs(float64(k[0])-1) > 1e-5 || math.Abs(float64(k[1])-29) > 1e-5 {
				t.Errorf("kernel after one SGD(1) step = %v, want [1 29]", k)
			}
		})
	}
}
