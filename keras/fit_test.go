package keras

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFitConvergesOnBlobs trains small models on separable clusters with every loss, optimizer and
// hidden activation; each must reach a high validation accuracy.
func TestFitConvergesOnBlobs(t *testing.T) {
	x, oneHot, ids := blobs(3, 600, 4, 4, 4, 2)
	sgd := SGD(0.05)
	sgd.Momentum = 0.9
	for _, tc := range []struct {
		name       string
		loss       Loss
		opt        Optimizer
		activation Activation
		init       Initializer
	}{
		{"cce adam relu", LossCategoricalCrossentropy, Adam(0.01), "relu", "glorot_uniform"},
		{"sparse nadam elu he_normal", LossSparseCategoricalCrossentropy, Nadam(0.01), "elu", "he_normal"},
		{"mse sgd momentum tanh", LossMeanSquaredError, sgd, "tanh", "glorot_uniform"},
		{"cce rmsprop sigmoid", LossCategoricalCrossentropy, RMSprop(0.01), "sigmoid", "glorot_normal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Sequential([]int{4, 4, 2}, Flatten(), Dense(16, tc.activation).WithInitializer(tc.init),
				Dropout(0.1), Dense(4, "softmax"))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(CompileConfig{Optimizer: tc.opt, Loss: tc.loss, Metrics: []Metric{"accuracy"}}); err != nil {
				t.Fatal(err)
			}
			y := oneHot
			if tc.loss == LossSparseCategoricalCrossentropy {
				y = ids
			}
			h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 15, BatchSize: 32, ValidationSplit: 0.2})
			if err != nil {
				t.Fatal(err)
			}
			last := h.Last()
			if last.ValAccuracy < 0.95 || last.Loss >= h.Epochs[0].Loss {
				t.Errorf("after %d epochs: loss %.4f (first %.4f), val_accuracy %.4f; want val_accuracy >= 0.95 and a falling loss",
					len(h.Epochs), last.Loss, h.Epochs[0].Loss, last.ValAccuracy)
			}
			loss, acc, err := m.Evaluate(x, y, 50)
			if err != nil || acc < 0.95 || math.IsNaN(loss) {
				t.Errorf("Evaluate = %v, %v, %v", loss, acc, err)
			}
		})
	}
}

// TestFitReproducible trains two models from the same seed in one process: same initial weights,
// shuffles and dropout masks must give the same History and weights; another seed must not.
func TestFitReproducible(t *testing.T) {
	x, y, _ := blobs(4, 300, 4, 4, 4, 2)
	cfg := FitConfig{Epochs: 3, BatchSize: 16, ValidationSplit: 0.2,
		Callbacks: []Callback{NewReduceLROnPlateau("val_loss", 0.5, 1, 1e-5)}}
	train := func(seed int64) (*History, []LayerWeights) {
		m := smallModel(t, seed, LossCategoricalCrossentropy, Adam(0.01))
		h, err := m.Fit(context.Background(), x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		w, err := m.Weights()
		if err != nil {
			t.Fatal(err)
		}
		return h, w
	}
	strip := func(h *History) []EpochLog {
		out := slices.Clone(h.Epochs)
		for i := range out {
			out[i].Seconds = 0
		}
		return out
	}
	h1, w1 := train(42)
	h2, w2 := train(42)
	h3, w3 := train(43)
	if !slices.Equal(strip(h1), strip(h2)) {
		t.Errorf("same seed, different histories:\n%+v\n%+v", strip(h1), strip(h2))
	}
	if !weightsEqual(w1, w2) {
		t.Error("same seed, different weights")
	}
	if slices.Equal(strip(h1), strip(h3)) || weightsEqual(w1, w3) {
		t.Error("different seeds, same history and weights")
	}
}

func weightsEqual(a, b []LayerWeights) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].KernelShape, b[i].KernelShape) ||
			!slices.Equal(a[i].Kernel, b[i].Kernel) || !slices.Equal(a[i].Bias, b[i].Bias) {
			return false
		}
	}
	return true
}

