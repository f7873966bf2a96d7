package keras

import (
	"encoding/json"
	"math"
)

// EpochLog is what one epoch produced. Loss and Accuracy are the running means over the epoch's
// batches (weighted by batch size, dropout on); the validation metrics are computed after the
// epoch in inference mode and are NaN without validation data.
type EpochLog struct {
	Epoch        int     `json:"epoch"` // 1-based, as printed
	Loss         float64 `json:"loss"`
	Accuracy     float64 `json:"accuracy"`
	ValLoss      float64 `json:"val_loss"`
	ValAccuracy  float64 `json:"val_accuracy"`
	LearningRate float64 `json:"learning_rate"` // at the end of the epoch, before OnEpochEnd (a schedule: its value after the epoch's steps), as Keras logs it
	Seconds      float64 `json:"seconds"`       // wall time of the epoch, validation included
}

// Logs returns the epoch's metrics under Keras's names ("loss", "accuracy", "val_loss",
// "val_accuracy", "learning_rate"), leaving out the NaN validation metrics of a run without
// validation data.
func (e EpochLog) Logs() Logs {
	logs := Logs{"loss": e.Loss, "accuracy": e.Accuracy, "learning_rate": e.LearningRate}
	if !math.IsNaN(e.ValLoss) {
		logs["val_loss"] = e.ValLoss
		logs["val_accuracy"] = e.ValAccuracy
	}
	return logs
}

// History is the result of Fit, like Keras's History object.
type History struct {
	Epochs []EpochLog `json:"epochs"` // one per epoch that ran

	// BestEpoch is the 1-based epoch with the best monitored value: EarlyStopping's best epoch when
	// it is used, else the epoch with the lowest val_loss (or loss without validation data).
	BestEpoch int `json:"best_epoch"`
	// StoppedEpoch is the 1-based epoch at which a callback stopped training, 0 if all epochs ran.
	StoppedEpoch int `json:"stopped_epoch"`
	// WeightsEpoch is the 1-based epoch whose weights the model holds after Fit: BestEpoch when
	// EarlyStopping restored the best weights, else the last epoch.
	WeightsEpoch int `json:"weights_epoch"`

	EpochsRequested int `json:"epochs_requested"`
	BatchSize       int `json:"batch_size"`
	StepsPerEpoch   int `json:"steps_per_epoch"`
	TrainSamples    int `json:"train_samples"`
	ValSamples      int `json:"val_samples"`
}

// Series returns one metric per epoch by its Keras name ("loss", "accuracy", "val_loss",
// "val_accuracy", "learning_rate", "seconds"), like history.history["val_loss"]; nil for an
// unknown name.
func (h *History) Series(name string) []float64 {
	pick := map[string]func(EpochLog) float64{
		"loss":          func(e EpochLog) float64 { return e.Loss },
		"accuracy":      func(e EpochLog) float64 { return e.Accuracy },
		"val_loss":      func(e EpochLog) float64 { return e.ValLoss },
		"val_accuracy":  func(e EpochLog) float64 { return e.ValAccuracy },
		"learning_rate": func(e EpochLog) float64 { return e.LearningRate },
		"seconds":       func(e EpochLog) float64 { return e.Seconds },
	}[name]
	if pick == nil {
		return nil
	}
	out := make([]float64, len(h.Epochs))
	for i, e := range h.Epochs {
		out[i] = pick(e)
	}
	return out
}

// Last is the log of the last epoch that ran (zero if none ran).
func (h *History) Last() EpochLog {
	if len(h.Epochs) == 0 {
		return EpochLog{}
	}
	return h.Epochs[len(h.Epochs)-1]
}

// Epoch returns the log of a 1-based epoch (zero if it did not run).
func (h *History) Epoch(epoch int) EpochLog {
	if epoch < 1 || epoch > len(h.Epochs) {
		return EpochLog{}
	}
	return h.Epochs[epoch-1]
}

// lowestLossEpoch is the 1-based epoch with the lowest val_loss, or loss without validation.
func (h *History) lowestLossEpoch() int {
	best, bestValue := 0, math.Inf(1)
	for _, e := range h.Epochs {
		v := e.ValLoss
		if math.IsNaN(v) {
			v = e.Loss
		}
		if v < bestValue {
			best, bestValue = e.Epoch, v
		}
	}
	return best
}

// jsonFloat is a float64 that survives JSON, which has no NaN or infinities: NaN is written as
// null, ±Inf as the strings "Infinity" and "-Infinity".
type jsonFloat float64

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte("null"), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *jsonFloat) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "null":
		*f = jsonFloat(math.NaN())
		return nil
	case `"Infinity"`:
		*f = jsonFloat(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*f = jsonFloat(math.Inf(-1))
		return nil
	}
	var v float64
	err := json.Unmarshal(data, &v)
	*f = jsonFloat(v)
	return err
}

// epochLogJSON is EpochLog as written to JSON.
type epochLogJSON struct {
	Epoch        int       `json:"epoch"`
	Loss         jsonFloat `json:"loss"`
	Accuracy     jsonFloat `json:"accuracy"`
	ValLoss      jsonFloat `json:"val_loss"`
	ValAccuracy  jsonFloat `json:"val_accuracy"`
	LearningRate jsonFloat `json:"learning_rate"`
	Seconds      jsonFloat `json:"seconds"`
}

// MarshalJSON writes NaN metrics (no validation data, a diverged loss) as null.
func (e EpochLog) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochLogJSON{Epoch: e.Epoch, Loss: jsonFloat(e.Loss), Accuracy: jsonFloat(e.Accuracy),
		ValLoss: jsonFloat(e.ValLoss), ValAccuracy: jsonFloat(e.ValAccuracy),
		LearningRate: jsonFloat(e.LearningRate), Seconds: jsonFloat(e.Seconds)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *EpochLog) UnmarshalJSON(data []byte) error {
	var j epochLogJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*e = EpochLog{Epoch: j.Epoch, Loss: float64(j.Loss), Accuracy: float64(j.Accuracy),
		ValLoss: float64(j.ValLoss), ValAccuracy: float64(j.ValAccuracy),
		LearningRate: float64(j.LearningRate), Seconds: float64(j.Seconds)}
	return nil
}
