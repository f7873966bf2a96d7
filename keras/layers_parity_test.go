package keras

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// layerParitySpec is one layer of a layers-parity case, in the JSON that
// bench/keras/layers_parity.py reads; Weights are in Keras's order.
type layerParitySpec struct {
	Type         LayerType   `json:"type"`
	Units        int         `json:"units,omitempty"`
	Activation   Activation  `json:"activation,omitempty"`
	Momentum     float64     `json:"momentum,omitempty"`
	Epsilon      float64     `json:"epsilon,omitempty"`
	Rate         float64     `json:"rate,omitempty"`
	Filters      int         `json:"filters,omitempty"`
	KernelSize   []int       `json:"kernel_size,omitempty"`
	PoolSize     []int       `json:"pool_size,omitempty"`
	Strides      []int       `json:"strides,omitempty"`
	Padding      Padding     `json:"padding,omitempty"`
	L2           float64     `json:"l2,omitempty"` // the kernel's L2 factor, added to the loss
	Mode         FlipMode    `json:"mode,omitempty"`
	HeightFactor float64     `json:"height_factor,omitempty"`
	WidthFactor  float64     `json:"width_factor,omitempty"`
	Factor       float64     `json:"factor,omitempty"`
	Weights      [][]float32 `json:"weights,omitempty"`
}

// layersParityCase is a small model on a fixed batch (Kind "model"), random preprocessing layers
// in training on cifarlab's draws (Kind "augment"), a compiled cross-entropy on a batch of outputs
// (Kind "loss") or a large draw of an initializer (Kind
// "initializer").
type layersParityCase struct {
	Kind        string            `json:"kind"`
	Name        string            `json:"name"`
	InputShape  []int             `json:"input_shape,omitempty"`
	X           []float32         `json:"x,omitempty"`
	R           []float32         `json:"r,omitempty"` // the loss is sum(y·r)
	Training    bool              `json:"training"`
	Layers      []layerParitySpec `json:"layers,omitempty"`
	Adapt       []float32         `json:"adapt,omitempty"` // a Normalization's data
	Keep        []float32         `json:"keep,omitempty"`  // an AlphaDropout's mask (1 kept)
	U           [][]float32       `json:"u,omitempty"`     // the augment layers' draws, one slice per Keras call
	Loss        Loss              `json:"loss,omitempty"`
	FromLogits  bool              `json:"from_logits,omitempty"`
	Labels      []float32         `json:"labels,omitempty"` // a loss case's class ids or one-hot rows
	Initializer Initializer       `json:"initializer,omitempty"`
	Shape       []int             `json:"shape,omitempty"`
}

