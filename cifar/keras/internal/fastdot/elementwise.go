package fastdot

import (
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// After the matrix products, a lab 3 step is dominated by the optimizer's element-wise updates of
// every weight: a dozen float32 Add/Sub/Mul/Div/Sqrt passes over 1.7M values, which simplego runs
// as scalar Go loops (~0.65 ns per value on this CPU, whether the data is in cache or not). The
// executors below run them with AVX2 (vec_amd64.s) when the tensors have the same shape or one is a
// scalar; anything else (other dtypes, broadcasting, tiny tensors, no AVX2) runs simplego's own
// executor. Each value is the same IEEE float32 operation, so results are bit-identical to
// simplego's, except that the loops flush denormal inputs and results to zero (MXCSR FTZ and DAZ),
// as TensorFlow does on CPU: in a long run Adam's moments of dead ReLU units decay into the
// denormal range, where every multiplication takes a microcode assist and lab 3's epoch was seen to
// take 40 s instead of 23 s.

// vectorMin is the size from which the vector loops are used.
const vectorMin = 64

var vectorCalls atomic.Int64

// VectorCalls returns how many element-wise ops ran the vector loops (for tests).
func VectorCalls() int64 { return vectorCalls.Load() }

var binaryOps = [4]backends.OpType{backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv}

// installElementwise replaces the executors of the element-wise ops handled here; it reports
// whether it did (the CPU needs AVX2).
func installElementwise() bool {
	if !hasVectorOps {
		return false
	}
	for i, op := range binaryOps {
		if stock := sgNodeExecutors[op]; stock != nil {
			sgNodeExecutors[op] = binaryExecutor(i, stock)
		}
	}
	if stock := sgNodeExecutors[backends.OpTypeSqrt]; stock != nil {
		sgNodeExecutors[backends.OpTypeSqrt] = sqrtExecutor(stock)
	}
	vectorReady = true
	return true
}

func binaryExecutor(op int, stock executorFn) executorFn {
	return func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
		if !enabled.Load() || len(inputs) != 2 || len(inputsOwned) != 2 {
			return stock(backend, node, inputs, inputsOwned)
		}
		n := (*mirrorNode)(unsafe.Pointer(node))
		lhs := (*mirrorBuffer)(unsafe.Pointer(inputs[0]))
		rhs := (*mirrorBuffer)(unsafe.Pointer(inputs[1]))
		size := n.shape.Size()
		if n.shape.DType != dtypes.Float32 || lhs.shape.DType != dtypes.Float32 || rhs.shape.DType != dtypes.Float32 || size < vectorMin {
			return stock(backend, node, inputs, inputsOwned)
		}
		lhsScalar, rhsScalar := lhs.shape.Size() == 1, rhs.shape.Size() == 1
		a, _ := lhs.flat.([]float32)
		b, _ := rhs.flat.([]float32)
		if len(a) < lhs.shape.Size() || len(b) < rhs.shape.Size() {
			return stock(backend, node, inputs, inputsOwned)
		}
		if !lhsScalar && !rhsScalar && lhs.shape.Equal(n.shape) && rowBroadcast(rhs.shape, n.shape) {
			// x + bias: the rhs repeats along the leading axes (a Dense layer's bias add).
			outBuf := inputs[0]
			if inputsOwned[0] {
				inputs[0] = nil
			} else if outBuf = sgGetBufferForShape(backend, n.shape); outBuf == nil {
				return stock(backend, node, inputs, inputsOwned)
			}
			c := (*mirrorBuffer)(unsafe.Pointer(outBuf)).flat.([]float32)[:size]
			vectorCalls.Add(1)
			row := rhs.shape.Size()
			b = b[:row]
			for lo := 0; lo < size; lo += row {
				ar, cr := a[lo:lo+row], c[lo:lo+row]
				for i := vecSame(op, ar, b, cr); i < row; i++ {
					cr[i] = apply(op, ar[i], b[i])
				}
			}
			return outBuf, nil
		}
		if !(lhsScalar || lhs.shape.Equal(n.shape)) || !(rhsScalar || rhs.shape.Equal(n.shape)) {
			return stock(backend, node, inputs, inputsOwned) // other broadcasting
		}
		// The output takes over an input it owns, as simplego's binaryOperandsAndOutput does (a nil
		// input tells simplego's executor loop that the buffer was taken over).
		var outBuf *simplego.Buffer
		switch {
		case inputsOwned[1] && rhs.shape.Equal(n.shape):
			outBuf, inputs[1] = inputs[1], nil
		case inputsOwned[0] && lhs.shape.Equal(n.shape):
			outBuf, inputs[0] = inputs[0], nil
		default:
			if outBuf = sgGetBufferForShape(backend, n.shape); outBuf == nil {
				return stock(backend, node, inputs, inputsOwned)
			}
		}
		c := (*mirrorBuffer)(unsafe.Pointer(outBuf)).flat.([]float32)[:size]
		vectorCalls.Add(1)
		switch {
		case rhsScalar && !lhsScalar:
			a = a[:size]
			s := b[0]
			for i := vecScalarRight(op, a, s, c); i < size; i++ {
				c[i] = apply(op, a[i], s)
			}
		case lhsScalar && !rhsScalar:
			b = b[:size]
			s := a[0]
			for i := vecScalarLeft(op, s, b, c); i < size; i++ {
				c[i] = apply(op, s, b[i])
			}
		default:
			a, b = a[:size], b[:size]
			for i := vecSame(op, a, b, c); i < size; i++ {
				c[i] = apply(op, a[i], b[i])
			}
		}
		return outBuf, nil
	}
}

func apply(op int, x, y float32) float32 {
	switch op {
	case 0:
		return x + y
	case 1:
		return x - y
	case 2:
		return x * y
	default:
		return x / y
	}
}

func sqrtExecutor(stock executorFn) executorFn {
	return func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
		if !enabled.Load() || len(inputs) != 1 || len(inputsOwned) != 1 {
			return stock(backend, node, inputs, inputsOwned)
		}
		in := (*mirrorBuffer)(unsafe.Pointer(inputs[0]))
		size := in.shape.Size()
		a, _ := in.flat.([]float32)
		if in.shape.DType != dtypes.Float32 || size < vectorMin || len(a) < size {
			return stock(backend, node, inputs, inputsOwned)
		}
		var outBuf *simplego.Buffer
		if inputsOwned[0] {
			outBuf, inputs[0] = inputs[0], nil
		} else if outBuf = sgGetBufferForShape(backend, in.shape); outBuf == nil {
			return stock(backend, node, inputs, inputsOwned)
		}
		a = a[:size]
		c := (*mirrorBuffer)(unsafe.Pointer(outBuf)).flat.([]float32)[:size]
		vectorCalls.Add(1)
		for i := vecSqrt(a, c); i < size; i++ {
			c[i] = float32(math.Sqrt(float64(a[i])))
		}
		return outBuf, nil
	}
}

// rowBroadcast reports whether a value of shape small, broadcast to shape out, repeats whole along
// out's leading axes: same rank, small's leading dimensions 1 and its others equal to out's, e.g.
// [1, 256] against [128, 256]. Rows of at least 8 values only, so that the vector loops pay.
func rowBroadcast(small, out shapes.Shape) bool {
	if small.Rank() != out.Rank() || small.Rank() < 2 || small.Size() < 8 || small.Size() == out.Size() {
		return false
	}
	leading := true
	for i, d := range small.Dimensions {
		switch {
		case leading && d == 1:
		case d == out.Dimensions[i]:
			leading = false
		default:
			return false
		}
	}
	return true
}
