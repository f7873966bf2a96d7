package keras

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// scheduleParityCase is one schedule and the steps to evaluate it at, in the JSON that
// bench/keras/schedules_parity.py reads.
type scheduleParityCase struct {
	Schedule LearningRateSchedule `json:"schedule"`
	Steps    []int64              `json:"steps"`
}

// scheduleParityFit is a short fit with a schedule, for the learning rates Keras reads per batch
// and logs per epoch.
type scheduleParityFit struct {
	Schedule  LearningRateSchedule `json:"schedule"`
	Samples   int                  `json:"samples"`
	BatchSize int                  `json:"batch_size"`
	Epochs    int                  `json:"epochs"`
}

// ulps is the distance between two float32 values in units in the last place.
func ulps(a, b float64) int64 {
	ia, ib := int64(math.Float32bits(float32(a))), int64(math.Float32bits(float32(b)))
	if d := ia - ib; d >= 0 {
		return d
	}
	return ib - ia
}

// cifarlab's schedules give Keras 3's values (float32, within 2 ulps of Keras's float32 power
// and cosine on JAX; piecewise constant exactly), at steps around every boundary and far past the
// decay; and a fit with a schedule reads and logs the learning rates Keras's callbacks read
// (on_train_batch_begin) and log (on_epoch_end): schedule(iterations) before each step and at the
// end of each epoch.
func TestSchedulesParityWithKeras(t *testing.T) {
	py := kerasPythonOrSkip(t)
	steps := []int64{0, 1, 2, 3, 5, 7, 9, 10, 11, 14, 50, 99, 100, 101, 150, 999, 1000, 1001, 1100, 5000, 12345, 100000}
	schedules := []LearningRateSchedule{
		ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 100, DecayRate: 0.96},
		ExponentialDecay{InitialLearningRate: 0.01, DecaySteps: 7, DecayRate: 0.5, Staircase: true},
		ExponentialDecay{InitialLearningRate: 1e-3, DecaySteps: 1000, DecayRate: 1.5},
		ExponentialDecay{InitialLearningRate: 0.3, DecaySteps: 10, DecayRate: 0.1},
		PiecewiseConstantDecay{Boundaries: []int{10, 100, 1000}, Values: []float64{0.1, 0.05, 0.01, 0.001}},
		PiecewiseConstantDecay{Boundaries: []int{0}, Values: []float64{1e-3, 0}},
		CosineDecay{InitialLearningRate: 0.1, DecaySteps: 1000},
		CosineDecay{InitialLearningRate: 0.05, DecaySteps: 99, Alpha: 0.2},
		CosineDecay{InitialLearningRate: 0, DecaySteps: 1000, WarmupTarget: 0.1, WarmupSteps: 100},
		CosineDecay{InitialLearningRate: 0.01, DecaySteps: 7, Alpha: 0.5, WarmupTarget: 0.03, WarmupSteps: 3},
		CosineDecay{InitialLearningRate: 0.02, DecaySteps: 50, WarmupTarget: 0.1},
	}
	var in struct {
		Schedules []scheduleParityCase `json:"schedules"`
		Fit       scheduleParityFit    `json:"fit"`
	}
	for _, s := range schedules {
		in.Schedules = append(in.Schedules, scheduleParityCase{Schedule: s, Steps: steps})
	}
	fitSched := CosineDecay{InitialLearningRate: 0.01, DecaySteps: 9, Alpha: 0.1, WarmupTarget: 0.05, WarmupSteps: 2}
	in.Fit = scheduleParityFit{Schedule: fitSched, Samples: 90, BatchSize: 25, Epochs: 4} // 4 steps per epoch, the last one partial
	blob, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	stdout := runKeras(t, py, "../bench/keras/schedules_parity.py", blob)
	var want struct {
		Schedules [][]float64 `json:"schedules"`
		Fit       struct {
			BatchRates []float64 `json:"batch_rates"`
			EpochRates []float64 `json:"epoch_rates"`
		} `json:"fit"`
	}
	if err := json.Unmarshal(stdout, &want); err != nil || len(want.Schedules) != len(schedules) {
		t.Fatalf("Keras side printed %d results (%v): %s", len(want.Schedules), err, string(stdout))
	}
	exact, total := 0, 0
	for i, s := range schedules {
		for j, step := range steps {
			got, k := s.At(step), want.Schedules[i][j]
			total++
			switch d := ulps(got, k); {
			case d == 0:
				exact++
			case d > 2 || s.className() == "PiecewiseConstantDecay":
				t.Errorf("%s %+v at step %d: %v, Keras %v (%d ulps apart)", s.className(), s, step, got, k, d)
			}
		}
	}

	x, y, _ := blobs(61, in.Fit.Samples, 3, 8)
	m, err := NewModel(ModelSpec{InputShape: []int{8}, Layers: []LayerSpec{Dense(3, "softmax")}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileConfig{Optimizer: SGD(0).WithSchedule(fitSched), Loss: LossCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	var batchRates []float64
	rec := &batchFuncs{begin: func(run Training, batch int) error { batchRates = append(batchRates, run.LearningRate()); return nil }}
	h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: in.Fit.Epochs, BatchSize: in.Fit.BatchSize, Observers: []Callback{rec}})
	if err != nil {
		t.Fatal(err)
	}
	close := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(u, v float64) bool { return ulps(u, v) <= 2 })
	}
	if !close(batchRates, want.Fit.BatchRates) {
		t.Errorf("the rate of each step:\n  cifarlab %v\n  Keras    %v", batchRates, want.Fit.BatchRates)
	}
	if got := h.Series("learning_rate"); !close(got, want.Fit.EpochRates) {
		t.Errorf("learning_rate logged per epoch:\n  cifarlab %v\n  Keras    %v", got, want.Fit.EpochRates)
	}
	t.Logf("%d of %d schedule values equal Keras %s's float32 exactly, the rest within 2 ulps; %d step and %d epoch rates of a fit agree",
		exact, total, kerasVersion(py), len(batchRates), len(h.Epochs))
}
