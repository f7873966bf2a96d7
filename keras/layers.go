package keras

import (
	"fmt"
	"math"
	"regexp"
	"slices"
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

	LayerBatchNormalization LayerType = "BatchNormalization"
	LayerAlphaDropout       LayerType = "AlphaDropout"
	LayerNormalization      LayerType = "Normalization"

	LayerConv2D                 LayerType = "Conv2D"
	LayerMaxPooling2D           LayerType = "MaxPooling2D"
	LayerAveragePooling2D       LayerType = "AveragePooling2D"
	LayerGlobalAveragePooling2D LayerType = "GlobalAveragePooling2D"

	LayerRandomFlip        LayerType = "RandomFlip"
	LayerRandomTranslation LayerType = "RandomTranslation"
	LayerRandomRotation    LayerType = "RandomRotation"
)

// layerTypes are the known layer types, in the order errors list them.
var layerTypes = []LayerType{LayerFlatten, LayerDense, LayerDropout, LayerActivation, LayerBatchNormalization,
	LayerAlphaDropout, LayerNormalization, LayerConv2D, LayerMaxPooling2D, LayerAveragePooling2D, LayerGlobalAveragePooling2D,
	LayerRandomFlip, LayerRandomTranslation, LayerRandomRotation}

// LayerSpec describes one layer of a Sequential model. Build it with [Flatten], [Dense], [Dropout],
// [ActivationLayer], [BatchNormalization], [AlphaDropout], [Normalization], [Conv2D],
// [MaxPooling2D], [AveragePooling2D], [GlobalAveragePooling2D], [RandomFlip], [RandomTranslation]
// or [RandomRotation]; it is plain data (saved as JSON
// with the model, and part of a memoized run's key).
type LayerSpec struct {
	Type              LayerType   `json:"type"`
	Name              string      `json:"name,omitempty"`
	Units             int         `json:"units,omitempty"`
	Activation        Activation  `json:"activation,omitempty"`
	KernelInitializer Initializer `json:"kernel_initializer,omitempty"`
	BiasInitializer   Initializer `json:"bias_initializer,omitempty"`
	Rate              float64     `json:"rate,omitempty"`     // Dropout, AlphaDropout
	Momentum          float64     `json:"momentum,omitempty"` // BatchNormalization
	Epsilon           float64     `json:"epsilon,omitempty"`  // BatchNormalization
	// Mean and Variance are a Normalization layer's per-feature statistics (see Adapt).
	Mean     []float32 `json:"mean,omitempty"`
	Variance []float32 `json:"variance,omitempty"`

	Filters    int     `json:"filters,omitempty"`     // Conv2D
	KernelSize []int   `json:"kernel_size,omitempty"` // Conv2D: [height, width]
	PoolSize   []int   `json:"pool_size,omitempty"`   // MaxPooling2D, AveragePooling2D: [height, width]
	Strides    []int   `json:"strides,omitempty"`     // Conv2D (default [1, 1]), pooling (default PoolSize)
	Padding    Padding `json:"padding,omitempty"`     // Conv2D, pooling (default Valid)
	// KernelRegularizer is the penalty on a Dense or Conv2D kernel added to the loss.
	KernelRegularizer Regularizer `json:"kernel_regularizer,omitzero"`

	Mode         FlipMode `json:"mode,omitempty"`          // RandomFlip
	HeightFactor float64  `json:"height_factor,omitempty"` // RandomTranslation
	WidthFactor  float64  `json:"width_factor,omitempty"`  // RandomTranslation
	Factor       float64  `json:"factor,omitempty"`        // RandomRotation
}

// Flatten reshapes each sample to one axis, like keras.layers.Flatten.
func Flatten() LayerSpec { return LayerSpec{Type: LayerFlatten} }

// Dense is a fully connected layer with the given activation ([ReLU], [Tanh], [ELU], [Sigmoid],
// [Softmax], [Linear] or "" for linear), a Glorot-uniform kernel and zero biases, like
// keras.layers.Dense(units, activation=activation). Use WithInitializer for another kernel
// initializer and WithKernelRegularizer for a weight penalty. As in Keras, on an input of more
// than one axis (e.g. a Conv2D's [height, width, channels]) it applies to the last axis, for every
// position of the others: [8, 8, 64] becomes [8, 8, units]; put Flatten before it to connect
// every value.
func Dense(units int, activation Activation) LayerSpec {
	return LayerSpec{Type: LayerDense, Units: units, Activation: activation,
		KernelInitializer: GlorotUniform, BiasInitializer: Zeros}
}

