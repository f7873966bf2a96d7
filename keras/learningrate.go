package keras

import "math"

// LearningRate is the optimizer's current learning rate (an error if the model is not compiled).
func (m *Model) LearningRate() (float64, error) {
	if m.compiled == nil {
		return 0, errNotCompiled
	}
	if m.engine == nil || m.engine.upd == nil {
		return float64(float32(m.lr)), nil
	}
	return m.engine.upd.learningRate()
}

// SetLearningRate changes the optimizer's learning rate without recompiling (rounded to float32,
// like Keras's learning-rate variable).
func (m *Model) SetLearningRate(lr float64) error {
	if m.compiled == nil {
		return errNotCompiled
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