// TestDropoutAndShuffleFollowTheSeed starts models of different seeds from the same weights: with
// dropout on or shuffling on, the seed changes the training; with both off it does not.
func TestDropoutAndShuffleFollowTheSeed(t *testing.T) {
	x, y, _ := blobs(13, 64, 4, 4, 4, 2)
	run := func(seed int64, rate float64, noShuffle bool) []float64 {
		m, err := NewModel(ModelSpec{InputShape: []int{4, 4, 2}, Seed: 1,
			Layers: []LayerSpec{Flatten(), Dense(16, "relu"), Dropout(rate), Dense(4, "softmax")}})
		if err != nil {
			t.Fatal(err)
		}
		w, _ := m.Weights() // the weights of seed 1
		if err := m.SetSeed(seed); err != nil {
			t.Fatal(err)
		}
		if err := m.SetWeights(w); err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: LossCategoricalCrossentropy}); err != nil {
			t.Fatal(err)
		}
		h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 2, BatchSize: 8, NoShuffle: noShuffle})
		if err != nil {
			t.Fatal(err)
		}
		return h.Series("loss")
	}
	if a, b := run(1, 0, true), run(2, 0, true); !slices.Equal(a, b) {
		t.Errorf("no dropout, no shuffle: the seed changed the losses %v, %v", a, b)
	}
	if a, b := run(1, 0.5, true), run(2, 0.5, true); slices.Equal(a, b) {
		t.Errorf("dropout: the seed did not change the losses %v", a)
	}
	if a, b := run(1, 0, false), run(2, 0, false); slices.Equal(a, b) {
		t.Errorf("shuffle: the seed did not change the losses %v", a)
	}
	if a, b := run(3, 0.5, false), run(3, 0.5, false); !slices.Equal(a, b) {
		t.Errorf("same seed, different losses %v, %v", a, b)
	}
}

func TestInitialWeightsFollowSeed(t *testing.T) {
	a, _ := smallModel(t, 7, "mse", Adam(0.001)).Weights()
	b, _ := smallModel(t, 7, "mse", Adam(0.001)).Weights()
	c, _ := smallModel(t, 8, "mse", Adam(0.001)).Weights()
	if !weightsEqual(a, b) || weightsEqual(a, c) {
		t.Error("initial weights do not follow the seed")
	}
	// Glorot uniform kernel within its limit, zero biases.
	limit := math.Sqrt(6.0 / (32 + 16))
	for _, v := range a[0].Kernel {
		if math.Abs(float64(v)) > limit {
			t.Fatalf("glorot_uniform value %v beyond ±%v", v, limit)
		}
	}
	if slices.ContainsFunc(a[0].Bias, func(v float32) bool { return v != 0 }) {
		t.Error("biases are not zero")
	}
}

func TestHeNormalStatistics(t *testing.T) {
	values := make([]float32, 200_000)
	shape := []int{400, 500}
	if err := initialize("he_normal", layerRNG(42, 1), values, shape); err != nil {
		t.Fatal(err)
	}
	stddev := math.Sqrt(2.0/400) / heNormalStddevCorrection
	var sum, sumSq float64
	for _, v := range values {
		if math.Abs(float64(v)) > 2*stddev*(1+1e-6) {
			t.Fatalf("value %v beyond the truncation at 2·%v", v, stddev)
		}
		sum += float64(v)
		sumSq += float64(v) * float64(v)
	}
	n := float64(len(values))
	got := math.Sqrt(sumSq/n - (sum/n)*(sum/n))
	// The truncated distribution keeps the He variance: stddev sqrt(2/fan_in).
	if want := math.Sqrt(2.0 / 400); math.Abs(got-want)/want > 0.01 {
		t.Errorf("he_normal stddev = %v, want %v", got, want)
	}
}

