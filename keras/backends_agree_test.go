package keras

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/cifarlab/cifarlab/backend"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// RequireXLAEnv makes the cross-backend tests fail, instead of skip, when XLA cannot start
// (test.sh sets it once kernel-setup/setup.sh has installed the plugin).
const requireXLAEnv = "CIFARLAB_REQUIRE_XLA"

// bothBackends returns XLA on the CPU (the installed PJRT plugin) and the pure-Go backend, or skips
// the test when XLA is not available (fails when CIFARLAB_REQUIRE_XLA=1).
func bothBackends(t *testing.T) (xla, goB compute.Backend) {
	t.Helper()
	unavailable := func(why string) {
		if os.Getenv(requireXLAEnv) == "1" {
			t.Fatalf("%s=1 but %s", requireXLAEnv, why)
		}
		t.Skip(why)
	}
	if !backend.XLACompiledIn {
		unavailable("XLA is not compiled in")
	}
	path, err := backend.PJRTPluginPath()
	if err != nil {
		unavailable(err.Error())
	}
	xla, _, err = backend.XLA(path)
	if err != nil {
		unavailable("XLA could not start: " + err.Error())
	}
	goB, err = gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { goB.Finalize() })
	// The XLA backend is not finalized: the plugin stays loaded for the process anyway.
	return xla, goB
}

// labData returns n CIFAR-shaped samples (32×32×3 values in [0, 1]) in 10 classes whose mean
// brightness pattern depends on the class, so that a model learns something in a few steps.
func labData(n int, seed uint64) (Array, Labels) {
	rng := rand.New(rand.NewPCG(seed, 11))
	const d = 3072
	patterns := make([]float32, 10*d)
	for i := range patterns {
		patterns[i] = rng.Float32()
	}
	x := make([]float32, n*d)
	ids := make([]int, n)
	for i := range n {
		ids[i] = rng.IntN(10)
		for j := range d {
			x[i*d+j] = 0.5*patterns[ids[i]*d+j] + 0.5*rng.Float32()
		}
	}
	return NewArray(x, n, 32, 32, 3), Classes(ids)
}

// labModels are the two labs' models with their own losses (lab 3: one-hot labels, Adam, dropout;
// exercise 2: class ids, Nadam, ELU).
var labModels = []struct {
	name  string
	build func() (*Model, error)
	batch int
}{
	{"lab3", func() (*Model, error) { return lab3Model(ReLU) }, 32},
	{"exercise2", exercise2Model, 128},
	{"selfnormalizing", selfNormalizingLabModel, 64},
	{"exercise2-schedule", scheduledLabModel, 128},
	{"cnn", cnnLabModel, 32},
	{"cnn-augment", cnnAugmentLabModel, 32},
}

// cnnLabModel is a small CNN with issue 26's layers on CIFAR-shaped inputs: Conv2D "same" with L2,
// max pooling, a strided Conv2D, BatchNormalization and Dropout on feature maps, average pooling,
// Flatten, a Dense softmax with L2; Adam, class ids.
func cnnLabModel() (*Model, error) {
	m, err := NewModel(ModelSpec{InputShape: []int{32, 32, 3}, Seed: 42, Layers: []LayerSpec{
		Conv2D(8, 3, ReLU).WithPadding(Same).WithKernelRegularizer(L2(1e-4)), MaxPooling2D(2),
		Conv2D(16, 3, ReLU).WithStrides(2), BatchNormalization(), Dropout(0.2),
		AveragePooling2D(2), Flatten(),
		Dense(10, Softmax).WithKernelRegularizer(L2(1e-3)),
	}})
	if err != nil {
		return nil, err
	}
	return m, m.Compile(CompileConfig{Optimizer: Adam(1e-3), Loss: LossSparseCategoricalCrossentropy, Metrics: []Metric{MetricAccuracy}})
}

// cnnAugmentLabModel is TensorFlow's tutorial CNN shrunk, with the augmentation layers first and
// logits out (Dense(10) and FromLogits, as the tutorial compiles it); class ids.
func cnnAugmentLabModel() (*Model, error) {
	m, err := NewModel(ModelSpec{InputShape: []int{32, 32, 3}, Seed: 42, Layers: []LayerSpec{
		RandomFlip(Horizontal), RandomTranslation(0.1, 0.1), RandomRotation(0.1),
		Conv2D(8, 3, ReLU), MaxPooling2D(2), Conv2D(8, 3, ReLU), MaxPooling2D(2),
		Flatten(), Dense(16, ReLU), Dense(10, Linear),
	}})
	if err != nil {
		return nil, err
	}
	return m, m.Compile(CompileConfig{Optimizer: Adam(1e-3), Loss: LossSparseCategoricalCrossentropy, FromLogits: true, Metrics: []Metric{MetricAccuracy}})
}