// Dropout zeroes a fraction rate of its inputs during training (scaling the others by 1/(1-rate))
// and does nothing in inference, like keras.layers.Dropout(rate).
func Dropout(rate float64) LayerSpec { return LayerSpec{Type: LayerDropout, Rate: rate} }

// AlphaDropout keeps the mean and variance of its inputs while dropping a fraction rate of them
// during training (for SELU networks), and does nothing in inference, like
// keras.layers.AlphaDropout(rate): a dropped value becomes α' = −1.7580993408473766 (−scale·alpha
// of SELU), then every value x becomes a·x + b with a = ((1−rate)(1 + rate·α'²))^−½ and
// b = −a·α'·rate.
func AlphaDropout(rate float64) LayerSpec { return LayerSpec{Type: LayerAlphaDropout, Rate: rate} }

// BatchNormalization normalizes each feature (the last axis: on a Conv2D's [height, width,
// channels] output, each channel, with statistics over the batch, height and width) with Keras 3's
// defaults (keras.layers.BatchNormalization()): in training, by the batch's mean and biased variance,
// updating moving_mean = momentum·moving_mean + (1−momentum)·batch mean (the same for the
// variance); in inference, by the moving statistics. Then y = gamma·(x−mean)/√(variance+epsilon) +
// beta. Momentum 0.99, epsilon 0.001; gamma and the moving variance start at ones, beta and the
// moving mean at zeros. Gamma and beta are trained; the moving statistics are weights that Save
// keeps but the optimizer never updates.
func BatchNormalization() LayerSpec {
	return LayerSpec{Type: LayerBatchNormalization, Momentum: 0.99, Epsilon: 1e-3}
}

// WithMomentum returns a copy of a BatchNormalization spec with another momentum (Keras's
// momentum=).
func (l LayerSpec) WithMomentum(momentum float64) LayerSpec {
	l.Momentum = momentum
	return l
}

// WithEpsilon returns a copy of a BatchNormalization spec with another epsilon (Keras's epsilon=).
func (l LayerSpec) WithEpsilon(epsilon float64) LayerSpec {
	l.Epsilon = epsilon
	return l
}

// Normalization standardizes each feature (the last axis) to (x − mean)/max(√variance, 1e-7), like
// keras.layers.Normalization(); it must be adapted to the training data first:
//
//	norm, err := keras.Normalization().Adapt(xTrain)
//
// (Keras: norm = Normalization(); norm.adapt(x_train)). The statistics are part of the spec.
func Normalization() LayerSpec { return LayerSpec{Type: LayerNormalization} }

// Adapt returns a copy of a Normalization spec holding the mean and (biased) variance of every
// feature of x over all its other axes, like Keras's norm.adapt(x): for images [N, 32, 32, 3],
// one mean and variance per color channel. The statistics are computed in float64.
func (l LayerSpec) Adapt(x Array) (LayerSpec, error) {
	if l.Type != LayerNormalization {
		return l, errorf("Adapt: a %s layer has nothing to adapt (use it on keras.Normalization())", l.Type)
	}
	if err := x.validate("Adapt: x"); err != nil {
		return l, err
	}
	shape := x.SampleShape()
	if x.Len() == 0 || len(shape) == 0 {
		return l, errorf("Adapt: x has shape %v; it needs at least one sample with a feature axis", x.Shape)
	}
	l.Mean, l.Variance = arrayMoments(x, shape[len(shape)-1])
	return l, nil
}

