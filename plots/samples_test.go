package plots

import (
	"math"
	"math/rand/v2"

	"github.com/cifarlab/cifarlab/report"
)

// sampleHistory returns a plausible, deterministic training history of n epochs: accuracy rising
// and loss falling, validation flattening out, the learning rate halved twice, best epoch best
// (the epoch of lowest validation loss when best < 0).
func sampleHistory(n int, seed uint64, best int) History {
	rng := rand.New(rand.NewPCG(seed, 7))
	h := History{BestEpoch: max(best, 0)}
	lr := 1e-3
	for e := 1; e <= n; e++ {
		x := float64(e) / float64(n)
		if e == n*2/5 || e == n*7/10 {
			lr /= 2
		}
		noise := func(s float64) float64 { return (rng.Float64() - 0.5) * s }
		h.Accuracy = append(h.Accuracy, 0.30+0.45*(1-math.Exp(-4*x))+noise(0.01))
		h.ValAccuracy = append(h.ValAccuracy, 0.32+0.22*(1-math.Exp(-5*x))+noise(0.03))
		h.Loss = append(h.Loss, 1.9-1.2*(1-math.Exp(-4*x))+noise(0.02))
		h.ValLoss = append(h.ValLoss, 1.85-0.5*(1-math.Exp(-6*x))+0.35*x*x+noise(0.05))
		h.LearningRate = append(h.LearningRate, lr)
	}
	if best < 0 {
		for e, v := range h.ValLoss {
			if h.BestEpoch == 0 || v < h.ValLoss[h.BestEpoch-1] {
				h.BestEpoch = e + 1
			}
		}
	}
	return h
}

// sampleRuns returns three runs such as the activation-function comparison.
func sampleRuns() []Series {
	names := []string{"relu", "sigmoid", "tanh"}
	var runs []Series
	for i, name := range names {
		h := sampleHistory(20, uint64(i+10), 0)
		for e := range h.ValAccuracy {
			h.ValAccuracy[e] -= 0.04 * float64(i)
			h.Accuracy[e] -= 0.05 * float64(i)
			h.ValLoss[e] += 0.1 * float64(i)
		}
		h.LearningRate = nil
		runs = append(runs, Series{Name: name, History: h})
	}
	return runs
}

// sampleLayers returns the weights of a small dense network: normal kernels with the spread of
// Glorot initialisation, and small biases.
func sampleLayers() []report.Layer {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []struct {
		name    string
		in, out int
	}{{"dense", 3072, 64}, {"dense_1", 64, 32}, {"dense_2", 32, 10}}
	var layers []report.Layer
	for _, s := range shapes {
		std := math.Sqrt(2 / float64(s.in+s.out))
		l := report.Layer{Name: s.name, Kernel: make([]float32, s.in*s.out), Bias: make([]float32, s.out)}
		for i := range l.Kernel {
			l.Kernel[i] = float32(rng.NormFloat64() * std)
		}
		for i := range l.Bias {
			l.Bias[i] = float32(rng.NormFloat64() * 0.01)
		}
		layers = append(layers, l)
	}
	layers = append(layers, report.Layer{Name: "flatten"})
	return layers
}
