package keras

import (
	"fmt"
	"math"
	"strings"
)

// Loss names a loss as Keras spells it in compile(loss=...). Use the constants.
type Loss string

// The losses.
const (
	LossCategoricalCrossentropy       Loss = "categorical_crossentropy"        // one-hot labels
	LossSparseCategoricalCrossentropy Loss = "sparse_categorical_crossentropy" // class ids
	LossMeanSquaredError              Loss = "mean_squared_error"              // one-hot labels, on the output
)

// Sparse reports whether the loss takes class ids (keras.Classes) rather than one-hot labels.
func (l Loss) Sparse() bool { return l == LossSparseCategoricalCrossentropy }

// Metric names a metric as Keras spells it in compile(metrics=[...]).
type Metric string

// MetricAccuracy is the only metric: categorical accuracy for one-hot labels, sparse categorical
// accuracy for class ids (what Keras picks for metrics=["accuracy"]).
const MetricAccuracy Metric = "accuracy"

// CompileConfig is what Model.Compile takes, like keras's model.compile(optimizer, loss, metrics).
type CompileConfig struct {
	Optimizer Optimizer `json:"optimizer"`
	// Loss is "categorical_crossentropy" (one-hot labels), "sparse_categorical_crossentropy" (class
	// ids) or "mean_squared_error" (also "mse"; one-hot labels, on the model's output).
	Loss Loss `json:"loss"`
	// FromLogits says that the model outputs logits (a last Dense without activation), like Keras's
	// SparseCategoricalCrossentropy(from_logits=True): the cross-entropy applies the softmax
	// itself, Predict returns the logits, and accuracy is the argmax of the logits. It applies to
	// the cross-entropies only; with a softmax output, Compile returns an error (Keras warns that
	// the output "does not represent logits" and trains on the softmax of a softmax).
	FromLogits bool `json:"from_logits,omitempty"`
	// Metrics may hold "accuracy" (or "acc"); the epoch lines then show it. Accuracy is always
	// recorded in the History.
	Metrics []Metric `json:"metrics,omitempty"`
}

// OptimizerName names an optimizer as Keras spells it in compile(optimizer="...").
type OptimizerName string

// Optimizer names.
const (
	OptimizerSGD     OptimizerName = "sgd"
	OptimizerAdam    OptimizerName = "adam"
	OptimizerNadam   OptimizerName = "nadam"
	OptimizerRMSprop OptimizerName = "rmsprop"
)

// Optimizer configures the weight updates, with Keras's hyperparameters. Build it with [SGD],
// [Adam], [Nadam] or [RMSprop] (which fill Keras's defaults) and adjust fields as needed. A zero
// Beta1, Beta2, Epsilon or Rho means Keras's default (0.9, 0.999, 1e-7, 0.9).
type Optimizer struct {
	Name         OptimizerName `json:"name"`
	LearningRate float64       `json:"learning_rate"`
	Momentum     float64       `json:"momentum,omitempty"` // SGD
	Nesterov     bool          `json:"nesterov,omitempty"` // SGD
	Beta1        float64       `json:"beta_1,omitempty"`   // Adam, Nadam
	Beta2        float64       `json:"beta_2,omitempty"`   // Adam, Nadam
	Epsilon      float64       `json:"epsilon,omitempty"`  // Adam, Nadam, RMSprop
	Rho          float64       `json:"rho,omitempty"`      // RMSprop
	// ScheduleDecay (Nadam) scales the step in the momentum schedule uₜ = β1·(1 − 0.5·0.96^(d·t)).
	// 0 means d = 1, Keras 3's and tf.keras ≥ 2.11's Nadam; 0.004 gives Keras 1's and the legacy
	// tf.keras Nadam's schedule_decay.
	ScheduleDecay float64 `json:"schedule_decay,omitempty"`
	// Schedule, when set, gives the learning rate of every step from the step count (Keras's
	// learning_rate=schedule); LearningRate is then its first value. Set it with WithSchedule.
	Schedule LearningRateSchedule `json:"schedule,omitempty"`
}

// SGD is Keras's SGD: w -= lr·g, or with Momentum m = momentum·m − lr·g; w += m (Nesterov:
// w += momentum·m − lr·g). Keras's default learning rate is 0.01; there is no decay.
func SGD(learningRate float64) Optimizer {
	return Optimizer{Name: OptimizerSGD, LearningRate: learningRate}
}

