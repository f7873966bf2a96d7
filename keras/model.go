package keras

import (
	"fmt"
	"io"
	"os"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// DefaultModelName is the name Keras gives a Sequential model.
const DefaultModelName = "sequential"

// ModelSpec is the architecture of a Sequential model: plain data, saved as JSON with the model and
// part of the key of memoized runs.
type ModelSpec struct {
	Name       string      `json:"name"`
	InputShape []int       `json:"input_shape"` // per-sample shape, e.g. [32, 32, 3]
	Layers     []LayerSpec `json:"layers"`
	Seed       int64       `json:"seed"` // source of the initial weights, shuffles and dropout masks
}

// Model is a Sequential model: its architecture, its weights (GoMLX context variables), and once
// compiled its optimizer and loss. Create it with [Sequential] or [NewModel]. A Model is not safe for
// concurrent use.
type Model struct {
	spec     ModelSpec
	shapes   [][]int // per-sample output shape of each layer
	store    *model.Store
	backend  compute.Backend // nil: DefaultBackend()
	weights  []*layerVars    // one per layer with weights (Dense, Conv2D, BatchNormalization), in order
	compiled *compiled
	lr       float64         // learning rate for the next engine (the optimizer's variable holds it once built)
	optState *OptimizerState // optimizer state for the next engine (SetOptimizerState before training)
	engine   *engine
	history  *History
	out      io.Writer
}

// layerVars are the variables of one layer with weights. Every such layer has two trainable
// weights, kept in kernel and bias (the optimizer's state pairs its slots that way): Dense's and
// Conv2D's kernel and bias, BatchNormalization's gamma and beta. Stats holds BatchNormalization's moving_mean and
// moving_variance, which the train step sets and the optimizer never sees.
type layerVars struct {
	layer        int // index in spec.Layers
	name         string
	kernel, bias *model.Variable
	stats        []*model.Variable
}

// isDense reports whether the variables are a kernel and a bias (a Dense or Conv2D layer's).
func (lv *layerVars) isDense() bool { return lv.stats == nil }

// Sequential builds a model from an input shape (per sample, e.g. []int{32, 32, 3}) and a stack of
// layers, like keras.Sequential. Layers without a name get Keras's ("dense", "dense_1", ...). The
// weights are initialized from seed 0; use SetSeed to choose another.
func Sequential(inputShape []int, layers ...LayerSpec) (*Model, error) {
	return NewModel(ModelSpec{InputShape: inputShape, Layers: layers})
}

// NewModel builds a model from a spec (e.g. one read back from JSON), checking every field.
func NewModel(spec ModelSpec) (*Model, error) {
	spec, shapes, err := normalizeSpec(spec)
	if err != nil {
		return nil, err
	}
	m := &Model{spec: spec, shapes: shapes, out: os.Stdout}
	if err := m.initWeights(); err != nil {
		return nil, err
	}
	return m, nil
}

// normalizeSpec checks a spec, fills in defaults (name, layer names, initializers) and infers the
// output shape of every layer.
func normalizeSpec(spec ModelSpec) (ModelSpec, [][]int, error) {
	if spec.Name == "" {
		spec.Name = DefaultModelName
	}
	if len(spec.InputShape) == 0 {
		return spec, nil, fmt.Errorf("keras: InputShape is empty; give the per-sample shape, e.g. []int{32, 32, 3}")
	}
	for i, d := range spec.InputShape {
		if d <= 0 {
			return spec, nil, fmt.Errorf("keras: InputShape[%d] must be > 0, got %v", i, spec.InputShape)
		}
	}
	spec.InputShape = append([]int(nil), spec.InputShape...)
	if len(spec.Layers) == 0 {
		return spec, nil, fmt.Errorf("keras: Layers is empty; a model needs at least one layer")
	}
	layers, err := nameLayers(spec.Layers)
	if err != nil {
		return spec, nil, err
	}
	shapes := make([][]int, len(layers))
	in := spec.InputShape
	for i := range layers {
		l := &layers[i]
		l.fill2DDefaults()
		if l.Type == LayerRandomFlip && l.Mode == "" {
			l.Mode = HorizontalAndVertical // Keras's default mode
		}
		if l.Type == LayerDense || l.Type == LayerConv2D {
			if l.KernelInitializer == "" {
				l.KernelInitializer = "glorot_uniform"
			}
			if l.BiasInitializer == "" {
				l.BiasInitializer = "zeros"
			}
		}
		if err := l.check(i, in); err != nil {
			return spec, nil, err
		}
		shapes[i] = l.outputShape(in)
		in = shapes[i]
	}
	if len(in) != 1 {
		last := layers[len(layers)-1]
		return spec, nil, fmt.Errorf("keras: layers[%d] (%s), the last layer, outputs per-sample shape %v; a classifier needs a flat output (add keras.Flatten() or keras.GlobalAveragePooling2D() before the last Dense)",
			len(layers)-1, last.Type, in)
	}
	spec.Layers = layers
	return spec, shapes, nil
}

// initWeights (re)creates the context and fills every weight with its initializer, from the seed.
func (m *Model) initWeights() error {
	m.dropEngine()
	m.store = model.NewStore()
	m.weights = nil
	in := m.spec.InputShape
	for i, l := range m.spec.Layers {
		params := l.params(in)
		in = m.shapes[i]
		if len(params) == 0 {
			continue
		}
		rng := layerRNG(m.spec.Seed, i)
		lv := &layerVars{layer: i, name: l.Name}
		for _, p := range params {
			values := make([]float32, product(p.shape))
			if err := initialize(p.initializer, rng, values, p.shape); err != nil {
				return fmt.Errorf("keras: layer %q %s: %w", l.Name, p.name, err)
			}
			v := m.store.RootScope().In("layers").In("%s", l.Name).VariableWithValue(p.name,
				tensors.FromFlatDataAndDimensions(values, p.shape...))
			switch {
			case !p.trainable:
				lv.stats = append(lv.stats, v.SetTrainable(false))
			case lv.kernel == nil:
				lv.kernel = v
			default:
				lv.bias = v
			}
		}
		m.weights = append(m.weights, lv)
	}
	m.history = nil
	m.optState = nil
	if m.compiled != nil {
		m.lr = m.compiled.cfg.Optimizer.LearningRate
	}
	return nil
}

// SetSeed re-initializes the model from a new seed: weights, dropout randomness and shuffles, and
// the optimizer state if compiled. Like keras.utils.set_random_seed before building the model.
func (m *Model) SetSeed(seed int64) error {
	m.spec.Seed = seed
	return m.initWeights()
}

// Seed is the seed the model was initialized from.
func (m *Model) Seed() int64 { return m.spec.Seed }

// Spec returns a copy of the model's architecture (with the layer names filled in).
func (m *Model) Spec() ModelSpec {
	s := m.spec
	s.InputShape = append([]int(nil), s.InputShape...)
	s.Layers = append([]LayerSpec(nil), s.Layers...)
	return s
}

// Name is the model's name ("sequential" unless the spec says otherwise).
func (m *Model) Name() string { return m.spec.Name }

// InputShape is the per-sample input shape.
func (m *Model) InputShape() []int { return append([]int(nil), m.spec.InputShape...) }

// NumOutputs is the number of values the model outputs per sample (the number of classes).
func (m *Model) NumOutputs() int { return m.shapes[len(m.shapes)-1][0] }

// SetOutput sets where the model prints (progress lines, callbacks' messages);
// the default is os.Stdout. FitConfig.Output overrides it for one Fit.
func (m *Model) SetOutput(w io.Writer) {
	if w == nil {
		w = os.Stdout
	}
	m.out = w
}

// Output is where the model prints (see SetOutput).
func (m *Model) Output() io.Writer { return m.out }

// History is the History of the last Fit (or the one given to SetHistory, or read by Load), or nil.
func (m *Model) History() *History { return m.history }

// SetHistory sets the History that History returns and Save writes, as Keras's model.history may
// be set; keras/runs gives a loaded run's History to the model it loads the run into.
func (m *Model) SetHistory(h *History) { m.history = h }

// dropEngine finalizes the compiled graphs (they hold references to the old variables).
func (m *Model) dropEngine() {
	if m.engine != nil {
		m.engine.finalize()
		m.engine = nil
	}
}
