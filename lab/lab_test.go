package lab

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

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

// A value of CIFARLAB_QUICK that settings.ParseBool does not understand is an error, and makes
// Pick panic (the hyperparameter cell fails) instead of picking a mode.
func TestQuickRejectsUnknownValues(t *testing.T) {
	for _, v := range []string{"nope", "2", "quick"} {
		t.Setenv(EnvQuick, v)
		if _, err := QuickMode(); err == nil || !strings.Contains(err.Error(), EnvQuick) {
			t.Errorf("QuickMode with %s=%q: %v", EnvQuick, v, err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), v) {
					t.Errorf("Pick with %s=%q: recovered %v", EnvQuick, v, r)
				}
			}()
			Pick(50, 2)
		}()
	}
}

func TestRunsDirSeparatesQuickRuns(t *testing.T) {
	t.Setenv(EnvRunsDir, "")
	t.Setenv(cifar.EnvCacheDir, "/cache")
	t.Setenv(EnvQuick, "")
	if got := RunsDir(); got != "/cache/runs" {
		t.Errorf("RunsDir() = %q", got)
	}
	t.Setenv(EnvQuick, "1")
	if got := RunsDir(); got != "/cache/runs-quick" {
		t.Errorf("quick RunsDir() = %q", got)
	}
	t.Setenv(EnvRunsDir, "/elsewhere")
	if got := RunsDir(); got != "/elsewhere" {
		t.Errorf("RunsDir() with %s = %q", EnvRunsDir, got)
	}
}

// TestTrainEvaluateConvert trains a tiny model on synthetic CIFAR files and checks that the
// conversions into report and plot inputs carry the same numbers.
func TestTrainEvaluateConvert(t *testing.T) {
	dir := t.TempDir()
	if _, err := cifar.WriteSynthetic(dir, cifar.Python, cifar.SyntheticOptions{TrainPerBatch: 40, Test: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	ds, err := cifar.Load(t.Context(), cifar.Options{Dir: dir, NoFlatCache: true})
	if err != nil {
		t.Fatal(err)
	}
	x := Images(ds.Train)
	if x.Len() != 200 || !slices.Equal(x.Float32(), ds.Train.Float32()) {
		t.Fatalf("Images: shape %v, values differ from Split.Float32", x.Shape)
	}
	m, err := keras.Sequential([]int{32, 32, 3}, keras.Flatten(), keras.Dense(16, "relu"), keras.Dense(10, "softmax"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossSparseCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(x, Sparse(ds.Train), keras.FitConfig{Epochs: 3, BatchSize: 20, ValidationSplit: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	c := Curves(h)
	if len(c.Loss) != 3 || c.Loss[2] != h.Epochs[2].Loss || c.ValAccuracy[0] != h.Epochs[0].ValAccuracy || c.BestEpoch != h.BestEpoch {
		t.Errorf("Curves = %+v, history %+v", c, h.Epochs)
	}
	layers, err := Layers(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 || len(layers[0].Kernel) != 3072*16 || len(layers[1].Bias) != 10 {
		t.Errorf("Layers: %d layers", len(layers))
	}
	p, err := Predict(m, ds.Test, 16)
	if err != nil {
		t.Fatal(err)
	}
	_, acc, err := m.Evaluate(Images(ds.Test), Sparse(ds.Test), 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pred) != 30 || math.Abs(p.Accuracy()-acc) > 1e-6 {
		t.Errorf("Predict accuracy %v, Evaluate accuracy %v", p.Accuracy(), acc)
	}
	right, wrong := p.Indices(true, 100), p.Indices(false, 100)
	if len(right)+len(wrong) != 30 {
		t.Errorf("%d correct + %d wrong indices, want 30", len(right), len(wrong))
	}
	for _, i := range right {
		if p.Pred[i] != p.True[i] {
			t.Errorf("index %d listed as correct", i)
		}
	}
}
