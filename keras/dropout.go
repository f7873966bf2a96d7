package keras

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// dropout zeroes each value of x with probability rate and scales the kept ones by 1/(1−rate),
// like keras.layers.Dropout in training; key and offset choose the mask (see dropoutKeep).
func dropout(x *graph.Node, rate float64, seed int64, layer int, key, offset *graph.Node) *graph.Node {
	keep := dropoutKeep(x, rate, seed, layer, key, offset)
	return graph.Where(keep, graph.MulScalar(x, 1/(1-rate)), graph.ZerosLike(x))
}

// alphaDropoutP is α' = −alpha·scale of SELU, the value AlphaDropout gives a dropped input, as
// Keras computes it (a float64 product of the float64 constants): −1.7580993408473766.
var alphaDropoutP = -float64Of(seluAlpha) * float64Of(seluScale)

// float64Of returns its argument: it makes a constant a float64 before the arithmetic.
func float64Of(v float64) float64 { return v }

// alphaDropout replaces each value of x with probability rate by α' and then applies the affine
// transform a·x + b that restores the mean and variance, with Keras 3's formula
// (keras/src/layers/regularization/alpha_dropout.py): a = ((1−rate)(1 + rate·α'²))^−½,
// b = −a·α'·rate. The mask is dropout's.
func alphaDropout(x *graph.Node, rate float64, seed int64, layer int, key, offset *graph.Node) *graph.Node {
	keep := dropoutKeep(x, rate, seed, layer, key, offset)
	a, b := alphaDropoutAffine(rate)
	dropped := graph.Where(keep, x, graph.Scalar(x.Graph(), x.DType(), alphaDropoutP))
	return graph.AddScalar(graph.MulScalar(dropped, a), b)
}

// alphaDropoutAffine returns AlphaDropout's a and b for a rate.
func alphaDropoutAffine(rate float64) (a, b float64) {
	a = math.Pow((1-rate)*(1+rate*alphaDropoutP*alphaDropoutP), -0.5)
	return a, -a * alphaDropoutP * rate
}

// dropoutKeep is true where a dropout layer keeps a value of x: with probability 1−rate.
//
// The mask is a hash of the model's seed, the layer's index, key (the training step, or for a
// prediction with dropout a value that no training step takes) and the value's position (plus
// offset, when not nil: the position of the batch's first value in the whole input), computed
// with 32-bit integer operations that every GoMLX backend evaluates exactly: the same seed gives
// the same masks on XLA (CPU or GPU) and on the pure-Go backend, so their training runs can be
// compared value by value. (The backends' own random bit generators differ.)
func dropoutKeep(x *graph.Node, rate float64, seed int64, layer int, key, offset *graph.Node) *graph.Node {
	uniform := hashUniform(x.Graph(), x.Shape().Dimensions, seed, layer, key, offset)
	return graph.GreaterOrEqual(uniform, graph.Scalar(x.Graph(), dtypes.Float32, rate))
}

// hashUniform draws float32 values in [0, 1) of the given dimensions (multiples of 2⁻²⁴, exact in
// float32) from a hash of the model's seed, the layer's index, key and each value's position (plus
// offset, when not nil), as dropoutKeep describes.
func hashUniform(g *graph.Graph, dims []int, seed int64, layer int, key, offset *graph.Node) *graph.Node {
	u32 := func(v uint32) *graph.Node { return graph.Scalar(g, dtypes.Uint32, v) }
	k := graph.ConvertDType(key, dtypes.Uint32)
	k = graph.BitwiseXor(graph.Mul(k, u32(0x9e3779b9)),
		u32(uint32(seed)*0x85ebca6b^uint32(uint64(seed)>>32)*0xc2b2ae35^uint32(layer+1)*0x27d4eb2f))
	k = mix32(k)
	idx := graph.Reshape(graph.IotaFull(g, shapes.Make(dtypes.Uint32, product(dims))), dims...)
	if offset != nil {
		idx = graph.Add(idx, graph.ConvertDType(offset, dtypes.Uint32))
	}
	bits := mix32(graph.Add(graph.Mul(idx, u32(0xcc9e2d51)), k))
	// The top 24 bits as a float32 in [0, 1): exact in float32, so comparisons are too.
	return graph.MulScalar(graph.ConvertDType(graph.BitwiseShiftRightLogicalScalar(bits, uint32(8)), dtypes.Float32), 1.0/(1<<24))
}

// mix32 is the "lowbias32" integer finalizer (Chris Wellons' hash-prospector): every output bit
// depends on every input bit, with a bias low enough for dropout masks.
func mix32(x *graph.Node) *graph.Node {
	g := x.Graph()
	xorShift := func(x *graph.Node, n uint32) *graph.Node {
		return graph.BitwiseXor(x, graph.BitwiseShiftRightLogicalScalar(x, n))
	}
	x = xorShift(x, 16)
	x = graph.Mul(x, graph.Scalar(g, dtypes.Uint32, uint32(0x7feb352d)))
	x = xorShift(x, 15)
	x = graph.Mul(x, graph.Scalar(g, dtypes.Uint32, uint32(0x846ca68b)))
	return xorShift(x, 16)
}
