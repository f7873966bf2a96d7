package keras_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
)

// studentOneCycle is the book's OneCycleScheduler (Géron, ch. 11) as a student writes it in a
// notebook cell: a callback outside package keras, with only its exported API.
type studentOneCycle struct {
	keras.BaseCallback
	Iterations, LastIterations, halfIteration, iteration int
	MaxRate, StartRate, LastRate                         float64
}

func newStudentOneCycle(iterations int, maxRate float64) *studentOneCycle {
	c := &studentOneCycle{Iterations: iterations, MaxRate: maxRate, StartRate: maxRate / 10, LastIterations: iterations/10 + 1}
	c.halfIteration = (iterations - c.LastIterations) / 2
	c.LastRate = c.StartRate / 1000
	return c
}

func (c *studentOneCycle) interpolate(iter1, iter2 int, rate1, rate2 float64) float64 {
	return (rate2-rate1)*float64(c.iteration-iter1)/float64(iter2-iter1) + rate1
}

func (c *studentOneCycle) OnBatchBegin(run keras.Training, batch int) error {
	var rate float64
	switch {
	case c.iteration < c.halfIteration:
		rate = c.interpolate(0, c.halfIteration, c.StartRate, c.MaxRate)
	case c.iteration < 2*c.halfIteration:
		rate = c.interpolate(c.halfIteration, 2*c.halfIteration, c.MaxRate, c.StartRate)
	default:
		rate = c.interpolate(2*c.halfIteration, c.Iterations, c.StartRate, c.LastRate)
	}
	c.iteration++
	return run.SetLearningRate(rate)
}

// rateRecorder is an observer that records the learning rate of every step.
type rateRecorder struct {
	keras.BaseCallback
	rates []float64
}

func (r *rateRecorder) OnBatchEnd(run keras.Training, batch int, logs keras.Logs) error {
	r.rates = append(r.rates, run.LearningRate())
	return nil
}

// clusters returns n samples of 8 features in 3 classes, one-hot.
func clusters(n int) (keras.Array, keras.Labels) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n*8)
	y := make([]float32, n*3)
	for i := range n {
		c := rng.IntN(3)
		y[i*3+c] = 1
		for j := range 8 {
			x[i*8+j] = float32(c*(j%3)) + 0.5*float32(rng.NormFloat64())
		}
	}
	return keras.NewArray(x, n, 8), keras.OneHot(y, 3)
}

func compiledModel(t *testing.T, opt keras.Optimizer) *keras.Model {
	t.Helper()
	m, err := keras.Sequential([]int{8}, keras.Dense(16, keras.ReLU), keras.Dense(3, keras.Softmax))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(keras.CompileConfig{Optimizer: opt, Loss: keras.LossCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	return m
}

// A 1cycle scheduler can be written in a cell as in the book; keras.OneCycleScheduler sets the
// same rates before every batch (rising from MaxRate/10 to MaxRate, falling back, then to a
// thousandth) and trains the same weights.
func TestOneCycleAsInTheBook(t *testing.T) {
	x, y := clusters(200) // 10 steps of 20 per epoch
	const iterations, maxRate = 30, 0.05
	var rates [2][]float64
	var weights [2][]keras.LayerWeights
	for i, cb := range []keras.Callback{newStudentOneCycle(iterations, maxRate), &keras.OneCycleScheduler{Iterations: iterations, MaxRate: maxRate}} {
		m := compiledModel(t, keras.SGD(0.01))
		rec := &rateRecorder{}
		if _, err := m.Fit(context.Background(), x, y, keras.FitConfig{Epochs: 3, BatchSize: 20,
			Callbacks: []keras.Callback{cb}, Observers: []keras.Callback{rec}}); err != nil {
			t.Fatal(err)
		}
		rates[i] = rec.rates
		weights[i], _ = m.Weights()
	}
	if !slices.Equal(rates[0], rates[1]) {
		t.Errorf("rates differ:\n  student %v\n  keras   %v", rates[0], rates[1])
	}
	for i := range weights[0] {
		if !slices.Equal(weights[0][i].Kernel, weights[1][i].Kernel) {
			t.Errorf("layer %d: the weights differ", i)
		}
	}
	// last iterations 4, half 13: start 0.005 at 0, max at 13, start at 26, then down to 5e-6.
	f32 := func(v float64) float64 { return float64(float32(v)) }
	for step, want := range map[int]float64{0: 0.005, 13: maxRate, 26: 0.005, 29: 0.005 + (5e-6-0.005)*3/4} {
		if rates[1][step] != f32(want) {
			t.Errorf("step %d: rate %v, want %v", step, rates[1][step], f32(want))
		}
	}
	if r := (&keras.OneCycleScheduler{Iterations: iterations, MaxRate: maxRate}).Rate(1000); r != 5e-6 {
		t.Errorf("after the cycle the rate is %v, want LastRate 5e-6", r)
	}
}

// What a callback sets in OnBatchBegin is the rate of that batch's step.
func TestSetLearningRateInOnBatchBegin(t *testing.T) {
	x, y := clusters(20)
	direct := compiledModel(t, keras.SGD(0.3))
	set := compiledModel(t, keras.SGD(0.01))
	cb := &keras.OneCycleScheduler{Iterations: 1, MaxRate: 0.3, StartRate: 0.3, LastRate: 0.3}
	for _, run := range []struct {
		m   *keras.Model
		cbs []keras.Callback
	}{{direct, nil}, {set, []keras.Callback{cb}}} {
		if _, err := run.m.Fit(context.Background(), x, y, keras.FitConfig{Epochs: 1, BatchSize: 20, Callbacks: run.cbs}); err != nil {
			t.Fatal(err)
		}
	}
	w1, _ := direct.Weights()
	w2, _ := set.Weights()
	if !slices.Equal(w1[0].Kernel, w2[0].Kernel) {
		t.Error("the rate set in OnBatchBegin was not the rate of that step")
	}
}

// Impossible 1cycle settings are errors before any training, naming the setting.
func TestOneCycleErrors(t *testing.T) {
	x, y := clusters(40)
	for _, c := range []struct {
		cb   *keras.OneCycleScheduler
		want string
	}{
		{&keras.OneCycleScheduler{Iterations: 10, MaxRate: 0.01, StartRate: 0.1}, "OneCycleScheduler.MaxRate 0.01 is below StartRate 0.1"},
		{&keras.OneCycleScheduler{MaxRate: 0.01}, "OneCycleScheduler.Iterations must be > 0"},
		{&keras.OneCycleScheduler{Iterations: -3}, "OneCycleScheduler.Iterations must be > 0"},
		{&keras.OneCycleScheduler{Iterations: 10, LastIterations: 11}, "OneCycleScheduler.LastIterations must be in [0, Iterations = 10]"},
		{&keras.OneCycleScheduler{Iterations: 10, LastRate: -1}, "OneCycleScheduler.LastRate must be > 0"},
		{&keras.OneCycleScheduler{Iterations: 10, MaxRate: math.NaN()}, "OneCycleScheduler.MaxRate must be > 0"},
	} {
		m := compiledModel(t, keras.SGD(0.01))
		_, err := m.Fit(context.Background(), x, y, keras.FitConfig{Epochs: 1, BatchSize: 20, Callbacks: []keras.Callback{c.cb}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "OnTrainBegin") {
			t.Errorf("%+v: error %v, want one that says %q", c.cb, err, c.want)
		}
		if it, _ := m.Iterations(); it != 0 {
			t.Errorf("%+v: %d steps trained before the error", c.cb, it)
		}
	}
}
