package seedrun

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
)

func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		wantDir, wantSds string
	}{
		{args: nil, wantDir: "", wantSds: "1-10"},
		{args: []string{"-dir", "/data", "-seeds", "3,5-6"}, wantDir: "/data", wantSds: "3,5-6"},
		{args: []string{"-seeds=7"}, wantDir: "", wantSds: "7"},
	} {
		fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
		var f Flags
		f.Register(fs, "1-10", "seeds")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if f.Dir != tc.wantDir || f.Seeds != tc.wantSds {
			t.Errorf("%v: Dir %q, Seeds %q; want %q, %q", tc.args, f.Dir, f.Seeds, tc.wantDir, tc.wantSds)
		}
	}
}

func TestStartErrors(t *testing.T) {
	empty := t.TempDir() // holds no CIFAR-10: loading from it fails
	for _, tc := range []struct {
		name     string
		flags    Flags
		wantErr  string
		notFound bool // the error is cifar's "not found", from loading
	}{
		// A bad seed list is reported before the data set is looked at.
		{name: "bad seeds", flags: Flags{Dir: empty, Seeds: "3-1"}, wantErr: `"3-1" is neither a seed`},
		{name: "no data", flags: Flags{Dir: empty, Seeds: "1"}, notFound: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.flags.Start(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, cifar.ErrNotFound) != tc.notFound {
				t.Errorf("error %q (not found: %v); want one containing %q (not found: %v)", err, errors.Is(err, cifar.ErrNotFound), tc.wantErr, tc.notFound)
			}
		})
	}
}

// TestStartRealData loads CIFAR-10 from CIFAR10_DIR (skipped when it is not set).
func TestStartRealData(t *testing.T) {
	dir := os.Getenv(cifar.EnvDataDir)
	if dir == "" {
		t.Skipf("%s not set", cifar.EnvDataDir)
	}
	s, err := Flags{Dir: dir, Seeds: "4,1-2"}.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Seeds, []int64{4, 1, 2}) || s.Backend == "" || s.Data.Train.Len() != 50000 || s.Data.Test.Len() != 10000 {
		t.Errorf("seeds %v, backend %q, %d training and %d test images; want [4 1 2], a backend, 50000 and 10000",
			s.Seeds, s.Backend, s.Data.Train.Len(), s.Data.Test.Len())
	}
}

// tinyRun is a softmax regression on 48 random 2x2 RGB images of 3 classes, trained 3 epochs.
func tinyRun() Run {
	const n, d = 48, 2 * 2 * 3
	x, classes := make([]float32, n*d), make([]uint8, n)
	state := uint32(1)
	for i := range x {
		state = state*1664525 + 1013904223
		x[i] = float32(state>>8) / (1 << 24)
	}
	for i := range classes {
		classes[i] = uint8(i % 3)
		x[i*d+int(classes[i])] += 1 // learnable: the class's channel of the first pixel is brighter
	}
	images := keras.NewArray(x, n, 2, 2, 3)
	return Run{
		Spec:    keras.ModelSpec{InputShape: []int{2, 2, 3}, Layers: []keras.LayerSpec{keras.Flatten(), keras.Dense(3, keras.Softmax)}, Seed: 99},
		Compile: keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossSparseCategoricalCrossentropy, Metrics: []keras.Metric{keras.MetricAccuracy}},
		Fit:     keras.FitConfig{Epochs: 3, BatchSize: 8, ValidationSplit: 0.25, Verbose: 2},
		X:       images, Y: keras.Classes(classes), XTest: images, YTest: keras.Classes(classes),
		EvalBatch: 16,
	}
}

// trainQuietly runs r.Train(seed) and returns what it wrote to standard output.
func trainQuietly(t *testing.T, r Run, seed int64) (Result, string, error) {
	t.Helper()
	read, write, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = write
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(read)
		out <- string(b)
	}()
	res, err := r.Train(context.Background(), seed)
	os.Stdout = stdout
	write.Close()
	return res, <-out, err
}

func TestTrain(t *testing.T) {
	r := tinyRun()
	a, printed, err := trainQuietly(t, r, 5)
	if err != nil {
		t.Fatal(err)
	}
	if printed != "" {
		t.Errorf("Train printed %q; the epoch lines should be discarded", printed)
	}
	if n := len(a.History.Epochs); n != 3 {
		t.Errorf("%d epochs, want 3", n)
	}
	if a.TestAccuracy < 0 || a.TestAccuracy > 1 || !(a.TestLoss > 0) || math.IsInf(a.TestLoss, 0) {
		t.Errorf("test loss %v, accuracy %v", a.TestLoss, a.TestAccuracy)
	}
	if a.FitTime <= 0 || a.EvalTime <= 0 {
		t.Errorf("fit time %v, evaluation time %v; want both > 0", a.FitTime, a.EvalTime)
	}
	// The seed, not r.Spec.Seed, sets the initial weights: the same seed trains the same model,
	// another seed another one.
	same, _, err := trainQuietly(t, r, 5)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := trainQuietly(t, r, 6)
	if err != nil {
		t.Fatal(err)
	}
	if same.TestLoss != a.TestLoss || other.TestLoss == a.TestLoss {
		t.Errorf("test loss %v with seed 5, %v with seed 5 again, %v with seed 6; want the same, then another", a.TestLoss, same.TestLoss, other.TestLoss)
	}
	if r.Spec.Seed != 99 {
		t.Errorf("Train changed the run's spec: seed %d", r.Spec.Seed)
	}
}

func TestTrainErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *Run)
	}{
		{"bad spec", func(r *Run) { r.Spec.InputShape = nil }},
		{"not compilable", func(r *Run) { r.Compile.Loss = "no such loss" }},
		{"bad training labels", func(r *Run) { r.Y = keras.Classes(make([]uint8, 5)) }},
		{"bad evaluation batch", func(r *Run) { r.EvalBatch = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tinyRun()
			tc.change(&r)
			_, _, err := trainQuietly(t, r, 17)
			if err == nil || !strings.HasPrefix(err.Error(), "seed 17: ") {
				t.Errorf("error %v, want one starting with the seed", err)
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrintJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v       any
		w       io.Writer
		want    string
		wantErr string
	}{
		{name: "one line", v: map[string]any{"seed": 3, "a": []float64{0.5, 1}}, want: `{"a":[0.5,1],"seed":3}` + "\n"},
		{name: "NaN", v: map[string]any{"loss": math.NaN()}, wantErr: "encoding the result"},
		{name: "writer fails", v: 1, w: failingWriter{}, wantErr: "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := tc.w
			if w == nil {
				w = &buf
			}
			err := PrintJSON(w, tc.v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %q despite the error", buf.String())
				}
				return
			}
			if err != nil || buf.String() != tc.want {
				t.Errorf("wrote %q, %v; want %q", buf.String(), err, tc.want)
			}
		})
	}
}