// parityValues are a weight's values (or gradient) with the index of its layer in the case.
type parityValues struct {
	Layer  int       `json:"layer"`
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// layersParityResult is what Keras computed for a case.
type layersParityResult struct {
	Y            []float64      `json:"y"`
	GradX        []float64      `json:"grad_x"`
	Grads        []parityValues `json:"grads"`
	NonTrainable []parityValues `json:"non_trainable"`
	Mean         float64        `json:"mean"`
	Std          float64        `json:"std"`
	MaxAbs       float64        `json:"max_abs"`
}

// parityTolerance is float32 rounding with room for the order of a few sums: differences are
// measured relative to the largest magnitude of Keras's values.
const parityTolerance = 1e-5

// layersParityCases builds the cases from a fixed seed: random weights and inputs of either sign.
func layersParityCases(t *testing.T) []layersParityCase {
	rng := rand.New(rand.NewPCG(27, 1))
	normal := func(n int, scale, offset float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64()*scale + offset)
		}
		return v
	}
	positive := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.5 + rng.Float64())
		}
		return v
	}
	dense := func(in, units int, act Activation) layerParitySpec {
		return layerParitySpec{Type: LayerDense, Units: units, Activation: act,
			Weights: [][]float32{normal(in*units, 0.7, 0), normal(units, 0.3, 0)}}
	}
	bn := func(c int, momentum, epsilon float64) layerParitySpec {
		return layerParitySpec{Type: LayerBatchNormalization, Momentum: momentum, Epsilon: epsilon,
			Weights: [][]float32{positive(c), normal(c, 0.5, 0), normal(c, 0.5, 0), positive(c)}}
	}
	conv := func(in, filters, kh, kw int, act Activation, strides []int, padding Padding) layerParitySpec {
		return layerParitySpec{Type: LayerConv2D, Filters: filters, KernelSize: []int{kh, kw}, Strides: strides, Padding: padding,
			Activation: act, Weights: [][]float32{normal(kh*kw*in*filters, 0.4, 0), normal(filters, 0.3, 0)}}
	}
	pool := func(t LayerType, size, stride int, padding Padding) layerParitySpec {
		return layerParitySpec{Type: t, PoolSize: []int{size, size}, Strides: []int{stride, stride}, Padding: padding}
	}
	// ties are images of values in steps of 0.5 from −1.5 to 1.5: most pooling windows hold tied
	// maxima.
	ties := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.IntN(7)-3) / 2
		}
		return v
	}
	const batch = 8
	denseBN := []layerParitySpec{dense(6, 4, Linear), bn(4, 0.99, 1e-3)}
	l2 := func(l layerParitySpec, factor float64) layerParitySpec { l.L2 = factor; return l }
	seluAlpha := []layerParitySpec{dense(6, 8, SELU), {Type: LayerAlphaDropout, Rate: 0.3}}
	images := make([]float32, 40*2*2*3)
	for i := range images {
		images[i] = float32(rng.NormFloat64()*float64(i%3+1) + float64(10*(i%3)))
	}
	cases := []layersParityCase{
		{Name: "Dense+SELU", InputShape: []int{6}, X: normal(batch*6, 1.5, 0), R: normal(batch*3, 1, 0),
			Layers: []layerParitySpec{dense(6, 5, SELU), dense(5, 3, Linear)}},
		{Name: "BatchNormalization training", InputShape: []int{6}, X: normal(batch*6, 1, 0.5), R: normal(batch*4, 1, 0),
			Training: true, Layers: denseBN},
		{Name: "BatchNormalization inference", InputShape: []int{6}, X: normal(batch*6, 1, 0.5), R: normal(batch*4, 1, 0),
			Layers: denseBN},
		{Name: "BatchNormalization on images, training", InputShape: []int{3, 2, 4}, X: normal(batch*24, 2, 1), R: normal(batch*24, 1, 0),
			Training: true, Layers: []layerParitySpec{bn(4, 0.9, 0.01), {Type: LayerFlatten}}},
		{Name: "Normalization adapted", InputShape: []int{2, 2, 3}, X: images[:batch*12], R: normal(batch*4, 1, 0), Adapt: images,
			Layers: []layerParitySpec{{Type: LayerNormalization}, {Type: LayerFlatten}, dense(12, 4, Linear)}},
		{Name: "AlphaDropout training", InputShape: []int{6}, X: normal(batch*6, 1, 0), R: normal(batch*8, 1, 0),
			Training: true, Layers: seluAlpha},
		{Name: "AlphaDropout inference", InputShape: []int{6}, X: normal(batch*6, 1, 0), R: normal(batch*8, 1, 0),
			Layers: seluAlpha},
		{Name: "Conv2D valid", InputShape: []int{7, 6, 3}, X: normal(batch*126, 1, 0), R: normal(batch*5*4*4, 1, 0),
			Layers: []layerParitySpec{conv(3, 4, 3, 3, ReLU, []int{1, 1}, Valid), {Type: LayerFlatten}}},
		{Name: "Conv2D same, strides 2, 3x2 kernel, L2", InputShape: []int{7, 6, 3}, X: normal(batch*126, 1, 0), R: normal(batch*4*3*5, 1, 0),
			Layers: []layerParitySpec{l2(conv(3, 5, 3, 2, Tanh, []int{2, 2}, Same), 0.01), {Type: LayerFlatten}}},
		{Name: "Conv2D same, strides (1, 2), 4x4 kernel", InputShape: []int{6, 7, 2}, X: normal(batch*84, 1, 0), R: normal(batch*6*4*3, 1, 0),
			Layers: []layerParitySpec{conv(2, 3, 4, 4, Linear, []int{1, 2}, Same), {Type: LayerFlatten}}},
		{Name: "MaxPooling2D 2x2 with tied maxima, odd sizes", InputShape: []int{7, 6, 3}, X: ties(batch * 126), R: normal(batch*3*3*3, 1, 0),
			Layers: []layerParitySpec{pool(LayerMaxPooling2D, 2, 2, Valid), {Type: LayerFlatten}}},
		{Name: "MaxPooling2D 3x3 strides 2 same, tied maxima", InputShape: []int{7, 6, 3}, X: ties(batch * 126), R: normal(batch*4*3*3, 1, 0),
			Layers: []layerParitySpec{pool(LayerMaxPooling2D, 3, 2, Same), {Type: LayerFlatten}}},
		{Name: "MaxPooling2D 2x2 strides 1, tied maxima", InputShape: []int{5, 5, 2}, X: ties(batch * 50), R: normal(batch*4*4*2, 1, 0),
			Layers: []layerParitySpec{pool(LayerMaxPooling2D, 2, 1, Valid), {Type: LayerFlatten}}},
		{Name: "AveragePooling2D 2x2", InputShape: []int{7, 6, 3}, X: normal(batch*126, 1, 0), R: normal(batch*3*3*3, 1, 0),
			Layers: []layerParitySpec{pool(LayerAveragePooling2D, 2, 2, Valid), {Type: LayerFlatten}}},
		{Name: "AveragePooling2D 3x3 strides 2 same", InputShape: []int{7, 6, 3}, X: normal(batch*126, 1, 0), R: normal(batch*4*3*3, 1, 0),
			Layers: []layerParitySpec{pool(LayerAveragePooling2D, 3, 2, Same), {Type: LayerFlatten}}},
		{Name: "GlobalAveragePooling2D", InputShape: []int{7, 6, 3}, X: normal(batch*126, 1, 0), R: normal(batch*3, 1, 0),
			Layers: []layerParitySpec{{Type: LayerGlobalAveragePooling2D}}},
		{Name: "Dense on feature maps", InputShape: []int{3, 2, 4}, X: normal(batch*24, 1, 0), R: normal(batch*3*2*5, 1, 0),
			Layers: []layerParitySpec{dense(4, 5, ELU), {Type: LayerFlatten}}},
		{Name: "CNN training: Conv2D, BatchNormalization, pooling, Dense, L2", InputShape: []int{8, 8, 3}, X: normal(batch*192, 1, 0.2), R: normal(batch*5, 1, 0),
			Training: true, Layers: []layerParitySpec{
				l2(conv(3, 4, 3, 3, ReLU, []int{1, 1}, Same), 0.001), bn(4, 0.9, 1e-3), pool(LayerMaxPooling2D, 2, 2, Valid),
				conv(4, 6, 3, 3, ReLU, []int{1, 1}, Valid), pool(LayerAveragePooling2D, 2, 2, Valid), {Type: LayerFlatten},
				l2(dense(6, 5, Softmax), 0.01)}},
	}
	for i := range cases {
		cases[i].Kind = "model"
	}
	for _, a := range []struct {
		name   string
		shape  []int
		layers []layerParitySpec
	}{
		{"RandomFlip horizontal", []int{5, 6, 2}, []layerParitySpec{{Type: LayerRandomFlip, Mode: Horizontal}}},
		{"RandomFlip vertical", []int{5, 6, 2}, []layerParitySpec{{Type: LayerRandomFlip, Mode: Vertical}}},
		{"RandomFlip horizontal_and_vertical", []int{5, 6, 2}, []layerParitySpec{{Type: LayerRandomFlip, Mode: HorizontalAndVertical}}},
		{"RandomTranslation 0.3, 0.2", []int{7, 9, 2}, []layerParitySpec{{Type: LayerRandomTranslation, HeightFactor: 0.3, WidthFactor: 0.2}}},
		{"RandomTranslation 1, -1 (reflections beyond the edge)", []int{5, 6, 1}, []layerParitySpec{{Type: LayerRandomTranslation, HeightFactor: 1, WidthFactor: -1}}},
		{"RandomRotation 0.1", []int{9, 7, 2}, []layerParitySpec{{Type: LayerRandomRotation, Factor: 0.1}}},
		{"RandomRotation 0.5", []int{8, 8, 3}, []layerParitySpec{{Type: LayerRandomRotation, Factor: 0.5}}},
		{"RandomRotation 1", []int{6, 5, 1}, []layerParitySpec{{Type: LayerRandomRotation, Factor: 1}}},
		{"CIFAR images: flip, translation 0.1, rotation 0.1", []int{32, 32, 3}, []layerParitySpec{
			{Type: LayerRandomFlip, Mode: Horizontal}, {Type: LayerRandomTranslation, HeightFactor: 0.1, WidthFactor: 0.1},
			{Type: LayerRandomRotation, Factor: 0.1}}},
	} {
		n := batch
		if a.shape[0] == 32 {
			n = 4
		}
		cases = append(cases, layersParityCase{Kind: "augment", Name: a.name, InputShape: a.shape,
			X: normal(n*product(a.shape), 1, 0.5), Training: true, Layers: append(a.layers, layerParitySpec{Type: LayerFlatten})})
	}
	// Logits of a batch of 8 in 5 classes: moderate ones, and a confident wrong prediction whose
	// probability is far below the 1e-7 of the clip (from logits, nothing is clipped).
	logits := normal(batch*5, 2, 0)
	logits[0], logits[1] = -30, 30 // sample 0 (label 0) predicts class 1
	ids := make([]float32, batch)
	oneHot := make([]float32, batch*5)
	for i := range ids {
		if i > 0 {
			ids[i] = float32(rng.IntN(5))
		}
		oneHot[i*5+int(ids[i])] = 1
	}
	for _, l := range []struct {
		loss   Loss
		labels []float32
	}{{LossSparseCategoricalCrossentropy, ids}, {LossCategoricalCrossentropy, oneHot}} {
		cases = append(cases, layersParityCase{Kind: "loss", Name: string(l.loss) + " from logits", InputShape: []int{5},
			X: logits, Loss: l.loss, FromLogits: true, Labels: l.labels})
	}
	for _, init := range []Initializer{LeCunNormal, LeCunUniform, GlorotNormal, HeUniform, HeNormal, GlorotUniform} {
		cases = append(cases, layersParityCase{Kind: "initializer", Name: string(init), Initializer: init, Shape: []int{400, 300}})
	}
	return cases
}

