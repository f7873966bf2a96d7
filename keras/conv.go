package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Padding says how a convolution or pooling layer treats the borders of its input, as Keras
// spells its padding= argument.
type Padding string

// The paddings.
const (
	// Valid uses no padding: every window lies inside the input, which shrinks (Keras's default).
	Valid Padding = "valid"
	// Same pads the input evenly (one more after than before when odd) so that the output has
	// ⌈input/stride⌉ positions: with zeros for Conv2D, with values that never count for pooling.
	Same Padding = "same"
)

// Conv2D is a 2-D convolution over the height and width of [height, width, channels] inputs,
// like keras.layers.Conv2D(filters, kernel_size, activation=activation): a kernelSize×kernelSize
// window, strides 1, padding "valid", channels last, a Glorot-uniform kernel of shape
// [kernelSize, kernelSize, channels, filters] and zero biases. Options: WithStrides, WithPadding,
// WithKernelSize, WithInitializer, WithKernelRegularizer.
func Conv2D(filters, kernelSize int, activation Activation) LayerSpec {
	return LayerSpec{Type: LayerConv2D, Filters: filters, KernelSize: []int{kernelSize, kernelSize},
		Strides: []int{1, 1}, Padding: Valid, Activation: activation,
		KernelInitializer: GlorotUniform, BiasInitializer: Zeros}
}

// MaxPooling2D takes the largest value of every poolSize×poolSize window of each channel of
// [height, width, channels] inputs, like keras.layers.MaxPooling2D(pool_size): strides equal to
// the pool size, padding "valid". Options: WithStrides, WithPadding, WithPoolSize.
func MaxPooling2D(poolSize int) LayerSpec {
	return LayerSpec{Type: LayerMaxPooling2D, PoolSize: []int{poolSize, poolSize}, Padding: Valid}
}

// AveragePooling2D takes the mean of every poolSize×poolSize window of each channel of
// [height, width, channels] inputs, like keras.layers.AveragePooling2D(pool_size): strides equal
// to the pool size, padding "valid" (with Same, the padded positions are left out of the mean, as
// in Keras). Options: WithStrides, WithPadding, WithPoolSize.
func AveragePooling2D(poolSize int) LayerSpec {
	return LayerSpec{Type: LayerAveragePooling2D, PoolSize: []int{poolSize, poolSize}, Padding: Valid}
}

// GlobalAveragePooling2D averages each channel of [height, width, channels] inputs over the
// height and width, giving [channels], like keras.layers.GlobalAveragePooling2D().
func GlobalAveragePooling2D() LayerSpec { return LayerSpec{Type: LayerGlobalAveragePooling2D} }

// WithStrides returns a copy of a Conv2D or pooling spec with other strides (Keras's strides=):
// one value for both axes, or the height's and the width's.
func (l LayerSpec) WithStrides(strides ...int) LayerSpec {
	if len(strides) == 1 {
		strides = []int{strides[0], strides[0]}
	}
	l.Strides = slices.Clone(strides)
	return l
}

// WithPadding returns a copy of a Conv2D or pooling spec with another padding, [Valid] or [Same]
// (Keras's padding=).
func (l LayerSpec) WithPadding(padding Padding) LayerSpec {
	l.Padding = padding
	return l
}

// WithKernelSize returns a copy of a Conv2D spec with a height×width kernel (Keras's
// kernel_size=(height, width)).
func (l LayerSpec) WithKernelSize(height, width int) LayerSpec {
	l.KernelSize = []int{height, width}
	return l
}

// WithPoolSize returns a copy of a pooling spec with a height×width window (Keras's
// pool_size=(height, width)); unless set, the strides follow it.
func (l LayerSpec) WithPoolSize(height, width int) LayerSpec {
	l.PoolSize = []int{height, width}
	return l
}

// window is the window of a Conv2D (its kernel size) or pooling layer (its pool size).
func (l LayerSpec) window() []int {
	if l.Type == LayerConv2D {
		return l.KernelSize
	}
	return l.PoolSize
}

// outputChannels is the number of channels a Conv2D or pooling layer outputs.
func (l LayerSpec) outputChannels(in []int) int {
	if l.Type == LayerConv2D {
		return l.Filters
	}
	return in[len(in)-1]
}

