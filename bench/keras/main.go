// Command keras trains one of the labs' reference runs with keras, once per seed, for the
// comparison with real Keras in bench/keras (keras_labs.py trains the same runs in Keras 3 on
// TensorFlow). It prints one JSON object per seed, in keras_labs.py's format: the per-epoch
// history (loss, accuracy, val_loss, val_accuracy, learning rate, seconds), the best and stopping
// epochs, and the test loss and accuracy of the weights Fit left (the restored best ones).
//
//	exercise2  first 5,000 training and 1,000 test images, 4 × Dense 256 ELU He-normal, Nadam,
//	           batch 128, EarlyStopping(val_loss, 5, restore best)     (presets.Exercise2*)
//	lab3       all 50,000 training and 10,000 test images, 512-256-128 ReLU with dropout, Adam,
//	           batch 32, EarlyStopping(val_loss, 10) + ReduceLROnPlateau (presets.Lab3*)
//
// Usage: go run ./bench/keras -lab exercise2 [-seeds 1-20] [-epochs N] [-dir DIR]
//
// The backend is keras's default (XLA on the CPU); GOMLX_BACKEND=go selects pure Go.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cifarlab/cifarlab/bench/internal/seedrun"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

func main() {
	which := flag.String("lab", "exercise2", "exercise2, lab3, ex2bn, ex2selu or ex2onecycle")
	var flags seedrun.Flags
	flags.Register(flag.CommandLine, "1-20", "seeds: a range A-B or a comma-separated list")
	epochs := flag.Int("epochs", 0, "maximum epochs (0: the lab's 50)")
	speed := flag.String("speed", "", "time training steps of these models instead (exercise2,ex2bn), in bench/train's format")
	steps := flag.Int("steps", 30, "-speed: training steps per timed run")
	repeats := flag.Int("repeats", 3, "-speed: timed runs per model (the median is reported)")
	flag.Parse()
	ctx := context.Background()
	if *speed != "" {
		check(stepTimes(ctx, *speed, *steps, *repeats))
		return
	}
	start, err := flags.Start(ctx)
	check(err)
	ds := start.Data

	run := seedrun.Run{EvalBatch: 32} // Keras's evaluate default
	switch *which {
	case "exercise2":
		run.Spec, run.Compile, run.Fit = presets.Exercise2Spec(), presets.Exercise2Compile(), presets.Exercise2Fit()
		train, test := ds.Train.Head(5000), ds.Test.Head(1000)
		run.X, run.Y, run.XTest, run.YTest = lab.Images(train), keras.Classes(train.Labels), lab.Images(test), keras.Classes(test.Labels)
	case "lab3":
		run.Spec, run.Compile, run.Fit = presets.Lab3Spec(keras.ReLU), presets.Lab3Compile(), presets.Lab3Fit()
		run.X, run.Y, run.XTest, run.YTest = lab.Images(ds.Train), keras.OneHot(ds.Train.OneHot(), cifar.NumClasses), lab.Images(ds.Test), keras.OneHot(ds.Test.OneHot(), cifar.NumClasses)
	case "ex2bn", "ex2selu", "ex2onecycle": // issue 27's questions (c), (d), (f) on exercise 2's data
		train, test := ds.Train.Head(5000), ds.Test.Head(1000)
		run.X, run.Y, run.XTest, run.YTest = lab.Images(train), keras.Classes(train.Labels), lab.Images(test), keras.Classes(test.Labels)
		switch *which {
		case "ex2bn":
			run.Spec, run.Compile, run.Fit = presets.Exercise2BNSpec(), presets.Exercise2BNCompile(), presets.Exercise2BNFit()
		default:
			norm, err := presets.Exercise2Normalization(train)
			check(err)
			run.Spec = presets.Exercise2SELUSpec(norm)
			if *which == "ex2selu" {
				run.Compile, run.Fit = presets.Exercise2SELUCompile(), presets.Exercise2SELUFit()
			} else {
				run.Compile, run.Fit = presets.Exercise2OneCycleCompile(), presets.Exercise2OneCycleFit(train.Len())
			}
		}
	default:
		check(fmt.Errorf("-lab %q: want exercise2, lab3, ex2bn, ex2selu or ex2onecycle", *which))
	}
	if *epochs > 0 && *which != "ex2onecycle" { // 1cycle's epochs are part of its schedule
		run.Fit.Epochs = *epochs
	}
	run.Fit.Verbose = 0
	for _, seed := range start.Seeds {
		res, err := run.Train(ctx, seed)
		check(err)
		h := res.History
		best := h.Epochs[h.BestEpoch-1]
		check(seedrun.PrintJSON(os.Stdout, map[string]any{
			"who": "cifarlab", "backend": start.Backend, "lab": *which, "seed": seed,
			"epochs": len(h.Epochs), "best_epoch": h.BestEpoch, "stopped_epoch": h.StoppedEpoch,
			"best_val_loss": best.ValLoss, "best_val_accuracy": best.ValAccuracy,
			"max_val_accuracy": maxOf(h.Series("val_accuracy")),
			"test_loss":        res.TestLoss, "test_accuracy": res.TestAccuracy, "train_seconds": res.FitTime.Seconds(),
			"history": map[string][]float64{
				"loss": h.Series("loss"), "accuracy": h.Series("accuracy"),
				"val_loss": h.Series("val_loss"), "val_accuracy": h.Series("val_accuracy"),
				"learning_rate": h.Series("learning_rate"), "seconds": h.Series("seconds"),
			},
		}))
	}
}

