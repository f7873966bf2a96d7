// Command train times keras's two reference models on the current backend: one training
// step (lab 3: Adam, batch 32; exercise 2: Nadam, batch 128) and one full lab 3 epoch (40k training
// + 10k validation samples). It prints one JSON object per measurement, in the format of
// torch_ref.py, for run.sh to compare; the Go benchmarks in train_test.go measure the same things.
//
// Usage: go run ./bench/train [-models lab3,exercise2] [-steps 30] [-repeats 5] [-epoch]
//
// The data are random (timings do not depend on the values). The backend is keras's default
// (XLA on the CPU when its plugin is installed); GOMLX_BACKEND=go times the pure-Go backend and
// GOMLX_BACKEND=xla:/path/plugin.so another PJRT plugin (bench/gpu/run.sh: XLA CUDA).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

func main() {
	models := flag.String("models", "lab3,exercise2", "models whose step to time: lab3, exercise2 (empty: none)")
	steps := flag.Int("steps", 30, "training steps per timed run")
	repeats := flag.Int("repeats", 5, "timed runs per model (the median is reported)")
	epoch := flag.Bool("epoch", false, "also time one full lab 3 epoch (40k training + 10k validation samples)")
	flag.Parse()

	info, err := lab.UseBackend()
	check(err)
	emit(map[string]any{"what": "info", "backend": info, "go": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)})
	for _, name := range strings.Split(*models, ",") {
		if name == "" {
			continue
		}
		runs, batch, err := StepTimes(name, *steps, *repeats)
		check(err)
		emit(map[string]any{"model": name, "what": "step", "batch": batch, "ms_per_step": median(runs), "runs_ms_per_step": runs})
	}
	if *epoch {
		sec, err := Lab3EpochTime(50000, 0.2)
		check(err)
		emit(map[string]any{"model": "lab3", "what": "epoch", "batch": 32, "train_samples": 40000, "val_samples": 10000, "s_per_epoch": sec})
	}
	emit(map[string]any{"what": "memory", "peak_rss_mib": peakRSSMiB()})
}

// Reference returns a fresh reference model by name, with its batch size and whether its labels
// are sparse class ids (exercise 2) or one-hot (lab 3).
func Reference(name string) (m *keras.Model, batch int, sparse bool, err error) {
	switch name {
	case "lab3":
		m, err = presets.Lab3(keras.ReLU).NewModel()
		return m, presets.Lab3Fit().BatchSize, false, err
	case "exercise2":
		m, err = presets.Exercise2().NewModel()
		return m, presets.Exercise2Fit().BatchSize, true, err
	}
	return nil, 0, false, fmt.Errorf("unknown model %q (want lab3 or exercise2)", name)
}

// RandomData returns n random CIFAR-shaped images in [0, 1) and labels (seeded, deterministic).
func RandomData(n int, sparse bool, seed uint64) (keras.Array, keras.Labels, error) {
	x := make([]uint8, n*32*32*3) // pixels, fed as pixel/255 like the labs' images (lab.Images)
	s := seed*0x9E3779B97F4A7C15 + 1
	next := func() uint64 { // splitmix64
		s += 0x9E3779B97F4A7C15
		z := s
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		return z ^ (z >> 31)
	}
	for i := range x {
		x[i] = uint8(next() >> 56)
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = int(next() % 10)
	}
	y := keras.Classes(ids)
	if !sparse {
		var err error
		if y, err = y.ToOneHot(10); err != nil {
			return keras.Array{}, keras.Labels{}, err
		}
	}
	return keras.NewPixelArray(x, n, 32, 32, 3), y, nil
}

// StepTimes times `repeats` runs of `steps` training steps of a reference model (a Fit of one epoch
// over steps batches, in order) after one untimed run that compiles the graph; it returns ms/step
// of each run and the batch size.
func StepTimes(name string, steps, repeats int) ([]float64, int, error) {
	m, batch, sparse, err := Reference(name)
	if err != nil {
		return nil, 0, err
	}
	x, y, err := RandomData(steps*batch, sparse, 1)
	if err != nil {
		return nil, 0, err
	}
	cfg := keras.FitConfig{Epochs: 1, BatchSize: batch, NoShuffle: true, Verbose: 0}
	if _, err := m.Fit(context.Background(), x, y, cfg); err != nil { // compiles
		return nil, 0, err
	}
	runs := make([]float64, repeats)
	for i := range runs {
		start := time.Now()
		if _, err := m.Fit(context.Background(), x, y, cfg); err != nil {
			return nil, 0, err
		}
		runs[i] = float64(time.Since(start).Microseconds()) / 1e3 / float64(steps)
	}
	return runs, batch, nil
}

// Lab3EpochTime times one epoch of lab 3's Fit (batch 32, shuffled, validation split) on n random
// samples, compilation included (as in the first epoch of a real run); it returns seconds.
func Lab3EpochTime(n int, validationSplit float64) (float64, error) {
	m, err := presets.Lab3(keras.ReLU).NewModel()
	if err != nil {
		return 0, err
	}
	x, y, err := RandomData(n, false, 2)
	if err != nil {
		return 0, err
	}
	cfg := presets.Lab3Fit()
	cfg.Epochs, cfg.Verbose, cfg.Callbacks, cfg.ValidationSplit = 1, 0, nil, validationSplit
	start := time.Now()
	if _, err := m.Fit(context.Background(), x, y, cfg); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// peakRSSMiB reads the process's peak resident set size (VmHWM) from /proc; -1 if unknown.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err == nil {
				return kb / 1024
			}
		}
	}
	return -1
}

func emit(v map[string]any) {
	b, err := json.Marshal(v)
	check(err)
	fmt.Println(string(b))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}