// goModel builds cifarlab's model of a case with the case's weights.
func (c *layersParityCase) goModel(t *testing.T) *Model {
	t.Helper()
	var layers []LayerSpec
	for _, l := range c.Layers {
		switch l.Type {
		case LayerDense:
			layers = append(layers, Dense(l.Units, l.Activation).WithKernelRegularizer(L2(l.L2)))
		case LayerBatchNormalization:
			layers = append(layers, BatchNormalization().WithMomentum(l.Momentum).WithEpsilon(l.Epsilon))
		case LayerAlphaDropout:
			layers = append(layers, AlphaDropout(l.Rate))
		case LayerFlatten:
			layers = append(layers, Flatten())
		case LayerConv2D:
			layers = append(layers, Conv2D(l.Filters, 0, l.Activation).WithKernelSize(l.KernelSize[0], l.KernelSize[1]).
				WithStrides(l.Strides...).WithPadding(l.Padding).WithKernelRegularizer(L2(l.L2)))
		case LayerMaxPooling2D:
			layers = append(layers, MaxPooling2D(0).WithPoolSize(l.PoolSize[0], l.PoolSize[1]).WithStrides(l.Strides...).WithPadding(l.Padding))
		case LayerAveragePooling2D:
			layers = append(layers, AveragePooling2D(0).WithPoolSize(l.PoolSize[0], l.PoolSize[1]).WithStrides(l.Strides...).WithPadding(l.Padding))
		case LayerGlobalAveragePooling2D:
			layers = append(layers, GlobalAveragePooling2D())
		case LayerRandomFlip:
			layers = append(layers, RandomFlip(l.Mode))
		case LayerRandomTranslation:
			layers = append(layers, RandomTranslation(l.HeightFactor, l.WidthFactor))
		case LayerRandomRotation:
			layers = append(layers, RandomRotation(l.Factor))
		case LayerNormalization:
			norm, err := Normalization().Adapt(NewArray(c.Adapt, append([]int{-1}, c.InputShape...)...))
			if err != nil {
				t.Fatal(err)
			}
			layers = append(layers, norm)
		}
	}
	m, err := NewModel(ModelSpec{InputShape: c.InputShape, Layers: layers, Seed: 27})
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	for i, lv := range m.weights {
		kw := c.Layers[lv.layer].Weights
		if w[i].Others == nil {
			w[i].Kernel, w[i].Bias = kw[0], kw[1]
			continue
		}
		for j := range w[i].Others {
			w[i].Others[j].Values = kw[j]
		}
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	return m
}

// parityKey is the dropout key of the cases' training passes.
const parityKey = 5

// alphaDropoutMask fills the Keep values of a case with an AlphaDropout in training: the mask that
// cifarlab's forward pass draws for that layer, from the Go model's seed and parityKey.
func (c *layersParityCase) alphaDropoutMask(t *testing.T, m *Model) {
	t.Helper()
	for i, l := range m.spec.Layers {
		if l.Type != LayerAlphaDropout || !c.Training {
			continue
		}
		shape := append([]int{len(c.X) / product(c.InputShape)}, m.shapes[i]...)
		outs, err := execN(testBackend(t), func(x *graph.Node) *graph.Node {
			key := graph.Scalar(x.Graph(), dtypes.Uint32, uint32(parityKey))
			return graph.ConvertDType(dropoutKeep(x, l.Rate, m.spec.Seed, i, key, nil), dtypes.Float32)
		}, tensors.FromShape(shapes.Make(dtypes.Float32, shape...)))
		if err != nil {
			t.Fatal(err)
		}
		c.Keep = tensors.MustCopyFlatData[float32](outs[0])
		if !slices.Contains(c.Keep, 0) || !slices.Contains(c.Keep, 1) {
			t.Fatalf("%s: the mask keeps all or nothing", c.Name)
		}
	}
}

// augmentationDraws fills the U values of an augment case: the uniform draws that cifarlab's
// training pass makes for each random layer (from the Go model's seed and parityKey), one slice of
// the batch's values per call that Keras makes (RandomTranslation: the heights, then the widths).
func (c *layersParityCase) augmentationDraws(t *testing.T, m *Model) {
	t.Helper()
	n := len(c.X) / product(c.InputShape)
	for i, l := range m.spec.Layers {
		if !isAugmentation(l.Type) {
			continue
		}
		k := augmentationDraws(l.Type)
		outs, err := execN(testBackend(t), func(key *graph.Node) *graph.Node {
			return hashUniform(key.Graph(), []int{n, k}, m.spec.Seed, i, key, nil)
		}, tensors.FromScalar(uint32(parityKey)))
		if err != nil {
			t.Fatal(err)
		}
		u := tensors.MustCopyFlatData[float32](outs[0])
		for j := range k {
			col := make([]float32, n)
			for b := range n {
				col[b] = u[b*k+j]
			}
			c.U = append(c.U, col)
		}
	}
}

// goLoss computes a loss case the way a compiled model does (the engine's meanLoss on the model's
// output): the loss and its gradient with respect to the output.
func (c *layersParityCase) goLoss(t *testing.T) (float32, []float32) {
	t.Helper()
	m, err := Sequential(c.InputShape, ActivationLayer(Linear))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileConfig{Optimizer: SGD(0.1), Loss: c.Loss, FromLogits: c.FromLogits}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.dropEngine)
	e, err := m.engineFor()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := model.NewExec(e.backend, m.store, func(_ *model.Scope, x, y *graph.Node) []*graph.Node {
		out, logits := e.forward(x, pass{})
		loss := e.meanLoss(out, logits, y)
		return []*graph.Node{loss, graph.Gradient(loss, x)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	n := len(c.Labels)
	var y *tensors.Tensor
	if c.Loss.Sparse() {
		ids := make([]int32, n)
		for i, v := range c.Labels {
			ids[i] = int32(v)
		}
		y = tensors.FromFlatDataAndDimensions(ids, n)
	} else {
		n /= c.InputShape[0]
		y = tensors.FromFlatDataAndDimensions(c.Labels, n, c.InputShape[0])
	}
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(c.X, n, c.InputShape[0]), y)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.ToScalar[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
}

// goRun runs a case's forward pass and the gradients of sum(y·r) with respect to x and to every
// trainable weight (in m.weights order, kernel then bias), through cifarlab's own forward.
func (c *layersParityCase) goRun(t *testing.T, m *Model) (y, gradX []float32, grads map[[2]string][]float32) {
	t.Helper()
	e, err := m.engineFor()
	if err != nil {
		t.Fatal(err)
	}
	var trainable []*model.Variable
	for _, lv := range m.weights {
		trainable = append(trainable, lv.kernel, lv.bias)
	}
	exec, err := model.NewExec(e.backend, m.store, func(_ *model.Scope, x, r *graph.Node) []*graph.Node {
		g := x.Graph()
		p := pass{training: c.Training}
		if c.Training {
			p.key = graph.Scalar(g, dtypes.Uint32, uint32(parityKey))
		}
		out, _ := e.forward(x, p)
		nodes := []*graph.Node{x}
		for _, v := range trainable {
			nodes = append(nodes, v.NodeValue(g))
		}
		objective := e.withRegularization(graph.ReduceAllSum(graph.Mul(out, graph.Reshape(r, out.Shape().Dimensions...))))
		return append([]*graph.Node{out}, graph.Gradient(objective, nodes...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	n := len(c.X) / product(c.InputShape)
	xT := tensors.FromFlatDataAndDimensions(c.X, append([]int{n}, c.InputShape...)...)
	rT := tensors.FromFlatDataAndDimensions(c.R, n, len(c.R)/n)
	var outs []*tensors.Tensor
	if err := catchPanic(func() error { outs, err = exec.Exec(xT, rT); return err }); err != nil {
		t.Fatal(err)
	}
	flat := func(tt *tensors.Tensor) []float32 { return tensors.MustCopyFlatData[float32](tt) }
	grads = map[[2]string][]float32{}
	for i, v := range trainable {
		grads[[2]string{fmt.Sprint(m.weights[i/2].layer), v.Name()}] = flat(outs[2+i])
	}
	return flat(outs[0]), flat(outs[1]), grads
}

// cifarlab's new layers compute what Keras 3's do: forward values, the gradients with respect to
// the inputs and every trainable weight, BatchNormalization's moving statistics after a training
// step, an adapted Normalization's statistics, AlphaDropout's transform on a given mask, the random
// preprocessing layers' outputs in training on cifarlab's draws, the cross-entropies from logits
// (value and gradient, a confident wrong prediction unclipped), and the
// statistics of the initializers' draws (Keras through bench/keras/layers_parity.py, JAX backend).
func TestLayersParityWithKeras(t *testing.T) {
	py := kerasPythonOrSkip(t)
	cases := layersParityCases(t)
	models := make([]*Model, len(cases))
	for i := range cases {
		if cases[i].Kind == "model" || cases[i].Kind == "augment" {
			models[i] = cases[i].goModel(t)
			models[i].SetOutput(nil)
			t.Cleanup(models[i].dropEngine)
			cases[i].alphaDropoutMask(t, models[i])
		}
		if cases[i].Kind == "augment" {
			cases[i].augmentationDraws(t, models[i])
		}
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	stdout := runKeras(t, py, "../bench/keras/layers_parity.py", in)
	var want []layersParityResult
	if err := json.Unmarshal(stdout, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("Keras side printed %d results (%v)", len(want), err)
	}
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Kind == "initializer" {
				initializerParity(t, c, want[i])
				return
			}
			if c.Kind == "loss" {
				value, gradX := c.goLoss(t)
				compareParity(t, "loss", []float32{value}, want[i].Y, 0)
				compareParity(t, "gradient w.r.t. the logits", gradX, want[i].GradX, 0)
				return
			}
			if c.Kind == "augment" {
				// cifarlab's whole training pass (its draws, their transformation and the
				// transform) against Keras's layers on the same draws.
				compareParity(t, "output", trainingPass(t, models[i], c.X, parityKey), want[i].Y, 0)
				return
			}
			m := models[i]
			y, gradX, grads := c.goRun(t, m)
			compareParity(t, "output", y, want[i].Y, 0)
			// A gradient that is zero in exact arithmetic (a Dense bias before BatchNormalization in
			// training) is rounding noise on both sides: gradients are compared relative to the
			// case's largest gradient.
			scale := maxAbs(want[i].GradX)
			for _, g := range want[i].Grads {
				scale = max(scale, maxAbs(g.Values))
			}
			compareParity(t, "gradient w.r.t. x", gradX, want[i].GradX, scale)
			if len(grads) != len(want[i].Grads) {
				t.Errorf("%d trainable weights, Keras has %d", len(grads), len(want[i].Grads))
			}
			for _, g := range want[i].Grads {
				compareParity(t, fmt.Sprintf("gradient w.r.t. layer %d %s", g.Layer, g.Name), grads[[2]string{fmt.Sprint(g.Layer), g.Name}], g.Values, scale)
			}
			weights, err := m.Weights()
			if err != nil {
				t.Fatal(err)
			}
			for _, nt := range want[i].NonTrainable {
				what := fmt.Sprintf("layer %d %s after the call", nt.Layer, nt.Name)
				var got []float32
				switch l := m.spec.Layers[nt.Layer]; {
				case l.Type == LayerNormalization && nt.Name == "mean":
					got = l.Mean
				case l.Type == LayerNormalization && nt.Name == "variance":
					got = l.Variance
				case l.Type == LayerNormalization && nt.Name == "count":
					continue // Keras 3.15's adapt leaves it at 0
				default:
					for _, lw := range weights {
						for _, o := range lw.Others {
							if lw.Name == l.Name && o.Name == nt.Name {
								got = o.Values
							}
						}
					}
				}
				compareParity(t, what, got, nt.Values, 0)
			}
			if c.Layers[0].Type == LayerMaxPooling2D {
				// The case has windows with tied maxima: ReduceMax's own gradient, which goes to each
				// of them, is not Keras's.
				if d := maxAbsDiff(c.reduceMaxGradient(t, m), want[i].GradX); d < 0.1 {
					t.Errorf("ReduceMax's own gradient is within %g of Keras's: the case has no tied maxima", d)
				} else {
					t.Logf("ReduceMax's own gradient (to every tied maximum) differs from Keras's by up to %.3g", d)
				}
			}
			if c.Name == "AlphaDropout inference" {
				// Inference is the identity: the output is the SELU layer's.
				sub := c
				sub.Layers = c.Layers[:1]
				ySELU, _, _ := sub.goRun(t, sub.goModel(t))
				if !slices.Equal(ySELU, y) {
					t.Errorf("AlphaDropout in inference is not the identity")
				}
			}
		})
	}
}

// compareParity fails when got differs from Keras's want by more than parityTolerance of want's
// largest magnitude, or of scale when larger.
func compareParity(t *testing.T, what string, got []float32, want []float64, scale float64) {
	t.Helper()
	if len(got) != len(want) || len(want) == 0 {
		t.Errorf("%s: %d values, Keras has %d", what, len(got), len(want))
		return
	}
	var maxDiff float64
	worst := 0
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > maxDiff {
			maxDiff, worst = d, i
		}
	}
	ref := max(maxAbs(want), scale, 1e-30)
	if rel := maxDiff / ref; rel > parityTolerance {
		t.Errorf("%s: differs from Keras's by %.2g of %.4g (value %d: cifarlab %.8g, Keras %.8g)",
			what, rel, ref, worst, got[worst], want[worst])
	} else {
		t.Logf("%s: within %.2g of Keras's, relative to %.4g", what, rel, ref)
	}
}

// maxAbs is the largest magnitude in v.
func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

// initializerParity compares the mean, standard deviation and largest magnitude of a large draw
// of an initializer with Keras's draw and with Keras's formula. For n values of standard deviation
// σ (kurtosis κ ≤ 3 for these distributions), a sample mean has standard error σ/√n and a sample
// standard deviation at most σ·√((κ−1)/(4n)) ≤ σ/√(2n); the bounds are 6 such errors, for the
// difference of two independent draws: a failure is not chance.
func initializerParity(t *testing.T, c layersParityCase, keras layersParityResult) {
	fanIn, fanOut := c.Shape[0], c.Shape[1]
	n := float64(fanIn * fanOut)
	values := make([]float32, fanIn*fanOut)
	if err := initialize(c.Initializer, layerRNG(27, 0), values, c.Shape); err != nil {
		t.Fatal(err)
	}
	var sum, sq, largest float64
	for _, v := range values {
		sum += float64(v)
		largest = max(largest, math.Abs(float64(v)))
	}
	mean := sum / n
	for _, v := range values {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	std := math.Sqrt(sq / n)
	// Keras's formulas (VarianceScaling): the target standard deviation and the largest magnitude.
	var sigma, bound float64
	switch c.Initializer {
	case LeCunNormal:
		sigma = math.Sqrt(1 / float64(fanIn))
	case LeCunUniform:
		sigma = math.Sqrt(1 / float64(fanIn))
	case GlorotNormal, GlorotUniform:
		sigma = math.Sqrt(2 / float64(fanIn+fanOut))
	case HeNormal, HeUniform:
		sigma = math.Sqrt(2 / float64(fanIn))
	}
	switch c.Initializer {
	case LeCunUniform, GlorotUniform, HeUniform:
		bound = sigma * math.Sqrt(3) // U(−limit, limit) has σ = limit/√3
	default:
		bound = 2 * sigma / heNormalStddevCorrection // truncated at 2 of the untruncated stddev
	}
	meanTol, stdTol := 6*sigma*math.Sqrt(2/n), 6*sigma*math.Sqrt(1/n)
	t.Logf("cifarlab mean %.3g std %.6g max %.6g; Keras %.3g %.6g %.6g; formula σ %.6g, bound %.6g",
		mean, std, largest, keras.Mean, keras.Std, keras.MaxAbs, sigma, bound)
	if math.Abs(mean-keras.Mean) > meanTol || math.Abs(mean) > meanTol {
		t.Errorf("mean %.3g, Keras's %.3g: more than %.2g apart or from 0", mean, keras.Mean, meanTol)
	}
	if math.Abs(std-keras.Std) > stdTol || math.Abs(std-sigma) > stdTol || math.Abs(keras.Std-sigma) > stdTol {
		t.Errorf("std %.6g, Keras's %.6g, the formula's %.6g: more than %.2g apart", std, keras.Std, sigma, stdTol)
	}
	for who, m := range map[string]float64{"cifarlab": largest, "Keras": keras.MaxAbs} {
		if m > bound*(1+1e-6) || m < 0.99*bound {
			t.Errorf("%s's largest magnitude %.6g, want just under %.6g", who, m, bound)
		}
	}
}

// reduceMaxGradient is the gradient of sum(y·r) with respect to x of a case whose first layer is a
// MaxPooling2D, computed with ReduceMax's own gradient (to each tied maximum of a window).
func (c *layersParityCase) reduceMaxGradient(t *testing.T, m *Model) []float32 {
	t.Helper()
	n := len(c.X) / product(c.InputShape)
	outs, err := execN(testBackend(t), func(x, r *graph.Node) *graph.Node {
		w, axes := windows(x, m.spec.Layers[0], math.Inf(-1))
		y := graph.ReduceMax(w, axes...)
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(y, graph.Reshape(r, y.Shape().Dimensions...))), x)[0]
	}, tensors.FromFlatDataAndDimensions(c.X, append([]int{n}, c.InputShape...)...), tensors.FromFlatDataAndDimensions(c.R, n, len(c.R)/n))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](outs[0])
}

// maxAbsDiff is the largest difference between got and want.
func maxAbsDiff(got []float32, want []float64) float64 {
	d := 0.0
	for i := range min(len(got), len(want)) {
		d = max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}
