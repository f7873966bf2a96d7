package keras

import (
	"context"
	"io"
	"math"
	"slices"
	"time"
)

// DefaultProgressInterval is how often Fit prints a progress line within an epoch at Verbose 1.
const DefaultProgressInterval = 5 * time.Second

// FitConfig holds Fit's settings, like the arguments of Keras's model.fit.
//
// Its JSON holds exactly the settings that change what the training computes: keras/runs keys a
// memoized run with it, so a field added here is part of the key unless it is tagged `json:"-"`,
// which only what cannot change the weights may be (output, observers; the validation data, which
// keras/runs fingerprints itself). Callbacks go into the JSON with their exported fields; keras/runs
// adds their types.
type FitConfig struct {
	Epochs    int // number of epochs, > 0
	BatchSize int // samples per step, > 0 (Keras's default is 32)

	// ValidationSplit in [0, 1) holds out the last fraction of the samples (taken before any
	// shuffling, as Keras does) for validation. Ignored when ValidationData is set.
	ValidationSplit float64
	// ValidationData is evaluated after every epoch instead of a split of the training data.
	ValidationData *Dataset `json:"-"`

	// NoShuffle keeps the training samples in order. Otherwise they are shuffled once per Fit, from
	// the model's seed and the number of Fit calls before, and every epoch takes that order: what
	// Keras 3 on TensorFlow does when the seed is set (keras.utils.set_random_seed or
	// tf.random.set_seed), since its tf.data shuffle repeats its draw each epoch (bench/keras).
	NoShuffle bool

	// Callbacks take part in the training (EarlyStopping, ReduceLROnPlateau): they may stop it,
	// change the learning rate or restore weights.
	Callbacks []Callback
	// Observers are called like Callbacks, after them, but only watch: a live chart, a logger. The
	// Training they get refuses to change anything, so they are not part of which training a
	// Fit is (keras/runs leaves them out of a run's key).
	Observers []Callback `json:"-"`

	// Verbose is Keras's verbosity: 0 silent, 1 epoch lines plus a progress line every
	// ProgressInterval within long epochs, 2 epoch lines only.
	Verbose int `json:"-"`
	// Output receives the lines (default: the model's output, os.Stdout unless SetOutput).
	Output io.Writer `json:"-"`
	// ProgressInterval is the time between progress lines at Verbose 1 (default 5s).
	ProgressInterval time.Duration `json:"-"`

	// Log, if set, receives a record of the training at every verbosity: the epoch lines and the
	// callbacks' messages, without the progress lines within epochs (keras/runs saves it with a
	// memoized run and prints it again when the run is loaded).
	Log io.Writer `json:"-"`
}

// split is the training and validation data of one Fit.
type split struct {
	x, valX       Array
	y, valY       Labels
	train, val    []int // row indices into x (train) and valX (val)
	hasValidation bool
}

// Fit trains the model, like Keras's model.fit, and returns the History (also kept as
// m.History()). Training metrics are running means over the epoch's batches with dropout on;
// validation metrics are computed in inference mode after each epoch. A stop requested by a
// callback ends training after the current batch; the epoch is still validated and logged.
//
// Cancelling ctx stops training between two steps: Fit then returns the History of the epochs
// finished so far (the weights are those after the last step taken) and an error that wraps
// ctx.Err(). Fit always trains; keras/runs adds memoized runs on top of it.
func (m *Model) Fit(ctx context.Context, x Array, y Labels, cfg FitConfig) (*History, error) {
	if m.compiled == nil {
		return nil, errNotCompiled
	}
	data, err := m.checkFit(x, y, &cfg)
	if err != nil {
		return nil, err
	}
	out := cfg.Output
	if out == nil {
		out = m.out
	}
	p := &printer{w: out, verbose: cfg.Verbose, log: cfg.Log}
	e, err := m.engineFor()
	if err != nil {
		return nil, err
	}
	return m.train(ctx, e, data, cfg, p)
}

// learningRateSetter is implemented by the callbacks of this package that set the learning rate,
// which an optimizer with a Schedule refuses.
type learningRateSetter interface{ setsLearningRate() }

