package keras

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// Compile's checks of FromLogits: the cross-entropies only, and not on a softmax output.
func TestFromLogitsCompileErrors(t *testing.T) {
	adam := Adam(1e-3)
	for _, tc := range []struct {
		name   string
		layers []LayerSpec
		loss   Loss
		want   []string // nil: Compile succeeds
	}{
		{"linear output", []LayerSpec{Flatten(), Dense(10, Linear)}, LossSparseCategoricalCrossentropy, nil},
		{"no activation given", []LayerSpec{Flatten(), Dense(10, "")}, LossCategoricalCrossentropy, nil},
		{"sigmoid output (Keras does not warn)", []LayerSpec{Flatten(), Dense(10, Sigmoid)}, LossSparseCategoricalCrossentropy, nil},
		{"softmax output", []LayerSpec{Flatten(), Dense(10, Softmax)}, LossSparseCategoricalCrossentropy,
			[]string{"FromLogits", `layers[1] (Dense "dense")`, "softmax", "keras.Dense(10, keras.Linear)"}},
		{"softmax activation layer", []LayerSpec{Flatten(), Dense(10, Linear), ActivationLayer(Softmax)}, LossCategoricalCrossentropy,
			[]string{`layers[2] (Activation "activation")`, "not logits"}},
		{"softmax then dropout", []LayerSpec{Flatten(), Dense(10, Softmax), Dropout(0.2)}, LossSparseCategoricalCrossentropy,
			[]string{`layers[1] (Dense`, "applies a softmax"}},
		{"mean squared error", []LayerSpec{Flatten(), Dense(10, Linear)}, LossMeanSquaredError,
			[]string{"FromLogits applies to the cross-entropy losses, not mean_squared_error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Sequential([]int{4, 4, 3}, tc.layers...)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Compile(CompileConfig{Optimizer: adam, Loss: tc.loss, FromLogits: true})
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("Compile: %v", err)
			case tc.want != nil && (err == nil || !containsAll(err.Error(), tc.want...)):
				t.Errorf("Compile: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// A model ending in Dense(10) compiled with FromLogits trains as the same model ending in
// Dense(10, softmax) without it (Keras computes both cross-entropies from the logits): the same
// losses and accuracies, epoch by epoch; its Predict returns the logits, whose softmax is the other
// model's Predict.
func TestFromLogitsTrainsAsSoftmax(t *testing.T) {
	x, ids := cnnImages(48)
	for _, loss := range []Loss{LossSparseCategoricalCrossentropy, LossCategoricalCrossentropy} {
		t.Run(string(loss), func(t *testing.T) {
			y := ids
			if loss == LossCategoricalCrossentropy {
				oneHot, err := ids.ToOneHot(4)
				if err != nil {
					t.Fatal(err)
				}
				y = oneHot
			}
			build := func(activation Activation, fromLogits bool) *Model {
				m, err := NewModel(ModelSpec{InputShape: []int{12, 12, 3}, Seed: 5, Layers: []LayerSpec{
					Conv2D(4, 3, ReLU), MaxPooling2D(2), Flatten(), Dense(4, activation)}})
				if err != nil {
					t.Fatal(err)
				}
				m.SetOutput(nil)
				t.Cleanup(m.dropEngine)
				if err := m.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: loss, FromLogits: fromLogits, Metrics: []Metric{MetricAccuracy}}); err != nil {
					t.Fatal(err)
				}
				return m
			}
			logits, softmax := build(Linear, true), build(Softmax, false)
			hl, err := logits.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 16})
			if err != nil {
				t.Fatal(err)
			}
			hs, err := softmax.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 16})
			if err != nil {
				t.Fatal(err)
			}
			for i := range hl.Epochs {
				a, b := hl.Epochs[i], hs.Epochs[i]
				if math.Abs(a.Loss-b.Loss) > 1e-5*b.Loss || a.Accuracy != b.Accuracy {
					t.Errorf("epoch %d: from logits loss %.7g accuracy %g, softmax output loss %.7g accuracy %g", i+1, a.Loss, a.Accuracy, b.Loss, b.Accuracy)
				}
			}
			pl, err := logits.Predict(x, 16)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := softmax.Predict(x, 16)
			if err != nil {
				t.Fatal(err)
			}
			var maxDiff float64
			outsideUnit := false
			for i := 0; i < len(pl.Data); i += 4 {
				row := pl.Data[i : i+4]
				var sum float64
				for _, v := range row {
					sum += math.Exp(float64(v))
					outsideUnit = outsideUnit || v < 0 || v > 1
				}
				for j, v := range row {
					maxDiff = max(maxDiff, math.Abs(math.Exp(float64(v))/sum-float64(ps.Data[i+j])))
				}
			}
			if maxDiff > 1e-5 || !outsideUnit {
				t.Errorf("Predict from logits: softmax within %.2g of the softmax model's (values outside [0, 1]: %v), want logits", maxDiff, outsideUnit)
			}
			ll, la, err := logits.Evaluate(x, y, 16)
			if err != nil {
				t.Fatal(err)
			}
			sl, sa, err := softmax.Evaluate(x, y, 16)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(ll-sl) > 1e-5*sl || la != sa {
				t.Errorf("Evaluate: from logits %g, %g; softmax output %g, %g", ll, la, sl, sa)
			}
		})
	}
}

// FromLogits is in the compile settings' JSON only when set (the memoized runs of the labs keep
// their keys), and Save/Load keeps it.
func TestFromLogitsSaved(t *testing.T) {
	plain, err := json.Marshal(CompileConfig{Optimizer: Adam(1e-3), Loss: LossSparseCategoricalCrossentropy})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "logits") {
		t.Errorf("compile JSON without FromLogits: %s", plain)
	}
	m, err := Sequential([]int{4}, Dense(3, Linear))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileConfig{Optimizer: Adam(1e-3), Loss: LossSparseCategoricalCrossentropy, FromLogits: true}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(back.dropEngine)
	if cfg, ok := back.CompileConfig(); !ok || !cfg.FromLogits {
		t.Errorf("loaded compile settings %+v (compiled %v), want FromLogits", cfg, ok)
	}
}
