package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
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
	dropout *model.Exec       // (x, key, row) → probabilities with dropout on (PredictWithDropout)
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
		e.params = append(e.params, lv.kernel, lv.bias) // the trainable pair (see layerVars)
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
		if e.train, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x, y *graph.Node) (*graph.Node, *graph.Node) {
			probs, logits := e.forward(x, pass{training: true, key: e.upd.iter.NodeValue(x.Graph())})
			lossValue := e.withRegularization(e.meanLoss(probs, logits, y))
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
			probs, logits := e.forward(x, pass{})
			return e.withRegularization(e.meanLoss(probs, logits, y)), correctCount(probs, y)
		}); err != nil {
			return fmt.Errorf("keras: building the evaluation step: %w", err)
		}
	}
	if e.predict, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x *graph.Node) *graph.Node {
		probs, _ := e.forward(x, pass{})
		return probs
	}); err != nil {
		return fmt.Errorf("keras: building the prediction step: %w", err)
	}
	if e.dropout, err = model.NewExec(e.backend, m.store, func(_ *model.Scope, x, key, row *graph.Node) *graph.Node {
		probs, _ := e.forward(x, pass{key: key, row: row})
		return probs
	}); err != nil {
		return fmt.Errorf("keras: building the prediction step with dropout: %w", err)
	}
	return nil
}

// meanLoss is the compiled loss of a batch: the mean over its samples of the loss of the model's
// output out (with logits, a softmax output's input, or nil) against the labels y. With FromLogits
// the output itself is the logits.
func (e *engine) meanLoss(out, logits, y *graph.Node) *graph.Node {
	cfg := e.model.compiled.cfg
	if cfg.FromLogits {
		logits = out
	}
	return graph.ReduceAllMean(perSampleLossOf(cfg.Loss, out, logits, y))
}

// withRegularization adds the layers' weight penalties to a batch's mean loss, as Keras adds
// model.losses to the loss it trains on and reports.
func (e *engine) withRegularization(loss *graph.Node) *graph.Node {
	if r := e.regularization(loss.Graph()); r != nil {
		return graph.Add(loss, r)
	}
	return loss
}

// pass says how forward runs. In training, BatchNormalization normalizes by the batch's
// statistics and updates its moving ones (otherwise by the moving ones), and the augmentation
// layers transform the images with the draws of the key (the training step). With a key, dropout and
// alpha dropout are on, with the masks that key chooses (the training step, or a prediction's
// sample); row, when set, is the index of the batch's first sample in the whole input, so that a
// prediction's masks do not depend on the batch size.
type pass struct {
	training bool
	key, row *graph.Node
	layers   int // when > 0, only the first layers layers run (PredictLayer)
}

// forward builds the model's output probabilities for a batch x ([B, input shape...]) in the
// given pass. When the output is a softmax's, logits is that softmax's input (else nil): Keras on
// TensorFlow computes the cross-entropies from it (the softmax caches its logits on its output,
// keras/src/backend/tensorflow/nn.py _get_logits).
func (e *engine) forward(x *graph.Node, p pass) (out, logits *graph.Node) {
	m := e.model
	g := x.Graph()
	batch := x.Shape().Dimensions[0]
	weighted := 0
	activate := func(name Activation) {
		in := x
		x = mustActivation(name)(x)
		if name == "softmax" {
			logits = in
		} else if name != "linear" && name != "" {
			logits = nil
		}
	}
	// offset is the position of the batch's first value in the whole input, at the current layer.
	offset := func() *graph.Node {
		if p.row == nil {
			return nil
		}
		return graph.Mul(graph.ConvertDType(p.row, dtypes.Uint32), graph.Scalar(g, dtypes.Uint32, uint32(x.Shape().Size()/batch)))
	}
	for i, l := range m.spec.Layers {
		if p.layers > 0 && i >= p.layers {
			break
		}
		switch l.Type {
		case LayerFlatten:
			x = graph.Reshape(x, batch, x.Shape().Size()/batch)
			logits = nil
		case LayerDense:
			lv := m.weights[weighted]
			weighted++
			x = denseLastAxis(x, lv.kernel.NodeValue(g), lv.bias.NodeValue(g))
			logits = nil
			activate(l.Activation)
		case LayerConv2D:
			lv := m.weights[weighted]
			weighted++
			x = conv2D(x, lv.kernel.NodeValue(g), lv.bias.NodeValue(g), l)
			logits = nil
			activate(l.Activation)
		case LayerMaxPooling2D:
			x = maxPool2D(x, l)
			logits = nil
		case LayerAveragePooling2D:
			x = averagePool2D(x, l)
			logits = nil
		case LayerGlobalAveragePooling2D:
			x = graph.ReduceMean(x, 1, 2)
			logits = nil
		case LayerActivation:
			activate(l.Activation)
		case LayerRandomFlip, LayerRandomTranslation, LayerRandomRotation:
			if p.training && p.key != nil {
				x = augment(x, l, m.spec.Seed, i, p.key)
				logits = nil
			}
		case LayerDropout:
			if p.key != nil && l.Rate > 0 {
				x = dropout(x, l.Rate, m.spec.Seed, i, p.key, offset())
				logits = nil // a new tensor: Keras's cached logits do not follow it
			}
		case LayerAlphaDropout:
			if p.key != nil && l.Rate > 0 {
				x = alphaDropout(x, l.Rate, m.spec.Seed, i, p.key, offset())
				logits = nil
			}
		case LayerBatchNormalization:
			lv := m.weights[weighted]
			weighted++
			x = batchNormalization(x, l, lv, p.training)
			logits = nil
		case LayerNormalization:
			x = normalization(x, l)
			logits = nil
		}
	}
	return x, logits
}

