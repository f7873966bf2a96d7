package runs_test

import (
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// The run key covers issue 27's layers: their settings (BatchNormalization's momentum and epsilon,
// AlphaDropout's rate), the statistics a Normalization was adapted to, and BatchNormalization's
// moving statistics (through the weights' digest), so that changing any of them trains anew.
func TestKeyCoversNewLayers(t *testing.T) {
	x, y := blobs(27, 32)
	other, _ := blobs(28, 32)
	build := func(t *testing.T, adapt keras.Array, edit func(bn, alpha *keras.LayerSpec)) *keras.Model {
		t.Helper()
		norm, err := keras.Normalization().Adapt(adapt)
		if err != nil {
			t.Fatal(err)
		}
		bn, alpha := keras.BatchNormalization(), keras.AlphaDropout(0.1)
		if edit != nil {
			edit(&bn, &alpha)
		}
		m, err := keras.Sequential([]int{4, 4, 2}, norm, keras.Flatten(),
			keras.Dense(8, keras.SELU).WithInitializer(keras.LeCunNormal), bn, alpha, keras.Dense(4, keras.Softmax))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossCategoricalCrossentropy}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cfg := keras.FitConfig{Epochs: 1, BatchSize: 8}
	key := func(t *testing.T, m *keras.Model) string {
		t.Helper()
		k, err := runs.Key(m, x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(t, build(t, x, nil))
	if again := key(t, build(t, x, nil)); again != base {
		t.Fatalf("the same model has keys %s and %s", base, again)
	}
	movedStats := build(t, x, nil)
	w, err := movedStats.Weights()
	if err != nil {
		t.Fatal(err)
	}
	w[1].Others[2].Values[0] += 0.5 // moving_mean
	if err := movedStats.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*keras.Model{
		"Normalization adapted to other data": build(t, other, nil),
		"BatchNormalization momentum":         build(t, x, func(bn, _ *keras.LayerSpec) { *bn = bn.WithMomentum(0.9) }),
		"BatchNormalization epsilon":          build(t, x, func(bn, _ *keras.LayerSpec) { *bn = bn.WithEpsilon(1e-5) }),
		"AlphaDropout rate":                   build(t, x, func(_, alpha *keras.LayerSpec) { alpha.Rate = 0.2 }),
		"BatchNormalization moving mean":      movedStats,
	} {
		if key(t, m) == base {
			t.Errorf("%s: the run key did not change", name)
		}
	}
}

// The run key covers issue 26's convolutional layers: every setting of Conv2D and the pooling
// layers, the kind of pooling, and the L2 factors, so that changing any of them trains anew.
func TestKeyCoversCNNLayers(t *testing.T) {
	x, y := blobs(26, 32)
	cfg := keras.FitConfig{Epochs: 1, BatchSize: 8}
	conv := keras.Conv2D(4, 2, keras.ReLU).WithPadding(keras.Same).WithKernelRegularizer(keras.L2(1e-4))
	pool := keras.MaxPooling2D(2)
	dense := keras.Dense(4, keras.Softmax).WithKernelRegularizer(keras.L2(1e-3))
	key := func(t *testing.T, layers ...keras.LayerSpec) string {
		t.Helper()
		m, err := keras.Sequential([]int{4, 4, 2}, layers...)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossCategoricalCrossentropy}); err != nil {
			t.Fatal(err)
		}
		k, err := runs.Key(m, x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(t, conv, pool, keras.Flatten(), dense)
	if again := key(t, conv, pool.WithStrides(2), keras.Flatten(), dense); again != base {
		t.Errorf("a pool's default strides written out change the key")
	}
	for name, layers := range map[string][]keras.LayerSpec{
		"Conv2D filters":         {keras.Conv2D(5, 2, keras.ReLU).WithPadding(keras.Same).WithKernelRegularizer(keras.L2(1e-4)), pool, keras.Flatten(), dense},
		"Conv2D kernel size":     {conv.WithKernelSize(3, 2), pool, keras.Flatten(), dense},
		"Conv2D strides":         {conv.WithStrides(1, 2), pool.WithPoolSize(2, 1), keras.Flatten(), dense},
		"Conv2D padding":         {conv.WithPadding(keras.Valid), keras.Flatten(), dense},
		"Conv2D activation":      {keras.Conv2D(4, 2, keras.ELU).WithPadding(keras.Same).WithKernelRegularizer(keras.L2(1e-4)), pool, keras.Flatten(), dense},
		"Conv2D initializer":     {conv.WithInitializer(keras.HeNormal), pool, keras.Flatten(), dense},
		"Conv2D L2":              {conv.WithKernelRegularizer(keras.L2(1e-3)), pool, keras.Flatten(), dense},
		"Conv2D without L2":      {conv.WithKernelRegularizer(keras.Regularizer{}), pool, keras.Flatten(), dense},
		"Dense L2":               {conv, pool, keras.Flatten(), dense.WithKernelRegularizer(keras.L2(1e-2))},
		"pool size":              {conv, pool.WithPoolSize(2, 1), keras.Flatten(), dense},
		"pool strides":           {conv, pool.WithStrides(1), keras.Flatten(), dense},
		"pool padding":           {conv, keras.MaxPooling2D(3).WithPadding(keras.Same), keras.Flatten(), dense},
		"average pooling":        {conv, keras.AveragePooling2D(2), keras.Flatten(), dense},
		"global average pooling": {conv, pool, keras.GlobalAveragePooling2D(), dense},
	} {
		if key(t, layers...) == base {
			t.Errorf("%s: the run key did not change", name)
		}
	}
}

// The run key covers the augmentation layers' settings and FromLogits (a model compiled without
// FromLogits has no from_logits in its JSON, so the labs' keys are unchanged: keras's
// TestFromLogitsSaved).
func TestKeyCoversAugmentationAndFromLogits(t *testing.T) {
	x, y := blobs(26, 32)
	cfg := keras.FitConfig{Epochs: 1, BatchSize: 8}
	flip, shift, turn := keras.RandomFlip(keras.Horizontal), keras.RandomTranslation(0.1, 0.1), keras.RandomRotation(0.1)
	key := func(t *testing.T, fromLogits bool, layers ...keras.LayerSpec) string {
		t.Helper()
		m, err := keras.Sequential([]int{4, 4, 2}, append(layers, keras.Flatten(), keras.Dense(4, keras.Linear))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossCategoricalCrossentropy, FromLogits: fromLogits}); err != nil {
			t.Fatal(err)
		}
		k, err := runs.Key(m, x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(t, true, flip, shift, turn)
	if again := key(t, true, keras.RandomFlip(keras.Horizontal), shift, turn); again != base {
		t.Errorf("the same model has keys %s and %s", base, again)
	}
	if key(t, true, keras.RandomFlip(""), shift, turn) != key(t, true, keras.RandomFlip(keras.HorizontalAndVertical), shift, turn) {
		t.Errorf("RandomFlip's default mode written out changes the key")
	}
	for name, k := range map[string]string{
		"flip mode":                 key(t, true, keras.RandomFlip(keras.Vertical), shift, turn),
		"translation height factor": key(t, true, flip, keras.RandomTranslation(0.2, 0.1), turn),
		"translation width factor":  key(t, true, flip, keras.RandomTranslation(0.1, 0.2), turn),
		"rotation factor":           key(t, true, flip, shift, keras.RandomRotation(0.2)),
		"no augmentation":           key(t, true),
		"without FromLogits":        key(t, false, flip, shift, turn),
	} {
		if k == base {
			t.Errorf("%s: the run key did not change", name)
		}
	}
}

// A memoized CNN run is saved and loaded back whole: a second FitOrLoad of the same model loads
// it, with the trained kernels, BatchNormalization's moving statistics and the History.
func TestCNNRunLoaded(t *testing.T) {
	x, y := blobs(26, 48)
	dir := filepath.Join(t.TempDir(), "runs")
	fit := func() (*keras.Model, *runs.Run) {
		m, err := keras.Sequential([]int{4, 4, 2},
			keras.Conv2D(4, 3, keras.ReLU).WithPadding(keras.Same).WithKernelRegularizer(keras.L2(1e-4)),
			keras.BatchNormalization(), keras.MaxPooling2D(2), keras.Dropout(0.1),
			keras.Flatten(), keras.Dense(4, keras.Softmax))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossCategoricalCrossentropy}); err != nil {
			t.Fatal(err)
		}
		r, err := runs.FitOrLoad(t.Context(), m, x, y, keras.FitConfig{Epochs: 2, BatchSize: 16, Output: io.Discard}, runs.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return m, r
	}
	trained, first := fit()
	loaded, again := fit()
	if first.Loaded || !again.Loaded || again.Key != first.Key {
		t.Fatalf("first run loaded=%v, second loaded=%v, keys %s %s", first.Loaded, again.Loaded, first.Key, again.Key)
	}
	a, err := trained.Weights()
	if err != nil {
		t.Fatal(err)
	}
	b, err := loaded.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || len(a[0].KernelShape) != 4 || len(b[1].Others) != 4 {
		t.Errorf("the loaded run's weights differ from the trained ones")
	}
	if historyJSON(t, first.History) != historyJSON(t, again.History) {
		t.Errorf("the loaded History differs")
	}
}
