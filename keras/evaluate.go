package keras

import (
	"github.com/gomlx/gomlx/ml/model"
)

// Evaluate returns the loss and accuracy of the model on x, y in inference mode (dropout off),
// computed in batches of batchSize and averaged over samples, like Keras's model.evaluate.
func (m *Model) Evaluate(x Array, y Labels, batchSize int) (loss, accuracy float64, err error) {
	if m.compiled == nil {
		return 0, 0, errNotCompiled
	}
	if batchSize <= 0 {
		return 0, 0, errorf("evaluate: batchSize must be > 0, got %d", batchSize)
	}
	if err := m.checkData("x", "y", x, y); err != nil {
		return 0, 0, err
	}
	e, err := m.engineFor()
	if err != nil {
		return 0, 0, err
	}
	loss, accuracy, err = m.evaluate(e.eval, newBatcher(x, y), rangeIndices(0, x.Len()), batchSize)
	if err != nil {
		return 0, 0, errorf("evaluate: %w", err)
	}
	return loss, accuracy, nil
}

// evaluate runs exec over the rows idx in batches and returns the sample-weighted mean loss and the
// accuracy.
func (m *Model) evaluate(exec *model.Exec, b *batcher, idx []int, batchSize int) (loss, accuracy float64, err error) {
	var sumLoss, sumCorrect float64
	for start := 0; start < len(idx); start += batchSize {
		rows := idx[start:min(start+batchSize, len(idx))]
		xT, yT := b.inputs(rows), b.labels(rows)
		l, c, err := step(exec, xT, yT)
		finalizeAll(xT, yT)
		if err != nil {
			return 0, 0, err
		}
		sumLoss += l * float64(len(rows))
		sumCorrect += c
	}
	n := float64(len(idx))
	return sumLoss / n, sumCorrect / n, nil
}

// Predict returns the model's output (class probabilities for a softmax classifier) for every
// sample of x, shaped [N, outputs], computed in inference mode in batches of batchSize, like
// Keras's model.predict. Use Rows or ArgMax on the result.
func (m *Model) Predict(x Array, batchSize int) (Array, error) {
	if batchSize <= 0 {
		return Array{}, errorf("predict: batchSize must be > 0, got %d", batchSize)
	}
	if err := m.checkInputs("x", x); err != nil {
		return Array{}, err
	}
	e, err := m.engineFor()
	if err != nil {
		return Array{}, err
	}
	b := newBatcher(x, Labels{})
	out := make([]float32, 0, x.Len()*m.NumOutputs())
	for start := 0; start < x.Len(); start += batchSize {
		xT := b.inputs(rangeIndices(start, min(start+batchSize, x.Len())))
		out, err = e.probabilities(xT, out)
		finalizeAll(xT)
		if err != nil {
			return Array{}, errorf("predict: %w", err)
		}
	}
	return Array{Data: out, Shape: []int{x.Len(), m.NumOutputs()}}, nil
}
