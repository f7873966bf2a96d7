package keras

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The optimizers are written as graph ops on context variables, following the update_step of
// keras/src/optimizers/{sgd,adam,nadam,rmsprop}.py (Keras 3, same as tf.keras 2.11+). The learning
// rate is a variable, so callbacks change it between steps without recompiling the train step.

// optimizerScope is the context scope of the optimizer's variables.
const optimizerScope = "optimizer"

// updater holds an optimizer's variables and builds its update ops.
type updater struct {
	cfg   Optimizer
	lr    *model.Variable     // float32 scalar: the learning rate
	iter  *model.Variable     // int64 scalar: Keras's optimizer.iterations, steps taken so far
	uProd *model.Variable     // float32 scalar: Nadam's product of the momentum schedule
	slots [][]*model.Variable // per parameter: SGD [momentum]; Adam, Nadam [momentum, velocity]; RMSprop [velocity]
}

// newUpdater (re)creates the optimizer's variables in ctx for the given parameters, with zero
// moments and the configured learning rate. cfg must have passed withDefaults.
func newUpdater(store *model.Store, cfg Optimizer, params []*model.Variable) (*updater, error) {
	octx := store.RootScope().In(optimizerScope)
	if err := octx.DeleteVariablesInScope(); err != nil {
		return nil, fmt.Errorf("keras: resetting the optimizer: %w", err)
	}
	u := &updater{cfg: cfg}
	u.lr = octx.VariableWithValue("learning_rate", float32(cfg.LearningRate)).SetTrainable(false)
	u.iter = octx.VariableWithValue("iterations", int64(0)).SetTrainable(false)
	if cfg.Name == OptimizerNadam {
		u.uProd = octx.VariableWithValue("u_product", float32(1)).SetTrainable(false)
	}
	var slotNames []string
	switch cfg.Name {
	case OptimizerSGD:
		if cfg.Momentum != 0 {
			slotNames = []string{"momentum"}
		}
	case OptimizerAdam, OptimizerNadam:
		slotNames = []string{"momentum", "velocity"}
	case OptimizerRMSprop:
		slotNames = []string{"velocity"}
	}
	for i, p := range params {
		pctx := octx.In("%d", i)
		var slots []*model.Variable
		for _, name := range slotNames {
			zeros := tensors.FromShape(p.Shape())
			slots = append(slots, pctx.VariableWithValue(p.Name()+"_"+name, zeros).SetTrainable(false))
		}
		u.slots = append(u.slots, slots)
	}
	return u, nil
}

// learningRate reads the current learning rate (as Keras does: the float32 variable as float64).
func (u *updater) learningRate() (float64, error) {
	t, err := u.lr.Value()
	if err != nil {
		return 0, err
	}
	return float64(tensors.ToScalar[float32](t)), nil
}

// setLearningRate stores a new learning rate (rounded to float32, like Keras's variable).
func (u *updater) setLearningRate(lr float64) error {
	return u.lr.SetValue(tensors.FromScalar(float32(lr)))
}

