package keras

import "math"

// OneCycleScheduler is the 1cycle learning-rate schedule of Géron's book (Hands-On Machine
// Learning, ch. 11), a callback that sets the learning rate before every batch: up linearly from
// StartRate to MaxRate over the first half of the first Iterations − LastIterations steps, back
// down to StartRate over the second half, then down to LastRate over the last LastIterations
// steps; after Iterations steps it stays at LastRate (the book's would go on falling, below 0).
//
// Write it with the fields the book's call names, e.g.
// &keras.OneCycleScheduler{Iterations: 25 * 1407, MaxRate: 0.01}: a zero MaxRate, StartRate,
// LastIterations or LastRate means the book's default (1e-3, MaxRate/10, Iterations/10 + 1,
// StartRate/1000). The cycle starts again at every Fit.
type OneCycleScheduler struct {
	BaseCallback // the hooks it does not use

	Iterations     int     `json:"iterations"` // steps of the whole cycle (epochs × steps per epoch), > 0
	MaxRate        float64 `json:"max_rate"`
	StartRate      float64 `json:"start_rate"`
	LastIterations int     `json:"last_iterations"`
	LastRate       float64 `json:"last_rate"`

	iteration int
}

// settings returns the fields with the book's defaults filled in.
func (o *OneCycleScheduler) settings() (maxRate, startRate float64, lastIterations int, lastRate float64) {
	maxRate, startRate, lastIterations, lastRate = o.MaxRate, o.StartRate, o.LastIterations, o.LastRate
	if maxRate == 0 {
		maxRate = 1e-3
	}
	if startRate == 0 {
		startRate = maxRate / 10
	}
	if lastIterations == 0 {
		lastIterations = min(o.Iterations/10+1, o.Iterations)
	}
	if lastRate == 0 {
		lastRate = startRate / 1000
	}
	return
}

// OnTrainBegin checks the settings and starts the cycle.
func (o *OneCycleScheduler) OnTrainBegin(Training) error {
	maxRate, startRate, _, _ := o.settings()
	switch {
	case o.Iterations <= 0:
		return errorf("OneCycleScheduler.Iterations must be > 0 (the steps of the cycle: epochs × steps per epoch), got %d", o.Iterations)
	case !(o.MaxRate >= 0) || math.IsInf(o.MaxRate, 0):
		return errorf("OneCycleScheduler.MaxRate must be > 0, got %g", o.MaxRate)
	case !(o.StartRate >= 0) || math.IsInf(o.StartRate, 0):
		return errorf("OneCycleScheduler.StartRate must be > 0, got %g", o.StartRate)
	case maxRate < startRate:
		return errorf("OneCycleScheduler.MaxRate %g is below StartRate %g: the cycle rises from StartRate to MaxRate", maxRate, startRate)
	case o.LastIterations < 0 || o.LastIterations > o.Iterations:
		return errorf("OneCycleScheduler.LastIterations must be in [0, Iterations = %d], got %d", o.Iterations, o.LastIterations)
	case !(o.LastRate >= 0) || math.IsInf(o.LastRate, 0):
		return errorf("OneCycleScheduler.LastRate must be > 0, got %g", o.LastRate)
	}
	o.iteration = 0
	return nil
}

// Rate is the learning rate of the cycle at step iteration (0-based).
func (o *OneCycleScheduler) Rate(iteration int) float64 {
	maxRate, startRate, lastIterations, lastRate := o.settings()
	half := (o.Iterations - lastIterations) / 2
	interpolate := func(iter1, iter2 int, rate1, rate2 float64) float64 {
		return (rate2-rate1)*float64(iteration-iter1)/float64(iter2-iter1) + rate1
	}
	switch {
	case iteration < half:
		return interpolate(0, half, startRate, maxRate)
	case iteration < 2*half:
		return interpolate(half, 2*half, maxRate, startRate)
	case iteration < o.Iterations:
		return interpolate(2*half, o.Iterations, startRate, lastRate)
	}
	return lastRate
}

// OnBatchBegin sets the learning rate of the coming step.
func (o *OneCycleScheduler) OnBatchBegin(run Training, batch int) error {
	rate := o.Rate(o.iteration)
	o.iteration++
	return run.SetLearningRate(rate)
}

// setsLearningRate marks it as a callback that sets the learning rate (see checkFit).
func (o *OneCycleScheduler) setsLearningRate() {}
