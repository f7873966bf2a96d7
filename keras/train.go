package keras

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// fitTraining is the Training that Fit's callbacks see.
type fitTraining struct {
	m      *Model
	p      *printer
	epochs int
	stop   bool
}

// Epochs implements Training.
func (r *fitTraining) Epochs() int { return r.epochs }

// StopTraining implements Training.
func (r *fitTraining) StopTraining() { r.stop = true }

// Weights implements Training.
func (r *fitTraining) Weights() ([]LayerWeights, error) { return r.m.Weights() }

// SetWeights implements Training.
func (r *fitTraining) SetWeights(w []LayerWeights) error { return r.m.SetWeights(w) }

// Printf implements Training.
func (r *fitTraining) Printf(format string, args ...any) { r.p.line(format, args...) }

// SetLearningRate implements Training.
func (r *fitTraining) SetLearningRate(lr float64) error { return r.m.SetLearningRate(lr) }

// LearningRate implements Training.
func (r *fitTraining) LearningRate() float64 {
	lr, _ := r.m.LearningRate() // Fit runs compiled models only
	return lr
}

// observedTraining is the Training that Fit's observers see: the run, read-only.
type observedTraining struct{ *fitTraining }

// errObserver is what an observer gets when it tries to change the training.
var errObserver = errorf("an observer cannot change the training (make it a callback)")

// StopTraining implements Training: observers cannot stop the training; it does nothing.
func (observedTraining) StopTraining() {}

// SetWeights implements Training: it refuses.
func (observedTraining) SetWeights([]LayerWeights) error { return errObserver }

// SetLearningRate implements Training: it refuses.
func (observedTraining) SetLearningRate(float64) error { return errObserver }

// fitLoop is the state of one Fit's loop over epochs and steps.
type fitLoop struct {
	m          *Model
	e          *engine
	data       *split
	cfg        FitConfig
	p          *printer
	run        *fitTraining
	trainBatch *batcher
	valBatch   *batcher
	order      []int // training rows, shuffled once per Fit (as Keras does with its seed set)
	rng        *rand.Rand
	steps      int // steps per epoch

	schedule   LearningRateSchedule // the optimizer's, or nil
	iterations int64                // the optimizer's step count (host-side copy)
	lastLR     float32              // the scheduled rate last written to the optimizer
	lrWritten  bool                 // whether lastLR was written in this Fit
}

// train runs the epochs of a checked Fit on the engine e.
func (m *Model) train(ctx context.Context, e *engine, data *split, cfg FitConfig, p *printer) (*History, error) {
	iterations, err := m.Iterations()
	if err != nil {
		return nil, err
	}
	t := &fitLoop{m: m, e: e, data: data, cfg: cfg, p: p,
		run:        &fitTraining{m: m, p: p, epochs: cfg.Epochs},
		trainBatch: newBatcher(data.x, data.y),
		order:      slices.Clone(data.train),
		// The shuffles depend on the seed and on the optimizer steps the model took before this
		// Fit (none for a new or recompiled model), like Keras's seed generator state.
		rng:        rand.New(rand.NewPCG(uint64(m.spec.Seed), 0x73687566_00000000|uint64(iterations))),
		steps:      (len(data.train) + cfg.BatchSize - 1) / cfg.BatchSize,
		schedule:   m.compiled.cfg.Optimizer.Schedule,
		iterations: iterations,
	}
	if data.hasValidation {
		t.valBatch = newBatcher(data.valX, data.valY)
	}
	hist := &History{EpochsRequested: cfg.Epochs, BatchSize: cfg.BatchSize, StepsPerEpoch: t.steps,
		TrainSamples: len(data.train), ValSamples: len(data.val)}
	if err := t.callbacks("OnTrainBegin", func(cb Callback, run Training) error { return cb.OnTrainBegin(run) }); err != nil {
		return nil, err
	}
	var logs Logs
	for epoch := 0; epoch < cfg.Epochs && !t.run.stop; epoch++ {
		p.line("Epoch %d/%d", epoch+1, cfg.Epochs)
		if err := t.callbacks("OnEpochBegin", func(cb Callback, run Training) error { return cb.OnEpochBegin(run, epoch) }); err != nil {
			return nil, err
		}
		entry, done, err := t.epoch(ctx, epoch)
		if ctxErr := ctx.Err(); ctxErr != nil && err == nil && done < t.steps {
			// Cancelled between two steps: keep the epochs finished so far.
			hist.finish(cfg.Callbacks)
			m.history = hist
			return hist, errorf("fit: stopped in epoch %d after %d of %d steps: %w", epoch+1, done, t.steps, ctxErr)
		}
		if err != nil {
			return nil, err
		}
		logs = entry.Logs()
		// As in Keras 3, the callbacks see the epoch before its line is printed, so their messages
		// come first.
		if err := t.callbacks("OnEpochEnd", func(cb Callback, run Training) error { return cb.OnEpochEnd(run, epoch, logs) }); err != nil {
			return nil, err
		}
		p.line("%s%s", formatStep(done, t.steps, time.Duration(entry.Seconds*float64(time.Second)), false),
			formatMetrics(epochMetrics(logs, m.compiled.showAccuracy)))
		hist.Epochs = append(hist.Epochs, entry)
	}
	if err := t.callbacks("OnTrainEnd", func(cb Callback, run Training) error { return cb.OnTrainEnd(run, logs) }); err != nil {
		return nil, err
	}
	hist.finish(cfg.Callbacks)
	m.history = hist
	return hist, nil
}

