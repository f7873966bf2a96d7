package keras

import (
	"fmt"
	"strings"
)

// LayerType names a kind of layer as Keras names its class (it appears in Summary and in saved
// specs).
type LayerType string

// Layer types.
const (
	LayerFlatten    LayerType = "Flatten"
	LayerDense      LayerType = "Dense"
	LayerDropout    LayerType = "Dropout"
	LayerActivation LayerType = "Activation"
)

// LayerSpec describes one layer of a Sequential model. Build it with [Flatten], [Dense], [Dropout]
// or [ActivationLayer]; it is plain data (saved as JSON with the model).
type LayerSpec struct {
	Type              LayerType   `json:"type"`
	Name              string      `json:"name,omitempty"`
	Units             int         `json:"units,omitempty"`
	Activation        Activation  `json:"activation,omitempty"`
	KernelInitializer Initializer `json:"kernel_initializer,omitempty"`
	BiasInitializer   Initializer `json:"bias_initializer,omitempty"`
	Rate              float64     `json:"rate,omitempty"`
}

// Flatten reshapes each sample to one axis, like keras.layers.Flatten.
func Flatten() LayerSpec { return LayerSpec{Type: LayerFlatten} }

// Dense is a fully connected layer with the given activation ([ReLU], [Tanh], [ELU], [Sigmoid],
// [Softmax], [Linear] or "" for linear), a Glorot-uniform kernel and zero biases, like
// keras.layers.Dense(units, activation=activation). Use WithInitializer for another kernel
// initializer.
func Dense(units int, activation Activation) LayerSpec {
	return LayerSpec{Type: LayerDense, Units: units, Activation: activation,
		KernelInitializer: GlorotUniform, BiasInitializer: Zeros}
}

// Dropout zeroes a fraction rate of its inputs during training (scaling the others by 1/(1-rate))
// and does nothing in inference, like keras.layers.Dropout(rate).
func Dropout(rate float64) LayerSpec { return LayerSpec{Type: LayerDropout, Rate: rate} }

// ActivationLayer applies an activation function, like keras.layers.Activation(a).
func ActivationLayer(a Activation) LayerSpec { return LayerSpec{Type: LayerActivation, Activation: a} }

// WithInitializer returns a copy of a Dense spec with another kernel initializer, e.g. [HeNormal].
func (l LayerSpec) WithInitializer(kernelInitializer Initializer) LayerSpec {
	l.KernelInitializer = kernelInitializer
	return l
}

// Named returns a copy of the spec with an explicit layer name (Keras names layers "dense",
// "dense_1", ... otherwise).
func (l LayerSpec) Named(name string) LayerSpec {
	l.Name = name
	return l
}

// paramSpec describes one weight tensor of a layer.
type paramSpec struct {
	name        string // "kernel" or "bias"
	shape       []int
	initializer Initializer
}

// params lists the weights of a layer given its (per-sample) input shape.
func (l LayerSpec) params(in []int) []paramSpec {
	if l.Type != LayerDense {
		return nil
	}
	return []paramSpec{
		{name: "kernel", shape: []int{in[len(in)-1], l.Units}, initializer: l.KernelInitializer},
		{name: "bias", shape: []int{l.Units}, initializer: l.BiasInitializer},
	}
}

// outputShape infers the per-sample output shape from the input shape.
func (l LayerSpec) outputShape(in []int) []int {
	switch l.Type {
	case LayerFlatten:
		return []int{product(in)}
	case LayerDense:
		return []int{l.Units}
	default:
		return append([]int(nil), in...)
	}
}

// check validates the spec of the layer at index i given its input shape; the error names the
// offending field.
func (l LayerSpec) check(i int, in []int) error {
	field := fmt.Sprintf("layers[%d] (%s)", i, l.Type)
	switch l.Type {
	case LayerFlatten:
	case LayerDense:
		if l.Units <= 0 {
			return fmt.Errorf("keras: %s: Units must be > 0, got %d", field, l.Units)
		}
		if len(in) != 1 {
			return fmt.Errorf("keras: %s: Dense needs a flat input but gets per-sample shape %v; add keras.Flatten() before it", field, in)
		}
		if _, err := activationFor(l.Activation); err != nil {
			return fmt.Errorf("keras: %s: Activation: %w", field, err)
		}
		if err := checkInitializer(l.KernelInitializer); err != nil {
			return fmt.Errorf("keras: %s: KernelInitializer: %w", field, err)
		}
		if err := checkInitializer(l.BiasInitializer); err != nil {
			return fmt.Errorf("keras: %s: BiasInitializer: %w", field, err)
		}
	case LayerDropout:
		if !(l.Rate >= 0 && l.Rate < 1) {
			return fmt.Errorf("keras: %s: Rate must be in [0, 1), got %g", field, l.Rate)
		}
	case LayerActivation:
		if _, err := activationFor(l.Activation); err != nil {
			return fmt.Errorf("keras: %s: Activation: %w", field, err)
		}
	default:
		return fmt.Errorf("keras: %s: unknown layer type %q (want %s, %s, %s or %s)", field, l.Type,
			LayerFlatten, LayerDense, LayerDropout, LayerActivation)
	}
	if l.Name != "" && strings.ContainsAny(l.Name, "/\\ \t\n") {
		return fmt.Errorf("keras: %s: Name %q must not contain slashes or spaces", field, l.Name)
	}
	return nil
}

// defaultBaseName is the Keras base name of a layer type ("dense" for Dense).
func defaultBaseName(t LayerType) string { return strings.ToLower(string(t)) }

// nameLayers fills in missing layer names the way Keras does ("dense", "dense_1", ...) and checks
// that names are unique.
func nameLayers(layers []LayerSpec) ([]LayerSpec, error) {
	out := append([]LayerSpec(nil), layers...)
	used := map[string]bool{}
	for _, l := range out {
		if l.Name != "" {
			if used[l.Name] {
				return nil, fmt.Errorf("keras: layer name %q is used twice", l.Name)
			}
			used[l.Name] = true
		}
	}
	counts := map[string]int{}
	for i := range out {
		if out[i].Name != "" {
			continue
		}
		base := defaultBaseName(out[i].Type)
		for {
			name := base
			if n := counts[base]; n > 0 {
				name = fmt.Sprintf("%s_%d", base, n)
			}
			counts[base]++
			if !used[name] {
				out[i].Name = name
				used[name] = true
				break
			}
		}
	}
	return out, nil
}