// fill2DDefaults fills a Conv2D or pooling spec's unset strides and padding with Keras's
// defaults: strides 1 (Conv2D) or the pool size, padding "valid".
func (l *LayerSpec) fill2DDefaults() {
	switch l.Type {
	case LayerConv2D:
		if l.Strides == nil {
			l.Strides = []int{1, 1}
		}
	case LayerMaxPooling2D, LayerAveragePooling2D:
		if l.Strides == nil {
			l.Strides = slices.Clone(l.PoolSize)
		}
	default:
		return
	}
	if l.Padding == "" {
		l.Padding = Valid
	}
}

// windowOutput is Keras's number of positions of a window of size k moved by stride s over n
// positions (keras/src/ops/operation_utils.py): ⌊(n−k)/s⌋+1 for "valid" (0 when k > n), ⌈n/s⌉ for
// "same".
func windowOutput(n, k, s int, p Padding) int {
	if p == Same {
		return (n + s - 1) / s
	}
	if k > n {
		return 0
	}
	return (n-k)/s + 1
}

// windowPadding is the padding before and after an axis of n positions for Keras's "same" (as
// TensorFlow and JAX compute it: the total (out−1)·s + k − n, its smaller half before); none for
// "valid".
func windowPadding(n, k, s int, p Padding) [2]int {
	if p != Same {
		return [2]int{}
	}
	total := max((windowOutput(n, k, s, p)-1)*s+k-n, 0)
	return [2]int{total / 2, total - total/2}
}

// check2D validates a Conv2D, pooling or global pooling spec (filled with its defaults) given its
// input shape; field names the layer.
func (l LayerSpec) check2D(field string, in []int) error {
	if len(in) != 3 {
		hint := ""
		if len(in) == 2 {
			hint = fmt.Sprintf("; for one channel, give the model input shape []int{%d, %d, 1}", in[0], in[1])
		}
		return fmt.Errorf("keras: %s: needs per-sample shape [height, width, channels], gets %v%s", field, in, hint)
	}
	if l.Type == LayerGlobalAveragePooling2D {
		return nil
	}
	if l.Type == LayerConv2D {
		if l.Filters <= 0 {
			return fmt.Errorf("keras: %s: Filters must be > 0, got %d", field, l.Filters)
		}
		if err := l.checkWeighted(field); err != nil {
			return err
		}
	}
	what := "KernelSize"
	if l.Type != LayerConv2D {
		what = "PoolSize"
	}
	window := l.window()
	for _, c := range []struct {
		name   string
		values []int
	}{{what, window}, {"Strides", l.Strides}} {
		if len(c.values) != 2 || c.values[0] <= 0 || c.values[1] <= 0 {
			return fmt.Errorf("keras: %s: %s must be two values > 0 (height, width), got %v", field, c.name, c.values)
		}
	}
	if l.Padding != Valid && l.Padding != Same {
		return fmt.Errorf("keras: %s: Padding must be %q or %q, got %q", field, Valid, Same, l.Padding)
	}
	if l.Padding == Valid && (window[0] > in[0] || window[1] > in[1]) {
		return fmt.Errorf("keras: %s: its %dx%d window is larger than its %dx%d input (per-sample shape %v) with padding %q; use a smaller %s, padding keras.Same, or fewer layers that shrink the input before it",
			field, window[0], window[1], in[0], in[1], in, Valid, what)
	}
	return nil
}

// checkWeighted validates the activation, initializers and regularizer of a Dense or Conv2D spec.
func (l LayerSpec) checkWeighted(field string) error {
	if _, err := activationFor(l.Activation); err != nil {
		return fmt.Errorf("keras: %s: Activation: %w", field, err)
	}
	if err := checkInitializer(l.KernelInitializer); err != nil {
		return fmt.Errorf("keras: %s: KernelInitializer: %w", field, err)
	}
	if err := checkInitializer(l.BiasInitializer); err != nil {
		return fmt.Errorf("keras: %s: BiasInitializer: %w", field, err)
	}
	if err := l.KernelRegularizer.check(); err != nil {
		return fmt.Errorf("keras: %s: KernelRegularizer: %w", field, err)
	}
	return nil
}

