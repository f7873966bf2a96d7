package runs_test

import (
	"context"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// A run trained with a learning-rate schedule and a 1cycle callback is keyed on them and loads
// into a fresh model that then trains on exactly as the trained one.
func TestScheduledRunsLoadAndContinue(t *testing.T) {
	x, y := blobs(41, 64)
	dir := t.TempDir()
	sched := keras.CosineDecay{InitialLearningRate: 0.02, DecaySteps: 10, Alpha: 0.1}
	compiled := func(opt keras.Optimizer) *keras.Model {
		m := uncompiledModel(t, 12)
		if err := m.Compile(keras.CompileConfig{Optimizer: opt, Loss: keras.LossCategoricalCrossentropy}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cfg := keras.FitConfig{Epochs: 2, BatchSize: 16}
	trained := compiled(keras.Adam(0).WithSchedule(sched))
	first, err := runs.FitOrLoad(context.Background(), trained, x, y, cfg, runs.Options{Dir: dir})
	if err != nil || first.Loaded {
		t.Fatal(err, first)
	}
	loaded := compiled(keras.Adam(0).WithSchedule(sched))
	again, err := runs.FitOrLoad(context.Background(), loaded, x, y, cfg, runs.Options{Dir: dir})
	if err != nil || !again.Loaded || again.Key != first.Key {
		t.Fatalf("second FitOrLoad: %v, loaded %v, key %s (want %s)", err, again.Loaded, again.Key, first.Key)
	}
	other := compiled(keras.Adam(0).WithSchedule(keras.CosineDecay{InitialLearningRate: 0.02, DecaySteps: 11, Alpha: 0.1}))
	if k, _ := runs.Key(other, x, y, cfg); k == first.Key {
		t.Error("another schedule has the same run key")
	}
	lr1, _ := trained.LearningRate()
	lr2, _ := loaded.LearningRate()
	if lr1 != lr2 || lr1 != sched.At(8) {
		t.Errorf("learning rate %v trained, %v loaded, want %v", lr1, lr2, sched.At(8))
	}
	for _, m := range []*keras.Model{trained, loaded} {
		if _, err := m.Fit(context.Background(), x, y, keras.FitConfig{Epochs: 1, BatchSize: 16}); err != nil {
			t.Fatal(err)
		}
	}
	if !weightsEqual(t, trained, loaded) {
		t.Error("the loaded model trains on differently")
	}

	oneCycle := func(maxRate float64) keras.FitConfig {
		c := cfg
		c.Callbacks = []keras.Callback{&keras.OneCycleScheduler{Iterations: 8, MaxRate: maxRate}}
		return c
	}
	k1, _ := runs.Key(compiled(keras.SGD(0.01)), x, y, oneCycle(0.1))
	k2, _ := runs.Key(compiled(keras.SGD(0.01)), x, y, oneCycle(0.2))
	if k1 == k2 {
		t.Error("two 1cycle maxima have the same run key")
	}
}

// The learning-rate finder leaves the model as it was: the run key of the next Fit is the same.
func TestFindLearningRateKeepsTheKey(t *testing.T) {
	x, y := blobs(42, 64)
	m := smallModel(t, 13)
	cfg := keras.FitConfig{Epochs: 1, BatchSize: 16}
	if _, err := m.Fit(context.Background(), x, y, cfg); err != nil {
		t.Fatal(err)
	}
	before, err := runs.Key(m, x, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rates, _, err := keras.FindLearningRate(context.Background(), m, x, y, keras.LRFinderConfig{BatchSize: 16})
	if err != nil || len(rates) == 0 {
		t.Fatal(err, len(rates))
	}
	if after, _ := runs.Key(m, x, y, cfg); after != before {
		t.Errorf("run key %s after the search, %s before", after, before)
	}
}
