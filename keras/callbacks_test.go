package keras

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// scriptedRun is a Training without a model: its "weights" record the epoch they come from,
// its learning rate is a float32 like Keras's, and messages are collected.
type scriptedRun struct {
	epochs   int
	lr       float32
	stop     bool
	epoch    int // epoch whose weights the "model" holds
	restored int // epoch of the weights last passed to SetWeights, -1 if none
	messages []string
}

func newScriptedRun(epochs int, lr float64) *scriptedRun {
	return &scriptedRun{epochs: epochs, lr: float32(lr), restored: -1}
}

func (r *scriptedRun) Epochs() int                      { return r.epochs }
func (r *scriptedRun) LearningRate() float64            { return float64(r.lr) }
func (r *scriptedRun) SetLearningRate(lr float64) error { r.lr = float32(lr); return nil }
func (r *scriptedRun) StopTraining()                    { r.stop = true }
func (r *scriptedRun) Printf(format string, args ...any) {
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
}
func (r *scriptedRun) Weights() ([]LayerWeights, error) {
	return []LayerWeights{{Name: "dense", Bias: []float32{float32(r.epoch)}}}, nil
}
func (r *scriptedRun) SetWeights(w []LayerWeights) error {
	r.restored = int(w[0].Bias[0])
	r.epoch = r.restored
	return nil
}

// drive runs cb over the scripted metric values of monitor, one per epoch, as Fit would, and
// returns the run, the number of epochs that ran and the learning rate of each epoch.
func drive(t *testing.T, cb Callback, monitor string, values []float64, lr float64) (*scriptedRun, int, []float64) {
	t.Helper()
	run := newScriptedRun(len(values), lr)
	if err := cb.OnTrainBegin(run); err != nil {
		t.Fatal(err)
	}
	ran := 0
	var lrs []float64
	for epoch := 0; epoch < len(values) && !run.stop; epoch++ {
		if err := cb.OnEpochBegin(run, epoch); err != nil {
			t.Fatal(err)
		}
		run.epoch = epoch
		lrs = append(lrs, run.LearningRate())
		if err := cb.OnEpochEnd(run, epoch, Logs{monitor: values[epoch], "learning_rate": run.LearningRate()}); err != nil {
			t.Fatal(err)
		}
		ran++
	}
	if err := cb.OnTrainEnd(run, nil); err != nil {
		t.Fatal(err)
	}
	return run, ran, lrs
}