// arrayMoments returns the mean and biased variance of every feature (the last axis) of x,
// accumulated in float64 in two passes over chunks of rows (a pixel Array is never converted whole).
func arrayMoments(x Array, features int) (mean, variance []float32) {
	const chunkRows = 1024
	buf := make([]float32, min(x.Len(), chunkRows)*x.SampleSize())
	pass := func(fn func(v float32, j int)) {
		for start := 0; start < x.Len(); start += chunkRows {
			n := min(chunkRows, x.Len()-start)
			x.copyRows(buf, start, n)
			for i, v := range buf[:n*x.SampleSize()] {
				fn(v, i%features)
			}
		}
	}
	sum := make([]float64, features)
	pass(func(v float32, j int) { sum[j] += float64(v) })
	count := float64(x.Len() * x.SampleSize() / features)
	for j := range sum {
		sum[j] /= count
	}
	sq := make([]float64, features)
	pass(func(v float32, j int) { d := float64(v) - sum[j]; sq[j] += d * d })
	mean, variance = make([]float32, features), make([]float32, features)
	for j := range sum {
		mean[j], variance[j] = float32(sum[j]), float32(sq[j]/count)
	}
	return mean, variance
}

// featureMoments is arrayMoments of flat rows of features values.
func featureMoments(data []float32, features int) (mean, variance []float32) {
	return arrayMoments(NewArray(data, -1, features), features)
}

// ActivationLayer applies an activation function, like keras.layers.Activation(a).
func ActivationLayer(a Activation) LayerSpec { return LayerSpec{Type: LayerActivation, Activation: a} }

// WithInitializer returns a copy of a Dense or Conv2D spec with another kernel initializer, e.g.
// [HeNormal] (Keras's kernel_initializer=).
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
	name        string // Keras's name: "kernel", "bias", "gamma", "moving_mean", ...
	shape       []int
	initializer Initializer
	trainable   bool
}

// params lists the weights of a layer given its (per-sample) input shape, in Keras's order; the
// trainable ones come first.
func (l LayerSpec) params(in []int) []paramSpec {
	switch l.Type {
	case LayerDense:
		return []paramSpec{
			{name: "kernel", shape: []int{in[len(in)-1], l.Units}, initializer: l.KernelInitializer, trainable: true},
			{name: "bias", shape: []int{l.Units}, initializer: l.BiasInitializer, trainable: true},
		}
	case LayerConv2D:
		return []paramSpec{
			{name: "kernel", shape: []int{l.KernelSize[0], l.KernelSize[1], in[len(in)-1], l.Filters}, initializer: l.KernelInitializer, trainable: true},
			{name: "bias", shape: []int{l.Filters}, initializer: l.BiasInitializer, trainable: true},
		}
	case LayerBatchNormalization:
		c := []int{in[len(in)-1]}
		return []paramSpec{
			{name: "gamma", shape: c, initializer: Ones, trainable: true},
			{name: "beta", shape: c, initializer: Zeros, trainable: true},
			{name: "moving_mean", shape: c, initializer: Zeros},
			{name: "moving_variance", shape: c, initializer: Ones},
		}
	}
	return nil
}

// paramCounts returns the numbers of trainable and non-trainable values of a layer as Keras's
// summary counts them: an adapted Normalization holds its mean, variance and sample count (kept
// here in the spec rather than as weights).
func (l LayerSpec) paramCounts(in []int) (trainable, nonTrainable int) {
	if l.Type == LayerNormalization {
		return 0, 2*in[len(in)-1] + 1
	}
	for _, p := range l.params(in) {
		if p.trainable {
			trainable += product(p.shape)
		} else {
			nonTrainable += product(p.shape)
		}
	}
	return trainable, nonTrainable
}

