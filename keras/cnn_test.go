package keras

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// tutorialCNN is TensorFlow's CNN tutorial model on CIFAR-10 shapes: Conv 32-64-64 3x3 ReLU with
// 2x2 max pooling, Dense 64, Dense 10 (logits).
func tutorialCNN() []LayerSpec {
	return []LayerSpec{
		Conv2D(32, 3, ReLU), MaxPooling2D(2),
		Conv2D(64, 3, ReLU), MaxPooling2D(2),
		Conv2D(64, 3, ReLU),
		Flatten(), Dense(64, ReLU), Dense(10, Linear),
	}
}

// Keras 3.15's model.summary() of the same models (bench/keras/.venv-callbacks, JAX backend).
func TestCNNSummaryAsKeras(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []LayerSpec
		want   string
	}{
		{"TensorFlow's tutorial CNN", tutorialCNN(), `Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 30, 30, 32)     │           896 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 15, 15, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 13, 13, 64)     │        18,496 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 6, 6, 64)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_2 (Conv2D)               │ (None, 4, 4, 64)       │        36,928 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 1024)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 64)             │        65,600 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 122,570 (478.79 KB)
 Trainable params: 122,570 (478.79 KB)
 Non-trainable params: 0 (0.00 B)
`},
		{"strides, same padding, batch normalization, average and global pooling", []LayerSpec{
			Conv2D(16, 3, "").WithPadding(Same).WithStrides(2).WithKernelRegularizer(L2(1e-3)), BatchNormalization(),
			AveragePooling2D(3).WithStrides(2).WithPadding(Same), Dropout(0.2),
			GlobalAveragePooling2D(), Dense(10, Softmax),
		}, `Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 16, 16, 16)     │           448 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 16, 16, 16)     │            64 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ average_pooling2d               │ (None, 8, 8, 16)       │             0 │
│ (AveragePooling2D)              │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 8, 8, 16)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_average_pooling2d        │ (None, 16)             │             0 │
│ (GlobalAveragePooling2D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │           170 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 682 (2.66 KB)
 Trainable params: 650 (2.54 KB)
 Non-trainable params: 32 (128.00 B)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Sequential([]int{32, 32, 3}, tc.layers...)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Summary(); got != tc.want {
				t.Errorf("Summary() =\n%s\nwant (Keras's)\n%s", got, tc.want)
			}
		})
	}
}

// Output shapes of Keras's formulas: ⌊(n−k)/s⌋+1 for "valid", ⌈n/s⌉ for "same", on odd and even
// sizes, with the padding split as TensorFlow and JAX split it (the smaller half before).
func TestWindowShapes(t *testing.T) {
	for _, tc := range []struct {
		n, k, s int
		p       Padding
		out     int
		pad     [2]int
	}{
		{32, 3, 1, Valid, 30, [2]int{}},
		{15, 2, 2, Valid, 7, [2]int{}},
		{13, 2, 2, Valid, 6, [2]int{}},
		{32, 3, 1, Same, 32, [2]int{1, 1}},
		{32, 3, 2, Same, 16, [2]int{0, 1}},
		{7, 2, 2, Same, 4, [2]int{0, 1}},
		{8, 4, 3, Same, 3, [2]int{1, 1}},
		{5, 5, 1, Valid, 1, [2]int{}},
		{2, 3, 1, Valid, 0, [2]int{}},
	} {
		if out, pad := windowOutput(tc.n, tc.k, tc.s, tc.p), windowPadding(tc.n, tc.k, tc.s, tc.p); out != tc.out || pad != tc.pad {
			t.Errorf("n %d k %d s %d %s: %d positions, padding %v; want %d, %v", tc.n, tc.k, tc.s, tc.p, out, pad, tc.out, tc.pad)
		}
	}
	for _, tc := range []struct {
		layer LayerSpec
		in    []int
		want  []int
	}{
		{Conv2D(8, 3, ReLU), []int{32, 32, 3}, []int{30, 30, 8}},
		{Conv2D(8, 3, ReLU).WithPadding(Same), []int{32, 32, 3}, []int{32, 32, 8}},
		{Conv2D(8, 3, ReLU).WithStrides(2), []int{32, 32, 3}, []int{15, 15, 8}},
		{Conv2D(8, 1, ReLU).WithKernelSize(5, 3).WithStrides(1, 2), []int{9, 9, 2}, []int{5, 4, 8}},
		{MaxPooling2D(2), []int{15, 15, 4}, []int{7, 7, 4}},
		{MaxPooling2D(3).WithStrides(2), []int{15, 15, 4}, []int{7, 7, 4}},
		{MaxPooling2D(2).WithPadding(Same), []int{15, 15, 4}, []int{8, 8, 4}},
		{AveragePooling2D(2).WithPoolSize(2, 3), []int{6, 9, 4}, []int{3, 3, 4}},
		{GlobalAveragePooling2D(), []int{6, 9, 4}, []int{4}},
		{Dense(5, ReLU), []int{6, 9, 4}, []int{6, 9, 5}},
	} {
		l := tc.layer
		l.fill2DDefaults()
		if err := l.check(0, tc.in); err != nil {
			t.Errorf("%+v on %v: %v", tc.layer, tc.in, err)
			continue
		}
		if got := l.outputShape(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s %+v on %v outputs %v, want %v", l.Type, l, tc.in, got, tc.want)
		}
	}
}

// Layer names as Keras's to_snake_case writes them.
func TestDefaultBaseNames(t *testing.T) {
	for typ, want := range map[LayerType]string{
		LayerDense: "dense", LayerBatchNormalization: "batch_normalization", LayerAlphaDropout: "alpha_dropout",
		LayerConv2D: "conv2d", LayerMaxPooling2D: "max_pooling2d", LayerAveragePooling2D: "average_pooling2d",
		LayerGlobalAveragePooling2D: "global_average_pooling2d",
	} {
		if got := defaultBaseName(typ); got != want {
			t.Errorf("%s is named %q, Keras names it %q", typ, got, want)
		}
	}
}

func TestCNNErrorsNameTheLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  []int
		layers []LayerSpec
		want   []string
	}{
		{"3x3 kernel on a 2x2 map", []int{8, 8, 3}, []LayerSpec{Conv2D(4, 3, ReLU), MaxPooling2D(3), Conv2D(4, 3, ReLU), Flatten(), Dense(2, Softmax)},
			[]string{"layers[2] (Conv2D)", "3x3 window is larger than its 2x2 input", "[2 2 4]", "keras.Same"}},
		{"pool larger than its input", []int{4, 4, 3}, []LayerSpec{MaxPooling2D(5), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (MaxPooling2D)", "5x5 window is larger than its 4x4 input", "PoolSize"}},
		{"average pool larger than its input", []int{4, 4, 3}, []LayerSpec{AveragePooling2D(2).WithPoolSize(2, 6), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (AveragePooling2D)", "2x6 window", "4x4 input"}},
		{"zero filters", []int{8, 8, 3}, []LayerSpec{Conv2D(0, 3, ReLU), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", "Filters must be > 0, got 0"}},
		{"no channel axis", []int{28, 28}, []LayerSpec{Conv2D(8, 3, ReLU), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", "[height, width, channels], gets [28 28]", "[]int{28, 28, 1}"}},
		{"conv after flatten", []int{8, 8, 3}, []LayerSpec{Flatten(), Conv2D(8, 3, ReLU), Dense(2, Softmax)},
			[]string{"layers[1] (Conv2D)", "gets [192]"}},
		{"global pooling on a flat input", []int{8, 8, 3}, []LayerSpec{Flatten(), GlobalAveragePooling2D(), Dense(2, Softmax)},
			[]string{"layers[1] (GlobalAveragePooling2D)", "gets [192]"}},
		{"zero kernel size", []int{8, 8, 3}, []LayerSpec{Conv2D(8, 0, ReLU), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", "KernelSize must be two values > 0", "[0 0]"}},
		{"zero strides", []int{8, 8, 3}, []LayerSpec{MaxPooling2D(2).WithStrides(0), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (MaxPooling2D)", "Strides must be two values > 0", "[0 0]"}},
		{"three strides", []int{8, 8, 3}, []LayerSpec{Conv2D(2, 2, ReLU).WithStrides(1, 2, 3), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", "Strides must be two values", "[1 2 3]"}},
		{"unknown padding", []int{8, 8, 3}, []LayerSpec{Conv2D(2, 2, ReLU).WithPadding("full"), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", `Padding must be "valid" or "same", got "full"`}},
		{"unknown activation", []int{8, 8, 3}, []LayerSpec{Conv2D(2, 2, "gelu"), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", `unknown activation "gelu"`}},
		{"negative L2", []int{8, 8, 3}, []LayerSpec{Conv2D(2, 2, ReLU).WithKernelRegularizer(L2(-1)), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (Conv2D)", "KernelRegularizer", "got -1"}},
		{"NaN L2", []int{8}, []LayerSpec{Dense(2, Softmax).WithKernelRegularizer(L2(math.NaN()))},
			[]string{"layers[0] (Dense)", "KernelRegularizer", "got NaN"}},
		{"L2 on a pooling layer", []int{8, 8, 3}, []LayerSpec{MaxPooling2D(2).WithKernelRegularizer(L2(1)), Flatten(), Dense(2, Softmax)},
			[]string{"layers[0] (MaxPooling2D)", "KernelRegularizer applies to Dense and Conv2D"}},
		{"no flat output", []int{8, 8, 3}, []LayerSpec{Conv2D(4, 3, ReLU), Dense(2, Softmax)},
			[]string{"layers[1] (Dense), the last layer", "[6 6 2]", "keras.Flatten()"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sequential(tc.input, tc.layers...)
			if err == nil || !containsAll(err.Error(), tc.want...) {
				t.Errorf("Sequential: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// A Conv2D spec is plain JSON data: the fields Keras's config has, read back into the same model;
// a Dense spec without a regularizer marshals as before (the run keys of the MLP labs do not change).
func TestCNNSpecJSON(t *testing.T) {
	m, err := Sequential([]int{32, 32, 3}, Conv2D(8, 3, ReLU).WithStrides(2).WithPadding(Same).WithKernelRegularizer(L2(1e-4)),
		MaxPooling2D(2), Flatten(), Dense(10, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m.Spec())
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`"type":"Conv2D"`, `"filters":8`, `"kernel_size":[3,3]`, `"strides":[2,2]`, `"padding":"same"`,
		`"kernel_regularizer":{"l2":0.0001}`, `"type":"MaxPooling2D","name":"max_pooling2d","pool_size":[2,2],"strides":[2,2],"padding":"valid"}`} {
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
	if back.Summary() != m.Summary() {
		t.Errorf("the model read back from JSON differs:\n%s", back.Summary())
	}
	dense, err := json.Marshal(Dense(10, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"Dense","units":10,"activation":"softmax","kernel_initializer":"glorot_uniform","bias_initializer":"zeros"}`; string(dense) != want {
		t.Errorf("Dense spec JSON %s, want %s", dense, want)
	}
	// The pool's default strides are filled in: the same model as with explicit ones.
	explicit, err := Sequential([]int{32, 32, 3}, Conv2D(8, 3, ReLU).WithStrides(2).WithPadding(Same).WithKernelRegularizer(L2(1e-4)),
		MaxPooling2D(2).WithStrides(2), Flatten(), Dense(10, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(explicit.Spec()); string(b) != string(data) {
		t.Errorf("explicit default strides give another spec:\n%s\n%s", b, data)
	}
}

// cnnImages returns n images of shape [12, 12, 3] in 4 classes, each class a bright square in
// its own quadrant over noise.
func cnnImages(n int) (Array, Labels) {
	x, _, ids := blobs(26, n, 4, 12, 12, 3)
	cls := ids.Classes
	for i := range n {
		for p := range 144 {
			r, c := p/12, p%12
			bright := float32(0)
			if r/6 == int(cls[i]/2) && c/6 == int(cls[i]%2) {
				bright = 1
			}
			for ch := range 3 {
				v := &x.Data[(i*144+p)*3+ch]
				*v = 0.2**v + bright
			}
		}
	}
	return x, ids
}

// smallCNN has every new layer: Conv2D valid and same with strides and L2, both poolings,
// BatchNormalization and Dropout on feature maps, global pooling and Flatten.
func smallCNN(t testing.TB, seed int64) *Model {
	t.Helper()
	m, err := NewModel(ModelSpec{InputShape: []int{12, 12, 3}, Seed: seed, Layers: []LayerSpec{
		Conv2D(8, 3, ReLU).WithPadding(Same).WithKernelRegularizer(L2(1e-4)),
		BatchNormalization(),
		MaxPooling2D(2),
		Conv2D(8, 3, ReLU).WithStrides(2).WithPadding(Same),
		Dropout(0.1),
		AveragePooling2D(3).WithStrides(1).WithPadding(Same),
		MaxPooling2D(3).WithStrides(2),
		Flatten(),
		Dense(4, Softmax).WithKernelRegularizer(L2(1e-3)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(nil)
	if err := m.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: LossSparseCategoricalCrossentropy, Metrics: []Metric{MetricAccuracy}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// A few epochs on synthetic images: the loss decreases and the model learns the classes.
func TestCNNFitLearns(t *testing.T) {
	x, ids := cnnImages(96)
	m := smallCNN(t, 1)
	h, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 6, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	first, last := h.Epochs[0], h.Epochs[len(h.Epochs)-1]
	t.Logf("loss %.4f → %.4f, accuracy %.3f → %.3f", first.Loss, last.Loss, first.Accuracy, last.Accuracy)
	if !(last.Loss < 0.7*first.Loss) || last.Accuracy < 0.9 {
		t.Errorf("loss %.4f → %.4f, accuracy %.3f → %.3f: the CNN does not learn", first.Loss, last.Loss, first.Accuracy, last.Accuracy)
	}
}

// The L2 penalty is in the loss that Evaluate reports: factor·Σw² of the regularized kernels.
func TestL2InTheLoss(t *testing.T) {
	x, ids := cnnImages(16)
	m := smallCNN(t, 2)
	withL2, _, err := m.Evaluate(x, ids, 16)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	var penalty float64
	for _, lw := range w {
		factor := map[string]float64{"conv2d": 1e-4, "dense": 1e-3}[lw.Name]
		for _, v := range lw.Kernel {
			penalty += factor * float64(v) * float64(v)
		}
	}
	spec := m.Spec()
	for i := range spec.Layers {
		spec.Layers[i].KernelRegularizer = Regularizer{}
	}
	plain, err := NewModel(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	if err := plain.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: LossSparseCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	without, _, err := plain.Evaluate(x, ids, 16)
	if err != nil {
		t.Fatal(err)
	}
	if penalty < 1e-4 || math.Abs((withL2-without)-penalty) > 1e-5*withL2 {
		t.Errorf("loss with L2 %.7g, without %.7g: difference %.7g, want the penalty %.7g", withL2, without, withL2-without, penalty)
	}
}

// Save and Load keep a CNN: its spec, kernels of rank 4, the moving statistics and the optimizer's
// slots, so that the loaded model predicts and trains on as the saved one.
func TestSaveLoadCNN(t *testing.T) {
	x, ids := cnnImages(48)
	m := smallCNN(t, 3)
	if _, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cnn")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded.SetOutput(nil)
	if loaded.Summary() != m.Summary() {
		t.Errorf("loaded summary:\n%s", loaded.Summary())
	}
	a, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	b, err := loaded.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 4 || !slices.Equal(a[0].KernelShape, []int{3, 3, 3, 8}) || !slices.Equal(a[2].KernelShape, []int{3, 3, 8, 8}) {
		t.Fatalf("weights: %d layers, kernels %v", len(a), a[0].KernelShape)
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Kernel, b[i].Kernel) || !slices.Equal(a[i].KernelShape, b[i].KernelShape) ||
			!slices.Equal(a[i].Bias, b[i].Bias) || !slices.EqualFunc(a[i].Others, b[i].Others, func(p, q Weight) bool {
			return p.Name == q.Name && slices.Equal(p.Shape, q.Shape) && slices.Equal(p.Values, q.Values)
		}) {
			t.Errorf("layer %d (%s) differs after Load", i, a[i].Name)
		}
	}
	assertLoadedAsSaved(t, m, loaded, x, ids)
}

// Conv2D's output and gradients with respect to its input and kernel against a direct computation
// on the host, on the test backend and on the pure-Go one: odd and even kernel sizes (GoMLX
// v0.28.2's own input gradient is wrong for even ones), strides and "same" padding.
func TestConv2DAgainstHost(t *testing.T) {
	backends := map[string]compute.Backend{"default": testBackend(t)}
	goB, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer goB.Finalize()
	backends["go"] = goB
	for _, tc := range []struct {
		h, w, kh, kw, sh, sw int
		padding              Padding
	}{
		{6, 6, 3, 3, 1, 1, Valid}, {6, 6, 3, 2, 1, 1, Valid}, {6, 6, 2, 3, 1, 1, Valid}, {6, 6, 4, 4, 1, 1, Valid},
		{7, 7, 3, 3, 2, 2, Valid}, {6, 6, 2, 2, 2, 2, Valid}, {7, 6, 3, 3, 1, 2, Valid},
		{7, 6, 3, 3, 1, 1, Same}, {7, 6, 4, 2, 2, 2, Same}, {5, 8, 2, 5, 3, 2, Same},
	} {
		const c, f = 2, 3
		l := Conv2D(f, 0, Linear).WithKernelSize(tc.kh, tc.kw).WithStrides(tc.sh, tc.sw).WithPadding(tc.padding)
		ho, wo := windowOutput(tc.h, tc.kh, tc.sh, tc.padding), windowOutput(tc.w, tc.kw, tc.sw, tc.padding)
		ph, pw := windowPadding(tc.h, tc.kh, tc.sh, tc.padding)[0], windowPadding(tc.w, tc.kw, tc.sw, tc.padding)[0]
		rng := rand.New(rand.NewPCG(uint64(tc.h*tc.kh), uint64(tc.w*tc.kw)))
		random := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		x, k, bias, r := random(tc.h*tc.w*c), random(tc.kh*tc.kw*c*f), random(f), random(ho*wo*f)
		y, dx, dk := make([]float64, ho*wo*f), make([]float64, len(x)), make([]float64, len(k))
		for o := range ho {
			for p := range wo {
				for q := range f {
					out := (o*wo+p)*f + q
					y[out] = float64(bias[q])
					for i := range tc.kh {
						for j := range tc.kw {
							row, col := o*tc.sh+i-ph, p*tc.sw+j-pw
							if row < 0 || row >= tc.h || col < 0 || col >= tc.w {
								continue
							}
							for ch := range c {
								xi, ki := (row*tc.w+col)*c+ch, ((i*tc.kw+j)*c+ch)*f+q
								y[out] += float64(x[xi]) * float64(k[ki])
								dx[xi] += float64(r[out]) * float64(k[ki])
								dk[ki] += float64(r[out]) * float64(x[xi])
							}
						}
					}
				}
			}
		}
		for name, b := range backends {
			outs, err := execN(b, func(x, k, bias, r *graph.Node) []*graph.Node {
				y := conv2D(x, k, bias, l)
				return append([]*graph.Node{y}, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x, k)...)
			}, tensors.FromFlatDataAndDimensions(x, 1, tc.h, tc.w, c), tensors.FromFlatDataAndDimensions(k, tc.kh, tc.kw, c, f),
				tensors.FromFlatDataAndDimensions(bias, f), tensors.FromFlatDataAndDimensions(r, 1, ho, wo, f))
			if err != nil {
				t.Fatalf("%s %+v: %v", name, tc, err)
			}
			for i, want := range [][]float64{y, dx, dk} {
				got := tensors.MustCopyFlatData[float32](outs[i])
				if len(got) != len(want) {
					t.Fatalf("%s %+v: %s has %d values, want %d", name, tc, []string{"output", "dx", "dkernel"}[i], len(got), len(want))
				}
				for j := range want {
					if math.Abs(float64(got[j])-want[j]) > 1e-5*(1+math.Abs(want[j])) {
						t.Errorf("%s %+v: %s[%d] = %g, want %g", name, tc, []string{"output", "dx", "dkernel"}[i], j, got[j], want[j])
						break
					}
				}
			}
		}
	}
}

// Every field of LayerSpec is part of its JSON, so of saved models and of run keys.
func TestLayerSpecFieldsAreSaved(t *testing.T) {
	typ := reflect.TypeOf(LayerSpec{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "" || name == "-" {
			t.Errorf("LayerSpec.%s is not saved in the spec's JSON (tag %q)", f.Name, f.Tag)
		}
	}
}

// Where a max-pooling window holds tied maxima, the gradient goes to the first of them in
// row-major order, as Keras's does (JAX's and TensorFlow's max-pooling gradients), on both pooling
// paths (non-overlapping windows by reshape, others by slices) and both backends.
func TestMaxPoolingTiedMaxima(t *testing.T) {
	goB, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer goB.Finalize()
	// One channel, 4x4: the top-left window is all 1s, the top-right holds two 2s, the bottom
	// windows one maximum each.
	x := []float32{
		1, 1, 0, 2,
		1, 1, 2, 0,
		0, 3, 5, 5,
		0, 0, 5, 5,
	}
	for _, tc := range []struct {
		name  string
		layer LayerSpec
		want  []float32
	}{
		{"2x2 windows", MaxPooling2D(2), []float32{
			1, 0, 0, 1,
			0, 0, 0, 0,
			0, 1, 1, 0,
			0, 0, 0, 0,
		}},
		// Windows at rows and columns 0-1, 1-2, 2-3 (stride 1): each of the 9 windows sends 1 to
		// its first maximum.
		{"2x2 windows, stride 1", MaxPooling2D(2).WithStrides(1), []float32{
			1, 0, 0, 1,
			0, 0, 1, 0,
			0, 2, 4, 0,
			0, 0, 0, 0,
		}},
	} {
		l := tc.layer
		l.fill2DDefaults()
		for name, b := range map[string]compute.Backend{"default": testBackend(t), "go": goB} {
			outs, err := execN(b, func(x *graph.Node) *graph.Node {
				return graph.Gradient(graph.ReduceAllSum(maxPool2D(x, l)), x)[0]
			}, tensors.FromFlatDataAndDimensions(x, 1, 4, 4, 1))
			if err != nil {
				t.Fatal(err)
			}
			if got := tensors.MustCopyFlatData[float32](outs[0]); !slices.Equal(got, tc.want) {
				t.Errorf("%s on %s: gradient %v, want %v", tc.name, name, got, tc.want)
			}
		}
	}
}
