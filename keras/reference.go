package keras

import "fmt"

// ReferenceSeed is the seed of the reference models (exercise 2 uses 42; lab 3 uses it too).
const ReferenceSeed = 42

// CIFAR-10 geometry of the reference models.
var cifarInputShape = []int{32, 32, 3}

const cifarClasses = 10

// Lab3Spec is lab 3's architecture with the given hidden activation ("relu" or "tanh"):
// Flatten(32×32×3 → 3072) → Dense 512 → Dropout 0.3 → Dense 256 → Dropout 0.4 → Dense 128 →
// Dropout 0.5 → Dense 10 softmax; 1,738,890 parameters.
func Lab3Spec(activation string) ModelSpec {
	return ModelSpec{
		Name:       DefaultModelName,
		InputShape: cifarInputShape,
		Layers: []LayerSpec{
			Flatten(),
			Dense(512, activation),
			Dropout(0.3),
			Dense(256, activation),
			Dropout(0.4),
			Dense(128, activation),
			Dropout(0.5),
			Dense(cifarClasses, "softmax"),
		},
		Seed: ReferenceSeed,
	}
}

// Lab3Compile is lab 3's compile settings: Adam(0.001), categorical cross-entropy on one-hot
// labels, accuracy. The lab's variants change Loss ("sparse_categorical_crossentropy",
// "mean_squared_error") or Optimizer (SGD(0.001), Adam(0.001), RMSprop(0.001)).
func Lab3Compile() CompileConfig {
	return CompileConfig{Optimizer: Adam(0.001), Loss: LossCategoricalCrossentropy, Metrics: []string{MetricAccuracy}}
}

// Lab3Model returns lab 3's model with the given hidden activation ("relu" or "tanh"), seeded with
// ReferenceSeed and compiled with Lab3Compile.
func Lab3Model(activation string) (*Model, error) {
	if activation != "relu" && activation != "tanh" {
		return nil, fmt.Errorf("keras: Lab3Model: activation must be \"relu\" or \"tanh\", got %q", activation)
	}
	return newReference(Lab3Spec(activation), Lab3Compile())
}

// Lab3Fit is lab 3's fit settings: 50 epochs, batch 32, validation split 0.2,
// EarlyStopping(val_loss, patience 10, restore_best_weights) and
// ReduceLROnPlateau(val_loss, factor 0.5, patience 5, min_lr 1e-5), with epoch lines (Verbose 2).
func Lab3Fit() FitConfig {
	return FitConfig{
		Epochs: 50, BatchSize: 32, ValidationSplit: 0.2, Verbose: 2,
		Callbacks: []Callback{
			NewEarlyStopping("val_loss", 10, true),
			NewReduceLROnPlateau("val_loss", 0.5, 5, 1e-5),
		},
	}
}

// Exercise2Spec is exercise 2's architecture: Flatten(3072) → 4 × Dense 256 ELU with He-normal
// kernels → Dense 10 softmax; 986,634 parameters; seed 42.
func Exercise2Spec() ModelSpec {
	layers := []LayerSpec{Flatten()}
	for range 4 {
		layers = append(layers, Dense(256, "elu").WithInitializer("he_normal"))
	}
	layers = append(layers, Dense(cifarClasses, "softmax"))
	return ModelSpec{Name: DefaultModelName, InputShape: cifarInputShape, Layers: layers, Seed: ReferenceSeed}
}

// Exercise2Compile is exercise 2's compile settings: Nadam(0.001), sparse categorical
// cross-entropy on class ids, accuracy.
func Exercise2Compile() CompileConfig {
	return CompileConfig{Optimizer: Nadam(0.001), Loss: LossSparseCategoricalCrossentropy, Metrics: []string{MetricAccuracy}}
}

// Exercise2Model returns exercise 2's model, seeded with 42 and compiled with Exercise2Compile.
// The exercise trains it on the first 5,000 training images and tests on the first 1,000 test
// images; the original Keras run reported a test accuracy of 0.3850 after 15 epochs.
func Exercise2Model() (*Model, error) {
	return newReference(Exercise2Spec(), Exercise2Compile())
}

// Exercise2Fit is exercise 2's fit settings: 50 epochs, batch 128, validation split 0.2,
// EarlyStopping(val_loss, patience 5, restore_best_weights), with epoch lines (Verbose 2).
func Exercise2Fit() FitConfig {
	return FitConfig{
		Epochs: 50, BatchSize: 128, ValidationSplit: 0.2, Verbose: 2,
		Callbacks: []Callback{NewEarlyStopping("val_loss", 5, true)},
	}
}

func newReference(spec ModelSpec, compile CompileConfig) (*Model, error) {
	m, err := NewModel(spec)
	if err != nil {
		return nil, err
	}
	if err := m.Compile(compile); err != nil {
		return nil, err
	}
	return m, nil
}
