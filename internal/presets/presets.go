// Package presets holds the labs' reference models and settings (lab 3 and exercise 2) as data,
// for the tests and benchmarks. The notebooks write their own in their cells, as students do; a
// test of nbrun checks that the two agree. It is internal so that a notebook's completion never
// offers it.
package presets

import (
	"context"
	"fmt"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
)

// ReferenceSeed is the seed of the labs' models (exercise 2 uses 42; lab 3 uses it too).
const ReferenceSeed = 42

// Experiment is one training run of a lab as data: the model, how it is compiled and fitted, and
// which images it uses. Lab3 and Exercise2 return the labs' own.
type Experiment struct {
	Model   keras.ModelSpec
	Compile keras.CompileConfig
	Fit     keras.FitConfig
	// TrainSamples and TestSamples take the first N training and test images; 0 means all.
	TrainSamples, TestSamples int
}

// Data loads CIFAR-10 with opts (see cifar.Load) and returns the experiment's training and test
// images.
func (e Experiment) Data(ctx context.Context, opts cifar.Options) (train, test *cifar.Split, err error) {
	ds, err := cifar.Load(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	return ds.Train.Head(e.samples(e.TrainSamples, ds.Train)), ds.Test.Head(e.samples(e.TestSamples, ds.Test)), nil
}

// samples is n, or all of s when n is 0.
func (Experiment) samples(n int, s *cifar.Split) int {
	if n <= 0 {
		return s.Len()
	}
	return n
}

// NewModel builds the experiment's model and compiles it.
func (e Experiment) NewModel() (*keras.Model, error) {
	m, err := keras.NewModel(e.Model)
	if err != nil {
		return nil, err
	}
	if err := m.Compile(e.Compile); err != nil {
		return nil, err
	}
	return m, nil
}

// inputShape is the per-sample shape of CIFAR-10 images.
var inputShape = []int{cifar.Height, cifar.Width, cifar.Channels}

// Lab3 is lab 3: Lab3Spec(activation), Lab3Compile and Lab3Fit on all 50,000 training and 10,000
// test images.
func Lab3(activation keras.Activation) Experiment {
	return Experiment{Model: Lab3Spec(activation), Compile: Lab3Compile(), Fit: Lab3Fit()}
}

// Lab3Spec is lab 3's architecture with the given hidden activation (the lab uses keras.ReLU and
// keras.Tanh): Flatten(32×32×3 → 3072) → Dense 512 → Dropout 0.3 → Dense 256 → Dropout 0.4 →
// Dense 128 → Dropout 0.5 → Dense 10 softmax; 1,738,890 parameters; seed 42.
func Lab3Spec(activation keras.Activation) keras.ModelSpec {
	return keras.ModelSpec{
		Name:       keras.DefaultModelName,
		InputShape: inputShape,
		Layers: []keras.LayerSpec{
			keras.Flatten(),
			keras.Dense(512, activation),
			keras.Dropout(0.3),
			keras.Dense(256, activation),
			keras.Dropout(0.4),
			keras.Dense(128, activation),
			keras.Dropout(0.5),
			keras.Dense(cifar.NumClasses, keras.Softmax),
		},
		Seed: ReferenceSeed,
	}
}

// Lab3Compile is lab 3's compile settings: Adam(0.001), categorical cross-entropy on one-hot
// labels, accuracy. The lab's variants change Loss (sparse categorical cross-entropy, mean squared
// error) or Optimizer (SGD(0.001), RMSprop(0.001)).
func Lab3Compile() keras.CompileConfig {
	return keras.CompileConfig{Optimizer: keras.Adam(0.001), Loss: keras.LossCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}
}

// Lab3Fit is lab 3's fit settings: 50 epochs, batch 32, validation split 0.2,
// EarlyStopping(val_loss, patience 10, restore_best_weights) and
// ReduceLROnPlateau(val_loss, factor 0.5, patience 5, min_lr 1e-5), with epoch lines (Verbose 2).
func Lab3Fit() keras.FitConfig {
	return keras.FitConfig{
		Epochs: 50, BatchSize: 32, ValidationSplit: 0.2, Verbose: 2,
		Callbacks: []keras.Callback{
			&keras.EarlyStopping{Monitor: "val_loss", Patience: 10, RestoreBestWeights: true},
			&keras.ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 5, MinLR: 1e-5},
		},
	}
}

// Exercise2 is exercise 2: Exercise2Spec, Exercise2Compile and Exercise2Fit on the first 5,000
// training and the first 1,000 test images. The original Keras run reported a test accuracy of
// 0.3850 after 15 epochs.
func Exercise2() Experiment {
	return Experiment{Model: Exercise2Spec(), Compile: Exercise2Compile(), Fit: Exercise2Fit(),
		TrainSamples: 5000, TestSamples: 1000}
}

// Exercise2Spec is exercise 2's architecture: Flatten(3072) → 4 × Dense 256 ELU with He-normal
// kernels → Dense 10 softmax; 986,634 parameters; seed 42.
func Exercise2Spec() keras.ModelSpec {
	layers := []keras.LayerSpec{keras.Flatten()}
	for range 4 {
		layers = append(layers, keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal))
	}
	layers = append(layers, keras.Dense(cifar.NumClasses, keras.Softmax))
	return keras.ModelSpec{Name: keras.DefaultModelName, InputShape: inputShape, Layers: layers, Seed: ReferenceSeed}
}

// Exercise2Compile is exercise 2's compile settings: Nadam(0.001), sparse categorical
// cross-entropy on class ids, accuracy.
func Exercise2Compile() keras.CompileConfig {
	return keras.CompileConfig{Optimizer: keras.Nadam(0.001), Loss: keras.LossSparseCategoricalCrossentropy,
		Metrics: []keras.Metric{keras.MetricAccuracy}}
}

// Exercise2Fit is exercise 2's fit settings: 50 epochs, batch 128, validation split 0.2,
// EarlyStopping(val_loss, patience 5, restore_best_weights), with epoch lines (Verbose 2).
func Exercise2Fit() keras.FitConfig {
	return keras.FitConfig{
		Epochs: 50, BatchSize: 128, ValidationSplit: 0.2, Verbose: 2,
		Callbacks: []keras.Callback{
			&keras.EarlyStopping{Monitor: "val_loss", Patience: 5, RestoreBestWeights: true},
		},
	}
}

// String describes the experiment in one line: "8 layers, seed 42 | adam(0.001) |
// categorical_crossentropy | 50 epochs of batch 32, validation split 0.2".
func (e Experiment) String() string {
	return fmt.Sprintf("%d layers, seed %d | %s(%g) | %s | %d epochs of batch %d, validation split %g",
		len(e.Model.Layers), e.Model.Seed, e.Compile.Optimizer.Name, e.Compile.Optimizer.LearningRate,
		e.Compile.Loss, e.Fit.Epochs, e.Fit.BatchSize, e.Fit.ValidationSplit)
}
