package keras

import (
	"encoding/json"
	"fmt"
	"math"
)

// LearningRateSchedule is a learning rate that follows the optimizer's step count, like
// keras.optimizers.schedules: [ExponentialDecay], [PiecewiseConstantDecay] or [CosineDecay], given
// to an optimizer with [Optimizer.WithSchedule]. Fit sets the rate of every step to the schedule's
// value at the steps taken so far (Keras's optimizer.iterations), as Keras does. The set is
// closed, so that a schedule is saved and keyed as data; a schedule of your own is a callback that
// sets the rate in OnBatchBegin (see OneCycleScheduler).
type LearningRateSchedule interface {
	// At is the learning rate after step steps, computed in float32 as Keras does.
	At(step int64) float64
	// check validates the settings; the error names the field.
	check() error
	// className is Keras's class name (its serialized "class_name").
	className() string
}

// ExponentialDecay is keras.optimizers.schedules.ExponentialDecay:
// InitialLearningRate · DecayRate^(step / DecaySteps), with an integer division when Staircase.
type ExponentialDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          int     `json:"decay_steps"` // > 0
	DecayRate           float64 `json:"decay_rate"`  // > 0 (below 1 decays)
	Staircase           bool    `json:"staircase"`
}

// At implements LearningRateSchedule.
func (s ExponentialDecay) At(step int64) float64 {
	p := float32(step) / float32(s.DecaySteps)
	if s.Staircase {
		p = float32(math.Floor(float64(p)))
	}
	return float64(float32(s.InitialLearningRate) * float32(math.Pow(float64(float32(s.DecayRate)), float64(p))))
}

func (s ExponentialDecay) check() error {
	switch {
	case !(s.InitialLearningRate > 0) || math.IsInf(s.InitialLearningRate, 0):
		return fmt.Errorf("ExponentialDecay.InitialLearningRate must be > 0, got %g", s.InitialLearningRate)
	case s.DecaySteps <= 0:
		return fmt.Errorf("ExponentialDecay.DecaySteps must be > 0, got %d", s.DecaySteps)
	case !(s.DecayRate > 0) || math.IsInf(s.DecayRate, 0):
		return fmt.Errorf("ExponentialDecay.DecayRate must be > 0 (a rate <= 0 makes the learning rate 0 or negative), got %g", s.DecayRate)
	}
	return nil
}

func (ExponentialDecay) className() string { return "ExponentialDecay" }

// PiecewiseConstantDecay is keras.optimizers.schedules.PiecewiseConstantDecay: Values[0] while
// step <= Boundaries[0], Values[i] while Boundaries[i-1] < step <= Boundaries[i], and the last
// value after the last boundary. Boundaries increase strictly; Values has one more entry. Its
// slices make an Optimizer that holds it incomparable with == (use reflect.DeepEqual).
type PiecewiseConstantDecay struct {
	Boundaries []int     `json:"boundaries"`
	Values     []float64 `json:"values"`
}

// At implements LearningRateSchedule.
func (s PiecewiseConstantDecay) At(step int64) float64 {
	for i, b := range s.Boundaries {
		if step <= int64(b) {
			return float64(float32(s.Values[i]))
		}
	}
	return float64(float32(s.Values[len(s.Values)-1]))
}

func (s PiecewiseConstantDecay) check() error {
	if len(s.Boundaries) == 0 {
		return fmt.Errorf("PiecewiseConstantDecay.Boundaries is empty (a constant rate is the optimizer's learning rate)")
	}
	if len(s.Values) != len(s.Boundaries)+1 {
		return fmt.Errorf("PiecewiseConstantDecay.Values must have one more entry than Boundaries: got %d values for %d boundaries",
			len(s.Values), len(s.Boundaries))
	}
	for i := 1; i < len(s.Boundaries); i++ {
		if s.Boundaries[i] <= s.Boundaries[i-1] {
			return fmt.Errorf("PiecewiseConstantDecay.Boundaries must increase strictly: Boundaries[%d] = %d follows %d",
				i, s.Boundaries[i], s.Boundaries[i-1])
		}
	}
	for i, v := range s.Values {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("PiecewiseConstantDecay.Values[%d] must be a learning rate >= 0, got %g", i, v)
		}
	}
	return nil
}

func (PiecewiseConstantDecay) className() string { return "PiecewiseConstantDecay" }

// CosineDecay is keras.optimizers.schedules.CosineDecay: with WarmupTarget 0 (Keras's None), the
// rate falls from InitialLearningRate along a half cosine to Alpha·InitialLearningRate at
// DecaySteps and stays there; with a WarmupTarget it first rises linearly from InitialLearningRate
// to WarmupTarget over WarmupSteps, then decays from WarmupTarget over DecaySteps.
type CosineDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          int     `json:"decay_steps"`             // > 0
	Alpha               float64 `json:"alpha"`                   // in [0, 1]: the final fraction of the rate
	WarmupTarget        float64 `json:"warmup_target,omitempty"` // 0: no warm-up
	WarmupSteps         int     `json:"warmup_steps,omitempty"`
}

// At implements LearningRateSchedule.
func (s CosineDecay) At(step int64) float64 {
	initial := float32(s.InitialLearningRate)
	decaySteps := float32(s.DecaySteps)
	decay := func(step, from float32) float64 {
		fraction := step / decaySteps
		cosine := float32(0.5) * (1 + float32(math.Cos(float64(float32(math.Pi)*fraction))))
		alpha := float32(s.Alpha)
		return float64(from * ((1-alpha)*cosine + alpha))
	}
	if s.WarmupTarget == 0 {
		return decay(min(float32(step), decaySteps), initial)
	}
	target, warmupSteps := float32(s.WarmupTarget), float32(s.WarmupSteps)
	t := min(float32(step), decaySteps+warmupSteps)
	if t < warmupSteps {
		return float64((target-initial)*(t/warmupSteps) + initial)
	}
	return decay(t-warmupSteps, target)
}