func TestEarlyStoppingScripted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		es       *EarlyStopping
		monitor  string
		values   []float64
		ran      int // epochs that ran
		best     int // 1-based best epoch
		stopped  int // 1-based stop epoch, 0 if none
		restored int // 0-based epoch restored, -1 if none
		messages []string
	}{
		{
			name: "lab 3 style", es: &EarlyStopping{Monitor: "val_loss", Patience: 3, RestoreBestWeights: true}, monitor: "val_loss",
			values: []float64{1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.7, 0.6},
			ran:    6, best: 3, stopped: 6, restored: 2,
			messages: []string{"Epoch 6: early stopping", "Restoring model weights from the end of the best epoch: 3."},
		},
		{
			name: "no restore", es: &EarlyStopping{Monitor: "val_loss", Patience: 2}, monitor: "val_loss",
			values: []float64{1.0, 1.1, 1.2, 0.5},
			ran:    3, best: 1, stopped: 3, restored: -1,
			messages: []string{"Epoch 3: early stopping"},
		},
		{
			name: "restores the best even without stopping (Keras 3)", es: &EarlyStopping{Monitor: "val_loss", Patience: 5, RestoreBestWeights: true}, monitor: "val_loss",
			values: []float64{1.0, 0.5, 0.7, 0.8},
			ran:    4, best: 2, stopped: 0, restored: 1,
			messages: []string{"Restoring model weights from the end of the best epoch: 2."},
		},
		{
			name: "min_delta", es: &EarlyStopping{Monitor: "val_loss", Patience: 2, MinDelta: 0.1, RestoreBestWeights: true},
			monitor: "val_loss",
			values:  []float64{1.0, 0.95, 0.85, 0.8, 0.79}, // 0.95 and 0.8 are less than MinDelta better
			ran:     5, best: 3, stopped: 5, restored: 2,
			messages: []string{"Epoch 5: early stopping", "Restoring model weights from the end of the best epoch: 3."},
		},
		{
			name: "auto mode maximizes accuracy", es: &EarlyStopping{Monitor: "val_accuracy", Patience: 1, RestoreBestWeights: true}, monitor: "val_accuracy",
			values: []float64{0.3, 0.5, 0.4, 0.6},
			ran:    3, best: 2, stopped: 3, restored: 1,
			messages: []string{"Epoch 3: early stopping", "Restoring model weights from the end of the best epoch: 2."},
		},
		{
			name: "max mode", es: &EarlyStopping{Monitor: "val_loss", Mode: ModeMax, Patience: 1},
			monitor: "val_loss",
			values:  []float64{0.3, 0.2, 0.4},
			ran:     2, best: 1, stopped: 2, restored: -1,
			messages: []string{"Epoch 2: early stopping"},
		},
		{
			// As Keras 3: the first monitored value is the best so far whatever it is, NaN included,
			// and nothing beats NaN afterwards; patience 0 never stops on epoch 0.
			name: "patience 0 never stops on epoch 0", es: &EarlyStopping{Monitor: "val_loss", Patience: 0}, monitor: "val_loss",
			values: []float64{math.NaN(), 1, 2},
			ran:    2, best: 1, stopped: 2, restored: -1,
			messages: []string{"Epoch 2: early stopping"},
		},
		{
			name: "quiet", es: &EarlyStopping{Monitor: "val_loss", Patience: 1, RestoreBestWeights: true, Quiet: true},
			monitor: "val_loss",
			values:  []float64{1, 2, 3},
			ran:     2, best: 1, stopped: 2, restored: 0,
		},
		{
			name: "missing metric", es: &EarlyStopping{Monitor: "val_loss", Patience: 1, RestoreBestWeights: true}, monitor: "loss",
			values: []float64{1, 2, 3},
			ran:    3, best: 0, stopped: 0, restored: -1,
			messages: []string{`EarlyStopping: metric "val_loss" is not available (no validation data?); early stopping is off.`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, ran, _ := drive(t, tc.es, tc.monitor, tc.values, 0.001)
			if ran != tc.ran || tc.es.BestEpoch() != tc.best || tc.es.StoppedEpoch() != tc.stopped || run.restored != tc.restored {
				t.Errorf("ran %d epochs, best %d, stopped %d, restored %d; want %d, %d, %d, %d",
					ran, tc.es.BestEpoch(), tc.es.StoppedEpoch(), run.restored, tc.ran, tc.best, tc.stopped, tc.restored)
			}
			if !slices.Equal(run.messages, tc.messages) {
				t.Errorf("messages %q, want %q", run.messages, tc.messages)
			}
			// Reusable: a second run starts from scratch.
			run2, ran2, _ := drive(t, tc.es, tc.monitor, tc.values, 0.001)
			if ran2 != ran || run2.restored != run.restored {
				t.Errorf("second run: ran %d, restored %d; want %d, %d", ran2, run2.restored, ran, run.restored)
			}
		})
	}
}

