// Command exercise2 trains exercise 2 (first 5,000 training and 1,000 test images of CIFAR-10,
// 4 × Dense 256 ELU He-normal, Nadam, EarlyStopping on val_loss with patience 5) once per seed and
// prints one JSON object per run: epochs, best epoch, best val_loss and test accuracy. With
// torch_exercise2.py, the same exercise in PyTorch with Keras's initialisers and Nadam, it shows
// whether keras lands where an independent implementation lands on the same data; run.sh runs
// both and prints the two distributions.
//
// Usage: go run ./bench/exercise2 [-dir DIR] [-seeds 1-10]
package main

import (
	"context"
	"flag"
	"os"

	"github.com/cifarlab/cifarlab/bench/internal/seedrun"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/keras"
)

func main() {
	var flags seedrun.Flags
	flags.Register(flag.CommandLine, "1-10", "seeds to train with: a range A-B or a comma-separated list")
	flag.Parse()
	ctx := context.Background()
	start, err := flags.Start(ctx)
	check(err)
	train, test := start.Data.Train.Head(5000), start.Data.Test.Head(1000)
	run := seedrun.Run{
		Spec: presets.Exercise2Spec(), Compile: presets.Exercise2Compile(), Fit: presets.Exercise2Fit(),
		X: keras.NewArray(train.Float32(), -1, 32, 32, 3), Y: keras.Classes(train.Labels),
		XTest: keras.NewArray(test.Float32(), -1, 32, 32, 3), YTest: keras.Classes(test.Labels),
		EvalBatch: 128,
	}
	for _, seed := range start.Seeds {
		res, err := run.Train(ctx, seed)
		check(err)
		h := res.History
		check(seedrun.PrintJSON(os.Stdout, map[string]any{
			"seed": seed, "epochs": len(h.Epochs), "best_epoch": h.BestEpoch,
			"best_val_loss": h.Epochs[h.BestEpoch-1].ValLoss, "test_accuracy": res.TestAccuracy,
			"seconds": (res.FitTime + res.EvalTime).Seconds(),
		}))
	}
}

func check(err error) { seedrun.Check("exercise2", err) }