// TestRepeatedFitDoesNotHang runs many short Fit calls on fresh and reused models; the pure-Go
// backend was seen to hang in this situation with its default settings.
func TestRepeatedFitDoesNotHang(t *testing.T) {
	// Big enough for the backend to split the matrix products over its workers.
	x, y, _ := blobs(6, 96, 4, 16, 16, 3)
	newModel := func(seed int64) *Model {
		m, err := NewModel(ModelSpec{InputShape: []int{16, 16, 3}, Seed: seed,
			Layers: []LayerSpec{Flatten(), Dense(256, "relu"), Dropout(0.2), Dense(128, "relu"), Dense(4, "softmax")}})
		if err == nil {
			err = m.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: LossCategoricalCrossentropy})
		}
		if err != nil {
			t.Error(err)
		}
		return m
	}
	done := make(chan error, 1)
	go func() {
		reused := newModel(2)
		for i := range 12 {
			m := reused
			if i%2 == 0 {
				m = newModel(int64(i))
			}
			if _, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 2, BatchSize: 10, ValidationSplit: 0.25}); err != nil {
				done <- err
				return
			}
			if _, err := m.Predict(x, 7); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangTimeout):
		t.Fatalf("12 short Fit calls did not finish in %v: the backend hangs", hangTimeout)
	}
}

