package keras

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// selfNormalizingModel is a model with every layer of issue 27 on [4, 4, 3] inputs: Normalization
// adapted to x, a SELU layer with LeCun-normal kernels, BatchNormalization, AlphaDropout, Dropout.
func selfNormalizingModel(t testing.TB, x Array, seed int64) *Model {
	t.Helper()
	norm, err := Normalization().Adapt(x)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(ModelSpec{InputShape: []int{4, 4, 3}, Seed: seed, Layers: []LayerSpec{
		norm,
		Flatten(),
		Dense(256, SELU).WithInitializer(LeCunNormal),
		BatchNormalization(),
		AlphaDropout(0.1),
		Dense(32, ReLU).WithInitializer(HeUniform),
		Dropout(0.2),
		Dense(10, Softmax).WithInitializer(GlorotNormal),
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(nil)
	return m
}

// imageData returns n samples of shape [4, 4, 3] whose channels have different means and spreads,
// with class ids in 10 classes.
func imageData(n int) (Array, Labels) {
	x, _, ids := blobs(27, n, 10, 4, 4, 3)
	for i := range x.Data {
		c := i % 3
		x.Data[i] = x.Data[i]*float32(c+1) + float32(10*c)
	}
	return x, ids
}

// Keras 3.15's model.summary() of the same model (bench/keras/.venv-callbacks, JAX backend):
// the long layer name wraps, the Normalization counts its mean, variance and count, and
// BatchNormalization's moving statistics are non-trainable.
func TestNewLayersSummaryAsKeras(t *testing.T) {
	x, _ := imageData(100)
	norm, err := Normalization().Adapt(x)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Sequential([]int{4, 4, 3}, norm, Flatten(), Dense(256, SELU).WithInitializer(LeCunNormal),
		BatchNormalization(), AlphaDropout(0.1), Dense(10, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	want := `Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ normalization (Normalization)   │ (None, 4, 4, 3)        │             7 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 48)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 256)            │        12,544 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 256)            │         1,024 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ alpha_dropout (AlphaDropout)    │ (None, 256)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │         2,570 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 16,145 (63.07 KB)
 Trainable params: 15,626 (61.04 KB)
 Non-trainable params: 519 (2.03 KB)
`
	if got := m.Summary(); got != want {
		t.Errorf("Summary() =\n%s\nwant (Keras's)\n%s", got, want)
	}
	if n := m.CountParams(); n != 16_145 {
		t.Errorf("CountParams() = %d, want Keras's 16,145", n)
	}
	if got := wrap("a_layer_name_longer_than_the_column (Dense)", 10); !slices.Equal(got,
		[]string{"a_layer_na", "me_longer_", "than_the_c", "olumn", "(Dense)"}) {
		t.Errorf("wrap folds a long word into %q", got)
	}
}

func TestNewLayersErrorsNameTheLayer(t *testing.T) {
	x, _ := imageData(8)
	norm, err := Normalization().Adapt(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		layers []LayerSpec
		want   []string
	}{
		{"alpha dropout rate 1", []LayerSpec{Flatten(), AlphaDropout(1), Dense(2, Softmax)}, []string{"layers[1] (AlphaDropout)", "Rate must be in [0, 1), got 1"}},
		{"alpha dropout rate < 0", []LayerSpec{Flatten(), AlphaDropout(-0.1), Dense(2, Softmax)}, []string{"layers[1] (AlphaDropout)", "got -0.1"}},
		{"alpha dropout NaN", []LayerSpec{Flatten(), AlphaDropout(math.NaN()), Dense(2, Softmax)}, []string{"layers[1] (AlphaDropout)", "got NaN"}},
		{"normalization not adapted", []LayerSpec{Normalization(), Flatten(), Dense(2, Softmax)}, []string{"layers[0] (Normalization)", "not adapted", "Adapt(xTrain)"}},
		{"normalization of other data", []LayerSpec{Flatten(), norm, Dense(2, Softmax)}, []string{"layers[1] (Normalization)", "3 means", "[48]"}},
		{"batch normalization epsilon", []LayerSpec{Flatten(), BatchNormalization().WithEpsilon(0), Dense(2, Softmax)}, []string{"layers[1] (BatchNormalization)", "Epsilon must be > 0"}},
		{"batch normalization momentum", []LayerSpec{Flatten(), BatchNormalization().WithMomentum(1.5), Dense(2, Softmax)}, []string{"layers[1] (BatchNormalization)", "Momentum"}},
		{"unknown activation", []LayerSpec{Flatten(), Dense(2, "gelu")}, []string{"layers[1] (Dense)", `unknown activation "gelu"`, "selu"}},
		{"unknown initializer", []LayerSpec{Flatten(), Dense(2, SELU).WithInitializer("lecun"), Dense(2, Softmax)}, []string{"layers[1] (Dense)", `unknown initializer "lecun"`, "lecun_normal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sequential([]int{4, 4, 3}, tc.layers...)
			if err == nil || !containsAll(err.Error(), tc.want...) {
				t.Errorf("Sequential: %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, err := Dense(2, ReLU).Adapt(x); err == nil || !strings.Contains(err.Error(), "Dense layer has nothing to adapt") {
		t.Errorf("Adapt on a Dense spec: %v", err)
	}
	if _, err := Normalization().Adapt(NewArray(nil, 0, 3)); err == nil || !strings.Contains(err.Error(), "Adapt: x.Shape[0] must be > 0") {
		t.Errorf("Adapt on no data: %v", err)
	}
	m := selfNormalizingModel(t, x, 1)
	if _, err := m.MCPredict(x, 4, 0); err == nil || !containsAll(err.Error(), "MCPredict", "samples must be > 0, got 0") {
		t.Errorf("MCPredict with 0 samples: %v", err)
	}
	if _, err := m.PredictWithDropout(x, 4, -1); err == nil || !strings.Contains(err.Error(), "sample must be in") {
		t.Errorf("PredictWithDropout with sample -1: %v", err)
	}
}

func TestNormalizationAdapt(t *testing.T) {
	x, _ := imageData(50)
	norm, err := Normalization().Adapt(x)
	if err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		var sum, sq float64
		n := 0
		for i := c; i < len(x.Data); i += 3 {
			sum += float64(x.Data[i])
			n++
		}
		mean := sum / float64(n)
		for i := c; i < len(x.Data); i += 3 {
			sq += (float64(x.Data[i]) - mean) * (float64(x.Data[i]) - mean)
		}
		if norm.Mean[c] != float32(mean) || norm.Variance[c] != float32(sq/float64(n)) {
			t.Errorf("channel %d: mean %g variance %g, want %g %g", c, norm.Mean[c], norm.Variance[c], mean, sq/float64(n))
		}
	}
	// The normalized training data has mean 0 and variance 1 per channel.
	m, err := Sequential([]int{4, 4, 3}, norm, Flatten(), Dense(48, Linear).WithInitializer(Zeros))
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 48 {
		w[0].Kernel[i*48+i] = 1 // identity
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	out, err := m.Predict(x, 16)
	if err != nil {
		t.Fatal(err)
	}
	mean, variance := featureMoments(out.Data, 3)
	for c := range 3 {
		if math.Abs(float64(mean[c])) > 1e-5 || math.Abs(float64(variance[c])-1) > 1e-5 {
			t.Errorf("channel %d after Normalization: mean %g variance %g", c, mean[c], variance[c])
		}
	}
}

// One SGD step on a Dense → BatchNormalization model: the moving statistics become
// 0.99·initial + 0.01·the batch's (mean of the Dense outputs, biased variance), gamma and beta move
// with the gradient, and inference then uses the moving statistics.
func TestBatchNormalizationStep(t *testing.T) {
	x, ids := imageData(32)
	m, err := NewModel(ModelSpec{InputShape: []int{4, 4, 3}, Seed: 3, Layers: []LayerSpec{
		Flatten(), Dense(8, Linear), BatchNormalization(), Dense(10, Softmax)}})
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(nil)
	if err := m.Compile(CompileConfig{Optimizer: SGD(0.1), Loss: LossSparseCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	before, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 3 || before[1].Name != "batch_normalization" || len(before[1].Others) != 4 {
		t.Fatalf("Weights() = %+v", before)
	}
	for j, name := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		o := before[1].Others[j]
		want := []float32{1, 0, 0, 1}[j]
		if o.Name != name || !slices.Equal(o.Shape, []int{8}) || slices.ContainsFunc(o.Values, func(v float32) bool { return v != want }) {
			t.Errorf("initial %s: %+v, want all %g", name, o, want)
		}
	}
	// The batch statistics of the first Dense layer's outputs, on the host.
	k, b := before[0].Kernel, before[0].Bias
	h := make([]float32, 32*8)
	for i := range 32 {
		for u := range 8 {
			s := float64(b[u])
			for d := range 48 {
				s += float64(x.Data[i*48+d]) * float64(k[d*8+u])
			}
			h[i*8+u] = float32(s)
		}
	}
	mean, variance := featureMoments(h, 8)
	if _, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 32, NoShuffle: true}); err != nil {
		t.Fatal(err)
	}
	after, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	for u := range 8 {
		wantMean := 0.01 * float64(mean[u])
		wantVar := 0.99 + 0.01*float64(variance[u])
		if got := after[1].Others[2].Values[u]; math.Abs(float64(got)-wantMean) > 1e-5*math.Abs(wantMean)+1e-6 {
			t.Errorf("moving_mean[%d] = %g, want %g", u, got, wantMean)
		}
		if got := after[1].Others[3].Values[u]; math.Abs(float64(got)-wantVar) > 1e-5*wantVar {
			t.Errorf("moving_variance[%d] = %g, want %g", u, got, wantVar)
		}
	}
	if slices.Equal(after[1].Others[0].Values, before[1].Others[0].Values) || slices.Equal(after[1].Others[1].Values, before[1].Others[1].Values) {
		t.Errorf("gamma or beta did not train")
	}
	// Inference: gamma·(h − moving_mean)/√(moving_variance + 0.001) + beta, through the last layer.
	probs, err := m.Predict(x, 32)
	if err != nil {
		t.Fatal(err)
	}
	bn := after[1].Others
	k0, b0, k2, b2 := after[0].Kernel, after[0].Bias, after[2].Kernel, after[2].Bias
	for i := range 4 {
		logits := make([]float64, 10)
		for u := range 8 {
			s := float64(b0[u])
			for d := range 48 {
				s += float64(x.Data[i*48+d]) * float64(k0[d*8+u])
			}
			y := float64(bn[0].Values[u])*(s-float64(bn[2].Values[u]))/math.Sqrt(float64(bn[3].Values[u])+1e-3) + float64(bn[1].Values[u])
			for c := range 10 {
				logits[c] += y * float64(k2[u*10+c])
			}
		}
		var z float64
		for c := range 10 {
			logits[c] = math.Exp(logits[c] + float64(b2[c]))
			z += logits[c]
		}
		for c := range 10 {
			if got := probs.Data[i*10+c]; math.Abs(float64(got)-logits[c]/z) > 1e-5 {
				t.Errorf("sample %d class %d: inference gives %g, the moving statistics %g", i, c, got, logits[c]/z)
			}
		}
	}
}

// Save and Load keep the moving statistics and the adapted Normalization; a model of Dense layers
// only writes the same weights file as before (no tensor besides kernels and biases).
func TestSaveLoadNewLayers(t *testing.T) {
	x, ids := imageData(64)
	m := selfNormalizingModel(t, x, 5)
	if err := m.Compile(CompileConfig{Optimizer: Adam(0.01), Loss: LossSparseCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 2, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "m")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded.SetOutput(nil)
	a, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	b, err := loaded.Weights()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d layers of weights saved, %d loaded", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Kernel, b[i].Kernel) || !slices.Equal(a[i].Bias, b[i].Bias) ||
			!slices.EqualFunc(a[i].Others, b[i].Others, func(p, q Weight) bool {
				return p.Name == q.Name && slices.Equal(p.Shape, q.Shape) && slices.Equal(p.Values, q.Values)
			}) {
			t.Errorf("layer %d (%s) differs after Load", i, a[i].Name)
		}
	}
	if mm := b[1].Others[2].Values; !slices.ContainsFunc(mm, func(v float32) bool { return v != 0 }) {
		t.Errorf("moving_mean was not saved: %v", mm[:4])
	}
	if !slices.Equal(loaded.Spec().Layers[0].Mean, m.Spec().Layers[0].Mean) || !slices.Equal(loaded.Spec().Layers[0].Variance, m.Spec().Layers[0].Variance) {
		t.Errorf("the Normalization's statistics were not kept")
	}
	// Training on from the loaded model is training on from the saved one (the optimizer's slots
	// of gamma and beta included).
	assertLoadedAsSaved(t, m, loaded, x, ids)
}

// MC Dropout: a sample's masks do not depend on the batch size, two samples differ, MCPredict is
// their mean, and without dropout layers (BatchNormalization included) the prediction is Predict's.
func TestMCDropout(t *testing.T) {
	x, _ := imageData(20)
	m := selfNormalizingModel(t, x, 7)
	a, err := m.PredictWithDropout(x, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.PredictWithDropout(x, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(a.Data, b.Data) > 1e-6 {
		t.Errorf("sample 0 in batches of 20 and of 3 differ by %g", relDiff(a.Data, b.Data))
	}
	c, err := m.PredictWithDropout(x, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(a.Data, c.Data) < 1e-3 {
		t.Errorf("samples 0 and 1 give the same predictions")
	}
	p, err := m.Predict(x, 20)
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(a.Data, p.Data) < 1e-3 {
		t.Errorf("PredictWithDropout is Predict: dropout is off")
	}
	mc, err := m.MCPredict(x, 20, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range mc.Data {
		if want := (float64(a.Data[i]) + float64(c.Data[i])) / 2; math.Abs(float64(mc.Data[i])-want) > 1e-7 {
			t.Fatalf("MCPredict[%d] = %g, want the mean of the two samples %g", i, mc.Data[i], want)
		}
	}
	if !slices.Equal(mc.Shape, []int{20, 10}) {
		t.Errorf("MCPredict shape %v", mc.Shape)
	}
	noDropout, err := Sequential([]int{4, 4, 3}, Flatten(), Dense(16, SELU), BatchNormalization(), Dense(10, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	w, err := noDropout.Weights()
	if err != nil {
		t.Fatal(err)
	}
	for j := range w[1].Others[2].Values {
		w[1].Others[2].Values[j] = 0.5 // moving statistics that the batch's are not
		w[1].Others[3].Values[j] = 4
	}
	if err := noDropout.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	p, err = noDropout.Predict(x, 20)
	if err != nil {
		t.Fatal(err)
	}
	d, err := noDropout.PredictWithDropout(x, 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Data, d.Data) {
		t.Errorf("BatchNormalization in PredictWithDropout does not use the moving statistics")
	}
}

// Dropping no value, AlphaDropout is a·x + b; dropping all, b + a·α'. Its masks are dropout's.
func TestAlphaDropoutAffine(t *testing.T) {
	const rate = 0.2
	a, b := alphaDropoutAffine(rate)
	// Keras: a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5, b = -a * alpha_p * rate.
	alphaP := alphaDropoutP
	if alphaDropoutP != -1.7580993408473766 {
		t.Fatalf("alpha_p = %v, Keras's is -1.7580993408473766", alphaDropoutP)
	}
	wantA := math.Pow((1-rate)*(1+rate*alphaP*alphaP), -0.5)
	if a != wantA || b != -wantA*alphaP*rate {
		t.Errorf("a, b = %v, %v, want %v, %v", a, b, wantA, -wantA*alphaP*rate)
	}
	// The transform keeps the zero mean and unit variance of a standard normal input: the dropped
	// input has mean r·α' and variance (1−r)(1 + r·α'²).
	mean := a*(rate*alphaP) + b
	variance := a * a * ((1-rate)*1 + rate*alphaP*alphaP - rate*rate*alphaP*alphaP)
	if math.Abs(mean) > 1e-12 || math.Abs(variance-1) > 1e-12 {
		t.Errorf("mean %v variance %v", mean, variance)
	}
}

// Adapt on 8-bit pixels gives the statistics of pixel/255, chunk after chunk.
func TestNormalizationAdaptPixels(t *testing.T) {
	pixels := make([]uint8, 2500*2*2*3)
	for i := range pixels {
		pixels[i] = uint8(i*7 + i/3)
	}
	a, err := Normalization().Adapt(NewPixelArray(pixels, -1, 2, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		var sum, sq, n float64
		for i := c; i < len(pixels); i += 3 {
			sum += float64(float32(pixels[i]) / 255)
			n++
		}
		mean := sum / n
		for i := c; i < len(pixels); i += 3 {
			d := float64(float32(pixels[i])/255) - mean
			sq += d * d
		}
		if a.Mean[c] != float32(mean) || a.Variance[c] != float32(sq/n) {
			t.Errorf("channel %d: Adapt on pixels gives %g, %g; pixel/255 has mean %g, variance %g", c, a.Mean[c], a.Variance[c], mean, sq/n)
		}
	}
}