// scheduledLabModel is exercise 2's model with a learning-rate schedule (issue 27): Nadam whose
// rate halves every 2 steps, so that it changes within and between epochs.
func scheduledLabModel() (*Model, error) {
	m, err := exercise2Model()
	if err != nil {
		return nil, err
	}
	cfg := m.compiled.cfg
	cfg.Optimizer = Nadam(0).WithSchedule(ExponentialDecay{InitialLearningRate: 1e-3, DecaySteps: 2, DecayRate: 0.5})
	return m, m.Compile(cfg)
}

// selfNormalizingLabModel has issue 27's layers on CIFAR-shaped inputs: a Normalization adapted to
// labData, SELU with LeCun-normal kernels, BatchNormalization, AlphaDropout and Dropout; Adam with
// a small learning rate, class ids.
func selfNormalizingLabModel() (*Model, error) {
	x, _ := labData(256, 1)
	norm, err := Normalization().Adapt(x)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(ModelSpec{InputShape: []int{32, 32, 3}, Seed: 42, Layers: []LayerSpec{
		norm, Flatten(),
		Dense(256, SELU).WithInitializer(LeCunNormal), BatchNormalization(), AlphaDropout(0.1),
		Dense(128, SELU).WithInitializer(LeCunUniform), Dropout(0.2),
		Dense(10, Softmax),
	}})
	if err != nil {
		return nil, err
	}
	// A small learning rate: the normalized lab data is otherwise learnt in one epoch.
	return m, m.Compile(CompileConfig{Optimizer: Adam(1e-5), Loss: LossSparseCategoricalCrossentropy, Metrics: []Metric{MetricAccuracy}})
}