// TestFitOutput checks the printed lines at each verbosity.
func TestFitOutput(t *testing.T) {
	x, y, _ := blobs(7, 200, 4, 4, 4, 2)
	fit := func(verbose int, interval time.Duration, callbacks ...Callback) string {
		m := smallModel(t, 1, LossCategoricalCrossentropy, Adam(0.01))
		var out bytes.Buffer
		if _, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 2, BatchSize: 16, ValidationSplit: 0.2, Verbose: verbose,
			Output: &out, ProgressInterval: interval, Callbacks: callbacks}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	// The backend line is printed once per process, maybe already by another test.
	clean := func(s string) string {
		return regexp.MustCompile(`(?m)^keras: using GoMLX backend.*\n`).ReplaceAllString(s, "")
	}
	epochLine := regexp.MustCompile(`^10/10 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}(e-\d\d)? - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}(e-\d\d)? - learning_rate: 0\.0100$`)

	if out := clean(fit(0, 0)); out != "" {
		t.Errorf("Verbose 0 printed %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(clean(fit(2, 0)), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "Epoch 1/2" || lines[2] != "Epoch 2/2" || !epochLine.MatchString(lines[1]) || !epochLine.MatchString(lines[3]) {
		t.Errorf("Verbose 2 output:\n%s", strings.Join(lines, "\n"))
	}
	// Verbose 1 with a tiny interval prints a progress line after every step but the last.
	out := clean(fit(1, time.Nanosecond))
	progress := regexp.MustCompile(`(?m)^ \d/10 - ETA: \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$`)
	if n := len(progress.FindAllString(out, -1)); n != 18 || !strings.Contains(out, "Epoch 2/2\n") {
		t.Errorf("Verbose 1: %d progress lines, want 18; output:\n%s", n, out)
	}
	// Messages of callbacks come before the epoch line, early stopping after the last one.
	out = clean(fit(2, 0, &EarlyStopping{Monitor: "val_loss", Patience: 0, Mode: ModeMax, RestoreBestWeights: true}))
	if !strings.HasSuffix(out, "Epoch 2: early stopping\nRestoring model weights from the end of the best epoch: 1.\n") {
		t.Errorf("EarlyStopping messages missing:\n%s", out)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatStep(1250, 1250, 12400*time.Millisecond, false), "1250/1250 - 12s - 10ms/step"},
		{formatStep(400, 1250, 4*time.Second, true), " 400/1250 - ETA: 8s - 10ms/step"},
		{formatStep(3, 3, 1500*time.Microsecond, false), "3/3 - 0s - 500us/step"},
		{formatStep(2, 2, 3*time.Second, false), "2/2 - 3s - 2s/step"},
		{formatMetrics(epochMetrics(Logs{"loss": 1.65432, "accuracy": 0.40123, "val_loss": 1.6001, "val_accuracy": 0.4231, "learning_rate": float64(float32(0.001))}, true)),
			" - accuracy: 0.4012 - loss: 1.6543 - val_accuracy: 0.4231 - val_loss: 1.6001 - learning_rate: 0.0010"},
		{formatMetrics(epochMetrics(Logs{"loss": 0.5, "accuracy": 0.9, "learning_rate": float64(float32(0.0005))}, false)),
			" - loss: 0.5000 - learning_rate: 5.0000e-04"},
		{formatMetricValue(math.NaN()), "nan"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestValidationSplitTakesLastSamples checks Keras's split: the last floor fraction of the samples,
// before shuffling, and validation metrics computed in inference mode on exactly those samples.
func TestValidationSplitTakesLastSamples(t *testing.T) {
	x, y, _ := blobs(8, 101, 4, 4, 4, 2)
	m := smallModel(t, 3, LossCategoricalCrossentropy, Adam(0.01))
	h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 16, ValidationSplit: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// floor(101 · 0.8) = 80 training samples, the last 21 for validation.
	if h.TrainSamples != 80 || h.ValSamples != 21 || h.StepsPerEpoch != 5 {
		t.Fatalf("train %d, val %d, steps %d; want 80, 21, 5", h.TrainSamples, h.ValSamples, h.StepsPerEpoch)
	}
	valX := NewArray(x.Data[80*32:], 21, 4, 4, 2)
	valY := OneHot(y.OneHot[80*4:], 4)
	loss, acc, err := m.Evaluate(valX, valY, 5)
	if err != nil {
		t.Fatal(err)
	}
	if e := h.Epochs[0]; math.Abs(e.ValLoss-loss) > 1e-6 || e.ValAccuracy != acc {
		t.Errorf("val_loss %v, val_accuracy %v; Evaluate on the last 21 samples gives %v, %v", e.ValLoss, e.ValAccuracy, loss, acc)
	}
	// Explicit validation data replaces the split.
	h, err = m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 16, ValidationSplit: 0.5, ValidationData: &Dataset{X: valX, Y: valY}})
	if err != nil {
		t.Fatal(err)
	}
	if h.TrainSamples != 101 || h.ValSamples != 21 {
		t.Errorf("with ValidationData: train %d, val %d; want 101, 21", h.TrainSamples, h.ValSamples)
	}
	// Without validation the validation metrics are NaN and absent from the logs.
	h, err = m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if e := h.Epochs[0]; !math.IsNaN(e.ValLoss) || len(e.Logs()) != 3 {
		t.Errorf("without validation: %+v, logs %v", e, e.Logs())
	}
}

// TestEarlyStoppingRestoresInFit checks end to end that the model holds the weights of the best
// epoch after EarlyStopping with RestoreBestWeights, and that History reports it.
func TestEarlyStoppingRestoresInFit(t *testing.T) {
	x, y, _ := blobs(9, 200, 4, 4, 4, 2)
	m := smallModel(t, 4, LossCategoricalCrossentropy, SGD(0.5))
	// Maximizing val_loss makes the first epoch the best and stops two epochs later.
	es := &EarlyStopping{Monitor: "val_loss", Mode: ModeMax, Patience: 2, RestoreBestWeights: true, Quiet: true}
	h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 10, BatchSize: 20, ValidationSplit: 0.25, Callbacks: []Callback{es}})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 3 || h.StoppedEpoch != 3 || h.BestEpoch != 1 || h.WeightsEpoch != 1 {
		t.Fatalf("epochs %d, stopped %d, best %d, weights %d; want 3, 3, 1, 1", len(h.Epochs), h.StoppedEpoch, h.BestEpoch, h.WeightsEpoch)
	}
	valX := NewArray(x.Data[150*32:], 50, 4, 4, 2)
	loss, _, err := m.Evaluate(valX, OneHot(y.OneHot[150*4:], 4), 20)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-h.Epochs[0].ValLoss) > 1e-6 {
		t.Errorf("after restoring, val loss %v; epoch 1 had %v", loss, h.Epochs[0].ValLoss)
	}
}

