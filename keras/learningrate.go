package keras

import (
	"math"

	"github.com/gomlx/gomlx/core/tensors"
)

// LearningRate is the optimizer's current learning rate (an error if the model is not compiled);
// with a schedule, its value at the steps taken so far, as Keras's optimizer.learning_rate.
func (m *Model) LearningRate() (float64, error) {
	if m.compiled == nil {
		return 0, errNotCompiled
	}
	if s := m.compiled.cfg.Optimizer.Schedule; s != nil {
		iterations, err := m.Iterations()
		if err != nil {
			return 0, err
		}
		return s.At(iterations), nil
	}
	if m.engine == nil || m.engine.upd == nil {
		return float64(float32(m.lr)), nil
	}
	return m.engine.upd.learningRate()
}

// SetLearningRate changes the optimizer's learning rate without recompiling (rounded to float32,
// like Keras's learning-rate variable). An optimizer with a Schedule refuses, as in Keras.
func (m *Model) SetLearningRate(lr float64) error {
	if m.compiled == nil {
		return errNotCompiled
	}
	if s := m.compiled.cfg.Optimizer.Schedule; s != nil {
		return errorf("SetLearningRate: the learning rate is given by the optimizer's Schedule (%s), so it cannot be set; compile with a constant learning rate to change it from a callback", s.className())
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return errorf("SetLearningRate: the learning rate must be > 0, got %g", lr)
	}
	if m.engine == nil || m.engine.upd == nil {
		m.lr = lr
		return nil
	}
	return m.engine.upd.setLearningRate(lr)
}

// Iterations is the number of training steps the optimizer has taken since the model was compiled
// or its weights initialized (Keras's optimizer.iterations); 0 for a model that has not trained;
// a loaded model continues the saved one's count (Save keeps the optimizer's state). Fit draws its shuffle from
// the seed and this count, so a second Fit sees another order than the first.
func (m *Model) Iterations() (int64, error) {
	if m.engine == nil || m.engine.upd == nil {
		if m.optState != nil {
			return m.optState.Iterations, nil
		}
		return 0, nil
	}
	t, err := m.engine.upd.iter.Value()
	if err != nil {
		return 0, errorf("reading the optimizer's step count: %w", err)
	}
	return tensors.ToScalar[int64](t), nil
}