// outputShape infers the per-sample output shape from the input shape.
func (l LayerSpec) outputShape(in []int) []int {
	switch l.Type {
	case LayerFlatten:
		return []int{product(in)}
	case LayerDense:
		return append(slices.Clone(in[:len(in)-1]), l.Units)
	case LayerConv2D, LayerMaxPooling2D, LayerAveragePooling2D:
		window := l.window()
		return []int{windowOutput(in[0], window[0], l.Strides[0], l.Padding), windowOutput(in[1], window[1], l.Strides[1], l.Padding), l.outputChannels(in)}
	case LayerGlobalAveragePooling2D:
		return []int{in[len(in)-1]}
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
		if err := l.checkWeighted(field); err != nil {
			return err
		}
	case LayerConv2D, LayerMaxPooling2D, LayerAveragePooling2D, LayerGlobalAveragePooling2D:
		if err := l.check2D(field, in); err != nil {
			return err
		}
	case LayerRandomFlip, LayerRandomTranslation, LayerRandomRotation:
		if err := l.checkAugmentation(field, in); err != nil {
			return err
		}
	case LayerDropout, LayerAlphaDropout:
		if !(l.Rate >= 0 && l.Rate < 1) {
			return fmt.Errorf("keras: %s: Rate must be in [0, 1), got %g", field, l.Rate)
		}
	case LayerBatchNormalization:
		if len(in) == 0 || in[len(in)-1] <= 0 {
			return fmt.Errorf("keras: %s: needs an input with a feature axis, gets per-sample shape %v", field, in)
		}
		if !(l.Momentum >= 0 && l.Momentum <= 1) {
			return fmt.Errorf("keras: %s: Momentum must be in [0, 1], got %g", field, l.Momentum)
		}
		if !(l.Epsilon > 0) {
			return fmt.Errorf("keras: %s: Epsilon must be > 0, got %g (keras.BatchNormalization() sets 0.001)", field, l.Epsilon)
		}
	case LayerNormalization:
		if l.Mean == nil && l.Variance == nil {
			return fmt.Errorf("keras: %s: not adapted; use norm, err := keras.Normalization().Adapt(xTrain) and put norm in the model", field)
		}
		features := in[len(in)-1]
		if len(l.Mean) != features || len(l.Variance) != features {
			return fmt.Errorf("keras: %s: has %d means and %d variances for per-sample shape %v; adapt it to data of that shape (%d features on the last axis)",
				field, len(l.Mean), len(l.Variance), in, features)
		}
		for j, v := range l.Variance {
			if !(v >= 0) || math.IsInf(float64(v), 0) || math.IsNaN(float64(l.Mean[j])) || math.IsInf(float64(l.Mean[j]), 0) {
				return fmt.Errorf("keras: %s: feature %d has mean %g and variance %g; adapt it to finite data", field, j, l.Mean[j], v)
			}
		}
	case LayerActivation:
		if _, err := activationFor(l.Activation); err != nil {
			return fmt.Errorf("keras: %s: Activation: %w", field, err)
		}
	default:
		names := make([]string, len(layerTypes))
		for i, t := range layerTypes {
			names[i] = string(t)
		}
		return fmt.Errorf("keras: %s: unknown layer type %q (want one of %s)", field, l.Type, strings.Join(names, ", "))
	}
	if l.Mode != "" && l.Type != LayerRandomFlip {
		return fmt.Errorf("keras: %s: Mode applies to RandomFlip only", field)
	}
	if (l.HeightFactor != 0 || l.WidthFactor != 0) && l.Type != LayerRandomTranslation {
		return fmt.Errorf("keras: %s: HeightFactor and WidthFactor apply to RandomTranslation only", field)
	}
	if l.Factor != 0 && l.Type != LayerRandomRotation {
		return fmt.Errorf("keras: %s: Factor applies to RandomRotation only", field)
	}
	if !l.KernelRegularizer.IsZero() && l.Type != LayerDense && l.Type != LayerConv2D {
		return fmt.Errorf("keras: %s: KernelRegularizer applies to Dense and Conv2D layers only", field)
	}
	if l.Name != "" && strings.ContainsAny(l.Name, "/\\ \t\n") {
		return fmt.Errorf("keras: %s: Name %q must not contain slashes or spaces", field, l.Name)
	}
	return nil
}

// defaultBaseName is the Keras base name of a layer type, its class name in snake case as Keras's
// to_snake_case writes it ("dense" for Dense, "batch_normalization" for BatchNormalization,
// "conv2d" for Conv2D, "max_pooling2d" for MaxPooling2D).
func defaultBaseName(t LayerType) string {
	name := snakeWords.ReplaceAllString(string(t), "${1}_${2}")
	return strings.ToLower(snakeCase.ReplaceAllString(name, "${1}_${2}"))
}

// snakeWords and snakeCase are the two substitutions of keras/src/utils/naming.py to_snake_case.
var (
	snakeWords = regexp.MustCompile("(.)([A-Z][a-z]+)")
	snakeCase  = regexp.MustCompile("([a-z])([A-Z])")
)

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