// TestLearningRateChangesWithoutRecompiling drives the learning rate from a callback and checks
// that the History records it and that the compiled step is reused.
func TestLearningRateChangesWithoutRecompiling(t *testing.T) {
	x, y, _ := blobs(10, 100, 4, 4, 4, 2)
	m := smallModel(t, 5, LossCategoricalCrossentropy, Adam(0.01))
	halve := &epochEndFunc{fn: func(run Training, epoch int, logs Logs) error {
		return run.SetLearningRate(run.LearningRate() / 2)
	}}
	h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 25, Callbacks: []Callback{halve}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{float64(float32(0.01)), float64(float32(float64(float32(0.01)) / 2)), float64(float32(float64(float32(float64(float32(0.01))/2)) / 2))}
	if got := h.Series("learning_rate"); !slices.Equal(got, want) {
		t.Errorf("learning rates %v, want %v", got, want)
	}
	e := m.engine
	if _, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 25}); err != nil {
		t.Fatal(err)
	}
	if m.engine != e {
		t.Error("a second Fit rebuilt the engine")
	}
	if lr, _ := m.LearningRate(); lr != want[2]/2 {
		t.Errorf("LearningRate() = %v after Fit, want %v", lr, want[2]/2)
	}
}

// epochEndFunc is a user-defined callback.
type epochEndFunc struct {
	BaseCallback
	fn func(run Training, epoch int, logs Logs) error
}

func (c *epochEndFunc) OnEpochEnd(run Training, epoch int, logs Logs) error {
	return c.fn(run, epoch, logs)
}

// TestCallbackErrorAbortsFit checks that a user callback's error ends Fit with that error,
// wrapped with the callback's position, name and hook.
func TestCallbackErrorAbortsFit(t *testing.T) {
	x, y, _ := blobs(11, 40, 4, 4, 4, 2)
	m := smallModel(t, 5, LossCategoricalCrossentropy, Adam(0.01))
	boom := &epochEndFunc{fn: func(Training, int, Logs) error { return errBoom }}
	early := &EarlyStopping{Monitor: "val_loss", Patience: 1}
	_, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 8, Callbacks: []Callback{early, boom}})
	if !errors.Is(err, errBoom) || !containsAll(err.Error(), "callback 1 (keras.epochEndFunc) OnEpochEnd") {
		t.Errorf("Fit error %v, want %v wrapped with the callback's name", err, errBoom)
	}
	early.Patience = -1
	_, err = m.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 8, Callbacks: []Callback{early}})
	if err == nil || !containsAll(err.Error(), "callback 0 (keras.EarlyStopping) OnTrainBegin", "Patience") {
		t.Errorf("Fit error %v, want one naming EarlyStopping", err)
	}
}

// TestFitCancel checks that cancelling the context stops Fit between steps with the History of
// the finished epochs and an error wrapping context.Canceled.
func TestFitCancel(t *testing.T) {
	x, y, _ := blobs(11, 64, 4, 4, 4, 2)
	m := smallModel(t, 5, LossCategoricalCrossentropy, Adam(0.01))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	stopper := &batchEndFunc{fn: func(_ Training, batch int, _ Logs) error {
		steps++
		if steps == 8+3 { // 8 steps an epoch: 3 steps into the second epoch
			cancel()
		}
		return nil
	}}
	hist, err := m.Fit(ctx, x, y, FitConfig{Epochs: 5, BatchSize: 8, Callbacks: []Callback{stopper}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit error %v, want context.Canceled", err)
	}
	if hist == nil || len(hist.Epochs) != 1 || steps != 11 {
		t.Fatalf("history %+v after %d steps, want 1 finished epoch after 11 steps", hist, steps)
	}
	if !strings.Contains(err.Error(), "stopped in epoch 2 after 3 of 8 steps") {
		t.Errorf("error %q does not say where training stopped", err)
	}
	if it, _ := m.Iterations(); it != 11 {
		t.Errorf("Iterations = %d after 11 steps", it)
	}
}

// batchEndFunc is a callback from a function, at the end of every batch.
type batchEndFunc struct {
	BaseCallback
	fn func(run Training, batch int, logs Logs) error
}

func (c *batchEndFunc) OnBatchEnd(run Training, batch int, logs Logs) error {
	return c.fn(run, batch, logs)
}

var errBoom = errorf("boom")

func TestPredictAndWeights(t *testing.T) {
	x, y, _ := blobs(12, 90, 4, 4, 4, 2)
	m := smallModel(t, 6, LossCategoricalCrossentropy, Adam(0.02))
	if _, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 5, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	p, err := m.Predict(x, 32) // 90 = 32 + 32 + 26: a partial last batch
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Shape, []int{90, 4}) || len(p.Rows()) != 90 {
		t.Fatalf("Predict shape %v", p.Shape)
	}
	correct := 0
	for i, row := range p.Rows() {
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("row %d sums to %v", i, sum)
		}
		if y.OneHot[i*4+p.ArgMax()[i]] == 1 {
			correct++
		}
	}
	_, acc, err := m.Evaluate(x, y, 32)
	if err != nil {
		t.Fatal(err)
	}
	if float64(correct)/90 != acc {
		t.Errorf("Predict's accuracy %v, Evaluate's %v", float64(correct)/90, acc)
	}
	w, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 2 || w[0].Name != "dense" || !slices.Equal(w[0].KernelShape, []int{32, 16}) || len(w[0].Bias) != 16 {
		t.Fatalf("Weights() = %d layers, first %q %v", len(w), w[0].Name, w[0].KernelShape)
	}
	zeros := []LayerWeights{{Name: "dense", Kernel: make([]float32, 32*16), KernelShape: []int{32, 16}, Bias: make([]float32, 16)},
		{Name: "dense_1", Kernel: make([]float32, 16*4), KernelShape: []int{16, 4}, Bias: make([]float32, 4)}}
	if err := m.SetWeights(zeros); err != nil {
		t.Fatal(err)
	}
	p, _ = m.Predict(x, 32)
	if p.Data[0] != 0.25 {
		t.Errorf("with zero weights, probability %v, want 0.25", p.Data[0])
	}
	if err := m.SetWeights(zeros[:1]); err == nil {
		t.Error("SetWeights accepted one layer for two")
	}
	zeros[1].KernelShape = []int{4, 16}
	if err := m.SetWeights(zeros); err == nil {
		t.Error("SetWeights accepted a transposed kernel")
	}
}

