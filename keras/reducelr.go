package keras

import (
	"math"
	"strconv"
	"strings"
)

// ReduceLROnPlateau multiplies the learning rate by Factor when a monitored metric has not improved
// (by more than MinDelta) for Patience epochs, never going below MinLR, and then waits Cooldown
// epochs before counting again, like keras.callbacks.ReduceLROnPlateau. The learning rate is a
// variable of the compiled step, so nothing is recompiled.
//
// Write it with the fields a Keras call names, e.g.
// &keras.ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 5, MinLR: 1e-5}: a zero
// Monitor, Factor, MinDelta or Mode means Keras's default ("val_loss", 0.1, 1e-4, "auto"), so
// the fields a Keras call leaves out behave as they do there, except Patience (Keras: 10), which
// a literal must give. For a margin of exactly none, set MinDelta to [NoMinDelta]. Each reduction prints Keras's message ("Epoch 12: ReduceLROnPlateau
// reducing learning rate to 0.0005000000237487257.") unless Quiet.
type ReduceLROnPlateau struct {
	BaseCallback // the hooks it does not use

	Monitor  string  `json:"monitor"` // metric name, default "val_loss"
	Factor   float64 `json:"factor"`  // new lr = lr · Factor, in (0, 1); 0 means 0.1
	Patience int     `json:"patience"`
	MinLR    float64 `json:"min_lr"`
	Cooldown int     `json:"cooldown"`
	MinDelta float64 `json:"min_delta"`       // 0 means Keras's 1e-4 (see NoMinDelta)
	Mode     string  `json:"mode"`            // "auto" (default), "min" or "max"
	Quiet    bool    `json:"quiet,omitempty"` // no messages

	wait, cooldownCounter int
	best                  float64
	hasBest, warned       bool
}

// Keras's defaults of ReduceLROnPlateau that a zero field stands for.
const (
	DefaultReduceLRFactor   = 0.1
	DefaultReduceLRMinDelta = 1e-4
)

// NoMinDelta asks ReduceLROnPlateau for no improvement margin at all (min_delta=0 in Keras): the
// smallest positive float64, since a zero MinDelta means Keras's default 1e-4.
const NoMinDelta = math.SmallestNonzeroFloat64

// factor is Factor, or Keras's default when it is zero.
func (r *ReduceLROnPlateau) factor() float64 {
	if r.Factor == 0 {
		return DefaultReduceLRFactor
	}
	return r.Factor
}

// minDelta is MinDelta, or Keras's default when it is zero.
func (r *ReduceLROnPlateau) minDelta() float64 {
	if r.MinDelta == 0 {
		return DefaultReduceLRMinDelta
	}
	return r.MinDelta
}

// NewReduceLROnPlateau returns a ReduceLROnPlateau on monitor (e.g. "val_loss") with the given
// factor, patience and minimum learning rate, and Keras's defaults for the rest.
func NewReduceLROnPlateau(monitor string, factor float64, patience int, minLR float64) *ReduceLROnPlateau {
	return &ReduceLROnPlateau{Monitor: monitor, Factor: factor, Patience: patience, MinLR: minLR,
		MinDelta: 1e-4, Mode: ModeAuto}
}

// OnTrainBegin checks the settings and resets the state.
func (r *ReduceLROnPlateau) OnTrainBegin(Training) error {
	switch {
	case !(r.factor() > 0 && r.factor() < 1):
		return errorf("ReduceLROnPlateau.Factor must be in (0, 1), got %g", r.Factor)
	case r.Patience < 0:
		return errorf("ReduceLROnPlateau.Patience must be >= 0, got %d", r.Patience)
	case !(r.MinLR >= 0):
		return errorf("ReduceLROnPlateau.MinLR must be >= 0, got %g", r.MinLR)
	case r.Cooldown < 0:
		return errorf("ReduceLROnPlateau.Cooldown must be >= 0, got %d", r.Cooldown)
	case math.IsNaN(r.MinDelta):
		return errorf("ReduceLROnPlateau.MinDelta is NaN")
	}
	if err := checkMode(r.Mode); err != nil {
		return errorf("ReduceLROnPlateau.%w", err)
	}
	r.wait, r.cooldownCounter = 0, 0
	r.best, r.hasBest = 0, false
	r.warned = false
	return nil
}

// setsLearningRate marks it as a callback that sets the learning rate (see checkFit).
func (r *ReduceLROnPlateau) setsLearningRate() {}

// maximize follows Keras: in auto mode, a monitor containing "acc" is maximized.
func (r *ReduceLROnPlateau) maximize() bool {
	if r.Mode == ModeAuto || r.Mode == "" {
		return strings.Contains(r.monitor(), "acc")
	}
	return r.Mode == ModeMax
}

// OnEpochEnd reduces the learning rate when the patience is exhausted.
func (r *ReduceLROnPlateau) OnEpochEnd(run Training, epoch int, logs Logs) error {
	current, ok := monitored(run, logs, r.monitor(), "ReduceLROnPlateau", "the learning rate stays", r.Quiet, &r.warned)
	if !ok {
		return nil
	}
	if r.cooldownCounter > 0 {
		r.cooldownCounter--
		r.wait = 0
	}
	switch {
	case isImprovement(current, r.best, r.hasBest, r.minDelta(), r.maximize()):
		r.best, r.hasBest = current, true
		r.wait = 0
	case r.cooldownCounter <= 0:
		r.wait++
		if r.wait < r.Patience {
			return nil
		}
		oldLR := run.LearningRate()
		if oldLR <= float64(float32(r.MinLR)) {
			return nil // already at the floor (compared as float32, like Keras)
		}
		newLR := max(oldLR*r.factor(), r.MinLR)
		if err := run.SetLearningRate(newLR); err != nil {
			return errorf("ReduceLROnPlateau: %w", err)
		}
		if !r.Quiet {
			run.Printf("Epoch %d: ReduceLROnPlateau reducing learning rate to %s.", epoch+1, pythonFloat(newLR))
		}
		r.cooldownCounter = r.Cooldown
		r.wait = 0
	}
	return nil
}

// pythonFloat formats a float64 like Python's repr/str: the shortest representation that reads
// back exactly, with ".0" on integral values and exponents like "1e-05".
func pythonFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	sci := strconv.FormatFloat(v, 'e', -1, 64) // "1e-05", "5.000000237487257e-04"
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// monitor is the monitored metric, "val_loss" by default.
func (r *ReduceLROnPlateau) monitor() string {
	if r.Monitor == "" {
		return "val_loss"
	}
	return r.Monitor
}
