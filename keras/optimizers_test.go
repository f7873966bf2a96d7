package keras

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// refOptimizer is a float64 transcription of Keras's update_step for one optimizer.
type refOptimizer struct {
	cfg      Optimizer
	t        int
	m, v     []float64
	uProduct float64
}

func (r *refOptimizer) step(w, g []float64, lr float64) {
	c := r.cfg
	if r.m == nil {
		r.m, r.v, r.uProduct = make([]float64, len(w)), make([]float64, len(w)), 1
	}
	r.t++
	t := float64(r.t)
	switch c.Name {
	case OptimizerSGD:
		for i := range w {
			if c.Momentum == 0 {
				w[i] -= lr * g[i]
				continue
			}
			r.m[i] = c.Momentum*r.m[i] - lr*g[i]
			if c.Nesterov {
				w[i] += c.Momentum*r.m[i] - lr*g[i]
			} else {
				w[i] += r.m[i]
			}
		}
	case OptimizerAdam:
		alpha := lr * math.Sqrt(1-math.Pow(c.Beta2, t)) / (1 - math.Pow(c.Beta1, t))
		for i := range w {
			r.m[i] += (g[i] - r.m[i]) * (1 - c.Beta1)
			r.v[i] += (g[i]*g[i] - r.v[i]) * (1 - c.Beta2)
			w[i] -= alpha * r.m[i] / (math.Sqrt(r.v[i]) + c.Epsilon)
		}
	case OptimizerNadam:
		d := c.ScheduleDecay
		if d == 0 {
			d = 1
		}
		ut := c.Beta1 * (1 - 0.5*math.Pow(0.96, d*t))
		ut1 := c.Beta1 * (1 - 0.5*math.Pow(0.96, d*(t+1)))
		r.uProduct *= ut
		uProduct1 := r.uProduct * ut1
		for i := range w {
			r.m[i] += (g[i] - r.m[i]) * (1 - c.Beta1)
			r.v[i] += (g[i]*g[i] - r.v[i]) * (1 - c.Beta2)
			mHat := ut1*r.m[i]/(1-uProduct1) + (1-ut)*g[i]/(1-r.uProduct)
			vHat := r.v[i] / (1 - math.Pow(c.Beta2, t))
			w[i] -= lr * mHat / (math.Sqrt(vHat) + c.Epsilon)
		}
	case OptimizerRMSprop:
		for i := range w {
			r.v[i] = c.Rho*r.v[i] + (1-c.Rho)*g[i]*g[i]
			w[i] -= lr * g[i] / math.Sqrt(r.v[i]+c.Epsilon)
		}
	}
}