func (s CosineDecay) check() error {
	switch {
	case !(s.InitialLearningRate >= 0) || math.IsInf(s.InitialLearningRate, 0):
		return fmt.Errorf("CosineDecay.InitialLearningRate must be >= 0, got %g", s.InitialLearningRate)
	case s.InitialLearningRate == 0 && s.WarmupTarget == 0:
		return fmt.Errorf("CosineDecay.InitialLearningRate is 0 and there is no WarmupTarget: the learning rate would stay 0")
	case s.DecaySteps <= 0:
		return fmt.Errorf("CosineDecay.DecaySteps must be > 0, got %d", s.DecaySteps)
	case !(s.Alpha >= 0 && s.Alpha <= 1):
		return fmt.Errorf("CosineDecay.Alpha must be in [0, 1] (the final fraction of the learning rate), got %g", s.Alpha)
	case !(s.WarmupTarget >= 0) || math.IsInf(s.WarmupTarget, 0):
		return fmt.Errorf("CosineDecay.WarmupTarget must be >= 0 (0: no warm-up), got %g", s.WarmupTarget)
	case s.WarmupSteps < 0:
		return fmt.Errorf("CosineDecay.WarmupSteps must be >= 0, got %d", s.WarmupSteps)
	case s.WarmupSteps > 0 && s.WarmupTarget == 0:
		return fmt.Errorf("CosineDecay.WarmupSteps is %d but WarmupTarget is 0: give the rate to warm up to", s.WarmupSteps)
	}
	return nil
}

func (CosineDecay) className() string { return "CosineDecay" }

// WithSchedule returns the optimizer with its learning rate given by schedule, like passing
// learning_rate=schedule to a Keras optimizer; Compile sets its LearningRate to the schedule's
// first value (the constructor's argument is not used).
//
//	keras.SGD(0).WithSchedule(keras.ExponentialDecay{InitialLearningRate: 0.01, DecaySteps: 1000, DecayRate: 0.9})
func (o Optimizer) WithSchedule(schedule LearningRateSchedule) Optimizer {
	o.Schedule = schedule
	if schedule != nil {
		o.LearningRate = 0
	}
	return o
}

// checkSchedule validates the optimizer's schedule and sets LearningRate to its first value; the
// error names the setting.
func (o *Optimizer) checkSchedule() error {
	s := o.Schedule
	if err := s.check(); err != nil {
		return fmt.Errorf("keras: compile: Optimizer.Schedule: %w", err)
	}
	first := s.At(0)
	if o.LearningRate != 0 && float32(o.LearningRate) != float32(first) {
		return fmt.Errorf("keras: compile: Optimizer.LearningRate %g and Optimizer.Schedule (%s from %g) both give the learning rate: leave LearningRate 0 (use WithSchedule)",
			o.LearningRate, s.className(), first)
	}
	o.LearningRate = first
	return nil
}

// scheduleJSON is a schedule's JSON, like Keras's serialized schedules.
type scheduleJSON struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// MarshalJSON implements json.Marshaler: {"class_name": "ExponentialDecay", "config": {...}}.
func (s ExponentialDecay) MarshalJSON() ([]byte, error) {
	type plain ExponentialDecay
	return marshalSchedule(s.className(), plain(s))
}

// MarshalJSON implements json.Marshaler.
func (s PiecewiseConstantDecay) MarshalJSON() ([]byte, error) {
	type plain PiecewiseConstantDecay
	return marshalSchedule(s.className(), plain(s))
}

// MarshalJSON implements json.Marshaler.
func (s CosineDecay) MarshalJSON() ([]byte, error) {
	type plain CosineDecay
	return marshalSchedule(s.className(), plain(s))
}

func marshalSchedule(class string, config any) ([]byte, error) {
	c, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	return json.Marshal(scheduleJSON{ClassName: class, Config: c})
}

// unmarshalSchedule reads what the schedules' MarshalJSON write.
func unmarshalSchedule(data []byte) (LearningRateSchedule, error) {
	var j scheduleJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, err
	}
	var s LearningRateSchedule
	var err error
	switch j.ClassName {
	case "ExponentialDecay":
		var v ExponentialDecay
		err = json.Unmarshal(j.Config, &v)
		s = v
	case "PiecewiseConstantDecay":
		var v PiecewiseConstantDecay
		err = json.Unmarshal(j.Config, &v)
		s = v
	case "CosineDecay":
		var v CosineDecay
		err = json.Unmarshal(j.Config, &v)
		s = v
	default:
		return nil, fmt.Errorf("unknown learning-rate schedule %q (want ExponentialDecay, PiecewiseConstantDecay or CosineDecay)", j.ClassName)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.ClassName, err)
	}
	return s, nil
}

// UnmarshalJSON implements json.Unmarshaler, for the schedule (an interface) to read back.
func (o *Optimizer) UnmarshalJSON(data []byte) error {
	type plain Optimizer
	var j struct {
		plain
		Schedule json.RawMessage `json:"schedule,omitempty"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*o = Optimizer(j.plain)
	o.Schedule = nil
	if len(j.Schedule) > 0 && string(j.Schedule) != "null" {
		s, err := unmarshalSchedule(j.Schedule)
		if err != nil {
			return fmt.Errorf("keras: Optimizer.Schedule: %w", err)
		}
		o.Schedule = s
	}
	return nil
}
