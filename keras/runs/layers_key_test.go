package runs_test

import (
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
