package keras

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// blobs returns n samples of shape sampleShape in classes well-separated Gaussian clusters, with
// one-hot labels and class ids. The data depends only on seed.
func blobs(seed uint64, n, classes int, sampleShape ...int) (Array, Labels, Labels) {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := product(sampleShape)
	centers := make([]float32, classes*d)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, n*d)
	oneHot := make([]float32, n*classes)
	ids := make([]int, n)
	for i := range n {
		c := rng.IntN(classes)
		ids[i] = c
		oneHot[i*classes+c] = 1
		for j := range d {
			x[i*d+j] = centers[c*d+j] + 0.3*float32(rng.NormFloat64())
		}
	}
	return NewArray(x, append([]int{n}, sampleShape...)...), OneHot(oneHot, classes), Classes(ids)
}

// smallModel is a quick model for blobs with sample shape [4, 4, 2] and 4 classes.
func smallModel(t testing.TB, seed int64, loss Loss, opt Optimizer) *Model {
	t.Helper()
	m, err := NewModel(ModelSpec{
		InputShape: []int{4, 4, 2},
		Layers:     []LayerSpec{Flatten(), Dense(16, "relu"), Dropout(0.2), Dense(4, "softmax")},
		Seed:       seed,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileConfig{Optimizer: opt, Loss: loss, Metrics: []Metric{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// containsAll reports whether s contains every part.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// testBackend returns the default backend (see TestMain) or fails the test.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := DefaultBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// execN compiles and runs a graph function once on backend.
func execN[F graph.ExecGraphFn](backend compute.Backend, fn F, args ...any) ([]*tensors.Tensor, error) {
	exec, err := graph.NewExec(backend, fn)
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	return exec.Exec(args...)
}

// lab3Model is lab 3's network (the lab package's preset, written out here because keras cannot
// import lab): 3072 → 512 → 256 → 128 → 10 with dropout, seed 42, Adam(0.001), categorical
// cross-entropy.
func lab3Model(activation Activation) (*Model, error) {
	m, err := NewModel(ModelSpec{InputShape: []int{32, 32, 3}, Seed: 42, Layers: []LayerSpec{
		Flatten(),
		Dense(512, activation), Dropout(0.3),
		Dense(256, activation), Dropout(0.4),
		Dense(128, activation), Dropout(0.5),
		Dense(10, Softmax),
	}})
	if err != nil {
		return nil, err
	}
	return m, m.Compile(CompileConfig{Optimizer: Adam(0.001), Loss: LossCategoricalCrossentropy, Metrics: []Metric{MetricAccuracy}})
}

// exercise2Model is exercise 2's network (lab's preset): 3072 → 4 × 256 ELU (He-normal) → 10,
// seed 42, Nadam(0.001), sparse categorical cross-entropy.
func exercise2Model() (*Model, error) {
	layers := []LayerSpec{Flatten()}
	for range 4 {
		layers = append(layers, Dense(256, ELU).WithInitializer(HeNormal))
	}
	m, err := NewModel(ModelSpec{InputShape: []int{32, 32, 3}, Seed: 42, Layers: append(layers, Dense(10, Softmax))})
	if err != nil {
		return nil, err
	}
	return m, m.Compile(CompileConfig{Optimizer: Nadam(0.001), Loss: LossSparseCategoricalCrossentropy, Metrics: []Metric{MetricAccuracy}})
}

// assertLoadedAsSaved checks that loaded, a Load of m's Save, predicts what m predicts on x and
// trains on as m does: the next epoch's loss (weights and optimizer state restored) is the same.
func assertLoadedAsSaved(t *testing.T, m, loaded *Model, x Array, ids Labels) {
	t.Helper()
	p1, err := m.Predict(x, 16)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := loaded.Predict(x, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p1.Data, p2.Data) {
		t.Errorf("the loaded model predicts differently")
	}
	h1, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := loaded.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if h1.Epochs[0].Loss != h2.Epochs[0].Loss {
		t.Errorf("the next epoch's loss: saved model %v, loaded %v", h1.Epochs[0].Loss, h2.Epochs[0].Loss)
	}
}
