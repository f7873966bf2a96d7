package keras

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// LayerWeights are the weights of one Dense layer as plain Go values.
type LayerWeights struct {
	Name        string    `json:"name"`
	Kernel      []float32 `json:"-"` // row-major [KernelShape[0] inputs, KernelShape[1] units]
	KernelShape []int     `json:"kernel_shape"`
	Bias        []float32 `json:"-"` // one per unit
}

// Weights returns a copy of the weights of every Dense layer, in order (like model.get_weights()).
func (m *Model) Weights() ([]LayerWeights, error) {
	out := make([]LayerWeights, 0, len(m.weights))
	for _, lv := range m.weights {
		kernel, err := variableData(lv.kernel)
		if err != nil {
			return nil, fmt.Errorf("keras: reading %s kernel: %w", lv.name, err)
		}
		bias, err := variableData(lv.bias)
		if err != nil {
			return nil, fmt.Errorf("keras: reading %s bias: %w", lv.name, err)
		}
		out = append(out, LayerWeights{Name: lv.name, Kernel: kernel, KernelShape: lv.kernel.Shape().Dimensions, Bias: bias})
	}
	return out, nil
}

// SetWeights replaces the weights of every Dense layer (like model.set_weights()); the slice must
// come from Weights of a model with the same architecture. The values are copied.
func (m *Model) SetWeights(weights []LayerWeights) error {
	if len(weights) != len(m.weights) {
		return fmt.Errorf("keras: SetWeights: got weights for %d layers, the model has %d Dense layers", len(weights), len(m.weights))
	}
	for i, lv := range m.weights {
		w := weights[i]
		wantKernel := lv.kernel.Shape().Dimensions
		if !slices.Equal(w.KernelShape, wantKernel) || len(w.Kernel) != product(wantKernel) {
			return fmt.Errorf("keras: SetWeights: weights[%d] (%s) kernel has shape %v and %d values, layer %s needs %v",
				i, w.Name, w.KernelShape, len(w.Kernel), lv.name, wantKernel)
		}
		if len(w.Bias) != lv.bias.Shape().Size() {
			return fmt.Errorf("keras: SetWeights: weights[%d] (%s) has %d biases, layer %s needs %d",
				i, w.Name, len(w.Bias), lv.name, lv.bias.Shape().Size())
		}
	}
	for i, lv := range m.weights {
		if err := setVariable(lv.kernel, weights[i].Kernel); err != nil {
			return fmt.Errorf("keras: SetWeights: %s kernel: %w", lv.name, err)
		}
		if err := setVariable(lv.bias, weights[i].Bias); err != nil {
			return fmt.Errorf("keras: SetWeights: %s bias: %w", lv.name, err)
		}
	}
	return nil
}

// CountParams returns the number of weights (all trainable: Keras's "Total params" and
// "Trainable params" for these layers).
func (m *Model) CountParams() int {
	n := 0
	for _, lv := range m.weights {
		n += lv.kernel.Shape().Size() + lv.bias.Shape().Size()
	}
	return n
}

// variableData copies a float32 variable's value to the host.
func variableData(v *model.Variable) ([]float32, error) {
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	return tensors.CopyFlatData[float32](t)
}

// setVariable replaces a float32 variable's value with a copy of data (the size was checked).
func setVariable(v *model.Variable, data []float32) error {
	return v.SetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
}
