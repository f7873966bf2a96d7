package keras

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// near reports whether got is want within a few float32 ulps.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 4*math.Abs(want)*(1.0/(1<<23))
}

// The schedules compute Keras's formulas (hand-computed values; schedules_parity_test.go
// compares with Keras itself).
func TestScheduleValues(t *testing.T) {
	cases := []struct {
		s     LearningRateSchedule
		steps []int64
		want  []float64
	}{
		{ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5},
			[]int64{0, 5, 10, 15, 30}, []float64{0.1, 0.1 / math.Sqrt2, 0.05, 0.05 / math.Sqrt2, 0.0125}},
		{ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5, Staircase: true},
			[]int64{0, 9, 10, 19, 20}, []float64{0.1, 0.1, 0.05, 0.05, 0.025}},
		{PiecewiseConstantDecay{Boundaries: []int{10, 20}, Values: []float64{1, 0.5, 0.1}},
			[]int64{0, 10, 11, 20, 21, 1000}, []float64{1, 1, 0.5, 0.5, 0.1, 0.1}},
		{CosineDecay{InitialLearningRate: 0.1, DecaySteps: 100},
			[]int64{0, 50, 100, 200}, []float64{0.1, 0.05, 0, 0}},
		{CosineDecay{InitialLearningRate: 0.1, DecaySteps: 100, Alpha: 0.1},
			[]int64{0, 50, 100, 200}, []float64{0.1, 0.055, 0.01, 0.01}},
		{CosineDecay{InitialLearningRate: 0, DecaySteps: 100, WarmupTarget: 0.2, WarmupSteps: 10},
			[]int64{0, 5, 10, 60, 110, 500}, []float64{0, 0.1, 0.2, 0.1, 0, 0}},
	}
	for _, c := range cases {
		for i, step := range c.steps {
			if got := c.s.At(step); !near(got, c.want[i]) && !(c.want[i] == 0 && math.Abs(got) < 1e-9) {
				t.Errorf("%#v.At(%d) = %v, want %v", c.s, step, got, c.want[i])
			}
		}
	}
}

// Impossible schedules and 1cycle settings are errors before any training, naming the setting.
func TestScheduleErrors(t *testing.T) {
	cases := []struct {
		s    LearningRateSchedule
		want string
	}{
		{ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 0, DecayRate: 0.9}, "ExponentialDecay.DecaySteps must be > 0"},
		{ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0}, "ExponentialDecay.DecayRate must be > 0"},
		{ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: -0.5}, "ExponentialDecay.DecayRate must be > 0"},
		{ExponentialDecay{InitialLearningRate: -0.1, DecaySteps: 10, DecayRate: 0.5}, "ExponentialDecay.InitialLearningRate must be > 0"},
		{PiecewiseConstantDecay{Boundaries: []int{10}, Values: []float64{0.1}}, "one more entry than Boundaries: got 1 values for 1 boundaries"},
		{PiecewiseConstantDecay{Boundaries: []int{20, 10}, Values: []float64{0.1, 0.01, 0.001}}, "Boundaries must increase strictly: Boundaries[1] = 10 follows 20"},
		{PiecewiseConstantDecay{Boundaries: []int{10}, Values: []float64{0.1, -0.01}}, "PiecewiseConstantDecay.Values[1] must be a learning rate >= 0"},
		{PiecewiseConstantDecay{Values: []float64{0.1}}, "PiecewiseConstantDecay.Boundaries is empty"},
		{CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, Alpha: 1.5}, "CosineDecay.Alpha must be in [0, 1]"},
		{CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, Alpha: -0.1}, "CosineDecay.Alpha must be in [0, 1]"},
		{CosineDecay{InitialLearningRate: 0.1, DecaySteps: -1}, "CosineDecay.DecaySteps must be > 0"},
		{CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, WarmupSteps: 5}, "CosineDecay.WarmupSteps is 5 but WarmupTarget is 0"},
	}
	for _, c := range cases {
		m, err := NewModel(ModelSpec{InputShape: []int{2}, Layers: []LayerSpec{Dense(2, "softmax")}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Compile(CompileConfig{Optimizer: SGD(0).WithSchedule(c.s), Loss: LossCategoricalCrossentropy})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Optimizer.Schedule: ") {
			t.Errorf("%#v: error %v, want one that says %q", c.s, err, c.want)
		}
	}
	both := SGD(0.5)
	both.Schedule = ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}
	if _, err := checkCompile(CompileConfig{Optimizer: both, Loss: LossCategoricalCrossentropy}); err == nil || !strings.Contains(err.Error(), "leave LearningRate 0") {
		t.Errorf("a LearningRate and a Schedule that disagree: %v", err)
	}
}

