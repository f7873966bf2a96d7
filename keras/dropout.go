package keras

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// dropout zeroes each value of x with probability rate and scales the kept ones by 1/(1−rate),
// like keras.layers.Dropout in training.
//
// The mask is a hash of the model's seed, the layer's index, the training step and the value's
// position, computed with 32-bit integer operations that every GoMLX backend evaluates exactly:
// the same seed gives the same masks on XLA (CPU or GPU) and on the pure-Go backend, so their
// training runs can be compared value by value. (The backends' own random bit generators differ.)
func dropout(x *graph.Node, rate float64, seed int64, layer int, step *graph.Node) *graph.Node {
	g := x.Graph()
	u32 := func(v uint32) *graph.Node { return graph.Scalar(g, dtypes.Uint32, v) }
	key := graph.ConvertDType(step, dtypes.Uint32)
	key = graph.BitwiseXor(graph.Mul(key, u32(0x9e3779b9)),
		u32(uint32(seed)*0x85ebca6b^uint32(uint64(seed)>>32)*0xc2b2ae35^uint32(layer+1)*0x27d4eb2f))
	key = mix32(key)
	idx := graph.Reshape(graph.IotaFull(g, shapes.Make(dtypes.Uint32, x.Shape().Size())), x.Shape().Dimensions...)
	bits := mix32(graph.Add(graph.Mul(idx, u32(0xcc9e2d51)), key))
	// The top 24 bits as a float32 in [0, 1): exact in float32, so the comparison is too.
	uniform := graph.MulScalar(graph.ConvertDType(graph.BitwiseShiftRightLogicalScalar(bits, uint32(8)), dtypes.Float32), 1.0/(1<<24))
	keep := graph.GreaterOrEqual(uniform, graph.Scalar(g, dtypes.Float32, rate))
	return graph.Where(keep, graph.MulScalar(x, 1/(1-rate)), graph.ZerosLike(x))
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
