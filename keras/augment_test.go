package keras

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Keras 3.15's model.summary() of the same model (bench/keras/.venv-callbacks, JAX backend).
func TestAugmentationSummaryAsKeras(t *testing.T) {
	m, err := Sequential([]int{32, 32, 3}, RandomFlip(Horizontal), RandomTranslation(0.1, 0.1), RandomRotation(0.1),
		Conv2D(8, 3, ReLU), Flatten(), Dense(10, Linear))
	if err != nil {
		t.Fatal(err)
	}
	want := `Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ random_flip (RandomFlip)        │ (None, 32, 32, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ random_translation              │ (None, 32, 32, 3)      │             0 │
│ (RandomTranslation)             │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ random_rotation                 │ (None, 32, 32, 3)      │             0 │
│ (RandomRotation)                │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 30, 30, 8)      │           224 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 7200)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │        72,010 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 72,234 (282.16 KB)
 Trainable params: 72,234 (282.16 KB)
 Non-trainable params: 0 (0.00 B)
`
	if got := m.Summary(); got != want {
		t.Errorf("Summary() =\n%s\nwant (Keras's)\n%s", got, want)
	}
}

func TestAugmentationErrorsNameTheLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  []int
		layers []LayerSpec
		want   []string
	}{
		{"unknown flip mode", []int{8, 8, 3}, []LayerSpec{RandomFlip("diagonal"), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (RandomFlip)", `Mode "diagonal" is unknown`, `"horizontal_and_vertical"`}},
		{"height factor above 1", []int{8, 8, 3}, []LayerSpec{RandomTranslation(1.5, 0.1), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (RandomTranslation)", "HeightFactor must be in [-1, 1]", "got 1.5"}},
		{"NaN width factor", []int{8, 8, 3}, []LayerSpec{RandomTranslation(0.1, math.NaN()), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (RandomTranslation)", "WidthFactor", "got NaN"}},
		{"rotation factor below -1", []int{8, 8, 3}, []LayerSpec{RandomFlip(""), RandomRotation(-2), Flatten(), Dense(2, Softmax)},
			[]string{"layers[1] (RandomRotation)", "Factor must be in [-1, 1]", "got -2"}},
		{"no channel axis", []int{28, 28}, []LayerSpec{RandomFlip(Horizontal), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (RandomFlip)", "[height, width, channels], gets [28 28]", "[]int{28, 28, 1}"}},
		{"after flatten", []int{8, 8, 3}, []LayerSpec{Flatten(), RandomRotation(0.1), Dense(2, Softmax)},
			[]string{"layers[1] (RandomRotation)", "gets [192]"}},
		{"a factor on another layer", []int{8, 8, 3}, []LayerSpec{RandomTranslation(0.1, 0.1), func() LayerSpec { l := RandomFlip(""); l.Factor = 0.1; return l }(), Flatten(), Dense(2, Softmax)},
			[]string{"layers[1] (RandomFlip)", "Factor applies to RandomRotation only"}},
		{"a mode on a rotation", []int{8, 8, 3}, []LayerSpec{func() LayerSpec { l := RandomRotation(0.1); l.Mode = Horizontal; return l }(), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (RandomRotation)", "Mode applies to RandomFlip only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sequential(tc.input, tc.layers...)
			if err == nil || !containsAll(err.Error(), tc.want...) {
				t.Errorf("Sequential: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// The layers' settings are in the spec's JSON (so in saved models and run keys); an empty flip
// mode is Keras's default, horizontal and vertical.
func TestAugmentationSpecJSON(t *testing.T) {
	m, err := Sequential([]int{8, 8, 3}, RandomFlip(""), RandomTranslation(0.2, -0.1), RandomRotation(0.05), Flatten(), Dense(2, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m.Spec())
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`{"type":"RandomFlip","name":"random_flip","mode":"horizontal_and_vertical"}`,
		`{"type":"RandomTranslation","name":"random_translation","height_factor":0.2,"width_factor":-0.1}`,
		`{"type":"RandomRotation","name":"random_rotation","factor":0.05}`} {
		if !strings.Contains(string(data), part) {
			t.Errorf("spec JSON %s lacks %s", data, part)
		}
	}
	var spec ModelSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	back, err := NewModel(spec)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(back.Spec()); string(again) != string(data) {
		t.Errorf("the model read back from JSON differs:\n%s\n%s", again, data)
	}
	// Save and Load keep them too.
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(loaded.Spec()); string(again) != string(data) {
		t.Errorf("the loaded model differs:\n%s\n%s", again, data)
	}
}

// augmentOnce runs a layer's transform with given draws u [B, k] on x [B, H, W, C].
func augmentOnce(t *testing.T, l LayerSpec, x []float32, dims []int, u []float32) []float32 {
	t.Helper()
	outs, err := execN(testBackend(t), func(x, u *graph.Node) *graph.Node { return augmentWith(x, l, u) },
		tensors.FromFlatDataAndDimensions(x, dims...), tensors.FromFlatDataAndDimensions(u, dims[0], len(u)/dims[0]))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](outs[0])
}

// The transforms on small images whose results are known exactly: flips, whole-pixel shifts with
// the edge reflected (d c b a | a b c d), a half-pixel shift (the mean of neighbors), rotations by
// 0 and ±90 degrees.
func TestAugmentationTransforms(t *testing.T) {
	// A 3x4 image of one channel: value 10·row + column.
	img := []float32{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}
	dims := []int{1, 3, 4, 1}
	square := []float32{0, 1, 2, 10, 11, 12, 20, 21, 22}
	for _, tc := range []struct {
		name  string
		layer LayerSpec
		x     []float32
		dims  []int
		u     []float32
		want  []float32
	}{
		{"horizontal flip drawn", RandomFlip(Horizontal), img, dims, []float32{0.5}, []float32{3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20}},
		{"horizontal flip not drawn", RandomFlip(Horizontal), img, dims, []float32{0.51}, img},
		{"vertical flip", RandomFlip(Vertical), img, dims, []float32{0.1}, []float32{20, 21, 22, 23, 10, 11, 12, 13, 0, 1, 2, 3}},
		{"both flips", RandomFlip(HorizontalAndVertical), img, dims, []float32{0.1}, []float32{23, 22, 21, 20, 13, 12, 11, 10, 3, 2, 1, 0}},
		// Width factor 0.5 on 4 columns: u = 1 shifts right by 2, the first columns reflected.
		{"shift right by 2", RandomTranslation(0, 0.5), img, dims, []float32{0.5, 1}, []float32{1, 0, 0, 1, 11, 10, 10, 11, 21, 20, 20, 21}},
		// Height factor 1/3 on 3 rows: u = 0 shifts up by one row, the last one reflected.
		{"shift up by 1", RandomTranslation(1.0/3, 0), img, dims, []float32{0, 0.5}, []float32{10, 11, 12, 13, 20, 21, 22, 23, 20, 21, 22, 23}},
		{"shift left by half a pixel", RandomTranslation(0, 0.125), img, dims, []float32{0.5, 0}, []float32{0.5, 1.5, 2.5, 3, 10.5, 11.5, 12.5, 13, 20.5, 21.5, 22.5, 23}},
		{"rotation by 0", RandomRotation(0.25), square, []int{1, 3, 3, 1}, []float32{0.5}, square},
		// +90 degrees (u = 1, factor 1/4): the output (y, x) reads column −(y−1)+1 of row (x−1)+1.
		{"rotation by 90 degrees", RandomRotation(0.25), square, []int{1, 3, 3, 1}, []float32{1}, []float32{2, 12, 22, 1, 11, 21, 0, 10, 20}},
		{"rotation by -90 degrees", RandomRotation(0.25), square, []int{1, 3, 3, 1}, []float32{0}, []float32{20, 10, 0, 21, 11, 1, 22, 12, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := augmentOnce(t, tc.layer, tc.x, tc.dims, tc.u)
			if d := maxAbsDiff(got, toFloat64(tc.want)); d > 1e-4 {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// trainingPass runs m's forward pass in training (the augmentation on) with the dropout key of
// training step key, on x of per-sample shape m's input.
func trainingPass(t *testing.T, m *Model, x []float32, key uint32) []float32 {
	t.Helper()
	e, err := m.engineFor()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := model.NewExec(e.backend, m.store, func(_ *model.Scope, x *graph.Node) *graph.Node {
		out, _ := e.forward(x, pass{training: true, key: graph.Scalar(x.Graph(), dtypes.Uint32, key)})
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	n := len(x) / product(m.spec.InputShape)
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, append([]int{n}, m.spec.InputShape...)...))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](outs[0])
}

// ksUniform is the Kolmogorov-Smirnov distance between the values and the uniform distribution on
// [lo, hi].
func ksUniform(values []float64, lo, hi float64) float64 {
	v := slices.Clone(values)
	sort.Float64s(v)
	var d float64
	for i, x := range v {
		f := (x - lo) / (hi - lo)
		d = max(d, math.Abs(f-float64(i)/float64(len(v))), math.Abs(f-float64(i+1)/float64(len(v))))
	}
	return d
}

// The draws of a training pass, read back from ramp images (bilinear interpolation is exact on a
// ramp, so the center pixel gives the shift or the angle): each image flipped with probability ½,
// shifts uniform over ±factor·size, angles uniform over ±factor·360 degrees, independent between
// images, layers and steps. A Kolmogorov-Smirnov distance above 1.95/√n has probability 0.001.
func TestAugmentationDraws(t *testing.T) {
	const n = 2000
	const size = 9                     // odd: the rotation's center is a pixel
	ramp := func(axis int) []float32 { // value = the column (axis 1) or row (axis 0) index
		x := make([]float32, n*size*size)
		for i := range x {
			p := i % (size * size)
			x[i] = float32([]int{p / size, p % size}[axis])
		}
		return x
	}
	center := size / 2
	at := func(out []float32, i, r, c int) float64 { return float64(out[i*size*size+r*size+c]) }
	build := func(l LayerSpec) *Model {
		m, err := NewModel(ModelSpec{InputShape: []int{size, size, 1}, Seed: 7, Layers: []LayerSpec{l, Flatten()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.dropEngine)
		return m
	}
	ks := func(what string, v []float64, lo, hi float64) {
		if d := ksUniform(v, lo, hi); d > 1.95/math.Sqrt(float64(len(v))) {
			t.Errorf("%s: Kolmogorov-Smirnov distance %.4f from uniform on [%g, %g]", what, d, lo, hi)
		}
		lo2, hi2 := slices.Min(v), slices.Max(v)
		if lo2 < lo-1e-4 || hi2 > hi+1e-4 {
			t.Errorf("%s: values in [%g, %g], outside [%g, %g]", what, lo2, hi2, lo, hi)
		}
		t.Logf("%s: %d draws in [%.3f, %.3f] of [%g, %g]", what, len(v), lo2, hi2, lo, hi)
	}

	t.Run("flip", func(t *testing.T) {
		m := build(RandomFlip(Horizontal))
		x := ramp(1)
		var rates []float64
		for key := uint32(1); key <= 2; key++ {
			out := trainingPass(t, m, x, key)
			flipped := 0
			for i := range n {
				if at(out, i, 0, 0) == size-1 {
					flipped++
				}
			}
			rates = append(rates, float64(flipped)/n)
		}
		for _, r := range rates {
			if math.Abs(r-0.5) > 4*math.Sqrt(0.25/n) {
				t.Errorf("flip rate %.4f, want 0.5 within 4σ", r)
			}
		}
		if rates[0] == rates[1] {
			t.Errorf("two steps flip the same number of images (%v): the draws do not change with the step", rates)
		}
		t.Logf("flip rates of two steps: %v", rates)
	})
	t.Run("translation", func(t *testing.T) {
		const factor = 0.3
		for axis, l := range []LayerSpec{RandomTranslation(factor, 0), RandomTranslation(0, factor)} {
			out := trainingPass(t, build(l), ramp(axis), 3)
			shifts := make([]float64, n)
			for i := range shifts {
				shifts[i] = float64(center) - at(out, i, center, center)
			}
			ks([]string{"height shift", "width shift"}[axis], shifts, -factor*size, factor*size)
		}
	})
	t.Run("rotation", func(t *testing.T) {
		const factor = 0.1
		m := build(RandomRotation(factor))
		cols := trainingPass(t, m, ramp(1), 4)
		angles := make([]float64, n)
		for i := range angles {
			// The output's input column is cos θ·(x−c) − sin θ·(y−c) + c.
			cos := at(cols, i, center, center+1) - float64(center)
			sin := float64(center) - at(cols, i, center+1, center)
			angles[i] = math.Atan2(sin, cos) * 180 / math.Pi
		}
		ks("rotation angle (degrees)", angles, -factor*360, factor*360)
	})
}

// In inference (Predict, Evaluate) the layers pass their input through: the predictions equal
// those of the same model without them.
func TestAugmentationOnlyInTraining(t *testing.T) {
	x, ids := cnnImages(24)
	layers := []LayerSpec{Conv2D(4, 3, ReLU), Flatten(), Dense(4, Softmax)}
	plain, err := NewModel(ModelSpec{InputShape: []int{12, 12, 3}, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	augmented, err := NewModel(ModelSpec{InputShape: []int{12, 12, 3}, Layers: append([]LayerSpec{RandomFlip(""), RandomTranslation(0.2, 0.2), RandomRotation(0.2)}, layers...)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := plain.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if err := augmented.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	cfg := CompileConfig{Optimizer: Adam(0.01), Loss: LossSparseCategoricalCrossentropy}
	for _, m := range []*Model{plain, augmented} {
		m.SetOutput(nil)
		t.Cleanup(m.dropEngine)
		if err := m.Compile(cfg); err != nil {
			t.Fatal(err)
		}
	}
	p1, err := plain.Predict(x, 8)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := augmented.Predict(x, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p1.Data, p2.Data) {
		t.Errorf("Predict with the augmentation layers differs from Predict without them")
	}
	l1, a1, err := plain.Evaluate(x, ids, 8)
	if err != nil {
		t.Fatal(err)
	}
	l2, a2, err := augmented.Evaluate(x, ids, 8)
	if err != nil {
		t.Fatal(err)
	}
	if l1 != l2 || a1 != a2 {
		t.Errorf("Evaluate: %g, %g with the augmentation layers, %g, %g without", l2, a2, l1, a1)
	}
	// In training they change the batch: the first step's loss differs.
	h1, err := plain.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 24, NoShuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := augmented.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 24, NoShuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	if h1.Epochs[0].Loss == h2.Epochs[0].Loss {
		t.Errorf("the training loss is %g with and without the augmentation layers", h1.Epochs[0].Loss)
	}
}

// A seeded Fit with the augmentation layers is reproducible, and the model still learns (the
// backward pass reaches the weights after the layers).
func TestAugmentationFitReproducible(t *testing.T) {
	x, ids := cnnImages(64)
	fit := func() *History {
		m, err := NewModel(ModelSpec{InputShape: []int{12, 12, 3}, Seed: 3, Layers: []LayerSpec{
			RandomFlip(Horizontal), RandomTranslation(0.1, 0.1), RandomRotation(0.05),
			Conv2D(8, 3, ReLU).WithPadding(Same), MaxPooling2D(2), Flatten(), Dense(4, Softmax)}})
		if err != nil {
			t.Fatal(err)
		}
		m.SetOutput(nil)
		t.Cleanup(m.dropEngine)
		if err := m.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: LossSparseCategoricalCrossentropy}); err != nil {
			t.Fatal(err)
		}
		h, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 5, BatchSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h1, h2 := fit(), fit()
	for i := range h1.Epochs {
		if h1.Epochs[i].Loss != h2.Epochs[i].Loss {
			t.Errorf("epoch %d: loss %g then %g with the same seed", i+1, h1.Epochs[i].Loss, h2.Epochs[i].Loss)
		}
	}
	first, last := h1.Epochs[0], h1.Epochs[len(h1.Epochs)-1]
	t.Logf("loss %.4f → %.4f, accuracy %.3f → %.3f", first.Loss, last.Loss, first.Accuracy, last.Accuracy)
	if !(last.Loss < 0.8*first.Loss) {
		t.Errorf("loss %.4f → %.4f: the model does not learn through the augmentation layers", first.Loss, last.Loss)
	}
}
