package keras

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// engine holds a model's compiled computations. Each context.Exec compiles one graph per input
// shape (a full batch, and the last partial batch of an epoch) and reuses it for every later step.
type engine struct {
	model   *Model
	backend compute.Backend
	params  []*model.Variable // trainable variables, in layer order (kernel, bias, ...)
	upd     *updater          // nil when the model is not compiled
	train   *model.Exec       // (x, y) → (mean loss, correct count), updating the weights
	eval    *model.Exec       // (x, y) → (mean loss, correct count), inference mode
	predict *model.Exec       // x → probabilities, inference mode
}

// engineFor returns the model's engine, building it on first use on the model's backend (see
// SetBackend and SetDefaultBackend).
func (m *Model) engineFor() (*engine, error) {
	if m.engine != nil {
		return m.engine, nil
	}
	backend := m.backend
	if backend == nil {
		b, err := DefaultBackend()
		if err != nil {
			return nil, err
		}
		backend = b
	}
	e := &engine{model: m, backend: backend}
	for _, lv := range m.weights {
		e.params = append(e.params, lv.kernel, lv.bias)
	}
	if err := catchPanic(func() error { return e.build() }); err != nil {
		e.finalize()
		return nil, err
	}
	m.engine = e
	return e, nil
}

// build creates the optimizer variables and the executors.
func (e *engine) build() error {
	m := e.model
	var err error
	if m.compiled != nil {
		opt := m.compiled.cfg.Optimizer
		opt.LearningRate = m.lr
		if e.upd, err = newUpdater(m.store, opt, e.params); err != nil {
			return err
		}
		if m.optState != nil {
			if err := e.upd.setState(m.optState, slotNames(opt)); err != nil {
				return err
			}
			m.optState = nil
		}
		loss := m.compiled.cfg.Loss
		if e.train, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x, y *graph.Node) (*graph.Node, *graph.Node) {
			probs, logits := e.forward(x, e.upd.iter.NodeValue(x.Graph()))
			lossValue := graph.ReduceAllMean(perSampleLossOf(loss, probs, logits, y))
			g := x.Graph()
			values := make([]*graph.Node, len(e.params))
			for i, p := range e.params {
				values[i] = p.NodeValue(g)
			}
			e.upd.updateGraph(e.params, graph.Gradient(lossValue, values...))
			return lossValue, correctCount(probs, y)
		}); err != nil {
			return fmt.Errorf("keras: building the train step: %w", err)
		}
		if e.eval, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x, y *graph.Node) (*graph.Node, *graph.Node) {
			probs, logits := e.forward(x, nil)
			return graph.ReduceAllMean(perSampleLossOf(loss, probs, logits, y)), correctCount(probs, y)
		}); err != nil {
			return fmt.Errorf("keras: building the evaluation step: %w", err)
		}
	}
	if e.predict, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x *graph.Node) *graph.Node {
		probs, _ := e.forward(x, nil)
		return probs
	}); err != nil {
		return fmt.Errorf("keras: building the prediction step: %w", err)
	}
	return nil
}

// forward builds the model's output probabilities for a batch x ([B, input shape...]). In the
// training graph, step is the optimizer's step counter (a scalar), which turns dropout on and
// chooses its masks; inference passes nil. When the output is a softmax's, logits is that
// softmax's input (else nil): Keras on TensorFlow computes the cross-entropies from it (the
// softmax caches its logits on its output, keras/src/backend/tensorflow/nn.py _get_logits).
func (e *engine) forward(x, step *graph.Node) (out, logits *graph.Node) {
	m := e.model
	g := x.Graph()
	batch := x.Shape().Dimensions[0]
	dense := 0
	activate := func(name Activation) {
		in := x
		x = mustActivation(name)(x)
		if name == "softmax" {
			logits = in
		} else if name != "linear" && name != "" {
			logits = nil
		}
	}
	for i, l := range m.spec.Layers {
		switch l.Type {
		case LayerFlatten:
			x = graph.Reshape(x, batch, x.Shape().Size()/batch)
			logits = nil
		case LayerDense:
			lv := m.weights[dense]
			dense++
			x = graph.Dot(x, lv.kernel.NodeValue(g)).Product()
			x = graph.Add(x, graph.InsertAxes(lv.bias.NodeValue(g), 0))
			logits = nil
			activate(l.Activation)
		case LayerActivation:
			activate(l.Activation)
		case LayerDropout:
			if step != nil && l.Rate > 0 {
				x = dropout(x, l.Rate, m.spec.Seed, i, step)
				logits = nil // a new tensor: Keras's cached logits do not follow it
			}
		}
	}
	return x, logits
}

// mustActivation returns a checked activation (names were validated when the model was built).
func mustActivation(name Activation) activationFn {
	fn, err := activationFor(name)
	if err != nil {
		panic(err)
	}
	return fn
}

// step runs exec on a batch and returns its mean loss and number of correct predictions.
func step(exec *model.Exec, x, y *tensors.Tensor) (loss, correct float64, err error) {
	err = catchPanic(func() error {
		outputs, err := exec.Exec(x, y)
		if err != nil {
			return err
		}
		defer finalizeAll(outputs...)
		if len(outputs) != 2 {
			return fmt.Errorf("keras: step returned %d outputs, want 2", len(outputs))
		}
		loss = float64(tensors.ToScalar[float32](outputs[0]))
		correct = float64(tensors.ToScalar[float32](outputs[1]))
		return nil
	})
	return loss, correct, err
}

// probabilities runs the prediction executor on a batch and appends its output to dst.
func (e *engine) probabilities(x *tensors.Tensor, dst []float32) ([]float32, error) {
	err := catchPanic(func() error {
		outputs, err := e.predict.Exec(x)
		if err != nil {
			return err
		}
		defer finalizeAll(outputs...)
		return tensors.ConstFlatData(outputs[0], func(flat []float32) { dst = append(dst, flat...) })
	})
	return dst, err
}

// finalize frees the executors.
func (e *engine) finalize() {
	for _, exec := range []*model.Exec{e.train, e.eval, e.predict} {
		if exec != nil {
			exec.Finalize()
		}
	}
}

// finalizeAll frees tensors now instead of at garbage collection.
func finalizeAll(ts ...*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}