// Adam is Keras's Adam (defaults β1 0.9, β2 0.999, ε 1e-7; Keras's default learning rate is
// 0.001), as keras/src/optimizers/adam.py computes it: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²,
// w -= α·m/(√v + ε) with α = lr·√(1−β2ᵗ)/(1−β1ᵗ). That is lr·m̂/(√v̂ + ε̂) with the bias-corrected
// m̂, v̂ and ε̂ = ε·√(1−β2ᵗ): Keras's ε is the paper's "epsilon hat".
func Adam(learningRate float64) Optimizer {
	return Optimizer{Name: OptimizerAdam, LearningRate: learningRate, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}
}

// Nadam is Keras's Nadam, Adam with Nesterov momentum (defaults β1 0.9, β2 0.999, ε 1e-7; Keras's
// default learning rate is 0.001), as keras/src/optimizers/nadam.py computes it: with the momentum
// schedule uₜ = β1·(1 − 0.5·0.96ᵗ) (see ScheduleDecay) and Πu the product of u₁..uₜ,
// m̂ = uₜ₊₁·m/(1 − Πu·uₜ₊₁) + (1 − uₜ)·g/(1 − Πu), v̂ = v/(1 − β2ᵗ), w -= lr·m̂/(√v̂ + ε).
func Nadam(learningRate float64) Optimizer {
	return Optimizer{Name: OptimizerNadam, LearningRate: learningRate, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}
}

// RMSprop is Keras's RMSprop without momentum or centering (ρ 0.9, ε 1e-7, no bias correction;
// Keras's default learning rate is 0.001), as keras/src/optimizers/rmsprop.py computes it:
// v = ρ·v + (1−ρ)·g², w -= lr·g/√(v + ε).
func RMSprop(learningRate float64) Optimizer {
	return Optimizer{Name: OptimizerRMSprop, LearningRate: learningRate, Rho: 0.9, Epsilon: 1e-7}
}

// OptimizerByName returns an optimizer with Keras's default learning rate, like passing
// optimizer="adam" to Keras: sgd (0.01), adam, nadam, rmsprop (0.001).
func OptimizerByName(name string) (Optimizer, error) {
	switch OptimizerName(strings.ToLower(name)) {
	case OptimizerSGD:
		return SGD(0.01), nil
	case OptimizerAdam:
		return Adam(0.001), nil
	case OptimizerNadam:
		return Nadam(0.001), nil
	case OptimizerRMSprop:
		return RMSprop(0.001), nil
	}
	return Optimizer{}, fmt.Errorf("keras: unknown optimizer %q (want sgd, adam, nadam or rmsprop)", name)
}

// withDefaults fills zero hyperparameters with Keras's defaults and checks them.
func (o Optimizer) withDefaults() (Optimizer, error) {
	o.Name = OptimizerName(strings.ToLower(string(o.Name)))
	switch o.Name {
	case OptimizerSGD, OptimizerAdam, OptimizerNadam, OptimizerRMSprop:
	default:
		return o, fmt.Errorf("keras: compile: Optimizer.Name %q is unknown (want sgd, adam, nadam or rmsprop)", o.Name)
	}
	if o.Schedule != nil {
		if err := o.checkSchedule(); err != nil {
			return o, err
		}
	} else if !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0) {
		return o, fmt.Errorf("keras: compile: Optimizer.LearningRate must be > 0, got %g", o.LearningRate)
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Epsilon == 0 {
		o.Epsilon = 1e-7
	}
	if o.Rho == 0 {
		o.Rho = 0.9
	}
	switch {
	case !(o.Beta1 > 0 && o.Beta1 < 1):
		return o, fmt.Errorf("keras: compile: Optimizer.Beta1 must be in (0, 1), got %g", o.Beta1)
	case !(o.Beta2 > 0 && o.Beta2 < 1):
		return o, fmt.Errorf("keras: compile: Optimizer.Beta2 must be in (0, 1), got %g", o.Beta2)
	case !(o.Epsilon > 0):
		return o, fmt.Errorf("keras: compile: Optimizer.Epsilon must be > 0, got %g", o.Epsilon)
	case !(o.Rho > 0 && o.Rho < 1):
		return o, fmt.Errorf("keras: compile: Optimizer.Rho must be in (0, 1), got %g", o.Rho)
	case !(o.Momentum >= 0 && o.Momentum < 1):
		return o, fmt.Errorf("keras: compile: Optimizer.Momentum must be in [0, 1), got %g", o.Momentum)
	case o.Nesterov && o.Name != OptimizerSGD:
		return o, fmt.Errorf("keras: compile: Optimizer.Nesterov only applies to sgd, not %s", o.Name)
	case !(o.ScheduleDecay >= 0):
		return o, fmt.Errorf("keras: compile: Optimizer.ScheduleDecay must be >= 0, got %g", o.ScheduleDecay)
	case o.ScheduleDecay != 0 && o.Name != OptimizerNadam:
		return o, fmt.Errorf("keras: compile: Optimizer.ScheduleDecay only applies to nadam, not %s", o.Name)
	case o.Momentum != 0 && o.Name != OptimizerSGD:
		return o, fmt.Errorf("keras: compile: Optimizer.Momentum only applies to sgd, not %s", o.Name)
	}
	return o, nil
}