// stepTimes times, for each model of the comma-separated list (exercise2, ex2bn), `repeats` fits of
// one epoch over `steps` batches of random images in order, after one untimed fit that compiles
// (bench/train's "step" measure), and prints bench/train's JSON lines. keras_labs.py --speed
// --models exercise2,ex2bn is the same in Keras.
func stepTimes(ctx context.Context, models string, steps, repeats int) error {
	backend, err := lab.UseBackend()
	if err != nil {
		return err
	}
	if err := seedrun.PrintJSON(os.Stdout, map[string]any{"what": "info", "backend": backend, "go": runtime.Version(),
		"gomaxprocs": runtime.GOMAXPROCS(0)}); err != nil {
		return err
	}
	for _, name := range strings.Split(models, ",") {
		var spec keras.ModelSpec
		var compile keras.CompileConfig
		switch name {
		case "exercise2":
			spec, compile = presets.Exercise2Spec(), presets.Exercise2Compile()
		case "ex2bn":
			spec, compile = presets.Exercise2BNSpec(), presets.Exercise2BNCompile()
		default:
			return fmt.Errorf("-speed: unknown model %q (exercise2, ex2bn)", name)
		}
		m, err := keras.NewModel(spec)
		if err != nil {
			return err
		}
		if err := m.Compile(compile); err != nil {
			return err
		}
		const batch = 128
		n := steps * batch
		rng := rand.New(rand.NewPCG(1, 2))
		pixels := make([]uint8, n*cifar.Height*cifar.Width*cifar.Channels)
		for i := range pixels {
			pixels[i] = uint8(rng.IntN(256))
		}
		ids := make([]int, n)
		for i := range ids {
			ids[i] = rng.IntN(cifar.NumClasses)
		}
		x, y := keras.NewPixelArray(pixels, n, cifar.Height, cifar.Width, cifar.Channels), keras.Classes(ids)
		cfg := keras.FitConfig{Epochs: 1, BatchSize: batch, NoShuffle: true, Verbose: 0}
		m.SetOutput(io.Discard)
		if _, err := m.Fit(ctx, x, y, cfg); err != nil { // compiles
			return err
		}
		runs := make([]float64, repeats)
		for i := range runs {
			start := time.Now()
			if _, err := m.Fit(ctx, x, y, cfg); err != nil {
				return err
			}
			runs[i] = float64(time.Since(start).Microseconds()) / 1e3 / float64(steps)
		}
		sorted := slices.Clone(runs)
		slices.Sort(sorted)
		med := sorted[len(sorted)/2]
		if len(sorted)%2 == 0 {
			med = (sorted[len(sorted)/2-1] + med) / 2
		}
		if err := seedrun.PrintJSON(os.Stdout, map[string]any{"model": name, "what": "step", "batch": batch,
			"ms_per_step": med, "runs_ms_per_step": runs}); err != nil {
			return err
		}
	}
	return nil
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

func check(err error) { seedrun.Check("bench/keras", err) }