// TestOptimizersMatchKerasFormulas runs three steps of every optimizer on a 2×3 weight with the
// loss Σ c·w + ½Σ w² (gradient c + w) and compares with the float64 formulas. The learning rate
// is changed before the third step, through the variable, without rebuilding the step.
func TestOptimizersMatchKerasFormulas(t *testing.T) {
	backend := testBackend(t)
	w0 := []float64{0.5, -1.5, 2, 0.001, -0.3, 1e-3}
	c := []float64{0.2, 0.1, -3, 1e-4, 0, 5}
	sgdMomentum := SGD(0.1)
	sgdMomentum.Momentum = 0.9
	sgdNesterov := sgdMomentum
	sgdNesterov.Nesterov = true
	nadamLegacy := Nadam(0.05)
	nadamLegacy.ScheduleDecay = 0.004
	for _, tc := range []struct {
		name string
		opt  Optimizer
	}{
		{"sgd", SGD(0.1)},
		{"sgd_momentum", sgdMomentum},
		{"sgd_nesterov", sgdNesterov},
		{"adam", Adam(0.05)},
		{"nadam", Nadam(0.05)},
		{"nadam_schedule_decay", nadamLegacy},
		{"rmsprop", RMSprop(0.05)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := tc.opt.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			store := model.NewStore()
			w32 := make([]float32, len(w0))
			for i, v := range w0 {
				w32[i] = float32(v)
			}
			w := store.RootScope().In("layers").In("d").VariableWithValue("kernel", tensors.FromFlatDataAndDimensions(w32, 2, 3))
			params := []*model.Variable{w}
			upd, err := newUpdater(store, opt, params)
			if err != nil {
				t.Fatal(err)
			}
			exec, err := model.NewExec(backend, store, func(_ *model.Scope, c *graph.Node) *graph.Node {
				wv := w.NodeValue(c.Graph())
				loss := graph.ReduceAllSum(graph.Add(graph.Mul(c, wv), graph.MulScalar(graph.Square(wv), 0.5)))
				upd.updateGraph(params, graph.Gradient(loss, wv))
				return loss
			})
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Finalize()
			c32 := make([]float32, len(c))
			for i, v := range c {
				c32[i] = float32(v)
			}
			ref := &refOptimizer{cfg: opt}
			want := append([]float64(nil), w0...)
			lr := float64(float32(opt.LearningRate))
			for step := 1; step <= 3; step++ {
				if step == 3 {
					if err := upd.setLearningRate(opt.LearningRate / 4); err != nil {
						t.Fatal(err)
					}
					lr = float64(float32(opt.LearningRate / 4))
				}
				g := make([]float64, len(want))
				for i := range g {
					g[i] = c[i] + want[i]
				}
				ref.step(want, g, lr)
				if _, err := exec.Exec(tensors.FromFlatDataAndDimensions(c32, 2, 3)); err != nil {
					t.Fatal(err)
				}
				got, err := variableData(w)
				if err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if d := math.Abs(float64(got[i]) - want[i]); d > 2e-6*(1+math.Abs(want[i])) {
						t.Fatalf("step %d: w[%d] = %.9g, Keras formula gives %.9g (diff %.3g)", step, i, got[i], want[i], d)
					}
				}
			}
			if got, _ := upd.learningRate(); got != lr {
				t.Errorf("learningRate() = %v, want %v", got, lr)
			}
			if iter, _ := upd.iter.Value(); tensors.ToScalar[int64](iter) != 3 {
				t.Errorf("iterations = %v, want 3", iter)
			}
		})
	}
}

func TestCompileValidation(t *testing.T) {
	badBeta := Adam(0.001)
	badBeta.Beta1 = 1.5
	nesterovAdam := Adam(0.001)
	nesterovAdam.Nesterov = true
	for _, tc := range []struct {
		name string
		cfg  CompileConfig
		want string
	}{
		{"zero lr", CompileConfig{Optimizer: Adam(0), Loss: "mse"}, "Optimizer.LearningRate"},
		{"negative lr", CompileConfig{Optimizer: SGD(-0.1), Loss: "mse"}, "Optimizer.LearningRate"},
		{"unknown optimizer", CompileConfig{Optimizer: Optimizer{Name: "adagrad", LearningRate: 0.1}, Loss: "mse"}, "Optimizer.Name"},
		{"bad beta", CompileConfig{Optimizer: badBeta, Loss: "mse"}, "Optimizer.Beta1"},
		{"nesterov adam", CompileConfig{Optimizer: nesterovAdam, Loss: "mse"}, "Optimizer.Nesterov"},
		{"unknown loss", CompileConfig{Optimizer: Adam(0.001), Loss: "hinge"}, "Loss"},
		{"unknown metric", CompileConfig{Optimizer: Adam(0.001), Loss: "mse", Metrics: []Metric{"auc"}}, "Metrics[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := smallModel(t, 1, "mse", Adam(0.001))
			err := m.Compile(tc.cfg)
			if err == nil || !containsAll(err.Error(), "keras: ", tc.want) {
				t.Fatalf("Compile error = %v, want one naming %q", err, tc.want)
			}
		})
	}
	if _, err := OptimizerByName("Adamax"); err == nil {
		t.Error("OptimizerByName(Adamax) succeeded")
	}
	for name, lr := range map[string]float64{"sgd": 0.01, "adam": 0.001, "nadam": 0.001, "rmsprop": 0.001} {
		if o, err := OptimizerByName(name); err != nil || o.LearningRate != lr {
			t.Errorf("OptimizerByName(%s) = %+v, %v; want learning rate %g", name, o, err, lr)
		}
	}
}
