package keras

import (
	"context"
	"strings"
	"testing"
)

// TestFitInputValidation checks that bad arguments are errors naming the field, never panics.
func TestFitInputValidation(t *testing.T) {
	x, oneHot, ids := blobs(5, 50, 4, 4, 4, 2)
	badIDs := Classes([]int{0, 1, 2, 4})
	wrongShape := NewArray(x.Data, -1, 32)
	short := Array{Data: x.Data, Shape: []int{49, 4, 4, 2}}
	for _, tc := range []struct {
		name string
		loss Loss
		x    Array
		y    Labels
		cfg  FitConfig
		want string
	}{
		{"x/y length mismatch", LossCategoricalCrossentropy, x, OneHot(oneHot.OneHot[:40], 4), FitConfig{Epochs: 1, BatchSize: 8}, "y has"},
		{"sparse length mismatch", LossSparseCategoricalCrossentropy, x, Classes(ids.Classes[:10]), FitConfig{Epochs: 1, BatchSize: 8}, "y has 10 labels"},
		{"label out of range", LossSparseCategoricalCrossentropy, NewArray(x.Data[:4*32], 4, 4, 4, 2), badIDs, FitConfig{Epochs: 1, BatchSize: 8}, "y.Classes[3] is 4"},
		{"negative label", LossSparseCategoricalCrossentropy, NewArray(x.Data[:32], 1, 4, 4, 2), Classes([]int{-1}), FitConfig{Epochs: 1, BatchSize: 8}, "y.Classes[0] is -1"},
		{"wrong input shape", LossCategoricalCrossentropy, wrongShape, oneHot, FitConfig{Epochs: 1, BatchSize: 8}, "x has per-sample shape [32]"},
		{"data does not fit shape", LossCategoricalCrossentropy, short, oneHot, FitConfig{Epochs: 1, BatchSize: 8}, "x.Shape"},
		{"one-hot width", LossCategoricalCrossentropy, x, OneHot(oneHot.OneHot, 5), FitConfig{Epochs: 1, BatchSize: 8}, "y.NumClasses is 5"},
		{"one-hot for sparse loss", LossSparseCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8}, "takes class ids"},
		{"ids for categorical loss", LossCategoricalCrossentropy, x, ids, FitConfig{Epochs: 1, BatchSize: 8}, "takes one-hot labels"},
		{"zero batch", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 0}, "BatchSize"},
		{"negative batch", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: -3}, "BatchSize"},
		{"zero epochs", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 0, BatchSize: 8}, "Epochs"},
		{"split 1", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, ValidationSplit: 1}, "ValidationSplit"},
		{"negative split", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, ValidationSplit: -0.1}, "ValidationSplit"},
		{"split leaves no validation", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, ValidationSplit: 1e-17}, "leaves 50 for training and 0 for validation"},
		{"split leaves no training", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, ValidationSplit: 0.99}, "leaves 0 for training and 50 for validation"},
		{"bad validation data", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, ValidationData: &Dataset{X: wrongShape, Y: oneHot}}, "ValidationData.X"},
		{"verbose", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, Verbose: 3}, "Verbose"},
		{"nil callback", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, Callbacks: []Callback{nil}}, "Callbacks[0]"},
		{"bad callback setting", LossCategoricalCrossentropy, x, oneHot, FitConfig{Epochs: 1, BatchSize: 8, Callbacks: []Callback{NewReduceLROnPlateau("val_loss", 2, 1, 0)}}, "ReduceLROnPlateau.Factor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := smallModel(t, 1, tc.loss, Adam(0.01))
			_, err := m.Fit(context.Background(), tc.x, tc.y, tc.cfg)
			if err == nil || !containsAll(err.Error(), "keras: ", tc.want) {
				t.Fatalf("Fit error = %v, want one containing %q", err, tc.want)
			}
		})
	}

	m := smallModel(t, 1, LossCategoricalCrossentropy, Adam(0.01))
	if _, _, err := m.Evaluate(x, oneHot, 0); err == nil || !strings.Contains(err.Error(), "batchSize") {
		t.Errorf("Evaluate with batch 0: %v", err)
	}
	if _, err := m.Predict(wrongShape, 8); err == nil || !strings.Contains(err.Error(), "per-sample shape") {
		t.Errorf("Predict with a wrong shape: %v", err)
	}
	uncompiled, err := Sequential([]int{4}, Dense(2, "softmax"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uncompiled.Fit(context.Background(), NewArray(make([]float32, 8), 2, 4), OneHot(make([]float32, 4), 2), FitConfig{Epochs: 1, BatchSize: 1}); err == nil || !strings.Contains(err.Error(), "Compile") {
		t.Errorf("Fit before Compile: %v", err)
	}
}

// TestModelSpecValidation checks errors for bad architectures.
func TestModelSpecValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  []int
		layers []LayerSpec
		want   string
	}{
		{"no input", nil, []LayerSpec{Dense(2, "softmax")}, "InputShape"},
		{"zero input", []int{0, 3}, []LayerSpec{Flatten(), Dense(2, "softmax")}, "InputShape[0]"},
		{"no layers", []int{3}, nil, "Layers"},
		{"unknown activation", []int{3}, []LayerSpec{Dense(2, "swish")}, `layers[0] (Dense): Activation: unknown activation "swish"`},
		{"unknown initializer", []int{3}, []LayerSpec{Dense(2, "relu").WithInitializer("lecun")}, `KernelInitializer: unknown initializer "lecun"`},
		{"zero units", []int{3}, []LayerSpec{Dense(0, "relu")}, "Units"},
		{"dropout rate", []int{3}, []LayerSpec{Dropout(1), Dense(2, "softmax")}, "layers[0] (Dropout): Rate"},
		{"dense on images", []int{4, 4}, []LayerSpec{Dense(2, "softmax")}, "add keras.Flatten()"},
		{"unknown layer", []int{3}, []LayerSpec{{Type: "Conv3D"}}, `unknown layer type "Conv3D" (want one of Flatten, Dense`},
		{"duplicate names", []int{3}, []LayerSpec{Dense(2, "relu").Named("a"), Dense(2, "softmax").Named("a")}, `"a" is used twice`},
		{"bad activation layer", []int{3}, []LayerSpec{Dense(2, ""), ActivationLayer("gelu")}, "layers[1] (Activation)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sequential(tc.input, tc.layers...)
			if err == nil || !containsAll(err.Error(), "keras: ", tc.want) {
				t.Fatalf("Sequential error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
