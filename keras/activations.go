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
}

// activationFor returns the activation a; "" is linear, as in Keras.
func activationFor(a Activation) (activationFn, error) {
	if a == "" {
		a = Linear
	}
	fn, ok := activations[a]
	if !ok {
		return nil, fmt.Errorf("unknown activation %q (want relu, tanh, elu, sigmoid, softmax or linear)", string(a))
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
