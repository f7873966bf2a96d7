package lab

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/cifar/cifartest"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/internal/testutil"
	"github.com/cifarlab/cifarlab/keras"
)

// Quick mode (the test runner's CIFARLAB_QUICK) cuts the data that LoadData returns and the epochs
// that Fit trains to its limits, whatever the notebook's settings say, and Fit says so; without it
// LoadData and Fit take the settings as they are.
func TestQuickModeLimitsDataAndEpochs(t *testing.T) {
	dir := t.TempDir()
	if err := cifartest.WriteBinary(dir, cifartest.Options{TrainPerBatch: QuickTrainImages/5 + 20, Test: QuickTestImages + 50, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cifar.EnvDataDir, dir)
	t.Setenv(cifar.EnvCacheDir, t.TempDir())
	t.Setenv(EnvRetrain, "")
	for _, tc := range []struct {
		quick               string
		train, test, epochs int
		says                bool
	}{
		{"", QuickTrainImages + 100, QuickTestImages + 50, QuickEpochs + 1, false},
		{"1", QuickTrainImages, QuickTestImages, QuickEpochs, true},
	} {
		t.Run("quick="+tc.quick, func(t *testing.T) {
			t.Setenv(EnvQuick, tc.quick)
			t.Setenv(EnvRunsDir, t.TempDir())
			ds := LoadData()
			if ds.Train.Len() != tc.train || ds.Test.Len() != tc.test {
				t.Fatalf("LoadData: %d training and %d test images, want %d and %d", ds.Train.Len(), ds.Test.Len(), tc.train, tc.test)
			}
			m, err := keras.Sequential([]int{32, 32, 3}, keras.Flatten(), keras.Dense(10, keras.Softmax))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(keras.CompileConfig{Optimizer: keras.SGD(0.01), Loss: keras.LossSparseCategoricalCrossentropy}); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			r := Fit(m, ds.Train.Head(300), keras.FitConfig{Epochs: QuickEpochs + 1, BatchSize: 100, Verbose: 2, Output: &out})
			if len(r.History.Epochs) != tc.epochs {
				t.Errorf("Fit trained %d epochs, want %d", len(r.History.Epochs), tc.epochs)
			}
			if says := strings.Contains(out.String(), "Quick mode (CIFARLAB_QUICK=1"); says != tc.says {
				t.Errorf("Fit's output says quick mode: %v, want %v:\n%s", says, tc.says, out.String())
			}
		})
	}
}

// A boolean setting that settings.ParseBool does not understand is an error naming it, and makes
// LoadData stop the cell instead of picking a mode.
func TestSettingsRejectUnknownValues(t *testing.T) {
	saved := stop
	defer func() { stop = saved }()
	stop = func(err error) { panic(err) }
	for _, env := range []string{EnvQuick, EnvRetrain} {
		for _, v := range []string{"nope", "2", "quick"} {
			t.Run(env+"="+v, func(t *testing.T) {
				t.Setenv(env, v)
				if _, err := ReadSettings(); err == nil || !strings.Contains(err.Error(), env) {
					t.Errorf("ReadSettings: %v, want an error naming %s", err, env)
				}
				defer func() {
					if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), v) {
						t.Errorf("LoadData: stopped with %v, want an error naming %q", r, v)
					}
				}()
				LoadData()
			})
		}
	}
}

func TestSettingsRunsDir(t *testing.T) {
	for _, tc := range []struct{ runsDir, quick, want string }{
		{"", "", "/cache/runs"},
		{"", "1", "/cache/runs-quick"},
		{"/elsewhere", "1", "/elsewhere"},
	} {
		t.Setenv(EnvRunsDir, tc.runsDir)
		t.Setenv(cifar.EnvCacheDir, "/cache")
		t.Setenv(EnvQuick, tc.quick)
		s, err := ReadSettings()
		if err != nil || s.RunsDir != tc.want {
			t.Errorf("%s=%q %s=%q: RunsDir %q (%v), want %q", EnvRunsDir, tc.runsDir, EnvQuick, tc.quick, s.RunsDir, err, tc.want)
		}
	}
}

