package keras

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchmarkTrainStep measures one training step of a reference model on random data; it reports
// ms/step (the first step, which compiles the graph, is not timed).
func benchmarkTrainStep(b *testing.B, m *Model, batch int, sparse bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*3072)
	for i := range x {
		x[i] = rng.Float32()
	}
	ids := make([]int, batch)
	for i := range ids {
		ids[i] = rng.IntN(10)
	}
	y := Classes(ids)
	if !sparse {
		var err error
		if y, err = y.ToOneHot(10); err != nil {
			b.Fatal(err)
		}
	}
	m.SetOutput(testWriter{b})
	e, err := m.engineFor()
	if err != nil {
		b.Fatal(err)
	}
	bt := newBatcher(NewArray(x, batch, 32, 32, 3), y)
	idx := rangeIndices(0, batch)
	runStep := func() {
		xT, yT := bt.inputs(idx), bt.labels(idx)
		_, _, err := step(e.train, xT, yT)
		finalizeAll(xT, yT)
		if err != nil {
			b.Fatal(err)
		}
	}
	runStep() // compile
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		runStep()
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1e3/float64(b.N), "ms/step")
}

// BenchmarkLab3TrainStep is one Adam step of lab 3's model (1.7M weights) on a batch of 32.
func BenchmarkLab3TrainStep(b *testing.B) {
	m, err := lab3Model(ReLU)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkTrainStep(b, m, 32, false)
}

// BenchmarkExercise2TrainStep is one Nadam step of exercise 2's model on a batch of 128.
func BenchmarkExercise2TrainStep(b *testing.B) {
	m, err := exercise2Model()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkTrainStep(b, m, 128, true)
}

// testWriter sends output lines to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(string(p))
	return len(p), nil
}
