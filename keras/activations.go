package keras

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// Activation names an activation function as Keras spells it (activation="relu"). Use the
// constants; the empty Activation is Linear, as in Keras.
type Activation string

// The activations.
const (
	Linear  Activation = "linear"
	ReLU    Activation = "relu"
	Tanh    Activation = "tanh"
	Sigmoid Activation = "sigmoid"
	ELU     Activation = "elu" // alpha 1
	Softmax Activation = "softmax"
	SELU    Activation = "selu" // use with LeCunNormal kernels and AlphaDropout
)

// activationFn builds an activation in the graph.
type activationFn func(x *graph.Node) *graph.Node

// activations are the activation functions by name.
var activations = map[Activation]activationFn{
	Linear:  func(x *graph.Node) *graph.Node { return x },
	ReLU:    relu,
	Tanh:    graph.Tanh,
	Sigmoid: graph.Sigmoid,
	ELU:     elu,
	Softmax: func(x *graph.Node) *graph.Node { return graph.Softmax(x, -1) },
	SELU:    selu,
}

// activationFor returns the activation a; "" is linear, as in Keras.
func activationFor(a Activation) (activationFn, error) {
	if a == "" {
		a = Linear
	}
	fn, ok := activations[a]
	if !ok {
		return nil, fmt.Errorf("unknown activation %q (want relu, tanh, elu, selu, sigmoid, softmax or linear)", string(a))
	}
	return fn, nil
}

// relu is max(x, 0) with TensorFlow's gradient: 1 for x > 0, else 0 (also at 0).
func relu(x *graph.Node) *graph.Node {
	zero := graph.ZerosLike(x)
	return graph.Where(graph.GreaterThan(x, zero), x, zero)
}

// elu is Keras's ELU with alpha 1: x for x > 0, exp(x)-1 otherwise, with TensorFlow's gradient (1
// for x > 0, exp(x) otherwise, also at 0). Written here so that it is Keras's to the letter on every backend.
//
// The value is computed without a gradient path (exp of min(x, 0), so that the unused branch
// cannot overflow) and the gradient is given directly, as TensorFlow's EluGrad does it from the
// output y: v·(min(y, 0) + 1), which is v for x > 0 and v·exp(x) otherwise. Differentiating the
// value's own ops instead costs four Where and a Mul per layer on the pure-Go backend.
func elu(x *graph.Node) *graph.Node {
	var y *graph.Node
	withGrad := graph.IdentityWithCustomGradient(x, func(_, v *graph.Node) *graph.Node {
		return graph.Mul(v, graph.AddScalar(graph.MinScalar(y, 0), 1))
	})
	stopped := graph.StopGradient(withGrad)
	zero := graph.ScalarZero(x.Graph(), x.DType())
	y = graph.Where(graph.GreaterThan(stopped, zero), stopped, graph.AddScalar(graph.Exp(graph.Min(stopped, zero)), -1))
	// y + (withGrad − stopped) has y's value and withGrad's gradient.
	return graph.Add(y, graph.Sub(withGrad, stopped))
}

// The constants of SELU (Klambauer et al., 2017), as Keras writes them.
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// selu is Keras's SELU: scale·x for x > 0, scale·alpha·(exp(x)−1) otherwise (TensorFlow's
// formula; JAX's expm1 differs by rounding near 0), with TensorFlow's
// gradient (scale for x ≥ 0, y + scale·alpha below), written as elu is (a value without a
// gradient path, the gradient given from the output y).
func selu(x *graph.Node) *graph.Node {
	var y *graph.Node
	withGrad := graph.IdentityWithCustomGradient(x, func(_, v *graph.Node) *graph.Node {
		g := y.Graph()
		return graph.Mul(v, graph.Where(graph.LessThan(y, graph.ScalarZero(g, y.DType())),
			graph.AddScalar(y, seluScale*seluAlpha), graph.Scalar(g, y.DType(), seluScale)))
	})
	stopped := graph.StopGradient(withGrad)
	zero := graph.ScalarZero(x.Graph(), x.DType())
	y = graph.Where(graph.GreaterThan(stopped, zero), graph.MulScalar(stopped, seluScale),
		graph.MulScalar(graph.AddScalar(graph.Exp(graph.Min(stopped, zero)), -1), seluScale*seluAlpha))
	return graph.Add(y, graph.Sub(withGrad, stopped))
}
