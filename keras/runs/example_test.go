package runs_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// A memoized training, run twice as a notebook cell run again would: the first Fit trains and
// saves the run, the second loads it into a fresh model instead of training.
func ExampleFitOrLoad() {
	dir, err := os.MkdirTemp("", "runs-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Four samples of two features, in two classes.
	x := keras.NewArray([]float32{0, 0, 0, 1, 1, 0, 1, 1}, -1, 2)
	y := keras.Classes([]int{0, 1, 1, 0})

	cell := func() *runs.Run {
		m, err := keras.NewModel(keras.ModelSpec{InputShape: []int{2}, Seed: 1,
			Layers: []keras.LayerSpec{keras.Dense(8, keras.ReLU), keras.Dense(2, keras.Softmax)}})
		if err != nil {
			log.Fatal(err)
		}
		if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossSparseCategoricalCrossentropy,
			Metrics: []keras.Metric{keras.MetricAccuracy}}); err != nil {
			log.Fatal(err)
		}
		// Verbose 0: the epoch lines (with their timings) are still saved with the run, and a
		// Fit with Verbose 1 or 2 that loads the run prints them again.
		r, err := runs.FitOrLoad(context.Background(), m, x, y, keras.FitConfig{Epochs: 5, BatchSize: 2, Verbose: 0},
			runs.Options{Dir: dir})
		if err != nil {
			log.Fatal(err)
		}
		return r
	}

	first := cell()
	fmt.Printf("first: loaded %v, %d epochs\n", first.Loaded, len(first.History.Epochs))
	second := cell()
	fmt.Printf("second: loaded %v, %d epochs, same run %v\n", second.Loaded, len(second.History.Epochs), second.Key == first.Key)
	// Output:
	// first: loaded false, 5 epochs
	// second: loaded true, 5 epochs, same run true
}
