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
	dir := flag.String("dir", "", "CIFAR-10 folder (default: $CIFAR10_DIR, else the per-user cache)")
	seeds := flag.String("seeds", "1-10", "seeds to train with: a range A-B or a comma-separated list")
	flag.Parse()
	if _, err := lab.UseBackend(); err != nil {
		panic(err)
	}
	list, err := seedlist.Parse(*seeds)
	check(err)
	ds, err := cifar.Load(context.Background(), cifar.Options{Dir: *dir})
	check(err)
	train, test := ds.Train.Head(5000), ds.Test.Head(1000)
	x, y := keras.NewArray(train.Float32(), -1, 32, 32, 3), keras.Classes(train.Labels)
	xTest, yTest := keras.NewArray(test.Float32(), -1, 32, 32, 3), keras.Classes(test.Labels)
	for _, seed := range list {
		res, err := run(seed, x, y, xTest, yTest)
		check(err)
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
}

// run trains exercise 2 with one seed (initial weights and shuffles) and evaluates it.
func run(seed int64, x keras.Array, y keras.Labels, xTest keras.Array, yTest keras.Labels) (map[string]any, error) {
	spec := lab.Exercise2Spec()
	spec.Seed = seed
	m, err := keras.NewModel(spec)
	if err != nil {
		return nil, err
	}
	if err := m.Compile(lab.Exercise2Compile()); err != nil {
		return nil, err
	}
	m.SetOutput(io.Discard)
	start := time.Now()
	h, err := m.Fit(context.Background(), x, y, lab.Exercise2Fit())
	if err != nil {
		return nil, err
	}
	_, acc, err := m.Evaluate(xTest, yTest, 128)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"seed": seed, "epochs": len(h.Epochs), "best_epoch": h.BestEpoch,
		"best_val_loss": h.Epochs[h.BestEpoch-1].ValLoss, "test_accuracy": acc,
		"seconds": time.Since(start).Seconds(),
	}, nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "exercise2:", err)
		os.Exit(1)
	}
}