func TestReduceLROnPlateauScripted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cb       *ReduceLROnPlateau
		values   []float64
		lr       float64
		lrs      []float64 // learning rate during each epoch
		messages []string
	}{
		{
			name:   "factor, patience and min_lr floor",
			cb:     NewReduceLROnPlateau("val_loss", 0.5, 2, 0.0002),
			values: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
			lr:     0.001,
			lrs: []float64{
				float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001)),
				float64(float32(0.0005000000237487257)), float64(float32(0.0005000000237487257)),
				float64(float32(0.0002500000118743628)), float64(float32(0.0002500000118743628)),
				float64(float32(0.0002)), float64(float32(0.0002)), float64(float32(0.0002)),
			},
			messages: []string{
				"Epoch 3: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.",
				"Epoch 5: ReduceLROnPlateau reducing learning rate to 0.0002500000118743628.",
				"Epoch 7: ReduceLROnPlateau reducing learning rate to 0.0002.",
			},
		},
		{
			name:   "lab 3: factor 0.5, patience 5, min_lr 1e-5",
			cb:     NewReduceLROnPlateau("val_loss", 0.5, 5, 1e-5),
			values: []float64{1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85},
			lr:     0.001,
			lrs: []float64{
				float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001)),
				float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001)),
				float64(float32(0.0005000000237487257)), float64(float32(0.0005000000237487257)),
			},
			messages: []string{"Epoch 7: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257."},
		},
		{
			name:     "floor reached at 1e-05",
			cb:       NewReduceLROnPlateau("val_loss", 0.1, 1, 1e-5),
			values:   []float64{1, 1, 1, 1},
			lr:       0.0001,
			lrs:      []float64{float64(float32(0.0001)), float64(float32(0.0001)), float64(float32(1e-5)), float64(float32(1e-5))},
			messages: []string{"Epoch 2: ReduceLROnPlateau reducing learning rate to 1e-05."},
		},
		{
			name:     "min_delta: small improvements do not count",
			cb:       NewReduceLROnPlateau("val_loss", 0.5, 2, 0),
			values:   []float64{1, 0.99995, 0.9999},
			lr:       0.001,
			lrs:      []float64{float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001))},
			messages: []string{"Epoch 3: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257."},
		},
		{
			name:   "cooldown",
			cb:     &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 1, Cooldown: 2, MinDelta: 1e-4},
			values: []float64{1, 1, 1, 1, 1, 1},
			lr:     0.001,
			// Keras counts the cooldown down before checking, so with Cooldown 2 and Patience 1 it
			// reduces every other epoch.
			lrs: []float64{float64(float32(0.001)), float64(float32(0.001)),
				float64(float32(0.0005000000237487257)), float64(float32(0.0005000000237487257)),
				float64(float32(0.0002500000118743628)), float64(float32(0.0002500000118743628))},
			messages: []string{
				"Epoch 2: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.",
				"Epoch 4: ReduceLROnPlateau reducing learning rate to 0.0002500000118743628.",
				"Epoch 6: ReduceLROnPlateau reducing learning rate to 0.0001250000059371814.",
			},
		},
		{
			// A literal that leaves out min_delta and factor, as a Keras call may: Keras's 1e-4 and
			// 0.1, so the improvement of 5e-5 does not count and the rate drops tenfold.
			name:     "literal: zero MinDelta and Factor are Keras's defaults",
			cb:       &ReduceLROnPlateau{Monitor: "val_loss", Patience: 2},
			values:   []float64{1, 0.99995, 0.9999},
			lr:       0.001,
			lrs:      []float64{float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001))},
			messages: []string{"Epoch 3: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513."},
		},
		{
			name:     "literal: NoMinDelta counts any improvement",
			cb:       &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 2, MinDelta: NoMinDelta},
			values:   []float64{1, 0.99995, 0.9999},
			lr:       0.001,
			lrs:      []float64{float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001))},
			messages: nil,
		},
		{
			name:     "auto mode maximizes accuracy",
			cb:       NewReduceLROnPlateau("val_accuracy", 0.5, 1, 0),
			values:   []float64{0.5, 0.6, 0.55},
			lr:       0.001,
			lrs:      []float64{float64(float32(0.001)), float64(float32(0.001)), float64(float32(0.001))},
			messages: []string{"Epoch 3: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, _, lrs := drive(t, tc.cb, tc.cb.Monitor, tc.values, tc.lr)
			if !slices.Equal(lrs, tc.lrs) {
				t.Errorf("learning rates %v,\nwant %v", lrs, tc.lrs)
			}
			if !slices.Equal(run.messages, tc.messages) {
				t.Errorf("messages %q,\nwant %q", run.messages, tc.messages)
			}
		})
	}
}

func TestCallbackSettingsValidation(t *testing.T) {
	run := newScriptedRun(3, 0.001)
	for _, tc := range []struct {
		cb   Callback
		want string
	}{
		{NewReduceLROnPlateau("val_loss", 1.5, 5, 0), "ReduceLROnPlateau.Factor"},
		{NewReduceLROnPlateau("val_loss", 0.5, -1, 0), "ReduceLROnPlateau.Patience"},
		{NewReduceLROnPlateau("val_loss", 0.5, 1, -1), "ReduceLROnPlateau.MinLR"},
		{&ReduceLROnPlateau{Factor: 0.5, Mode: "up"}, "ReduceLROnPlateau.Mode"},
		{&EarlyStopping{Monitor: "val_loss", Patience: -2}, "EarlyStopping.Patience"},
		{&EarlyStopping{Mode: "sideways"}, "EarlyStopping.Mode"},
	} {
		if err := tc.cb.OnTrainBegin(run); err == nil || !containsAll(err.Error(), "keras: ", tc.want) {
			t.Errorf("%T: OnTrainBegin error %v, want one naming %s", tc.cb, err, tc.want)
		}
	}
}

func TestTerminateOnNaN(t *testing.T) {
	run := newScriptedRun(1, 0.001)
	cb := TerminateOnNaN{}
	for batch, loss := range []float64{2.3, 1.9, math.Inf(1), 1.0} {
		if run.stop {
			break
		}
		if err := cb.OnBatchEnd(run, batch, Logs{"loss": loss}); err != nil {
			t.Fatal(err)
		}
	}
	if !run.stop || !slices.Equal(run.messages, []string{"Batch 2: Invalid loss, terminating training"}) {
		t.Errorf("stop %v, messages %q", run.stop, run.messages)
	}
}

func TestPythonFloat(t *testing.T) {
	for v, want := range map[float64]string{
		0.0005000000237487257: "0.0005000000237487257",
		1e-05:                 "1e-05",
		2.5000001e-05:         "2.5000001e-05",
		0.0001:                "0.0001",
		0.001:                 "0.001",
		1:                     "1.0",
		0.5:                   "0.5",
		1e16:                  "1e+16",
	} {
		if got := pythonFloat(v); got != want {
			t.Errorf("pythonFloat(%v) = %q, want %q", v, got, want)
		}
	}
}
