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

// TensorFlow's CNN tutorial model on CIFAR-10 images: convolutions read the [32, 32, 3] images
// directly; Flatten comes after the last one.
func ExampleConv2D() {
	m, err := keras.Sequential([]int{32, 32, 3},
		keras.Conv2D(32, 3, keras.ReLU), keras.MaxPooling2D(2),
		keras.Conv2D(64, 3, keras.ReLU), keras.MaxPooling2D(2),
		keras.Conv2D(64, 3, keras.ReLU),
		keras.Flatten(),
		keras.Dense(64, keras.ReLU),
		keras.Dense(10, keras.Softmax),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.CountParams(), "parameters")
	// Output: 122570 parameters
}

// TensorFlow's CNN tutorial with augmentation, as Keras writes it: the random layers first (they
// change the images only in Fit), a last Dense without activation, and the loss from its logits
// (Keras's SparseCategoricalCrossentropy(from_logits=True)); Predict then returns logits.
func ExampleRandomFlip() {
	m, err := keras.Sequential([]int{32, 32, 3},
		keras.RandomFlip(keras.Horizontal),
		keras.RandomTranslation(0.1, 0.1),
		keras.RandomRotation(0.1),
		keras.Conv2D(32, 3, keras.ReLU), keras.MaxPooling2D(2),
		keras.Conv2D(64, 3, keras.ReLU), keras.MaxPooling2D(2),
		keras.Conv2D(64, 3, keras.ReLU),
		keras.Flatten(),
		keras.Dense(64, keras.ReLU),
		keras.Dense(10, keras.Linear),
	)
	if err != nil {
		log.Fatal(err)
	}
	err = m.Compile(keras.CompileConfig{
		Optimizer:  keras.Adam(0.001),
		Loss:       keras.LossSparseCategoricalCrossentropy,
		FromLogits: true,
		Metrics:    []keras.Metric{keras.MetricAccuracy},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.CountParams(), "parameters")
	// Output: 122570 parameters
}

// Training lab 3's model, as model.fit does in the lab (package keras/runs adds memoized runs on
// top of Fit; package lab adds the data and the settings). Here on 64 random images, for two
// epochs; the lab passes its 50,000 training images (cifar's train.Float32() and train.OneHot()).
func ExampleModel_Fit() {
	const n = 64
	pixels, oneHot := make([]float32, n*32*32*3), make([]float32, n*10)
	for i := range pixels {
		pixels[i] = float32(i*7919%256) / 255
	}
	for i := range n {
		oneHot[i*10+i%10] = 1
	}

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
	hist, err := m.Fit(context.Background(), keras.NewArray(pixels, n, 32, 32, 3), keras.OneHot(oneHot, 10), keras.FitConfig{
		Epochs: 2, BatchSize: 32, ValidationSplit: 0.25,
		Callbacks: []keras.Callback{
			&keras.EarlyStopping{Monitor: "val_loss", Patience: 10, RestoreBestWeights: true, Quiet: true},
			&keras.ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 5, MinLR: 1e-5},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	steps, _ := m.Iterations()
	fmt.Printf("%d epochs of %d steps on %d images (%d for validation); %d parameters\n",
		len(hist.Epochs), hist.StepsPerEpoch, hist.TrainSamples, hist.ValSamples, m.CountParams())
	fmt.Printf("optimizer steps: %d\n", steps)
	// Output:
	// 2 epochs of 2 steps on 48 images (16 for validation); 1738890 parameters
	// optimizer steps: 4
}

// A self-normalizing network as in Géron's chapter 11: inputs standardized by a Normalization
// adapted to the training images (Keras: norm = Normalization(); norm.adapt(x_train)), SELU layers
// with LeCun-normal kernels, AlphaDropout; then Monte Carlo Dropout's prediction, the mean of 10
// predictions with dropout on. Here on 64 generated images, untrained.
func ExampleModel_MCPredict() {
	const n = 64
	pixels := make([]uint8, n*32*32*3)
	for i := range pixels {
		pixels[i] = uint8(i * 7919 % 256)
	}
	xTrain := keras.NewPixelArray(pixels, -1, 32, 32, 3)

	norm, err := keras.Normalization().Adapt(xTrain)
	if err != nil {
		log.Fatal(err)
	}
	m, err := keras.Sequential([]int{32, 32, 3},
		norm,
		keras.Flatten(),
		keras.Dense(100, keras.SELU).WithInitializer(keras.LeCunNormal),
		keras.Dense(100, keras.SELU).WithInitializer(keras.LeCunNormal),
		keras.AlphaDropout(0.1),
		keras.Dense(10, keras.Softmax),
	)
	if err != nil {
		log.Fatal(err)
	}
	probs, err := m.MCPredict(xTrain, 32, 10)
	if err != nil {
		log.Fatal(err)
	}
	sum := 0.0
	for _, p := range probs.Rows()[0] {
		sum += float64(p)
	}
	fmt.Println(probs.Shape, fmt.Sprintf("%.4f", sum))
	// Output:
	// [64 10] 1.0000
}
