package keras

import (
	"fmt"
	"math"
	"strings"
)

// Logs are metrics by Keras name: "loss", "accuracy", "val_loss", "val_accuracy" and
// "learning_rate" at the end of an epoch; "loss" and "accuracy" (running epoch means) after a batch.
type Logs map[string]float64

// Callback hooks into Fit, like keras.callbacks.Callback (OnBatchBegin and OnBatchEnd are its
// on_train_batch_begin and on_train_batch_end). Epoch and batch numbers are 0-based, as
// in Keras (messages print epoch+1). Returning an error aborts Fit with that error; to end
// training normally call run.StopTraining. Embed [BaseCallback] to implement only some hooks.
//
// The hooks only talk to the training through run, so a callback can be driven by a scripted
// Training in tests, without training anything.
type Callback interface {
	OnTrainBegin(run Training) error
	OnEpochBegin(run Training, epoch int) error
	OnBatchBegin(run Training, batch int) error
	OnBatchEnd(run Training, batch int, logs Logs) error
	OnEpochEnd(run Training, epoch int, logs Logs) error
	OnTrainEnd(run Training, logs Logs) error
}

// Training is what a Callback sees of the Fit in progress.
type Training interface {
	// Epochs is the number of epochs Fit was asked for.
	Epochs() int
	// LearningRate is the optimizer's current learning rate (a float32 variable, read as float64
	// like Keras does).
	LearningRate() float64
	// SetLearningRate changes the learning rate from the next step on (from OnBatchBegin: that
	// batch's step), without recompiling. It refuses when the optimizer has a Schedule.
	SetLearningRate(lr float64) error
	// StopTraining ends training after the current batch (Keras's model.stop_training = True).
	StopTraining()
	// Weights returns a copy of the model's weights (Keras's model.get_weights()).
	Weights() ([]LayerWeights, error)
	// SetWeights replaces the model's weights (Keras's model.set_weights()).
	SetWeights(weights []LayerWeights) error
	// Printf prints a message line on the Fit's output unless Fit is silent (Verbose 0).
	Printf(format string, args ...any)
}

// BaseCallback implements every Callback hook as a no-op; embed it in your own callbacks.
type BaseCallback struct{}

// OnTrainBegin implements Callback.
func (BaseCallback) OnTrainBegin(Training) error { return nil }

// OnEpochBegin implements Callback.
func (BaseCallback) OnEpochBegin(Training, int) error { return nil }

// OnBatchBegin implements Callback.
func (BaseCallback) OnBatchBegin(Training, int) error { return nil }

// OnBatchEnd implements Callback.
func (BaseCallback) OnBatchEnd(Training, int, Logs) error { return nil }

// OnEpochEnd implements Callback.
func (BaseCallback) OnEpochEnd(Training, int, Logs) error { return nil }

// OnTrainEnd implements Callback.
func (BaseCallback) OnTrainEnd(Training, Logs) error { return nil }

// Monitoring modes of EarlyStopping and ReduceLROnPlateau.
const (
	ModeAuto = "auto" // min for losses, max for accuracies
	ModeMin  = "min"
	ModeMax  = "max"
)

// maximizes reports whether a monitored metric improves upward under mode ("auto" looks at the
// name: accuracies go up, losses go down).
func maximizes(mode, monitor string) bool {
	switch mode {
	case ModeMax:
		return true
	case ModeMin:
		return false
	}
	name := strings.TrimPrefix(monitor, "val_")
	return strings.Contains(name, "acc") || strings.Contains(name, "auc")
}

// checkMode validates a mode field; the error is unprefixed, for the caller to name the field.
func checkMode(mode string) error {
	switch mode {
	case "", ModeAuto, ModeMin, ModeMax:
		return nil
	}
	return fmt.Errorf("Mode %q is unknown (want auto, min or max)", mode)
}

// isImprovement is Keras 3's MonitorCallback._is_improvement, which EarlyStopping and
// ReduceLROnPlateau share: with no reference yet (hasReference false) anything improves, NaN
// included; otherwise current − δ > reference when maximizing, current + δ < reference when
// minimizing, with δ = |minDelta|. As in Keras, the sum is taken in float64 (Python floats) and
// the comparison in float32 (ops.less and ops.greater turn both sides into the backend's float32
// tensors), so a change of exactly δ, or a value that differs from the best only beyond float32's
// precision, is decided as Keras decides it.
func isImprovement(current, reference float64, hasReference bool, minDelta float64, maximize bool) bool {
	if !hasReference {
		return true
	}
	delta := math.Abs(minDelta)
	if maximize {
		return float32(current-delta) > float32(reference)
	}
	return float32(current+delta) < float32(reference)
}

// monitored returns the monitored metric of an epoch's logs. When it is missing, it says so once
// per training (who names the callback, consequence what it means), unless quiet.
func monitored(run Training, logs Logs, monitor, who, consequence string, quiet bool, warned *bool) (float64, bool) {
	v, ok := logs[monitor]
	if !ok {
		if !*warned && !quiet {
			run.Printf("%s: metric %q is not available (no validation data?); %s.", who, monitor, consequence)
		}
		*warned = true
	}
	return v, ok
}
