// Command keras trains one of the labs' reference runs with keras, once per seed, for the
// comparison with real Keras in bench/keras (keras_labs.py trains the same runs in Keras 3 on
// TensorFlow). It prints one JSON object per seed, in keras_labs.py's format: the per-epoch
// history (loss, accuracy, val_loss, val_accuracy, learning rate, seconds), the best and stopping
// epochs, and the test loss and accuracy of the weights Fit left (the restored best ones).
//
//	exercise2  first 5,000 training and 1,000 test images, 4 × Dense 256 ELU He-normal, Nadam,
//	           batch 128, EarlyStopping(val_loss, 5, restore best)     (lab.Exercise2*)
//	lab3       all 50,000 training and 10,000 test images, 512-256-128 ReLU with dropout, Adam,
//	           batch 32, EarlyStopping(val_loss, 10) + ReduceLROnPlateau (lab.Lab3*)
//
// Usage: go run ./bench/keras -lab exercise2 [-seeds 1-20] [-epochs N] [-dir DIR]
//
// The backend is keras's default (XLA on the CPU); GOMLX_BACKEND=go selects pure Go.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	seedlist "github.com/cifarlab/cifarlab/bench/internal/seeds"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

func main() {
	which := flag.String("lab", "exercise2", "exercise2 or lab3")
	seeds := flag.String("seeds", "1-20", "seeds: a range A-B or a comma-separated list")
	epochs := flag.Int("epochs", 0, "maximum epochs (0: the lab's 50)")
	dir := flag.String("dir", "", "CIFAR-10 folder (default: $CIFAR10_DIR, else the per-user cache)")
	flag.Parse()
	list, err := seedlist.Parse(*seeds)
	check(err)
	backend, err := lab.UseBackend()
	check(err)
	ds, err := cifar.Load(context.Background(), cifar.Options{Dir: *dir})
	check(err)

	var (
		spec      keras.ModelSpec
		compile   keras.CompileConfig
		fit       keras.FitConfig
		x, xTest  keras.Array
		y, yTest  keras.Labels
		evalBatch = 32 // Keras's evaluate default
	)
	switch *which {
	case "exercise2":
		spec, compile, fit = lab.Exercise2Spec(), lab.Exercise2Compile(), lab.Exercise2Fit()
		train, test := ds.Train.Head(5000), ds.Test.Head(1000)
		x, y, xTest, yTest = lab.Images(train), lab.Sparse(train), lab.Images(test), lab.Sparse(test)
	case "lab3":
		spec, compile, fit = lab.Lab3Spec(keras.ReLU), lab.Lab3Compile(), lab.Lab3Fit()
		x, y, xTest, yTest = lab.Images(ds.Train), lab.OneHot(ds.Train), lab.Images(ds.Test), lab.OneHot(ds.Test)
	default:
		check(fmt.Errorf("-lab %q: want exercise2 or lab3", *which))
	}
	if *epochs > 0 {
		fit.Epochs = *epochs
	}
	fit.Verbose = 0
	for _, seed := range list {
		spec.Seed = seed
		m, err := keras.NewModel(spec)
		check(err)
		check(m.Compile(compile))
		m.SetOutput(io.Discard)
		start := time.Now()
		h, err := m.Fit(context.Background(), x, y, fit)
		check(err)
		trainSec := time.Since(start).Seconds()
		loss, acc, err := m.Evaluate(xTest, yTest, evalBatch)
		check(err)
		best := h.Epochs[h.BestEpoch-1]
		b, err := json.Marshal(map[string]any{
			"who": "cifarlab", "backend": backend, "lab": *which, "seed": seed,
			"epochs": len(h.Epochs), "best_epoch": h.BestEpoch, "stopped_epoch": h.StoppedEpoch,
			"best_val_loss": best.ValLoss, "best_val_accuracy": best.ValAccuracy,
			"max_val_accuracy": maxOf(h.Series("val_accuracy")),
			"test_loss":        loss, "test_accuracy": acc, "train_seconds": trainSec,
			"history": map[string][]float64{
				"loss": h.Series("loss"), "accuracy": h.Series("accuracy"),
				"val_loss": h.Series("val_loss"), "val_accuracy": h.Series("val_accuracy"),
				"learning_rate": h.Series("learning_rate"), "seconds": h.Series("seconds"),
			},
		})
		check(err)
		fmt.Println(string(b))
	}
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/keras:", err)
		os.Exit(1)
	}
}