func TestCheckAndMust(t *testing.T) {
	boom := errors.New("boom")
	type stopped struct{ err error }
	saved := stop
	defer func() { stop = saved }()
	stop = func(err error) { panic(stopped{err}) }
	stops := func(f func()) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = r.(stopped).err
			}
		}()
		f()
		return nil
	}
	if err := stops(func() { Check(nil) }); err != nil {
		t.Errorf("Check(nil) stopped: %v", err)
	}
	if err := stops(func() { Check(boom) }); err != boom {
		t.Errorf("Check(boom) stopped with %v", err)
	}
	if got := Must(7, nil); got != 7 {
		t.Errorf("Must = %d", got)
	}
	if err := stops(func() { Must(7, boom) }); err != boom {
		t.Errorf("Must(7, boom) stopped with %v", err)
	}
	if err := stops(func() { Assert(true, "never") }); err != nil {
		t.Errorf("Assert(true) stopped: %v", err)
	}
	if err := stops(func() { Assert(1+1 == 3, "want %d layers, got %d", 6, 3) }); err == nil || err.Error() != "want 6 layers, got 3" {
		t.Errorf("Assert(false) stopped with %v, want the formatted message", err)
	}
	if a, b := Must2("a", 2, nil); a != "a" || b != 2 {
		t.Errorf("Must2 = %q, %d", a, b)
	}
	if err := stops(func() { Show(failing{}) }); err != boom2 {
		t.Errorf("Show(failing) stopped with %v", err)
	}
}

// TestCheckHelperProcess is not a test: TestCheckStopsInOneLine runs it as a cell's program.
func TestCheckHelperProcess(t *testing.T) {
	if os.Getenv("LAB_TEST_CHECK") == "" {
		t.Skip("helper process only")
	}
	fmt.Println("before")
	Check(fmt.Errorf("lab: training interrupted after 3 of 50 epochs;\nnothing was saved"))
	fmt.Println("after Check: must not be printed")
}

// Check in a cell's program ends it with exit status 1 and one line on stderr, with no panic and
// no goroutine dump (what a student reads in the cell).
func TestCheckStopsInOneLine(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckHelperProcess$")
	cmd.Env = append(os.Environ(), "LAB_TEST_CHECK=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("helper ended with %v, want exit status 1", err)
	}
	want := "Error: lab: training interrupted after 3 of 50 epochs; nothing was saved\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want exactly %q", stderr.String(), want)
	}
	if strings.Contains(stdout.String(), "after Check") || !strings.Contains(stdout.String(), "before") {
		t.Errorf("stdout %q", stdout.String())
	}
}

var boom2 = errors.New("display failed")

type failing struct{}

func (failing) Display() error { return boom2 }

// tinyExperiment is a small model on synthetic CIFAR files in dir (set as CIFAR10_DIR), with its
// runs in a temporary folder.
func tinyExperiment(t *testing.T, loss keras.Loss) presets.Experiment {
	t.Helper()
	dir := t.TempDir()
	if err := cifartest.WriteBinary(dir, cifartest.Options{TrainPerBatch: 40, Test: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cifar.EnvDataDir, dir)
	t.Setenv(cifar.EnvCacheDir, t.TempDir())
	t.Setenv(EnvRunsDir, t.TempDir())
	t.Setenv(EnvQuick, "")
	t.Setenv(EnvRetrain, "")
	return presets.Experiment{
		Model: keras.ModelSpec{InputShape: []int{32, 32, 3}, Seed: 5,
			Layers: []keras.LayerSpec{keras.Flatten(), keras.Dense(16, keras.ReLU), keras.Dense(10, keras.Softmax)}},
		Compile:      keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: loss, Metrics: []keras.Metric{keras.MetricAccuracy}},
		Fit:          keras.FitConfig{Epochs: 3, BatchSize: 20, ValidationSplit: 0.2, Output: &strings.Builder{}},
		TrainSamples: 150, TestSamples: 25,
	}
}

// fitExperiment builds e's model and fits it on e's training images as Fit (loadOnly false) or
// Trained (loadOnly true) do, returning the error they stop the cell with.
func fitExperiment(e presets.Experiment, loadOnly bool) (*TrainedModel, error) {
	train, _, err := experimentData(e)
	if err != nil {
		return nil, err
	}
	m, err := e.NewModel()
	if err != nil {
		return nil, err
	}
	return fit(m, train, e.Fit, loadOnly)
}

// experimentData is e's data, loaded as LoadData does.
func experimentData(e presets.Experiment) (train, test *cifar.Split, err error) {
	ds, err := loadData(cifar.Options{})
	if err != nil {
		return nil, nil, err
	}
	return ds.Train.Head(e.TrainSamples), ds.Test.Head(e.TestSamples), nil
}

