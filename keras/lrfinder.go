package keras

import (
	"context"
	"io"
	"math"
)

// LRFinderConfig holds FindLearningRate's settings, like the arguments of the book's
// find_learning_rate; a zero field means the book's default.
type LRFinderConfig struct {
	MinRate   float64 // the first step's learning rate; default 1e-4
	MaxRate   float64 // the rate the growth reaches after the last step; default 1
	BatchSize int     // default 32
	Epochs    int     // default 1
	// StopFactor ends the search once a batch's loss exceeds StopFactor times the lowest so far
	// (default 4); a loss that is NaN or infinite ends it too.
	StopFactor float64

	Verbose int       // as FitConfig.Verbose; 0 (the default here) is silent
	Output  io.Writer // as FitConfig.Output
}

// FindLearningRate is the learning-rate finder of Géron's book (ch. 11): it trains m for
// cfg.Epochs on x, y with the learning rate growing exponentially from MinRate towards MaxRate
// over the steps, and returns the rate and the loss of every batch, for a plot of loss against
// rate (plots.LearningRateFinder). It stops early when the loss explodes (StopFactor). The model
// is left as it was: weights, optimizer state, learning rate and History are restored, so a later
// Fit (and its run key) is the same as without the search.
func FindLearningRate(ctx context.Context, m *Model, x Array, y Labels, cfg LRFinderConfig) (rates, losses []float64, err error) {
	if m.compiled == nil {
		return nil, nil, errNotCompiled
	}
	if s := m.compiled.cfg.Optimizer.Schedule; s != nil {
		return nil, nil, errorf("FindLearningRate: the optimizer's learning rate is its Schedule (%s); compile with a constant learning rate to search for one", s.className())
	}
	cfg = cfg.withDefaults()
	switch {
	case !(cfg.MinRate > 0) || math.IsInf(cfg.MinRate, 0):
		return nil, nil, errorf("FindLearningRate: LRFinderConfig.MinRate must be > 0, got %g", cfg.MinRate)
	case !(cfg.MaxRate > cfg.MinRate) || math.IsInf(cfg.MaxRate, 0):
		return nil, nil, errorf("FindLearningRate: LRFinderConfig.MaxRate must be above MinRate %g, got %g", cfg.MinRate, cfg.MaxRate)
	case cfg.BatchSize <= 0:
		return nil, nil, errorf("FindLearningRate: LRFinderConfig.BatchSize must be > 0, got %d", cfg.BatchSize)
	case cfg.Epochs <= 0:
		return nil, nil, errorf("FindLearningRate: LRFinderConfig.Epochs must be > 0, got %d", cfg.Epochs)
	case !(cfg.StopFactor > 1):
		return nil, nil, errorf("FindLearningRate: LRFinderConfig.StopFactor must be > 1, got %g", cfg.StopFactor)
	}
	weights, err := m.Weights()
	if err != nil {
		return nil, nil, errorf("FindLearningRate: %w", err)
	}
	state, err := m.OptimizerState()
	if err != nil {
		return nil, nil, errorf("FindLearningRate: %w", err)
	}
	lr, err := m.LearningRate()
	if err != nil {
		return nil, nil, errorf("FindLearningRate: %w", err)
	}
	history := m.History()
	defer func() {
		restored := m.SetWeights(weights)
		if restored == nil {
			restored = m.SetOptimizerState(state)
		}
		if restored == nil {
			restored = m.SetLearningRate(lr)
		}
		m.SetHistory(history)
		if restored != nil && err == nil {
			err = errorf("FindLearningRate: restoring the model: %w", restored)
		}
	}()
	steps := (x.Len() + cfg.BatchSize - 1) / cfg.BatchSize * cfg.Epochs
	f := &lrFinder{minRate: cfg.MinRate, factor: math.Pow(cfg.MaxRate/cfg.MinRate, 1/float64(steps)),
		stopFactor: cfg.StopFactor, batchSize: cfg.BatchSize, samples: x.Len()}
	_, err = m.Fit(ctx, x, y, FitConfig{Epochs: cfg.Epochs, BatchSize: cfg.BatchSize, Callbacks: []Callback{f},
		Verbose: cfg.Verbose, Output: cfg.Output})
	if err != nil {
		return f.rates, f.losses, errorf("FindLearningRate: %w", err)
	}
	return f.rates, f.losses, nil
}

// withDefaults fills the zero fields with the book's defaults.
func (c LRFinderConfig) withDefaults() LRFinderConfig {
	if c.MinRate == 0 {
		c.MinRate = 1e-4
	}
	if c.MaxRate == 0 {
		c.MaxRate = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.StopFactor == 0 {
		c.StopFactor = 4
	}
	return c
}

// lrFinder is FindLearningRate's callback: it sets each step's rate and records its batch loss
// (from the running epoch mean that OnBatchEnd gets, as the book's ExponentialLearningRate does).
type lrFinder struct {
	BaseCallback
	minRate, factor, stopFactor float64
	batchSize, samples          int

	step          int
	epochLossSum  float64 // sum of the losses of the samples seen this epoch
	best          float64
	rates, losses []float64
}

// OnEpochBegin starts the epoch's running sum.
func (f *lrFinder) OnEpochBegin(Training, int) error {
	f.epochLossSum = 0
	return nil
}

// OnBatchBegin sets the step's rate: MinRate·factor^step.
func (f *lrFinder) OnBatchBegin(run Training, batch int) error {
	return run.SetLearningRate(f.minRate * math.Pow(f.factor, float64(f.step)))
}

// OnBatchEnd records the step's rate and loss, and stops when the loss explodes.
func (f *lrFinder) OnBatchEnd(run Training, batch int, logs Logs) error {
	f.step++
	seen := min((batch+1)*f.batchSize, f.samples)
	sum := logs["loss"] * float64(seen)
	loss := (sum - f.epochLossSum) / float64(seen-batch*f.batchSize)
	f.epochLossSum = sum
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		run.StopTraining()
		return nil
	}
	f.rates = append(f.rates, run.LearningRate())
	f.losses = append(f.losses, loss)
	if len(f.losses) == 1 || loss < f.best {
		f.best = loss
	}
	if loss > f.stopFactor*f.best {
		run.StopTraining()
	}
	return nil
}
