package keras

import (
	"github.com/gomlx/gomlx/core/tensors"
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
	return m.predictWith("predict", x, batchSize, func(e *engine, xT *tensors.Tensor, _ int, dst []float32) ([]float32, error) {
		return e.run(e.predict, dst, xT)
	})
}

// predictWith checks x and batchSize and runs batch (given each batch's inputs and first row) over
// x, concatenating the outputs; what names the caller in errors.
func (m *Model) predictWith(what string, x Array, batchSize int, batch func(e *engine, xT *tensors.Tensor, start int, dst []float32) ([]float32, error)) (Array, error) {
	if batchSize <= 0 {
		return Array{}, errorf("%s: batchSize must be > 0, got %d", what, batchSize)
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
		out, err = batch(e, xT, start, out)
		finalizeAll(xT)
		if err != nil {
			return Array{}, errorf("%s: %w", what, err)
		}
	}
	return Array{Data: out, Shape: []int{x.Len(), m.NumOutputs()}}, nil
}

// PredictWithDropout is Predict with Dropout and AlphaDropout active, as in training, for Monte
// Carlo Dropout: Keras's model(x, training=True) on a model whose only training-dependent layers
// are dropout layers. BatchNormalization keeps its moving statistics, as Géron's MCDropout layer
// recommends (a Dropout subclass whose call always passes training=True), not the batch's
// statistics that model(x, training=True) would use; the augmentation layers (RandomFlip, ...)
// stay off, as in Géron's MCDropout, where only the dropout layers train. Sample chooses the dropout masks (≥ 0): the
// same sample gives the same masks, whatever the batch size; different samples, different ones.
func (m *Model) PredictWithDropout(x Array, batchSize, sample int) (Array, error) {
	if sample < 0 || sample >= 1<<31 {
		return Array{}, errorf("predict with dropout: sample must be in [0, 2³¹), got %d", sample)
	}
	return m.predictWith("predict with dropout", x, batchSize, func(e *engine, xT *tensors.Tensor, start int, dst []float32) ([]float32, error) {
		// Keys from 2³¹ up: the training steps, which choose the masks of training, stay below.
		key, row := tensors.FromScalar(uint32(1<<31|sample)), tensors.FromScalar(uint32(start))
		defer finalizeAll(key, row)
		return e.run(e.dropout, dst, xT, key, row)
	})
}

// MCPredict is Monte Carlo Dropout's prediction: the mean of samples PredictWithDropout outputs
// (samples 0, 1, ..., samples−1), like np.stack([model(x, training=True) for _ in range(samples)]).mean(axis=0)
// with Géron's MCDropout layers.
func (m *Model) MCPredict(x Array, batchSize, samples int) (Array, error) {
	if samples <= 0 {
		return Array{}, errorf("MCPredict: samples must be > 0, got %d (the number of dropout predictions to average)", samples)
	}
	var sum []float64
	for s := range samples {
		p, err := m.PredictWithDropout(x, batchSize, s)
		if err != nil {
			return Array{}, errorf("MCPredict: sample %d: %w", s, err)
		}
		if sum == nil {
			sum = make([]float64, len(p.Data))
		}
		for i, v := range p.Data {
			sum[i] += float64(v)
		}
	}
	out := make([]float32, len(sum))
	for i, v := range sum {
		out[i] = float32(v / float64(samples))
	}
	return Array{Data: out, Shape: []int{x.Len(), m.NumOutputs()}}, nil
}
