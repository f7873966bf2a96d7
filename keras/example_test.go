package keras_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cifarlab/cifarlab/keras"
)

// Exercise 2's network, with Keras's summary table.
func ExampleModel_Summary() {
	layers := []keras.LayerSpec{keras.Flatten()}
	for range 4 {
		layers = append(layers, keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal))
	}
	m, err := keras.Sequential([]int{32, 32, 3}, append(layers, keras.Dense(10, keras.Softmax))...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(m.Summary())
	// Output:
	// Model: "sequential"
	// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
	// ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
	// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
	// │ flatten (Flatten)               │ (None, 3072)           │             0 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense (Dense)                   │ (None, 256)            │       786,688 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_1 (Dense)                 │ (None, 256)            │        65,792 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_2 (Dense)                 │ (None, 256)            │        65,792 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_3 (Dense)                 │ (None, 256)            │        65,792 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_4 (Dense)                 │ (None, 10)             │         2,570 │
	// └─────────────────────────────────┴────────────────────────┴───────────────┘
	//  Total params: 986,634 (3.76 MB)
	//  Trainable params: 986,634 (3.76 MB)
	//  Non-trainable params: 0 (0.00 B)
}

// Training lab 3's model, as model.fit does in the lab (package keras/runs adds memoized runs on
// top of Fit; package lab adds the data and the settings).
func ExampleModel_Fit() {
	var pixels []float32 // 50,000 × 3072 values in [0, 1], e.g. cifar's train.Float32()
	var oneHot []float32 // 50,000 × 10, e.g. cifar's train.OneHot()

	m, err := keras.Sequential([]int{32, 32, 3},
		keras.Flatten(),
		keras.Dense(512, keras.ReLU), keras.Dropout(0.3),
		keras.Dense(256, keras.ReLU), keras.Dropout(0.4),
		keras.Dense(128, keras.ReLU), keras.Dropout(0.5),
		keras.Dense(10, keras.Softmax),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.001), Loss: keras.LossCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}); err != nil {
		log.Fatal(err)
	}
	hist, err := m.Fit(context.Background(), keras.NewArray(pixels, -1, 32, 32, 3), keras.OneHot(oneHot, 10), keras.FitConfig{
		Epochs: 50, BatchSize: 32, ValidationSplit: 0.2, Verbose: 1,
		Callbacks: []keras.Callback{
			keras.NewEarlyStopping("val_loss", 10, true),
			keras.NewReduceLROnPlateau("val_loss", 0.5, 5, 1e-5),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("best epoch %d, val_accuracy %.4f\n", hist.BestEpoch, hist.Epoch(hist.BestEpoch).ValAccuracy)
}
