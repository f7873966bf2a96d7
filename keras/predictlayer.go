package keras

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// PredictLayer returns the output of the model's layer at index layer (0 for the first layer, in
// the order of Summary) for every sample of x, in inference mode (dropout and augmentation off,
// BatchNormalization by its moving statistics), computed in batches of batchSize and shaped
// [N, the layer's per-sample output shape...]: a Conv2D's feature maps [N, height, width,
// filters], for instance. It is Keras's
//
//	keras.Model(model.inputs, model.layers[layer].output).predict(x)
//
// the way a CNN lab shows what its convolutions see. Each call compiles the truncated model
// anew (for XLA, once per batch shape), so call it on a few images, not in a loop over a data set.
func (m *Model) PredictLayer(x Array, batchSize, layer int) (Array, error) {
	if layer < 0 || layer >= len(m.spec.Layers) {
		return Array{}, errorf("predict layer: layer must be in [0, %d), the model's layers, got %d", len(m.spec.Layers), layer)
	}
	if batchSize <= 0 {
		return Array{}, errorf("predict layer: batchSize must be > 0, got %d", batchSize)
	}
	if err := m.checkInputs("x", x); err != nil {
		return Array{}, err
	}
	e, err := m.engineFor()
	if err != nil {
		return Array{}, err
	}
	var exec *model.Exec
	if err := catchPanic(func() error {
		var err error
		exec, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x *graph.Node) *graph.Node {
			out, _ := e.forward(x, pass{layers: layer + 1})
			return out
		})
		return err
	}); err != nil {
		return Array{}, errorf("predict layer: building the truncated model: %w", err)
	}
	defer exec.Finalize()
	shape := m.shapes[layer]
	size := product(shape)
	b := newBatcher(x, Labels{})
	out := make([]float32, 0, x.Len()*size)
	for start := 0; start < x.Len(); start += batchSize {
		xT := b.inputs(rangeIndices(start, min(start+batchSize, x.Len())))
		out, err = e.run(exec, out, xT)
		finalizeAll(xT)
		if err != nil {
			return Array{}, errorf("predict layer: %w", err)
		}
	}
	return Array{Data: out, Shape: append([]int{x.Len()}, shape...)}, nil
}
