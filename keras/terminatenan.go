package keras

import "math"

// TerminateOnNaN stops training as soon as the running loss becomes NaN or infinite, like
// keras.callbacks.TerminateOnNaN, printing "Batch 17: Invalid loss, terminating training".
type TerminateOnNaN struct {
	BaseCallback
}

// OnBatchEnd stops training on an invalid loss.
func (TerminateOnNaN) OnBatchEnd(run Training, batch int, logs Logs) error {
	if loss, ok := logs["loss"]; ok && (math.IsNaN(loss) || math.IsInf(loss, 0)) {
		run.Printf("Batch %d: Invalid loss, terminating training", batch)
		run.StopTraining()
	}
	return nil
}