// TestFitThenTrained fits a tiny experiment, then checks that Trained and Fit load the same run,
// that CIFARLAB_RETRAIN makes Fit (only) train again, and that the conversions into report and
// plot inputs carry the same numbers.
func TestFitThenTrained(t *testing.T) {
	for _, loss := range []keras.Loss{keras.LossSparseCategoricalCrossentropy, keras.LossCategoricalCrossentropy} {
		t.Run(string(loss), func(t *testing.T) {
			e := tinyExperiment(t, loss)
			train, test, err := experimentData(e)
			if err != nil {
				t.Fatal(err)
			}
			r, err := fitExperiment(e, false)
			if err != nil {
				t.Fatal(err)
			}
			if r.Run.Loaded || len(r.History.Epochs) != 3 || r.TrainImages.Len() != 150 || test.Len() != 25 || len(r.Run.Key) != 16 {
				t.Fatalf("Fit: loaded %v, %d epochs, %d/%d images, key %q", r.Run.Loaded, len(r.History.Epochs), r.TrainImages.Len(), test.Len(), r.Run.Key)
			}
			if !slices.Equal(Images(r.TrainImages).Float32(), r.TrainImages.Float32()) {
				t.Error("Images differ from Split.Float32")
			}
			// The cells after the training cell build the model again and ask for the run.
			m, err := e.NewModel()
			if err != nil {
				t.Fatal(err)
			}
			again := Trained(m, train, e.Fit)
			if !again.Run.Loaded || again.Run.Key != r.Run.Key || again.History.Last().Loss != r.History.Last().Loss {
				t.Errorf("Trained: loaded %v, key %q (want %q)", again.Run.Loaded, again.Run.Key, r.Run.Key)
			}
			w1, _ := r.Model.Weights()
			w2, _ := again.Model.Weights()
			if !slices.Equal(w1[0].Kernel, w2[0].Kernel) {
				t.Error("Trained loaded other weights than Fit trained")
			}
			t.Setenv(EnvRetrain, "yes")
			if r, err := fitExperiment(e, true); err != nil || !r.Run.Loaded {
				t.Errorf("Trained with %s: loaded %v, %v; want the saved run", EnvRetrain, r != nil && r.Run.Loaded, err)
			}
			if r, err := fitExperiment(e, false); err != nil || r.Run.Loaded {
				t.Errorf("Fit with %s: loaded %v, %v; want a new training", EnvRetrain, r != nil && r.Run.Loaded, err)
			}

			c := r.Curves()
			if len(c.Loss) != 3 || c.Loss[2] != r.History.Epochs[2].Loss || c.BestEpoch != r.History.BestEpoch {
				t.Errorf("Curves = %+v", c)
			}
			layers := r.Layers()
			if len(layers) != 2 || len(layers[0].Kernel) != 3072*16 || len(layers[1].Bias) != 10 {
				t.Errorf("Layers: %d layers", len(layers))
			}
			_, acc := r.Evaluate(test)
			p := r.Predict(test)
			if len(p.Pred) != 25 || math.Abs(p.Accuracy()-acc) > 1e-6 {
				t.Errorf("predictions accuracy %v, Evaluate accuracy %v", p.Accuracy(), acc)
			}
			right, wrong := p.Indices(true, 100), p.Indices(false, 100)
			if len(right)+len(wrong) != 25 {
				t.Errorf("%d correct + %d wrong indices, want 25", len(right), len(wrong))
			}
			for _, i := range right {
				if p.Pred[i] != p.True[i] {
					t.Errorf("index %d listed as correct", i)
				}
			}
		})
	}
}

// Trained never trains: before the training cell ran, and after an edit of the model (another
// layer's units) that the training cell has not trained yet, it returns ErrNotTrained and says to
// run the training cell, and the runs folder stays empty of new runs.
func TestTrainedNeverTrains(t *testing.T) {
	e := tinyExperiment(t, keras.LossSparseCategoricalCrossentropy)
	runsDir := os.Getenv(EnvRunsDir)
	countRuns := func() int {
		entries, _ := os.ReadDir(runsDir)
		n := 0
		for _, d := range entries {
			if d.IsDir() && len(d.Name()) == 16 {
				n++
			}
		}
		return n
	}
	_, err := fitExperiment(e, true)
	if !errors.Is(err, ErrNotTrained) || !strings.Contains(err.Error(), "run the training cell") {
		t.Fatalf("Trained before any training: %v, want ErrNotTrained saying to run the training cell", err)
	}
	if n := countRuns(); n != 0 {
		t.Fatalf("Trained left %d runs in the runs folder", n)
	}
	if _, err := fitExperiment(e, false); err != nil {
		t.Fatal(err)
	}
	if _, err := fitExperiment(e, true); err != nil {
		t.Fatalf("Trained after Fit: %v", err)
	}
	edited := e
	edited.Model.Layers = slices.Clone(e.Model.Layers)
	edited.Model.Layers[1] = keras.Dense(24, keras.ReLU)
	if _, err := fitExperiment(edited, true); !errors.Is(err, ErrNotTrained) {
		t.Errorf("Trained after editing a layer: %v, want ErrNotTrained", err)
	}
	if n := countRuns(); n != 1 {
		t.Errorf("%d runs in the runs folder, want the one Fit trained", n)
	}
}