// checkFit validates Fit's arguments and splits off the validation data.
func (m *Model) checkFit(x Array, y Labels, cfg *FitConfig) (*split, error) {
	switch {
	case cfg.Epochs <= 0:
		return nil, errorf("fit: Epochs must be > 0, got %d", cfg.Epochs)
	case cfg.BatchSize <= 0:
		return nil, errorf("fit: BatchSize must be > 0, got %d", cfg.BatchSize)
	case !(cfg.ValidationSplit >= 0 && cfg.ValidationSplit < 1):
		return nil, errorf("fit: ValidationSplit must be in [0, 1), got %g", cfg.ValidationSplit)
	case cfg.Verbose < 0 || cfg.Verbose > 2:
		return nil, errorf("fit: Verbose must be 0, 1 or 2, got %d", cfg.Verbose)
	case cfg.ProgressInterval < 0:
		return nil, errorf("fit: ProgressInterval must be >= 0, got %v", cfg.ProgressInterval)
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	for i, ob := range cfg.Observers {
		if ob == nil {
			return nil, errorf("fit: Observers[%d] is nil", i)
		}
	}
	for i, cb := range cfg.Callbacks {
		if cb == nil {
			return nil, errorf("fit: Callbacks[%d] is nil", i)
		}
	}
	if sched := m.compiled.cfg.Optimizer.Schedule; sched != nil {
		for i, cb := range cfg.Callbacks {
			if _, ok := cb.(learningRateSetter); ok {
				return nil, errorf("fit: Callbacks[%d] (%s) sets the learning rate, but the optimizer's learning rate is its Schedule (%s): use one or the other",
					i, callbackName(cb), sched.className())
			}
		}
	}
	if err := m.checkData("x", "y", x, y); err != nil {
		return nil, err
	}
	s := &split{x: x, y: y}
	n := x.Len()
	switch {
	case cfg.ValidationData != nil:
		if err := m.checkData("ValidationData.X", "ValidationData.Y", cfg.ValidationData.X, cfg.ValidationData.Y); err != nil {
			return nil, err
		}
		s.train = rangeIndices(0, n)
		s.valX, s.valY = cfg.ValidationData.X, cfg.ValidationData.Y
		s.val = rangeIndices(0, s.valX.Len())
		s.hasValidation = true
	case cfg.ValidationSplit > 0:
		splitAt := int(math.Floor(float64(n) * (1 - cfg.ValidationSplit)))
		if splitAt == 0 || splitAt == n {
			return nil, errorf("fit: ValidationSplit %g of %d samples leaves %d for training and %d for validation; both need at least one sample (give more data or another ValidationSplit)",
				cfg.ValidationSplit, n, splitAt, n-splitAt)
		}
		s.train = rangeIndices(0, splitAt)
		s.valX, s.valY = x, y
		s.val = rangeIndices(splitAt, n)
		s.hasValidation = true
	default:
		s.train = rangeIndices(0, n)
	}
	return s, nil
}

// checkData validates inputs and labels against the model and the compiled loss.
func (m *Model) checkData(xField, yField string, x Array, y Labels) error {
	if err := m.checkInputs(xField, x); err != nil {
		return err
	}
	if m.compiled != nil {
		loss := m.compiled.cfg.Loss
		if m.compiled.sparse() && !y.Sparse() && y.OneHot != nil {
			return errorf("%s: %s takes class ids (keras.Classes), got one-hot labels", yField, loss)
		}
		if !m.compiled.sparse() && y.Sparse() {
			return errorf("%s: %s takes one-hot labels (keras.OneHot, or y.ToOneHot(%d)), got class ids", yField, loss, m.NumOutputs())
		}
	}
	return y.validate(yField, m.NumOutputs(), x.Len())
}

// checkInputs validates inputs against the model's input shape.
func (m *Model) checkInputs(field string, x Array) error {
	if err := x.validate(field); err != nil {
		return err
	}
	if !slices.Equal(x.SampleShape(), m.spec.InputShape) {
		return errorf("%s has per-sample shape %v but the model's input shape is %v", field, x.SampleShape(), m.spec.InputShape)
	}
	return nil
}