// Fit sets the schedule's value at the step count before every step (the step uses it: the same
// weights as a constant-rate optimizer driven by a callback to the same rates), logs its value at
// the end of each epoch, and refuses to let a callback set the rate.
func TestScheduleInFit(t *testing.T) {
	x, y, _ := blobs(31, 100, 4, 4, 4, 2) // 4 steps of 25 per epoch
	sched := ExponentialDecay{InitialLearningRate: 0.05, DecaySteps: 3, DecayRate: 0.7}
	m := smallModel(t, 7, LossCategoricalCrossentropy, Adam(0).WithSchedule(sched))
	var seen []float64
	watch := &batchFuncs{begin: func(run Training, batch int) error { seen = append(seen, run.LearningRate()); return nil }}
	h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 25, Observers: []Callback{watch}})
	if err != nil {
		t.Fatal(err)
	}
	for k, lr := range seen {
		if lr != sched.At(int64(k)) {
			t.Errorf("step %d: learning rate %v, want the schedule's %v", k, lr, sched.At(int64(k)))
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d steps, want 12", len(seen))
	}
	want := []float64{sched.At(4), sched.At(8), sched.At(12)}
	if got := h.Series("learning_rate"); !slices.Equal(got, want) {
		t.Errorf("logged learning rates %v, want the schedule's at the end of each epoch %v", got, want)
	}
	if lr, _ := m.LearningRate(); lr != sched.At(12) {
		t.Errorf("LearningRate() = %v after 12 steps, want %v", lr, sched.At(12))
	}

	driven := smallModel(t, 7, LossCategoricalCrossentropy, Adam(0.05))
	step := 0
	drive := &batchFuncs{begin: func(run Training, batch int) error {
		step++
		return run.SetLearningRate(sched.At(int64(step - 1)))
	}}
	if _, err := driven.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 25, Callbacks: []Callback{drive}}); err != nil {
		t.Fatal(err)
	}
	w1, _ := m.Weights()
	w2, _ := driven.Weights()
	if !weightsEqual(w1, w2) {
		t.Error("the scheduled training differs from one whose callback sets the same rates before each batch")
	}

	if err := m.SetLearningRate(0.1); err == nil || !strings.Contains(err.Error(), "Schedule (ExponentialDecay)") {
		t.Errorf("SetLearningRate with a schedule: %v", err)
	}
	it, _ := m.Iterations()
	_, err = m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 25, Callbacks: []Callback{&ReduceLROnPlateau{Patience: 1}}})
	if err == nil || !strings.Contains(err.Error(), "ReduceLROnPlateau) sets the learning rate") {
		t.Errorf("ReduceLROnPlateau with a schedule: %v", err)
	}
	if again, _ := m.Iterations(); again != it {
		t.Errorf("the refused Fit trained %d steps", again-it)
	}
	_, err = m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 25, Callbacks: []Callback{drive}})
	if err == nil || !strings.Contains(err.Error(), "OnBatchBegin") || !strings.Contains(err.Error(), "cannot be set") {
		t.Errorf("a callback that sets a scheduled rate: %v", err)
	}
}

// A schedule survives Save and Load (as Keras's serialized class_name and config) and the loaded
// model trains on exactly as the saved one does.
func TestScheduleSaveLoad(t *testing.T) {
	x, y, _ := blobs(32, 100, 4, 4, 4, 2)
	for _, sched := range []LearningRateSchedule{
		ExponentialDecay{InitialLearningRate: 0.05, DecaySteps: 3, DecayRate: 0.7, Staircase: true},
		PiecewiseConstantDecay{Boundaries: []int{2, 5}, Values: []float64{0.05, 0.01, 0.002}},
		CosineDecay{InitialLearningRate: 0.001, DecaySteps: 6, Alpha: 0.1, WarmupTarget: 0.05, WarmupSteps: 3},
	} {
		t.Run(sched.className(), func(t *testing.T) {
			m := smallModel(t, 8, LossCategoricalCrossentropy, Nadam(0).WithSchedule(sched))
			cfg := FitConfig{Epochs: 1, BatchSize: 25}
			if _, err := m.Fit(context.Background(), x, y, cfg); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "m")
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			l, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			c1, _ := m.CompileConfig()
			c2, _ := l.CompileConfig()
			if !reflect.DeepEqual(c1.Optimizer, c2.Optimizer) {
				t.Errorf("loaded optimizer %+v, saved %+v", c2.Optimizer, c1.Optimizer)
			}
			lr1, _ := m.LearningRate()
			lr2, _ := l.LearningRate()
			if lr1 != lr2 || lr1 != sched.At(4) {
				t.Errorf("learning rate %v saved, %v loaded, want %v", lr1, lr2, sched.At(4))
			}
			h1, err1 := m.Fit(context.Background(), x, y, cfg)
			h2, err2 := l.Fit(context.Background(), x, y, cfg)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			w1, _ := m.Weights()
			w2, _ := l.Weights()
			if !weightsEqual(w1, w2) || h1.Epochs[0].LearningRate != h2.Epochs[0].LearningRate {
				t.Error("the loaded model trains on differently")
			}
			blob, _ := json.Marshal(c1.Optimizer)
			if !strings.Contains(string(blob), `"schedule":{"class_name":"`+sched.className()+`","config":{`) {
				t.Errorf("optimizer JSON %s", blob)
			}
		})
	}
	// An optimizer without a schedule has the JSON it had before schedules (the run keys of
	// earlier runs stay).
	blob, _ := json.Marshal(Adam(0.001))
	if want := `{"name":"adam","learning_rate":0.001,"beta_1":0.9,"beta_2":0.999,"epsilon":1e-7}`; string(blob) != want {
		t.Errorf("Adam's JSON %s, want %s", blob, want)
	}
	var o Optimizer
	if err := json.Unmarshal([]byte(`{"name":"sgd","learning_rate":0.1,"schedule":{"class_name":"StepDecay","config":{}}}`), &o); err == nil || !strings.Contains(err.Error(), `unknown learning-rate schedule "StepDecay"`) {
		t.Errorf("an unknown schedule: %v", err)
	}
}

// batchFuncs is a callback from functions, before and after every batch.
type batchFuncs struct {
	BaseCallback
	begin func(run Training, batch int) error
	end   func(run Training, batch int, logs Logs) error
}

func (c *batchFuncs) OnBatchBegin(run Training, batch int) error {
	if c.begin == nil {
		return nil
	}
	return c.begin(run, batch)
}

func (c *batchFuncs) OnBatchEnd(run Training, batch int, logs Logs) error {
	if c.end == nil {
		return nil
	}
	return c.end(run, batch, logs)
}
