package keras

import (
	"math"
)

// EarlyStopping stops training when a monitored metric has stopped improving, like
// keras.callbacks.EarlyStopping (Keras 3 semantics): an epoch improves when it beats the best value
// so far by more than MinDelta; training stops once Patience epochs in a row did not improve; with
// RestoreBestWeights the weights of the best epoch are put back when training ends (also when it
// ran all its epochs).
//
// Write it with the fields a Keras call names, e.g.
// &keras.EarlyStopping{Monitor: "val_loss", Patience: 5, RestoreBestWeights: true}: every zero field
// is Keras's default (Monitor "val_loss", Mode "auto", MinDelta 0, Patience 0). It prints Keras's
// messages ("Epoch 36: early stopping", "Restoring model weights from the end of the best epoch:
// 26.") unless Quiet (Keras prints them only with verbose=1; here they are on by default).
type EarlyStopping struct {
	BaseCallback // the hooks it does not use

	Monitor            string  `json:"monitor"`   // metric name, default "val_loss"
	MinDelta           float64 `json:"min_delta"` // minimum change that counts as improvement
	Patience           int     `json:"patience"`  // epochs without improvement before stopping
	Mode               string  `json:"mode"`      // "auto" (default), "min" or "max"
	RestoreBestWeights bool    `json:"restore_best_weights"`
	// Baseline, when set, is a value the monitored metric must beat for the patience to start
	// over: an epoch that improves on the best so far but not on the baseline still counts as
	// one without improvement (Keras's baseline).
	Baseline *float64 `json:"baseline,omitempty"`
	// StartFromEpoch is the number of epochs (warm-up) before the monitoring starts.
	StartFromEpoch int  `json:"start_from_epoch,omitempty"`
	Quiet          bool `json:"quiet,omitempty"` // no messages

	wait, stoppedEpoch, bestEpoch int
	best                          float64
	bestWeights                   []LayerWeights
	seen, warned, restored        bool // seen: an epoch was monitored, and best holds its value
}

// OnTrainBegin checks the settings and resets the state, so the callback can be reused.
func (es *EarlyStopping) OnTrainBegin(Training) error {
	if err := checkMode(es.Mode); err != nil {
		return errorf("EarlyStopping.%w", err)
	}
	if es.Patience < 0 {
		return errorf("EarlyStopping.Patience must be >= 0, got %d", es.Patience)
	}
	if math.IsNaN(es.MinDelta) {
		return errorf("EarlyStopping.MinDelta is NaN")
	}
	if es.StartFromEpoch < 0 {
		return errorf("EarlyStopping.StartFromEpoch must be >= 0, got %d", es.StartFromEpoch)
	}
	es.wait, es.stoppedEpoch, es.bestEpoch = 0, 0, 0
	es.best = 0
	es.bestWeights = nil
	es.seen, es.warned, es.restored = false, false, false
	return nil
}

func (es *EarlyStopping) maximize() bool { return maximizes(es.Mode, es.monitor()) }

// OnEpochEnd tracks the best epoch and asks to stop once patience is exhausted.
func (es *EarlyStopping) OnEpochEnd(run Training, epoch int, logs Logs) error {
	current, ok := monitored(run, logs, es.monitor(), "EarlyStopping", "early stopping is off", es.Quiet, &es.warned)
	if !ok || epoch < es.StartFromEpoch {
		return nil
	}
	if es.RestoreBestWeights && es.bestWeights == nil {
		// Until something improves, the current weights are the best.
		if err := es.snapshot(run, epoch); err != nil {
			return err
		}
	}
	es.wait++
	if isImprovement(current, es.best, es.seen, es.MinDelta, es.maximize()) {
		es.best, es.seen = current, true
		es.bestEpoch = epoch
		if es.Baseline == nil || isImprovement(current, *es.Baseline, true, es.MinDelta, es.maximize()) {
			es.wait = 0
		}
		if es.RestoreBestWeights {
			return es.snapshot(run, epoch)
		}
		return nil
	}
	if es.wait >= es.Patience && epoch > 0 {
		es.stoppedEpoch = epoch
		run.StopTraining()
	}
	return nil
}

func (es *EarlyStopping) snapshot(run Training, epoch int) error {
	w, err := run.Weights()
	if err != nil {
		return errorf("EarlyStopping: saving the weights of epoch %d: %w", epoch+1, err)
	}
	es.bestWeights = w
	es.bestEpoch = epoch
	return nil
}

// OnTrainEnd prints the stop message and restores the best weights.
func (es *EarlyStopping) OnTrainEnd(run Training, _ Logs) error {
	if es.stoppedEpoch > 0 && !es.Quiet {
		run.Printf("Epoch %d: early stopping", es.stoppedEpoch+1)
	}
	if es.RestoreBestWeights && es.bestWeights != nil {
		if !es.Quiet {
			run.Printf("Restoring model weights from the end of the best epoch: %d.", es.bestEpoch+1)
		}
		if err := run.SetWeights(es.bestWeights); err != nil {
			return errorf("EarlyStopping: restoring the weights of epoch %d: %w", es.bestEpoch+1, err)
		}
		es.bestWeights = nil // free the copy; the epoch numbers stay readable
		es.restored = true
	}
	return nil
}

// BestEpoch is the 1-based epoch with the best monitored value in the last run (0 before any).
func (es *EarlyStopping) BestEpoch() int {
	if !es.seen {
		return 0
	}
	return es.bestEpoch + 1
}

// StoppedEpoch is the 1-based epoch at which the last run was stopped, 0 if it was not.
func (es *EarlyStopping) StoppedEpoch() int {
	if es.stoppedEpoch == 0 {
		return 0
	}
	return es.stoppedEpoch + 1
}

// RestoredBest reports whether the last run ended by restoring the best epoch's weights.
func (es *EarlyStopping) RestoredBest() bool { return es.restored }

// monitor is the monitored metric, "val_loss" by default.
func (es *EarlyStopping) monitor() string {
	if es.Monitor == "" {
		return "val_loss"
	}
	return es.Monitor
}