// conv2D is Keras's Conv2D before its activation: x [B, H, W, C] convolved with kernel
// [kh, kw, C, F] at the spec's strides and padding, plus bias [F].
//
// An even kernel size is made odd with a last row (column) of zeros, facing one more row (column)
// of padding after the input, which changes no output: GoMLX v0.28.2's gradient with respect to
// the input of a convolution with an even kernel size is wrong (it is right for odd sizes, and
// with respect to the kernel).
func conv2D(x, kernel, bias *graph.Node, l LayerSpec) *graph.Node {
	dims := x.Shape().Dimensions
	pads := make([][2]int, 2)
	for axis := range 2 {
		pads[axis] = windowPadding(dims[1+axis], l.KernelSize[axis], l.Strides[axis], l.Padding)
		if l.KernelSize[axis]%2 == 0 {
			kernel = padAxis(kernel, axis, [2]int{0, 1}, 0)
			pads[axis][1]++
		}
	}
	y := graph.Convolve(x, kernel).StridePerAxis(l.Strides...).PaddingPerDim(pads).Done()
	return graph.Add(y, graph.Reshape(bias, 1, 1, 1, l.Filters))
}

// denseLastAxis is Keras's Dense before its activation on x of any rank ≥ 2: x·kernel on the last
// axis, plus bias.
func denseLastAxis(x, kernel, bias *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	units := kernel.Shape().Dimensions[1]
	if len(dims) > 2 {
		rows := x.Shape().Size() / dims[len(dims)-1]
		y := graph.Dot(graph.Reshape(x, rows, dims[len(dims)-1]), kernel).Product()
		y = graph.Add(y, graph.InsertAxes(bias, 0))
		return graph.Reshape(y, append(slices.Clone(dims[:len(dims)-1]), units)...)
	}
	y := graph.Dot(x, kernel).Product()
	return graph.Add(y, graph.InsertAxes(bias, 0))
}

// nonOverlapping reports whether a pooling layer's windows tile its input without overlap or
// padding (strides equal to the pool size, "valid"); windows that would cross the border are
// dropped, as Keras drops them.
func (l LayerSpec) nonOverlapping() bool {
	return l.Padding == Valid && slices.Equal(l.Strides, l.PoolSize)
}

// windows returns x [B, H, W, C] as [B, Ho, ph, Wo, pw, C] when the pooling windows do not
// overlap (axes 2 and 4 are the window's), or as [B, Ho, Wo, C, ph·pw] (axis 4, in row-major window
// order) otherwise, the padding positions holding fill; axes are the window axes.
func windows(x *graph.Node, l LayerSpec, fill float64) (w *graph.Node, axes []int) {
	dims := x.Shape().Dimensions
	b, h, wd, c := dims[0], dims[1], dims[2], dims[3]
	ph, pw, sh, sw := l.PoolSize[0], l.PoolSize[1], l.Strides[0], l.Strides[1]
	ho, wo := windowOutput(h, ph, sh, l.Padding), windowOutput(wd, pw, sw, l.Padding)
	if l.nonOverlapping() {
		if ho*ph != h || wo*pw != wd {
			x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, ho*ph), graph.AxisRange(0, wo*pw), graph.AxisRange())
		}
		return graph.Reshape(x, b, ho, ph, wo, pw, c), []int{2, 4}
	}
	padH, padW := windowPadding(h, ph, sh, l.Padding), windowPadding(wd, pw, sw, l.Padding)
	if padH != [2]int{} || padW != [2]int{} {
		x = padAxis(padAxis(x, 1, padH, fill), 2, padW, fill)
	}
	var patches []*graph.Node
	for i := range ph {
		for j := range pw {
			patches = append(patches, graph.Slice(x, graph.AxisRange(),
				graph.AxisRange(i, i+(ho-1)*sh+1).Stride(sh), graph.AxisRange(j, j+(wo-1)*sw+1).Stride(sw), graph.AxisRange()))
		}
	}
	return graph.Stack(patches, -1), []int{4}
}