// batchLosses records the running training loss after every batch, epoch by epoch.
type batchLosses struct {
	BaseCallback
	epochs [][]float64
}

func (b *batchLosses) OnEpochBegin(_ Training, _ int) error {
	b.epochs = append(b.epochs, nil)
	return nil
}

func (b *batchLosses) OnBatchEnd(_ Training, _ int, logs Logs) error {
	b.epochs[len(b.epochs)-1] = append(b.epochs[len(b.epochs)-1], logs["loss"])
	return nil
}

// TestShuffleOncePerFit checks the order of the training batches: with a learning rate too small to move the weights the
// running loss after each batch depends only on which samples came first. Keras 3 on TensorFlow
// with its seed set repeats its shuffle every epoch (measured in bench/keras), so every epoch of a
// Fit must see the same order, which is not the unshuffled one; the next Fit draws a new order.
func TestShuffleOncePerFit(t *testing.T) {
	x, y, _ := blobs(5, 64, 4, 4, 4, 2)
	m, err := NewModel(ModelSpec{InputShape: []int{4, 4, 2}, Seed: 7, // no dropout: its masks change every step
		Layers: []LayerSpec{Flatten(), Dense(16, "relu"), Dense(4, "softmax")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileConfig{Optimizer: SGD(1e-30), Loss: LossCategoricalCrossentropy}); err != nil { // too small to move any weight
		t.Fatal(err)
	}
	m.SetOutput(io.Discard)
	fit := func(noShuffle bool) [][]float64 {
		rec := &batchLosses{}
		if _, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 8, NoShuffle: noShuffle, Callbacks: []Callback{rec}}); err != nil {
			t.Fatal(err)
		}
		return rec.epochs
	}
	inOrder := fit(true)[0]
	first := fit(false)
	for e := 1; e < len(first); e++ {
		if !slices.Equal(first[e], first[0]) {
			t.Errorf("epoch %d took another order than epoch 1: %v, %v", e+1, first[e], first[0])
		}
	}
	if slices.Equal(first[0], inOrder) {
		t.Errorf("shuffled Fit took the samples in order: %v", first[0])
	}
	if second := fit(false); slices.Equal(second[0], first[0]) {
		t.Errorf("the next Fit repeated the previous Fit's order: %v", second[0])
	}
}