// updateGraph adds to the graph the update of every parameter given its gradient, and increments
// the step counter. params and grads are aligned; the parameters' current values are their
// ValueGraph in the graph of grads.
func (u *updater) updateGraph(params []*model.Variable, grads []*graph.Node) {
	if len(grads) == 0 {
		return
	}
	g := grads[0].Graph()
	iter := u.iter.NodeValue(g)
	u.iter.SetNodeValue(graph.AddScalar(iter, 1))
	t := graph.ConvertDType(graph.AddScalar(iter, 1), dtypes.Float32) // Keras's local_step = iterations + 1
	lr := u.lr.NodeValue(g)
	cfg := u.cfg

	// Per-step scalars shared by all parameters.
	var adamAlpha, nadamMomentumCoef, nadamGradCoef, nadamVelocityCoef *graph.Node
	switch cfg.Name {
	case OptimizerAdam:
		// alpha = lr·√(1−β2ᵗ)/(1−β1ᵗ)
		beta1Power := graph.Pow(graph.Scalar(g, dtypes.Float32, cfg.Beta1), t)
		beta2Power := graph.Pow(graph.Scalar(g, dtypes.Float32, cfg.Beta2), t)
		adamAlpha = graph.Div(graph.Mul(lr, graph.Sqrt(graph.OneMinus(beta2Power))), graph.OneMinus(beta1Power))
	case OptimizerNadam:
		// uₜ = β1·(1 − 0.5·0.96ᵗ), uₜ₊₁ likewise; the product of the u's is kept in a variable.
		decay := graph.Scalar(g, dtypes.Float32, 0.96)
		scheduleExponent := func(step *graph.Node) *graph.Node { return step }
		if cfg.ScheduleDecay != 0 {
			scheduleExponent = func(step *graph.Node) *graph.Node { return graph.MulScalar(step, cfg.ScheduleDecay) }
		}
		momentumAt := func(step *graph.Node) *graph.Node {
			return graph.MulScalar(graph.OneMinus(graph.MulScalar(graph.Pow(decay, scheduleExponent(step)), 0.5)), cfg.Beta1)
		}
		ut := momentumAt(t)
		ut1 := momentumAt(graph.AddScalar(t, 1))
		uProd := graph.Mul(u.uProd.NodeValue(g), ut)
		u.uProd.SetNodeValue(uProd)
		uProd1 := graph.Mul(uProd, ut1)
		beta2Power := graph.Pow(graph.Scalar(g, dtypes.Float32, cfg.Beta2), t)
		// Keras: m̂ = uₜ₊₁·m/(1 − Πu·uₜ₊₁) + (1 − uₜ)·g/(1 − Πu); v̂ = v/(1 − β2ᵗ); w −= lr·m̂/(√v̂ + ε).
		// The scalar factors are folded first, so that each parameter takes 8 element-wise passes
		// instead of 11: w −= (lr·uₜ₊₁/(1 − Πu·uₜ₊₁)·m + lr·(1 − uₜ)/(1 − Πu)·g)/(√(v/(1 − β2ᵗ)) + ε).
		nadamMomentumCoef = graph.Div(graph.Mul(lr, ut1), graph.OneMinus(uProd1))
		nadamGradCoef = graph.Div(graph.Mul(lr, graph.OneMinus(ut)), graph.OneMinus(uProd))
		nadamVelocityCoef = graph.Reciprocal(graph.OneMinus(beta2Power))
	}

	for i, p := range params {
		w, grad := p.NodeValue(g), grads[i]
		slots := u.slots[i]
		var newW *graph.Node
		switch cfg.Name {
		case OptimizerSGD:
			if cfg.Momentum == 0 {
				newW = graph.Sub(w, graph.Mul(grad, lr))
				break
			}
			// m = momentum·m − lr·g; w += m, or with Nesterov w += momentum·m − lr·g.
			m := slots[0].NodeValue(g)
			m = graph.Sub(graph.MulScalar(m, cfg.Momentum), graph.Mul(grad, lr))
			slots[0].SetNodeValue(m)
			if cfg.Nesterov {
				newW = graph.Add(w, graph.Sub(graph.MulScalar(m, cfg.Momentum), graph.Mul(grad, lr)))
			} else {
				newW = graph.Add(w, m)
			}
		case OptimizerAdam:
			m, v := adamMoments(slots, grad, cfg)
			// w −= alpha·m/(√v + ε)
			newW = graph.Sub(w, graph.Div(graph.Mul(m, adamAlpha), graph.AddScalar(graph.Sqrt(v), cfg.Epsilon)))
		case OptimizerNadam:
			m, v := adamMoments(slots, grad, cfg)
			step := graph.Add(graph.Mul(m, nadamMomentumCoef), graph.Mul(grad, nadamGradCoef)) // lr·m̂
			vHat := graph.Mul(v, nadamVelocityCoef)
			newW = graph.Sub(w, graph.Div(step, graph.AddScalar(graph.Sqrt(vHat), cfg.Epsilon)))
		case OptimizerRMSprop:
			// v = ρ·v + (1−ρ)·g²; w −= lr·g/√(v + ε)
			v := slots[0].NodeValue(g)
			v = graph.Add(graph.MulScalar(v, cfg.Rho), graph.MulScalar(graph.Square(grad), 1-cfg.Rho))
			slots[0].SetNodeValue(v)
			newW = graph.Sub(w, graph.Div(graph.Mul(lr, grad), graph.Sqrt(graph.AddScalar(v, cfg.Epsilon))))
		}
		p.SetNodeValue(newW)
	}
}

// adamMoments updates Adam's and Nadam's moments: m += (g − m)·(1 − β1); v += (g² − v)·(1 − β2).
func adamMoments(slots []*model.Variable, grad *graph.Node, cfg Optimizer) (m, v *graph.Node) {
	g := grad.Graph()
	m = slots[0].NodeValue(g)
	m = graph.Add(m, graph.MulScalar(graph.Sub(grad, m), 1-cfg.Beta1))
	slots[0].SetNodeValue(m)
	v = slots[1].NodeValue(g)
	v = graph.Add(v, graph.MulScalar(graph.Sub(graph.Square(grad), v), 1-cfg.Beta2))
	slots[1].SetNodeValue(v)
	return m, v
}