// featureShape is the shape that broadcasts a per-feature vector of c values over x's last axis.
func featureShape(x *graph.Node, c int) []int {
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[len(dims)-1] = c
	return dims
}

// batchNormalization normalizes x by its batch's mean and biased variance over every axis but the
// last (training: and sets the moving statistics) or by the moving statistics, as Keras 3 does
// (keras/src/backend/jax/nn.py batch_normalization): inv = gamma/√(variance+ε), y = x·inv +
// (beta − mean·inv).
func batchNormalization(x *graph.Node, l LayerSpec, lv *layerVars, training bool) *graph.Node {
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	gamma, beta := lv.kernel.NodeValue(g), lv.bias.NodeValue(g)
	movingMean, movingVariance := lv.stats[0], lv.stats[1]
	var mean, variance *graph.Node
	if training {
		axes := make([]int, x.Rank()-1)
		for i := range axes {
			axes[i] = i
		}
		mean = graph.ReduceMean(x, axes...)
		variance = graph.ReduceMean(graph.Square(graph.Sub(x, graph.Reshape(mean, featureShape(x, c)...))), axes...)
		movingMean.SetNodeValue(graph.Add(graph.MulScalar(movingMean.NodeValue(g), l.Momentum),
			graph.MulScalar(graph.StopGradient(mean), 1-l.Momentum)))
		movingVariance.SetNodeValue(graph.Add(graph.MulScalar(movingVariance.NodeValue(g), l.Momentum),
			graph.MulScalar(graph.StopGradient(variance), 1-l.Momentum)))
	} else {
		mean, variance = movingMean.NodeValue(g), movingVariance.NodeValue(g)
	}
	inv := graph.Mul(rsqrt(graph.AddScalar(variance, l.Epsilon)), gamma)
	res := graph.Sub(beta, graph.Mul(mean, inv))
	return graph.Add(graph.Mul(x, graph.Reshape(inv, featureShape(x, c)...)), graph.Reshape(res, featureShape(x, c)...))
}

// rsqrt is 1/√x (Keras's jax.lax.rsqrt) with its gradient, −½·x^−3/2 = −½·rsqrt(x)³ (GoMLX
// defines none for Rsqrt).
func rsqrt(x *graph.Node) *graph.Node {
	var y *graph.Node
	withGrad := graph.IdentityWithCustomGradient(x, func(_, v *graph.Node) *graph.Node {
		return graph.Mul(v, graph.MulScalar(graph.Mul(y, graph.Square(y)), -0.5))
	})
	stopped := graph.StopGradient(withGrad)
	y = graph.Rsqrt(stopped)
	return graph.Add(y, graph.Sub(withGrad, stopped))
}

// normalization standardizes x with a Normalization layer's statistics as Keras does
// (keras/src/layers/preprocessing/normalization.py): (x − mean)/max(√variance, 1e-7).
func normalization(x *graph.Node, l LayerSpec) *graph.Node {
	g := x.Graph()
	c := len(l.Mean)
	denominator := make([]float32, c)
	for j, v := range l.Variance {
		// float32(√v) of a float32 v is the float32 square root, correctly rounded.
		denominator[j] = max(float32(math.Sqrt(float64(v))), 1e-7)
	}
	mean := graph.Const(g, tensors.FromFlatDataAndDimensions(slices.Clone(l.Mean), featureShape(x, c)...))
	den := graph.Const(g, tensors.FromFlatDataAndDimensions(denominator, featureShape(x, c)...))
	return graph.Div(graph.Sub(x, mean), den)
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

// run runs a prediction executor on a batch's inputs and appends its output to dst.
func (e *engine) run(exec *model.Exec, dst []float32, inputs ...any) ([]float32, error) {
	err := catchPanic(func() error {
		outputs, err := exec.Exec(inputs...)
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
	for _, exec := range []*model.Exec{e.train, e.eval, e.predict, e.dropout} {
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
