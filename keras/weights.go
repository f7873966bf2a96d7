package keras

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// LayerWeights are the weights of one layer as plain Go values: a Dense or Conv2D layer's in Kernel
// and Bias, any other layer's in Others.
type LayerWeights struct {
	Name string `json:"name"`
	// Kernel is row-major in KernelShape, Keras's: Dense [inputs, units], Conv2D [height, width,
	// input channels, filters].
	Kernel      []float32 `json:"-"`
	KernelShape []int     `json:"kernel_shape"`
	Bias        []float32 `json:"-"` // one per unit (filter)
	// Others are the weights of a layer that is neither Dense nor Conv2D, by Keras's names and in
	// Keras's order: BatchNormalization's gamma, beta, moving_mean and moving_variance. Nil for a
	// Dense or Conv2D layer.
	Others []Weight `json:"-"`
}

// Weight is one named weight tensor of a layer.
type Weight struct {
	Name   string    // Keras's name, e.g. "moving_mean"
	Shape  []int     // e.g. [256]
	Values []float32 // row-major
}

// Weights returns a copy of the weights of every layer that has some (Dense, Conv2D, BatchNormalization),
// in order, like model.get_weights() (which also lists the moving statistics).
func (m *Model) Weights() ([]LayerWeights, error) {
	out := make([]LayerWeights, 0, len(m.weights))
	for _, lv := range m.weights {
		if !lv.isDense() {
			lw := LayerWeights{Name: lv.name}
			for _, v := range lv.all() {
				values, err := variableData(v)
				if err != nil {
					return nil, fmt.Errorf("keras: reading %s %s: %w", lv.name, v.Name(), err)
				}
				lw.Others = append(lw.Others, Weight{Name: v.Name(), Shape: v.Shape().Dimensions, Values: values})
			}
			out = append(out, lw)
			continue
		}
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

// all lists the variables of a layer in Keras's order (the trainable ones first).
func (lv *layerVars) all() []*model.Variable {
	return append([]*model.Variable{lv.kernel, lv.bias}, lv.stats...)
}

// SetWeights replaces the weights of every layer that has some (like model.set_weights()); the
// slice must come from Weights of a model with the same architecture. The values are copied.
func (m *Model) SetWeights(weights []LayerWeights) error {
	if len(weights) != len(m.weights) {
		return fmt.Errorf("keras: SetWeights: got weights for %d layers, the model has %d layers with weights", len(weights), len(m.weights))
	}
	for i, lv := range m.weights {
		w := weights[i]
		if !lv.isDense() {
			vars := lv.all()
			if len(w.Others) != len(vars) {
				return fmt.Errorf("keras: SetWeights: weights[%d] (%s) has %d tensors, layer %s needs %d (%s)",
					i, w.Name, len(w.Others), lv.name, len(vars), weightNames(vars))
			}
			for j, v := range vars {
				o := w.Others[j]
				if o.Name != v.Name() || !slices.Equal(o.Shape, v.Shape().Dimensions) || len(o.Values) != v.Shape().Size() {
					return fmt.Errorf("keras: SetWeights: weights[%d] (%s) tensor %d is %q of shape %v with %d values, layer %s needs %q of shape %v",
						i, w.Name, j, o.Name, o.Shape, len(o.Values), lv.name, v.Name(), v.Shape().Dimensions)
				}
			}
			continue
		}
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
		if !lv.isDense() {
			for j, v := range lv.all() {
				if err := setVariable(v, weights[i].Others[j].Values); err != nil {
					return fmt.Errorf("keras: SetWeights: %s %s: %w", lv.name, v.Name(), err)
				}
			}
			continue
		}
		if err := setVariable(lv.kernel, weights[i].Kernel); err != nil {
			return fmt.Errorf("keras: SetWeights: %s kernel: %w", lv.name, err)
		}
		if err := setVariable(lv.bias, weights[i].Bias); err != nil {
			return fmt.Errorf("keras: SetWeights: %s bias: %w", lv.name, err)
		}
	}
	return nil
}

// weightNames lists variables' names for messages.
func weightNames(vars []*model.Variable) string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name()
	}
	return strings.Join(names, ", ")
}

// CountParams returns the number of weights, trainable or not, like Keras's model.count_params()
// (the "Total params" of Summary).
func (m *Model) CountParams() int {
	n := 0
	in := m.spec.InputShape
	for i, l := range m.spec.Layers {
		trainable, nonTrainable := l.paramCounts(in)
		n += trainable + nonTrainable
		in = m.shapes[i]
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
