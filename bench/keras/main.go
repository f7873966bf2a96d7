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
	"os"

	"github.com/cifarlab/cifarlab/bench/internal/seedrun"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

func main() {
	which := flag.String("lab", "exercise2", "exercise2 or lab3")
	var flags seedrun.Flags
	flags.Register(flag.CommandLine, "1-20", "seeds: a range A-B or a comma-separated list")
	epochs := flag.Int("epochs", 0, "maximum epochs (0: the lab's 50)")
	flag.Parse()
	ctx := context.Background()
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
	default:
		check(fmt.Errorf("-lab %q: want exercise2 or lab3", *which))
	}
	if *epochs > 0 {
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

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

func check(err error) { seedrun.Check("bench/keras", err) }