// Saved predictions belong to the weights they were computed from: after the model's weights
// change (a retrain, another backend), Predictions computes them again instead of reading the
// saved ones of the same run key.
func TestPredictionsFollowTheWeights(t *testing.T) {
	e := tinyExperiment(t, keras.LossSparseCategoricalCrossentropy)
	_, test, err := experimentData(e)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fitExperiment(e, false)
	if err != nil {
		t.Fatal(err)
	}
	before := r.Predict(test)
	// Other weights under the same run key, as after CIFARLAB_RETRAIN on another backend.
	weights, err := r.Model.Weights()
	if err != nil {
		t.Fatal(err)
	}
	for i := range weights[len(weights)-1].Bias {
		weights[len(weights)-1].Bias[i] += float32(i) // moves the softmax's probabilities
	}
	if err := r.Model.SetWeights(weights); err != nil {
		t.Fatal(err)
	}
	after := r.Predict(test)
	direct, err := r.Model.Predict(Images(test), 32)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(after.Probs[0], before.Probs[0]) || !slices.Equal(after.Probs[0], direct.Rows()[0]) {
		t.Errorf("predictions after the weights changed: %v; before %v; computed now %v", after.Probs[0], before.Probs[0], direct.Rows()[0])
	}
}

// lateWriter passes nothing of quick work through, and everything of long work.
func TestLateWriter(t *testing.T) {
	var quick strings.Builder
	l := newLateWriter(&quick, time.Hour)
	fmt.Fprintln(l, "found the data")
	l.stop()
	fmt.Fprintln(l, "after stop")
	if quick.Len() != 0 {
		t.Errorf("quick work printed %q", quick.String())
	}
	var slow testutil.SyncBuffer
	l = newLateWriter(&slow, 10*time.Millisecond)
	fmt.Fprintln(l, "downloading")
	for deadline := time.Now().Add(10 * time.Second); slow.String() == "" && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintln(l, "extracting")
	l.stop()
	if got := slow.String(); got != "downloading\nextracting\n" {
		t.Errorf("long work printed %q", got)
	}
}

// MCPredict averages predictions with dropout on (different from the plain ones on a model with
// dropout), and zero samples stops the cell naming the argument; FindLearningRate returns growing
// rates with a loss each and leaves the model's weights as they were.
func TestMCPredictAndLearningRateFinder(t *testing.T) {
	e := tinyExperiment(t, keras.LossSparseCategoricalCrossentropy)
	// tanh: no unit dies in training (a dead ReLU layer would give dropout nothing to drop).
	e.Model.Layers = []keras.LayerSpec{keras.Flatten(), keras.Dense(16, keras.Tanh), keras.Dropout(0.5), keras.Dense(10, keras.Softmax)}
	r, err := fitExperiment(e, false)
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := experimentData(e)
	if err != nil {
		t.Fatal(err)
	}
	plain, mc := r.Predict(test), r.MCPredict(test, 5)
	if len(mc.Probs) != test.Len() || slices.Equal(mc.Probs[0], plain.Probs[0]) {
		t.Errorf("MC predictions: %d rows, first %v (plain %v): want %d rows that differ from the plain ones", len(mc.Probs), mc.Probs[0], plain.Probs[0], test.Len())
	}
	var sum float64
	for _, p := range mc.Probs[0] {
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-4 {
		t.Errorf("MC probabilities of the first image sum to %v", sum)
	}
	saved := stop
	defer func() { stop = saved }()
	stop = func(err error) { panic(err) }
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "samples") {
				t.Errorf("MCPredict with 0 samples stopped with %v, want an error naming samples", r)
			}
		}()
		r.MCPredict(test, 0)
	}()

	before, _ := r.Model.Weights()
	rates, losses := FindLearningRate(r.Model, r.TrainImages, keras.LRFinderConfig{MinRate: 1e-4, MaxRate: 1, BatchSize: 20})
	if len(rates) == 0 || len(rates) != len(losses) || !slices.IsSorted(rates) || math.Abs(rates[0]/1e-4-1) > 1e-6 {
		t.Errorf("FindLearningRate: %d rates (%v), %d losses", len(rates), rates, len(losses))
	}
	after, _ := r.Model.Weights()
	if !slices.Equal(before[0].Kernel, after[0].Kernel) {
		t.Error("FindLearningRate changed the model's weights")
	}
}
