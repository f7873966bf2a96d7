package keras

import (
	"encoding/json"
	"math"
	"testing"
)

func TestEpochLogJSON(t *testing.T) {
	in := []EpochLog{
		{Epoch: 1, Loss: 1.5, Accuracy: 0.4, ValLoss: 1.25, ValAccuracy: 0.5, LearningRate: 0.001, Seconds: 3},
		{Epoch: 2, Loss: math.NaN(), Accuracy: 0.1, ValLoss: math.NaN(), ValAccuracy: math.NaN(), LearningRate: 0.001, Seconds: 1},
		{Epoch: 3, Loss: math.Inf(-1), ValLoss: math.Inf(1), ValAccuracy: 0},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out []EpochLog
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	for i := range in {
		a, b := in[i], out[i]
		if a.Epoch != b.Epoch || !same(a.Loss, b.Loss) || !same(a.Accuracy, b.Accuracy) || !same(a.ValLoss, b.ValLoss) ||
			!same(a.ValAccuracy, b.ValAccuracy) || !same(a.LearningRate, b.LearningRate) || !same(a.Seconds, b.Seconds) {
			t.Errorf("epoch %d: %+v after JSON, want %+v (JSON %s)", i+1, b, a, data)
		}
	}
	h := &History{Epochs: in, EpochsRequested: 5}
	h.finish(nil)
	if h.BestEpoch != 1 || h.StoppedEpoch != 3 || h.WeightsEpoch != 3 {
		t.Errorf("best %d, stopped %d, weights %d; want 1, 3, 3", h.BestEpoch, h.StoppedEpoch, h.WeightsEpoch)
	}
	if s := h.Series("val_accuracy"); len(s) != 3 || s[0] != 0.5 || h.Series("bogus") != nil {
		t.Errorf("Series = %v", s)
	}
}
