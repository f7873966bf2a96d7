package keras

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
)

// FindLearningRate records one (rate, loss) per batch with the rate growing geometrically from
// MinRate, stops when the loss explodes, and leaves the model exactly as it was: weights,
// optimizer state (step count and moments), learning rate and History.
func TestFindLearningRate(t *testing.T) {
	x, y, _ := blobs(51, 640, 4, 4, 4, 2) // 20 batches of 32
	m := smallModel(t, 9, LossCategoricalCrossentropy, Adam(0.003))
	hist, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	weights, _ := m.Weights()
	state, _ := m.OptimizerState()

	rates, losses, err := FindLearningRate(context.Background(), m, x, y, LRFinderConfig{MinRate: 1e-4, MaxRate: 1e-2, BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 20 || len(losses) != 20 {
		t.Fatalf("%d rates and %d losses, want 20 each", len(rates), len(losses))
	}
	factor := math.Pow(100, 1.0/20)
	for i, r := range rates {
		if want := float64(float32(1e-4 * math.Pow(factor, float64(i)))); r != want {
			t.Errorf("rate %d = %v, want %v", i, r, want)
		}
		if !(losses[i] > 0 && losses[i] < 10) {
			t.Errorf("loss %d = %v", i, losses[i])
		}
	}
	after, _ := m.Weights()
	afterState, _ := m.OptimizerState()
	lr, _ := m.LearningRate()
	if !weightsEqual(weights, after) || !reflect.DeepEqual(state, afterState) || lr != float64(float32(0.003)) || m.History() != hist {
		t.Error("the model was not restored after the search")
	}

	// A rate that grows to 1e4 makes the loss explode: the search stops there.
	fresh := smallModel(t, 9, LossCategoricalCrossentropy, SGD(0.01))
	rates, losses, err = FindLearningRate(context.Background(), fresh, x, y, LRFinderConfig{MinRate: 1e-3, MaxRate: 1e4, BatchSize: 32, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	best := math.Inf(1)
	for _, l := range losses[:len(losses)-1] {
		best = min(best, l)
	}
	if len(rates) >= 40 || !(losses[len(losses)-1] > 4*best) {
		t.Errorf("%d of 40 steps recorded, last loss %v (lowest before %v): want an early stop at a loss above 4 times the lowest", len(rates), losses[len(losses)-1], best)
	}
	if it, _ := fresh.Iterations(); it != 0 {
		t.Errorf("a fresh model has %d steps after the search", it)
	}
	if s, _ := fresh.OptimizerState(); len(s.Slots) != 0 && s.Slots[0].Kernel[0] != 0 {
		t.Error("a fresh model's moments are not zero after the search")
	}
}

func TestFindLearningRateErrors(t *testing.T) {
	x, y, _ := blobs(52, 64, 4, 4, 4, 2)
	m := smallModel(t, 9, LossCategoricalCrossentropy, SGD(0.01))
	for _, c := range []struct {
		cfg  LRFinderConfig
		want string
	}{
		{LRFinderConfig{MinRate: 1, MaxRate: 0.1}, "LRFinderConfig.MaxRate must be above MinRate 1, got 0.1"},
		{LRFinderConfig{MinRate: -1}, "LRFinderConfig.MinRate must be > 0"},
		{LRFinderConfig{BatchSize: -2}, "LRFinderConfig.BatchSize must be > 0"},
		{LRFinderConfig{StopFactor: 0.5}, "LRFinderConfig.StopFactor must be > 1"},
	} {
		if _, _, err := FindLearningRate(context.Background(), m, x, y, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
	scheduled := smallModel(t, 9, LossCategoricalCrossentropy, SGD(0).WithSchedule(ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}))
	if _, _, err := FindLearningRate(context.Background(), scheduled, x, y, LRFinderConfig{}); err == nil || !strings.Contains(err.Error(), "compile with a constant learning rate") {
		t.Errorf("with a schedule: %v", err)
	}
}
