package presets

import (
	"math"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
)

// The exercise's questions (c), (d) and (f) of Géron's chapter 11 exercise on CIFAR-10 (issue 27),
// on exercise 2's data (the first 5,000 training and 1,000 test images) and fit settings (batch
// 128, validation split 0.2). bench/keras trains them in Keras 3 and in keras.

// Exercise2BNSpec is question (c): exercise 2's network with batch normalization between each
// hidden Dense and its activation, as the book's solution writes it: Flatten(3072) → 4 ×
// [Dense 256 (no activation, He-normal) → BatchNormalization → Activation(ELU)] → Dense 10
// softmax; seed 42.
func Exercise2BNSpec() keras.ModelSpec {
	layers := []keras.LayerSpec{keras.Flatten()}
	for range 4 {
		layers = append(layers, keras.Dense(256, keras.Linear).WithInitializer(keras.HeNormal),
			keras.BatchNormalization(), keras.ActivationLayer(keras.ELU))
	}
	layers = append(layers, keras.Dense(cifar.NumClasses, keras.Softmax))
	return keras.ModelSpec{Name: keras.DefaultModelName, InputShape: inputShape, Layers: layers, Seed: ReferenceSeed}
}

// Exercise2BNCompile is question (c)'s compile settings: Nadam(5e-4) (the book's rate for its
// batch-normalized network), sparse categorical cross-entropy, accuracy.
func Exercise2BNCompile() keras.CompileConfig {
	return keras.CompileConfig{Optimizer: keras.Nadam(5e-4), Loss: keras.LossSparseCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}
}

// Exercise2BNFit is question (c)'s fit settings: exercise 2's (Exercise2Fit: up to 50 epochs,
// batch 128, validation split 0.2, EarlyStopping(val_loss, patience 5, restore best)).
func Exercise2BNFit() keras.FitConfig { return Exercise2Fit() }

// Exercise2SELUSpec is question (d): a self-normalizing network on standardized inputs,
// Flatten(3072) → norm → 4 × Dense 256 SELU with LeCun-normal kernels → Dense 10 softmax; seed 42.
// norm is keras.Normalization() adapted to the flattened training images (one mean and variance
// per pixel and channel, as the book standardizes X_train with its mean and std over axis 0):
// Exercise2Normalization makes it.
func Exercise2SELUSpec(norm keras.LayerSpec) keras.ModelSpec {
	layers := []keras.LayerSpec{keras.Flatten(), norm}
	for range 4 {
		layers = append(layers, keras.Dense(256, keras.SELU).WithInitializer(keras.LeCunNormal))
	}
	layers = append(layers, keras.Dense(cifar.NumClasses, keras.Softmax))
	return keras.ModelSpec{Name: keras.DefaultModelName, InputShape: inputShape, Layers: layers, Seed: ReferenceSeed}
}

// Exercise2Normalization adapts keras.Normalization() to train's images flattened to 3,072
// features, pixel/255 (Keras: norm.adapt(x_train) on exercise 2's x_train of shape [N, 3072]).
func Exercise2Normalization(train *cifar.Split) (keras.LayerSpec, error) {
	flat := keras.NewPixelArray(train.Images, train.Len(), cifar.Height*cifar.Width*cifar.Channels)
	return keras.Normalization().Adapt(flat)
}

// Exercise2SELUCompile is question (d)'s compile settings: Nadam(7e-4) (the book's rate for its
// SELU network), sparse categorical cross-entropy, accuracy.
func Exercise2SELUCompile() keras.CompileConfig {
	return keras.CompileConfig{Optimizer: keras.Nadam(7e-4), Loss: keras.LossSparseCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}
}

// Exercise2SELUFit is question (d)'s fit settings: exercise 2's (Exercise2Fit).
func Exercise2SELUFit() keras.FitConfig { return Exercise2Fit() }

// OneCycleEpochs is question (f)'s fixed number of epochs (the book's n_epochs = 15).
const OneCycleEpochs = 15

// Exercise2OneCycleCompile is question (f)'s compile settings: plain SGD (the book's
// tf.keras.optimizers.SGD(); its learning rate is set before every step by the 1cycle schedule),
// sparse categorical cross-entropy, accuracy. The model is question (d)'s (Exercise2SELUSpec), as
// the book's.
func Exercise2OneCycleCompile() keras.CompileConfig {
	return keras.CompileConfig{Optimizer: keras.SGD(0.01), Loss: keras.LossSparseCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}
}

// Exercise2OneCycleFit is question (f)'s fit settings for trainSamples images passed to Fit
// (5,000 in exercise 2): OneCycleEpochs epochs of batch 128 with validation split 0.2, no early
// stopping, and the book's OneCycleScheduler(ceil(training samples / 128) × 15, max_rate=0.05)
// (the training samples are those left after the validation split: 4,000, so 32 × 15 = 480 steps).
func Exercise2OneCycleFit(trainSamples int) keras.FitConfig {
	const batch, split = 128, 0.2
	fitted := int(math.Floor(float64(trainSamples) * (1 - split))) // Keras: int(n * (1 - validation_split))
	steps := (fitted + batch - 1) / batch
	return keras.FitConfig{
		Epochs: OneCycleEpochs, BatchSize: batch, ValidationSplit: split, Verbose: 2,
		Callbacks: []keras.Callback{
			&keras.OneCycleScheduler{Iterations: steps * OneCycleEpochs, MaxRate: 0.05},
		},
	}
}