// callbacks calls hook on every callback in order, then on every observer (with a read-only
// run); an error stops there and names the callback or observer and the hook.
func (t *fitLoop) callbacks(hook string, call func(Callback, Training) error) error {
	for i, cb := range t.cfg.Callbacks {
		if err := call(cb, t.run); err != nil {
			return errorf("fit: callback %d (%s) %s: %w", i, callbackName(cb), hook, err)
		}
	}
	for i, ob := range t.cfg.Observers {
		if err := call(ob, observedTraining{t.run}); err != nil {
			return errorf("fit: observer %d (%s) %s: %w", i, callbackName(ob), hook, err)
		}
	}
	return nil
}

// callbackName names a callback for messages: its Name() if it has one, else its type.
func callbackName(cb Callback) string {
	if n, ok := cb.(interface{ Name() string }); ok {
		return n.Name()
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", cb), "*")
}

// epoch trains one epoch (until its last step or a stop request) and validates it; it returns the
// epoch's log and the number of steps done.
func (t *fitLoop) epoch(ctx context.Context, epoch int) (EpochLog, int, error) {
	cfg := t.cfg
	// Keras 3 on TensorFlow draws its shuffle inside the tf.data pipeline that each epoch iterates
	// afresh; with the seed set (keras.utils.set_random_seed or tf.random.set_seed, as the labs do)
	// that draw repeats, so every epoch sees the same order. cifarlab's models always have a seed:
	// the order is drawn once per Fit, at its first epoch, and kept.
	if !cfg.NoShuffle && epoch == 0 {
		t.rng.Shuffle(len(t.order), func(i, j int) { t.order[i], t.order[j] = t.order[j], t.order[i] })
	}
	start := time.Now()
	lastProgress := start
	var sumLoss, sumCorrect float64
	seen, done := 0, 0
	for s := 0; s < t.steps && !t.run.stop; s++ {
		if ctx.Err() != nil {
			return EpochLog{}, done, nil // train reports the cancellation
		}
		if err := t.callbacks("OnBatchBegin", func(cb Callback, run Training) error { return cb.OnBatchBegin(run, s) }); err != nil {
			return EpochLog{}, done, err
		}
		if err := t.applySchedule(); err != nil {
			return EpochLog{}, done, err
		}
		idx := t.order[s*cfg.BatchSize : min((s+1)*cfg.BatchSize, len(t.order))]
		xT, yT := t.trainBatch.inputs(idx), t.trainBatch.labels(idx)
		loss, correct, err := step(t.e.train, xT, yT)
		finalizeAll(xT, yT)
		if err != nil {
			return EpochLog{}, done, errorf("fit: epoch %d step %d: %w", epoch+1, s+1, err)
		}
		t.iterations++
		sumLoss += loss * float64(len(idx))
		sumCorrect += correct
		seen += len(idx)
		done = s + 1
		batchLogs := Logs{"loss": sumLoss / float64(seen), "accuracy": sumCorrect / float64(seen)}
		if err := t.callbacks("OnBatchEnd", func(cb Callback, run Training) error { return cb.OnBatchEnd(run, s, batchLogs) }); err != nil {
			return EpochLog{}, done, err
		}
		if now := time.Now(); done < t.steps && now.Sub(lastProgress) >= cfg.ProgressInterval {
			lastProgress = now
			t.p.progress("%s%s", formatStep(done, t.steps, now.Sub(start), true),
				formatMetrics(epochMetrics(batchLogs, t.m.compiled.showAccuracy)))
		}
	}
	// As Keras logs it at the end of the epoch: a schedule's value at the steps taken so far.
	lr, err := t.m.LearningRate()
	if err != nil {
		return EpochLog{}, done, err
	}
	entry := EpochLog{Epoch: epoch + 1, Loss: math.NaN(), Accuracy: math.NaN(),
		ValLoss: math.NaN(), ValAccuracy: math.NaN(), LearningRate: lr}
	if seen > 0 {
		entry.Loss, entry.Accuracy = sumLoss/float64(seen), sumCorrect/float64(seen)
	}
	if t.data.hasValidation {
		if entry.ValLoss, entry.ValAccuracy, err = t.m.evaluate(t.e.eval, t.valBatch, t.data.val, cfg.BatchSize); err != nil {
			return EpochLog{}, done, errorf("fit: validating epoch %d: %w", epoch+1, err)
		}
	}
	entry.Seconds = time.Since(start).Seconds()
	return entry, done, nil
}

// applySchedule writes the schedule's rate at the current step count into the optimizer before a
// step, when it changed (Keras evaluates the schedule at optimizer.iterations in each step).
func (t *fitLoop) applySchedule() error {
	if t.schedule == nil {
		return nil
	}
	lr := float32(t.schedule.At(t.iterations))
	if t.lrWritten && lr == t.lastLR {
		return nil
	}
	if err := t.e.upd.setLearningRate(float64(lr)); err != nil {
		return errorf("fit: setting the scheduled learning rate: %w", err)
	}
	t.lastLR, t.lrWritten = lr, true
	return nil
}

// epochReporter is implemented by callbacks that know the best epoch (EarlyStopping).
type epochReporter interface {
	BestEpoch() int
	StoppedEpoch() int
	RestoredBest() bool
}

// finish fills BestEpoch, StoppedEpoch and WeightsEpoch once training ended.
func (h *History) finish(callbacks []Callback) {
	last := len(h.Epochs)
	h.BestEpoch = h.lowestLossEpoch()
	h.WeightsEpoch = last
	if last < h.EpochsRequested {
		h.StoppedEpoch = last
	}
	for _, cb := range callbacks {
		if r, ok := cb.(epochReporter); ok && r.BestEpoch() > 0 {
			h.BestEpoch = r.BestEpoch()
			if r.StoppedEpoch() > 0 {
				h.StoppedEpoch = r.StoppedEpoch()
			}
			if r.RestoredBest() {
				h.WeightsEpoch = r.BestEpoch()
			}
			break
		}
	}
}
