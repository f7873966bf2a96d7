package keras

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

// Regularizer is a penalty on a layer's weights that training adds to the loss, like
// keras.regularizers.Regularizer. Build it with [L2]; the zero Regularizer is none.
type Regularizer struct {
	L2 float64 `json:"l2,omitempty"` // the factor of the sum of the squared weights
}

// L2 is Keras's keras.regularizers.L2(factor): it adds factor·Σw² of the weights to the loss
// (Keras's formula, without a ½), in training and in the losses that Fit and Evaluate report.
// Give it to a layer with WithKernelRegularizer.
func L2(factor float64) Regularizer { return Regularizer{L2: factor} }

// IsZero reports whether r adds nothing to the loss.
func (r Regularizer) IsZero() bool { return r.L2 == 0 }

// check validates the factors.
func (r Regularizer) check() error {
	if !(r.L2 >= 0) || math.IsInf(r.L2, 0) {
		return fmt.Errorf("the L2 factor must be a finite number >= 0, got %g", r.L2)
	}
	return nil
}

// penalty builds the regularizer's term of the loss for the weights w.
func (r Regularizer) penalty(w *graph.Node) *graph.Node {
	return graph.MulScalar(graph.ReduceAllSum(graph.Square(w)), r.L2)
}

// WithKernelRegularizer returns a copy of a Dense or Conv2D spec whose kernel adds r's penalty to
// the loss, like Keras's kernel_regularizer=keras.regularizers.L2(factor):
//
//	keras.Conv2D(32, 3, keras.ReLU).WithKernelRegularizer(keras.L2(1e-4))
func (l LayerSpec) WithKernelRegularizer(r Regularizer) LayerSpec {
	l.KernelRegularizer = r
	return l
}

// regularization builds the sum of the penalties of every layer's regularized weights in g, as
// Keras adds model.losses to the loss, or nil when no layer has a regularizer.
func (e *engine) regularization(g *graph.Graph) *graph.Node {
	var sum *graph.Node
	for _, lv := range e.model.weights {
		r := e.model.spec.Layers[lv.layer].KernelRegularizer
		if r.IsZero() {
			continue
		}
		p := r.penalty(lv.kernel.NodeValue(g))
		if sum == nil {
			sum = p
		} else {
			sum = graph.Add(sum, p)
		}
	}
	return sum
}
