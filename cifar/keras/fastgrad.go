package keras

import (
	"sync"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26.0 differentiates Dot as a broadcast Mul followed by a ReduceSum, which for a dense layer
// materialises a [batch, in, out] tensor per step. For the rank-2 case (the only one Dense uses) the
// gradients are two matrix products, dX = dY·Wᵀ and dW = Xᵀ·dY, which is what registerFastDotGradient
// installs. Every other Dot keeps the stock gradient.

var (
	fastDotOnce  sync.Once
	stockDotVJP  graph.VJP
	fastDotReady bool
)

// registerFastDotGradient replaces, once per process, the gradient GoMLX uses for Dot nodes with
// fastDotVJP. It must run before any graph is differentiated; the package calls it whenever it builds a
// backend or a graph.
func registerFastDotGradient() {
	fastDotOnce.Do(func() {
		stockDotVJP = graph.VJPRegistration[graph.NodeTypeDot]
		graph.VJPRegistration[graph.NodeTypeDot] = fastDotVJP
		fastDotReady = true
	})
}

// fastDotVJP is a graph.VJP for Dot nodes: matrix × matrix products get their gradients as two GEMMs,
// anything else falls back to GoMLX's own gradient.
func fastDotVJP(node *graph.Node, vjpOutputs []*graph.Node, outputShape shapes.Shape) []*graph.Node {
	inputs := node.Inputs()
	if len(inputs) != 2 || len(vjpOutputs) != 1 || inputs[0].Rank() != 2 || inputs[1].Rank() != 2 ||
		outputShape.Rank() != 0 {
		return stockDotVJP(node, vjpOutputs, outputShape)
	}
	x, w, v := inputs[0], inputs[1], vjpOutputs[0]             // x: [i,j], w: [j,k], v: [i,k]
	dx := graph.DotGeneral(v, []int{1}, nil, w, []int{1}, nil) // [i,j] = v · wᵀ
	dw := graph.DotGeneral(x, []int{0}, nil, v, []int{0}, nil) // [j,k] = xᵀ · v
	return []*graph.Node{dx, dw}
}

// stockDotGradient returns GoMLX's original gradient for Dot nodes (used by tests to compare).
func stockDotGradient() graph.VJP {
	registerFastDotGradient()
	return stockDotVJP
}
