package runs_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// blobs returns n samples of shape [4, 4, 2] in 4 well-separated Gaussian clusters, with one-hot
// labels. The data depends only on seed.
func blobs(seed uint64, n int) (keras.Array, keras.Labels) {
	const classes, d = 4, 4 * 4 * 2
	rng := rand.New(rand.NewPCG(seed, 7))
	centers := make([]float32, classes*d)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, n*d)
	oneHot := make([]float32, n*classes)
	for i := range n {
		c := rng.IntN(classes)
		oneHot[i*classes+c] = 1
		for j := range d {
			x[i*d+j] = centers[c*d+j] + 0.3*float32(rng.NormFloat64())
		}
	}
	return keras.NewArray(x, n, 4, 4, 2), keras.OneHot(oneHot, classes)
}

// smallModel is a quick compiled model for blobs: [4, 4, 2] → 16 ReLU → dropout → 4 softmax.
func smallModel(t testing.TB, seed int64) *keras.Model {
	t.Helper()
	m := uncompiledModel(t, seed)
	if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// uncompiledModel is smallModel before Compile.
func uncompiledModel(t testing.TB, seed int64) *keras.Model {
	t.Helper()
	m, err := keras.NewModel(keras.ModelSpec{
		InputShape: []int{4, 4, 2},
		Layers:     []keras.LayerSpec{keras.Flatten(), keras.Dense(16, keras.ReLU), keras.Dropout(0.2), keras.Dense(4, keras.Softmax)},
		Seed:       seed,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// probe is a callback whose hooks call its functions, when set. Its fields are unexported, so
// that probes with different functions give the same run key (the key covers a callback's type
// and exported fields).
type probe struct {
	keras.BaseCallback
	onTrainBegin func() error
	onBatchEnd   func() error
	onEpochEnd   func(epoch int) error
}

func (p *probe) OnTrainBegin(keras.Training) error {
	if p.onTrainBegin != nil {
		return p.onTrainBegin()
	}
	return nil
}

func (p *probe) OnBatchEnd(keras.Training, int, keras.Logs) error {
	if p.onBatchEnd != nil {
		return p.onBatchEnd()
	}
	return nil
}

func (p *probe) OnEpochEnd(_ keras.Training, epoch int, _ keras.Logs) error {
	if p.onEpochEnd != nil {
		return p.onEpochEnd(epoch)
	}
	return nil
}

// readDir returns the names in dir.
func readDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// assertNoLeftovers fails if the runs folder holds temporaries (.tmp-*, .old-*), lock files
// (.lock-*) or anything else hidden.
func assertNoLeftovers(t testing.TB, dir string) {
	t.Helper()
	for _, name := range readDir(t, dir) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("%s left in the runs folder %s", name, dir)
		}
	}
}

// weightsEqual reports whether two models' weights are the same, value for value.
func weightsEqual(t testing.TB, a, b *keras.Model) bool {
	t.Helper()
	wa, err := a.Weights()
	if err != nil {
		t.Fatal(err)
	}
	wb, err := b.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if len(wa) != len(wb) {
		return false
	}
	for i := range wa {
		if wa[i].Name != wb[i].Name || !slices.Equal(wa[i].KernelShape, wb[i].KernelShape) ||
			!slices.Equal(wa[i].Kernel, wb[i].Kernel) || !slices.Equal(wa[i].Bias, wb[i].Bias) {
			return false
		}
	}
	return true
}

// historyJSON is h as JSON, to compare Histories (their NaNs defeat reflect.DeepEqual).
func historyJSON(t testing.TB, h *keras.History) string {
	t.Helper()
	if h == nil {
		return "<nil>"
	}
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// fitter runs memoized Fits of smallModel(seed) on fixed data in one runs folder, each with a
// fresh model, as a notebook cell run again would.
type fitter struct {
	t    testing.TB
	x    keras.Array
	y    keras.Labels
	seed int64
	dir  string
}

// baseConfig is the FitConfig of most tests: 2 quick epochs with validation and EarlyStopping.
func baseConfig() keras.FitConfig {
	return keras.FitConfig{Epochs: 2, BatchSize: 16, ValidationSplit: 0.25, Verbose: 2,
		Callbacks: []keras.Callback{&keras.EarlyStopping{Monitor: "val_loss", Patience: 5, RestoreBestWeights: true}}}
}

// fit runs a memoized Fit of a fresh model with cfg (its Output replaced) and opts (opts.Dir defaults to f.dir) and
// fails the test on an error. It returns the model, the Run and what was printed.
func (f *fitter) fit(cfg keras.FitConfig, opts runs.Options) (*keras.Model, *runs.Run, string) {
	f.t.Helper()
	m := smallModel(f.t, f.seed)
	var out bytes.Buffer
	cfg.Output = &out
	if opts.Dir == "" {
		opts.Dir = f.dir
	}
	r, err := runs.FitOrLoad(f.t.Context(), m, f.x, f.y, cfg, opts)
	if err != nil {
		f.t.Fatalf("Fit: %v\noutput:\n%s", err, out.String())
	}
	if r == nil || r.History == nil {
		f.t.Fatalf("Fit returned run %+v and no error", r)
	}
	return m, r, out.String()
}

// newFitter returns a fitter with 64 blobs samples and an empty runs folder.
func newFitter(t testing.TB) *fitter {
	x, y := blobs(21, 64)
	return &fitter{t: t, x: x, y: y, seed: 11, dir: filepath.Join(t.TempDir(), "runs")}
}
