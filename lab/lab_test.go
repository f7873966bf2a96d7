package lab

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
)

func TestPickFollowsQuickMode(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{{"", 50}, {"0", 50}, {"false", 50}, {"no", 50}, {"off", 50}, {"OFF", 50}, {"1", 2}, {"true", 2}, {"yes", 2}, {"On", 2}} {
		t.Setenv(EnvQuick, tc.env)
		if got := Pick(50, 2); got != tc.want {
			t.Errorf("%s=%q: Pick(50, 2) = %d, want %d", EnvQuick, tc.env, got, tc.want)
		}
	}
}

// A boolean setting that settings.ParseBool does not understand is an error naming it, and makes
// Pick panic (the hyperparameter cell fails) instead of picking a mode.
func TestSettingsRejectUnknownValues(t *testing.T) {
	for _, env := range []string{EnvQuick, EnvRetrain} {
		for _, v := range []string{"nope", "2", "quick"} {
			t.Run(env+"="+v, func(t *testing.T) {
				t.Setenv(env, v)
				if _, err := ReadSettings(); err == nil || !strings.Contains(err.Error(), env) {
					t.Errorf("ReadSettings: %v, want an error naming %s", err, env)
				}
				defer func() {
					if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), v) {
						t.Errorf("Pick: recovered %v, want a panic naming %q", r, v)
					}
				}()
				Pick(50, 2)
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
	panics := func(f func()) (r any) {
		defer func() { r = recover() }()
		f()
		return nil
	}
	if r := panics(func() { Check(nil) }); r != nil {
		t.Errorf("Check(nil) panicked: %v", r)
	}
	if r := panics(func() { Check(boom) }); r != boom {
		t.Errorf("Check(boom) recovered %v", r)
	}
	if got := Must(7, nil); got != 7 {
		t.Errorf("Must = %d", got)
	}
	if r := panics(func() { Must(7, boom) }); r != boom {
		t.Errorf("Must(7, boom) recovered %v", r)
	}
	if a, b := Must2("a", 2, nil); a != "a" || b != 2 {
		t.Errorf("Must2 = %q, %d", a, b)
	}
	if r := panics(func() { Show(failing{}) }); r != boom2 {
		t.Errorf("Show(failing) recovered %v", r)
	}
}

var boom2 = errors.New("display failed")

type failing struct{}

func (failing) Display() error { return boom2 }

// tinyExperiment is a small model on synthetic CIFAR files in dir (set as CIFAR10_DIR), with its
// runs in a temporary folder.
func tinyExperiment(t *testing.T, loss keras.Loss) Experiment {
	t.Helper()
	dir := t.TempDir()
	if _, err := cifar.WriteSynthetic(dir, cifar.Python, cifar.SyntheticOptions{TrainPerBatch: 40, Test: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cifar.EnvDataDir, dir)
	t.Setenv(cifar.EnvCacheDir, t.TempDir())
	t.Setenv(EnvRunsDir, t.TempDir())
	t.Setenv(EnvQuick, "")
	t.Setenv(EnvRetrain, "")
	return Experiment{
		Model: keras.ModelSpec{InputShape: inputShape, Seed: 5,
			Layers: []keras.LayerSpec{keras.Flatten(), keras.Dense(16, keras.ReLU), keras.Dense(10, keras.Softmax)}},
		Compile:      keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: loss, Metrics: []keras.Metric{keras.MetricAccuracy}},
		Fit:          keras.FitConfig{Epochs: 3, BatchSize: 20, ValidationSplit: 0.2, Output: &strings.Builder{}},
		TrainSamples: 150, TestSamples: 25,
	}
}

// TestFitThenTrained fits a tiny experiment, then checks that Trained and Fit load the same run,
// that CIFARLAB_RETRAIN makes Fit (only) train again, and that the conversions into report and
// plot inputs carry the same numbers.
func TestFitThenTrained(t *testing.T) {
	for _, loss := range []keras.Loss{keras.LossSparseCategoricalCrossentropy, keras.LossCategoricalCrossentropy} {
		t.Run(string(loss), func(t *testing.T) {
			e := tinyExperiment(t, loss)
			train, test, err := e.Data()
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Train()
			if err != nil {
				t.Fatal(err)
			}
			if r.Loaded || len(r.History.Epochs) != 3 || r.Train.Len() != 150 || test.Len() != 25 || len(r.Key) != 16 {
				t.Fatalf("Train: loaded %v, %d epochs, %d/%d images, key %q", r.Loaded, len(r.History.Epochs), r.Train.Len(), test.Len(), r.Key)
			}
			if !slices.Equal(Images(r.Train).Float32(), r.Train.Float32()) {
				t.Error("Images differ from Split.Float32")
			}
			// The cells after the training cell build the model again and ask for the run.
			m, err := e.NewModel()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Trained(m, train, e.Fit)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Loaded || again.Key != r.Key || again.History.Last().Loss != r.History.Last().Loss {
				t.Errorf("Trained: loaded %v, key %q (want %q)", again.Loaded, again.Key, r.Key)
			}
			w1, _ := r.Model.Weights()
			w2, _ := again.Model.Weights()
			if !slices.Equal(w1[0].Kernel, w2[0].Kernel) {
				t.Error("Trained loaded other weights than Fit trained")
			}
			t.Setenv(EnvRetrain, "yes")
			if r, err := e.Trained(); err != nil || !r.Loaded {
				t.Errorf("Trained with %s: loaded %v, %v; want the saved run", EnvRetrain, r != nil && r.Loaded, err)
			}
			if r, err := e.Train(); err != nil || r.Loaded {
				t.Errorf("Fit with %s: loaded %v, %v; want a new training", EnvRetrain, r != nil && r.Loaded, err)
			}

			c := Curves(r.History)
			if len(c.Loss) != 3 || c.Loss[2] != r.History.Epochs[2].Loss || c.BestEpoch != r.History.BestEpoch {
				t.Errorf("Curves = %+v", c)
			}
			layers, err := r.Layers()
			if err != nil || len(layers) != 2 || len(layers[0].Kernel) != 3072*16 || len(layers[1].Bias) != 10 {
				t.Errorf("Layers: %d layers, %v", len(layers), err)
			}
			_, acc, err := r.Evaluate(test)
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.Predictions(test)
			if err != nil {
				t.Fatal(err)
			}
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
	_, err := e.Trained()
	if !errors.Is(err, ErrNotTrained) || !strings.Contains(err.Error(), "run the training cell") {
		t.Fatalf("Trained before any training: %v, want ErrNotTrained saying to run the training cell", err)
	}
	if n := countRuns(); n != 0 {
		t.Fatalf("Trained left %d runs in the runs folder", n)
	}
	if _, err := e.Train(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Trained(); err != nil {
		t.Fatalf("Trained after Fit: %v", err)
	}
	edited := e
	edited.Model.Layers = slices.Clone(e.Model.Layers)
	edited.Model.Layers[1] = keras.Dense(24, keras.ReLU)
	if _, err := edited.Trained(); !errors.Is(err, ErrNotTrained) {
		t.Errorf("Trained after editing a layer: %v, want ErrNotTrained", err)
	}
	if n := countRuns(); n != 1 {
		t.Errorf("%d runs in the runs folder, want the one Fit trained", n)
	}
}

// Predictions are saved beside the run and read back by later calls; a damaged file is computed
// again.
func TestPredictionsMemoized(t *testing.T) {
	e := tinyExperiment(t, keras.LossSparseCategoricalCrossentropy)
	_, test, err := e.Data()
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Train()
	if err != nil {
		t.Fatal(err)
	}
	p1, err := r.Predictions(test)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(r.Dir), "predictions", r.Key+"-25-*.bin"))
	if len(files) != 1 {
		t.Fatalf("prediction files %v, want one", files)
	}
	// Another model on the same key would give other probabilities: write some to see them read.
	marked := slices.Clone(p1.Probs)
	marked[0] = slices.Clone(marked[0])
	marked[0][0] = 0.125
	if err := writeProbs(files[0], marked); err != nil {
		t.Fatal(err)
	}
	p2, err := r.Predictions(test)
	if err != nil || p2.Probs[0][0] != 0.125 {
		t.Fatalf("second Predictions did not read the saved file (%v, %v)", p2.Probs[0][0], err)
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 1
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	p3, err := r.Predictions(test)
	if err != nil || !slices.Equal(p3.Probs[0], p1.Probs[0]) {
		t.Fatalf("damaged file: probabilities %v (%v), want them computed again", p3.Probs[0], err)
	}
	if _, err := readProbs(files[0], 25, 10); err != nil {
		t.Errorf("the damaged file was not replaced: %v", err)
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
	var slow syncBuilder
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

// syncBuilder is a strings.Builder safe for the timer's goroutine.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
