// Package seedrun holds what the bench commands that train a lab's model once per seed share
// (bench/exercise2 and bench/keras): the -dir and -seeds flags, the start (the seed list, the
// backend, CIFAR-10), one seed's training and evaluation, and the JSON line each seed prints.
package seedrun

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cifarlab/cifarlab/bench/internal/seeds"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

// Flags are the flags every seed-training command has.
type Flags struct {
	Dir   string // -dir: the CIFAR-10 folder; "" means $CIFAR10_DIR, else the per-user cache
	Seeds string // -seeds: a seed list for seeds.Parse
}

// Register defines -dir and -seeds on fs, with the command's default seed list and -seeds help.
func (f *Flags) Register(fs *flag.FlagSet, defaultSeeds, seedsUsage string) {
	fs.StringVar(&f.Dir, "dir", "", "CIFAR-10 folder (default: $CIFAR10_DIR, else the per-user cache)")
	fs.StringVar(&f.Seeds, "seeds", defaultSeeds, seedsUsage)
}

// Start is what a command has before its first seed.
type Start struct {
	Seeds   []int64        // the seeds of -seeds, in order
	Backend string         // the backend the models run on, in words (lab.UseBackend)
	Data    *cifar.Dataset // CIFAR-10 from -dir
}

// Start parses the seed list (a bad one is reported before anything is loaded), makes the labs'
// backend keras's default (lab.UseBackend) and loads CIFAR-10 from f.Dir.
func (f Flags) Start(ctx context.Context) (Start, error) {
	list, err := seeds.Parse(f.Seeds)
	if err != nil {
		return Start{}, err
	}
	backend, err := lab.UseBackend()
	if err != nil {
		return Start{}, err
	}
	ds, err := cifar.Load(ctx, cifar.Options{Dir: f.Dir})
	if err != nil {
		return Start{}, err
	}
	return Start{Seeds: list, Backend: backend, Data: ds}, nil
}

// Run is one lab's training, to be repeated with several seeds.
type Run struct {
	Spec      keras.ModelSpec // its Seed is replaced by each Train's seed
	Compile   keras.CompileConfig
	Fit       keras.FitConfig
	X         keras.Array  // training images (Fit takes its validation split from them)
	Y         keras.Labels // their labels
	XTest     keras.Array  // test images
	YTest     keras.Labels // their labels
	EvalBatch int          // Evaluate's batch size on the test images
}

// Result is one seed's training and test evaluation.
type Result struct {
	History      *keras.History // what Fit returned
	TestLoss     float64        // of the weights Fit left (the restored best ones with early stopping)
	TestAccuracy float64
	FitTime      time.Duration // the time Fit took
	EvalTime     time.Duration // the time the test evaluation took
}

// Train builds r.Spec with seed as its seed (initial weights, shuffles, dropout), compiles it,
// fits it with its output discarded and evaluates it on the test images.
func (r Run) Train(ctx context.Context, seed int64) (Result, error) {
	spec := r.Spec
	spec.Seed = seed
	m, err := keras.NewModel(spec)
	if err != nil {
		return Result{}, fmt.Errorf("seed %d: %w", seed, err)
	}
	if err := m.Compile(r.Compile); err != nil {
		return Result{}, fmt.Errorf("seed %d: %w", seed, err)
	}
	m.SetOutput(io.Discard)
	start := time.Now()
	h, err := m.Fit(ctx, r.X, r.Y, r.Fit)
	if err != nil {
		return Result{}, fmt.Errorf("seed %d: %w", seed, err)
	}
	fitTime := time.Since(start)
	loss, acc, err := m.Evaluate(r.XTest, r.YTest, r.EvalBatch)
	if err != nil {
		return Result{}, fmt.Errorf("seed %d: %w", seed, err)
	}
	return Result{History: h, TestLoss: loss, TestAccuracy: acc, FitTime: fitTime, EvalTime: time.Since(start) - fitTime}, nil
}

// PrintJSON writes v to w as one line of JSON.
func PrintJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// Check ends the program with status 1 when err is not nil, after writing "command: err" to
// standard error.
func Check(command string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", command, err)
		os.Exit(1)
	}
}