// compiled is a checked CompileConfig.
type compiled struct {
	cfg          CompileConfig // normalized
	showAccuracy bool
}

// sparse reports whether the loss takes class ids.
func (c *compiled) sparse() bool { return c.cfg.Loss.Sparse() }

// Compile configures the optimizer, loss and metrics, like model.compile. Compiling again replaces
// them and resets the optimizer state (the weights are kept).
func (m *Model) Compile(cfg CompileConfig) error {
	c, err := checkCompile(cfg)
	if err != nil {
		return err
	}
	if c.cfg.FromLogits {
		if i, ok := m.softmaxOutput(); ok {
			l := m.spec.Layers[i]
			return fmt.Errorf("keras: compile: FromLogits is set but layers[%d] (%s %q), the output, applies a softmax, so the model outputs probabilities, not logits; remove the softmax (keras.Dense(%d, keras.Linear)) or leave FromLogits false",
				i, l.Type, l.Name, m.NumOutputs())
		}
	}
	m.dropEngine()
	m.compiled = c
	m.lr = c.cfg.Optimizer.LearningRate
	m.optState = nil
	return nil
}

// checkCompile validates a CompileConfig and fills in defaults.
func checkCompile(cfg CompileConfig) (*compiled, error) {
	opt, err := cfg.Optimizer.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg.Optimizer = opt
	switch Loss(strings.ToLower(string(cfg.Loss))) {
	case LossCategoricalCrossentropy:
		cfg.Loss = LossCategoricalCrossentropy
	case LossSparseCategoricalCrossentropy:
		cfg.Loss = LossSparseCategoricalCrossentropy
	case LossMeanSquaredError, "mse":
		cfg.Loss = LossMeanSquaredError
	default:
		return nil, fmt.Errorf("keras: compile: Loss %q is unknown (want categorical_crossentropy, sparse_categorical_crossentropy or mean_squared_error)", cfg.Loss)
	}
	if cfg.FromLogits && cfg.Loss == LossMeanSquaredError {
		return nil, fmt.Errorf("keras: compile: FromLogits applies to the cross-entropy losses, not %s", cfg.Loss)
	}
	c := &compiled{}
	metrics := make([]Metric, 0, len(cfg.Metrics))
	for i, name := range cfg.Metrics {
		switch Metric(strings.ToLower(string(name))) {
		case MetricAccuracy, "acc", "categorical_accuracy", "sparse_categorical_accuracy":
			c.showAccuracy = true
			metrics = append(metrics, MetricAccuracy)
		default:
			return nil, fmt.Errorf("keras: compile: Metrics[%d] %q is unknown (want \"accuracy\")", i, name)
		}
	}
	cfg.Metrics = metrics
	c.cfg = cfg
	return c, nil
}

// softmaxOutput reports whether the model's output is a softmax's: the last layer that changes
// values in inference is a Dense or Conv2D with the softmax activation or a softmax Activation
// layer (with its index).
func (m *Model) softmaxOutput() (int, bool) {
	for i := len(m.spec.Layers) - 1; i >= 0; i-- {
		l := m.spec.Layers[i]
		switch {
		case l.Type == LayerDropout || l.Type == LayerAlphaDropout || l.Type == LayerFlatten || isAugmentation(l.Type):
			continue // the identity in inference, or a reshape
		case l.Type == LayerActivation && (l.Activation == Linear || l.Activation == ""):
			continue
		case l.Type == LayerDense || l.Type == LayerConv2D || l.Type == LayerActivation:
			return i, l.Activation == Softmax
		}
		return i, false
	}
	return 0, false
}

// CompileConfig returns the model's compile settings (normalized, Keras defaults filled in) and
// whether the model was compiled.
func (m *Model) CompileConfig() (CompileConfig, bool) {
	if m.compiled == nil {
		return CompileConfig{}, false
	}
	return m.compiled.cfg, true
}