// padAxis surrounds x on axis with pads[0] values fill before and pads[1] after. It concatenates
// rather than calling graph.Pad, for which GoMLX defines no gradient.
func padAxis(x *graph.Node, axis int, pads [2]int, fill float64) *graph.Node {
	if pads == [2]int{} {
		return x
	}
	block := func(n int) *graph.Node {
		dims := slices.Clone(x.Shape().Dimensions)
		dims[axis] = n
		return graph.BroadcastToDims(graph.Scalar(x.Graph(), x.DType(), fill), dims...)
	}
	parts := []*graph.Node{x}
	if pads[0] > 0 {
		parts = append([]*graph.Node{block(pads[0])}, parts...)
	}
	if pads[1] > 0 {
		parts = append(parts, block(pads[1]))
	}
	return graph.Concatenate(parts, axis)
}

// maxPool2D is Keras's MaxPooling2D on x [B, H, W, C]. It reduces windows of x (see windows) with
// ReduceMax rather than GoMLX's MaxPool, whose gradient (SelectAndScatter) is slow on XLA's CPU
// plugin and missing from the pure-Go backend. Where a window holds tied maxima, the gradient goes
// to the first of them in row-major order, as in Keras (XLA's SelectAndScatter on JAX, TensorFlow's
// MaxPoolGrad), not to each of them as ReduceMax's own gradient would.
func maxPool2D(x *graph.Node, l LayerSpec) *graph.Node {
	w, axes := windows(x, l, math.Inf(-1))
	w = graph.IdentityWithCustomGradient(w, func(w, v *graph.Node) *graph.Node {
		return graph.Where(firstMaximum(w, axes), v, graph.ZerosLike(v))
	})
	return graph.ReduceMax(w, axes...)
}

// firstMaximum is true at the first position (in row-major order over axes) of the largest value
// of every window of w.
func firstMaximum(w *graph.Node, axes []int) *graph.Node {
	g := w.Graph()
	isMax := graph.Equal(w, graph.ReduceAndKeep(w, graph.ReduceMax, axes...))
	// The position of every value in its window, 0 to ph·pw−1, broadcast to w's shape.
	dims := make([]int, w.Rank())
	for i := range dims {
		dims[i] = 1
	}
	for _, a := range axes {
		dims[a] = w.Shape().Dimensions[a]
	}
	position := graph.Reshape(graph.IotaFull(g, shapes.Make(dtypes.Int32, product(dims))), dims...)
	position = graph.BroadcastToDims(position, w.Shape().Dimensions...)
	none := graph.Scalar(g, dtypes.Int32, math.MaxInt32)
	first := graph.ReduceAndKeep(graph.Where(isMax, position, graph.BroadcastToDims(none, w.Shape().Dimensions...)), graph.ReduceMin, axes...)
	return graph.Equal(position, first)
}

// averagePool2D is Keras's AveragePooling2D on x [B, H, W, C]: the mean of every window, without
// the padding positions of "same". Like maxPool2D, it reduces windows of x rather than calling
// GoMLX's MeanPool, whose gradient with padding fails on the pure-Go backend.
func averagePool2D(x *graph.Node, l LayerSpec) *graph.Node {
	w, axes := windows(x, l, 0)
	dims := x.Shape().Dimensions
	padH := windowPadding(dims[1], l.PoolSize[0], l.Strides[0], l.Padding)
	padW := windowPadding(dims[2], l.PoolSize[1], l.Strides[1], l.Padding)
	if padH == [2]int{} && padW == [2]int{} {
		return graph.ReduceMean(w, axes...)
	}
	// The number of input positions in every window, padding left out.
	inside := func(n, k, s int, pad [2]int) []float32 {
		counts := make([]float32, windowOutput(n, k, s, l.Padding))
		for o := range counts {
			start := o*s - pad[0]
			counts[o] = float32(min(start+k, n) - max(start, 0))
		}
		return counts
	}
	rows := inside(dims[1], l.PoolSize[0], l.Strides[0], padH)
	cols := inside(dims[2], l.PoolSize[1], l.Strides[1], padW)
	counts := make([]float32, 0, len(rows)*len(cols))
	for _, r := range rows {
		for _, c := range cols {
			counts = append(counts, r*c)
		}
	}
	n := graph.Const(x.Graph(), tensors.FromFlatDataAndDimensions(counts, 1, len(rows), len(cols), 1))
	return graph.Div(graph.ReduceSum(w, axes...), n)
}