// onBackend builds a lab model that runs on backend b, with its optimizer replaced by opt when
// opt.Name is set.
func onBackend(t *testing.T, build func() (*Model, error), b compute.Backend, opt Optimizer) *Model {
	t.Helper()
	m, err := build()
	if err != nil {
		t.Fatal(err)
	}
	if opt.Name != "" {
		cfg := m.compiled.cfg
		cfg.Optimizer = opt
		if err := m.Compile(cfg); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.SetBackend(b); err != nil {
		t.Fatal(err)
	}
	m.SetOutput(nil)
	t.Cleanup(m.dropEngine)
	return m
}

// labels returns y as the model's loss wants it.
func labelsFor(t *testing.T, m *Model, y Labels) Labels {
	t.Helper()
	if m.compiled.cfg.Loss == LossCategoricalCrossentropy {
		oneHot, err := y.ToOneHot(10)
		if err != nil {
			t.Fatal(err)
		}
		return oneHot
	}
	return y
}

// relDiff is the largest difference between a and b relative to the largest magnitude in a.
func relDiff(a, b []float32) float64 {
	var maxDiff, maxAbs float64
	for i := range a {
		maxDiff = max(maxDiff, math.Abs(float64(a[i])-float64(b[i])))
		maxAbs = max(maxAbs, math.Abs(float64(a[i])))
	}
	if maxAbs == 0 {
		return maxDiff
	}
	return maxDiff / maxAbs
}

// TestBackendsAgreeOnSGDStep trains each lab model for one SGD step (learning rate 1, so the
// weights move by exactly the gradient) on XLA and on the pure-Go backend, from the same weights
// on the same batch (dropout masks included), and compares the loss and every layer's update. The
// two backends sum the matrix products in different orders, so they agree to float32 rounding
// (about 1e-6 relative), not bit for bit; 1e-4 leaves room for any CPU and BLAS kernel.
func TestBackendsAgreeOnSGDStep(t *testing.T) {
	xla, goB := bothBackends(t)
	for _, lm := range labModels {
		t.Run(lm.name, func(t *testing.T) {
			x, ids := labData(lm.batch, 3)
			var losses []float64
			var updates [][]LayerWeights
			for _, b := range []compute.Backend{xla, goB} {
				m := onBackend(t, lm.build, b, SGD(1))
				before, err := m.Weights()
				if err != nil {
					t.Fatal(err)
				}
				h, err := m.Fit(context.Background(), x, labelsFor(t, m, ids), FitConfig{Epochs: 1, BatchSize: lm.batch, NoShuffle: true, Verbose: 0})
				if err != nil {
					t.Fatal(err)
				}
				after, err := m.Weights()
				if err != nil {
					t.Fatal(err)
				}
				for i := range after {
					for j := range after[i].Kernel {
						after[i].Kernel[j] -= before[i].Kernel[j]
					}
					for j := range after[i].Bias {
						after[i].Bias[j] -= before[i].Bias[j]
					}
					for k := range after[i].Others {
						for j := range after[i].Others[k].Values {
							after[i].Others[k].Values[j] -= before[i].Others[k].Values[j]
						}
					}
				}
				losses = append(losses, h.Epochs[0].Loss)
				updates = append(updates, after)
			}
			if d := math.Abs(losses[0]-losses[1]) / losses[0]; d > 1e-5 {
				t.Errorf("loss of the step: XLA %.8g, Go %.8g (relative difference %.2g)", losses[0], losses[1], d)
			}
			for i := range updates[0] {
				parts := map[string][2][]float32{
					"kernel": {updates[0][i].Kernel, updates[1][i].Kernel},
					"bias":   {updates[0][i].Bias, updates[1][i].Bias},
				}
				if updates[0][i].Others != nil {
					parts = map[string][2][]float32{} // BatchNormalization: gamma, beta and the moving statistics' changes
					for k, o := range updates[0][i].Others {
						parts[o.Name] = [2][]float32{o.Values, updates[1][i].Others[k].Values}
					}
				}
				for part, pair := range parts {
					if d := relDiff(pair[0], pair[1]); d > 1e-4 {
						t.Errorf("layer %d %s: the SGD updates differ by %.2g of their largest value", i, part, d)
					} else {
						t.Logf("layer %d %s: the SGD updates differ by %.2g of their largest value", i, part, d)
					}
				}
			}
		})
	}
}

// TestBackendsAgreeOnLosses trains each lab model with its own optimizer (lab 3: Adam with
// dropout; exercise 2: Nadam) for a few epochs on XLA and on the pure-Go backend and compares the
// per-epoch losses and accuracies: what a user sees. Weights after Adam steps are not compared:
// Adam divides by the root of tiny second moments, so a rounding difference can flip the sign of
// a weight's step without changing what the model computes.
func TestBackendsAgreeOnLosses(t *testing.T) {
	xla, goB := bothBackends(t)
	for _, lm := range labModels {
		t.Run(lm.name, func(t *testing.T) {
			const n = 640
			x, ids := labData(n, 5)
			var hists []*History
			for _, b := range []compute.Backend{xla, goB} {
				m := onBackend(t, lm.build, b, Optimizer{})
				h, err := m.Fit(context.Background(), x, labelsFor(t, m, ids), FitConfig{Epochs: 3, BatchSize: lm.batch, ValidationSplit: 0.2, Verbose: 0})
				if err != nil {
					t.Fatal(err)
				}
				hists = append(hists, h)
			}
			valN := float64(n / 5)
			for e := range hists[0].Epochs {
				a, b := hists[0].Epochs[e], hists[1].Epochs[e]
				line := fmt.Sprintf("epoch %d: XLA loss %.6f acc %.4f val_loss %.6f val_acc %.4f; Go %.6f %.4f %.6f %.4f",
					e+1, a.Loss, a.Accuracy, a.ValLoss, a.ValAccuracy, b.Loss, b.Accuracy, b.ValLoss, b.ValAccuracy)
				t.Log(line)
				// Losses: float32 rounding grows over the steps of an epoch; 1e-3 relative is ten
				// times what was seen here. Accuracies: a sample whose two top classes are within
				// rounding may flip, so allow two samples.
				if math.Abs(a.Loss-b.Loss) > 1e-3*b.Loss || math.Abs(a.ValLoss-b.ValLoss) > 1e-3*b.ValLoss ||
					math.Abs(a.ValAccuracy-b.ValAccuracy) > 2/valN+1e-9 {
					t.Errorf("the backends disagree: %s", line)
				}
			}
		})
	}
}

// TestBackendsAgreeOnMCDropout compares the predictions with dropout and alpha dropout active
// (one sample, then the mean of three) of the model with issue 27's layers after a short training,
// on XLA and on the pure-Go backend: the same masks, so the same outputs to float32 rounding.
func TestBackendsAgreeOnMCDropout(t *testing.T) {
	xla, goB := bothBackends(t)
	x, ids := labData(256, 9)
	var outs [][]float32
	for _, b := range []compute.Backend{xla, goB} {
		m := onBackend(t, selfNormalizingLabModel, b, SGD(0.01))
		if _, err := m.Fit(context.Background(), x, ids, FitConfig{Epochs: 1, BatchSize: 64, NoShuffle: true}); err != nil {
			t.Fatal(err)
		}
		one, err := m.PredictWithDropout(x, 100, 4)
		if err != nil {
			t.Fatal(err)
		}
		mean, err := m.MCPredict(x, 64, 3)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, one.Data, mean.Data)
	}
	for k, what := range []string{"PredictWithDropout", "MCPredict"} {
		if d := relDiff(outs[k], outs[k+2]); d > 1e-4 {
			t.Errorf("%s: the backends differ by %.2g of the largest probability", what, d)
		} else {
			t.Logf("%s: the backends differ by %.2g of the largest probability", what, d)
		}
	}
}
