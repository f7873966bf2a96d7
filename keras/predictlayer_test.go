package keras

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// PredictLayer's output of a Conv2D with a known kernel is that convolution by hand; its output
// of the last layer is Predict's; pooling and the shapes follow Summary's.
func TestPredictLayer(t *testing.T) {
	m, err := Sequential([]int{4, 4, 2},
		Conv2D(1, 3, ReLU), // 2x2x1
		MaxPooling2D(2),    // 1x1x1
		Flatten(),
		Dense(3, Softmax),
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	// The conv kernel [3, 3, 2, 1]: channel 0 weighs 1 everywhere, channel 1 weighs −1; bias 0.5.
	for i := range w[0].Kernel {
		w[0].Kernel[i] = float32(1 - 2*(i%2))
	}
	w[0].Bias[0] = 0.5
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*4*4*2) // two images
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	xs := NewArray(x, 2, 4, 4, 2)
	conv, err := m.PredictLayer(xs, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(conv.Shape, []int{2, 2, 2, 1}) {
		t.Fatalf("conv output shape %v, want [2 2 2 1]", conv.Shape)
	}
	at := func(n, h, w, c int) float32 { return x[((n*4+h)*4+w)*2+c] }
	for n := range 2 {
		for i := range 2 {
			for j := range 2 {
				want := 0.5
				for dy := range 3 {
					for dx := range 3 {
						want += float64(at(n, i+dy, j+dx, 0) - at(n, i+dy, j+dx, 1))
					}
				}
				want = max(want, 0)
				got := conv.Data[(n*2+i)*2+j]
				if math.Abs(float64(got)-want) > 1e-5 {
					t.Errorf("image %d conv[%d,%d] = %v, want %v", n, i, j, got, want)
				}
			}
		}
	}
	pool, err := m.PredictLayer(xs, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pool.Shape, []int{2, 1, 1, 1}) {
		t.Fatalf("pool output shape %v, want [2 1 1 1]", pool.Shape)
	}
	for n := range 2 {
		if want := slices.Max(conv.Data[n*4 : n*4+4]); pool.Data[n] != want {
			t.Errorf("image %d: pool %v, want the conv maps' maximum %v", n, pool.Data[n], want)
		}
	}
	last, err := m.PredictLayer(xs, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := m.Predict(xs, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(last.Shape, probs.Shape) || !slices.Equal(last.Data, probs.Data) {
		t.Errorf("last layer's output %v %v, Predict's %v %v", last.Shape, last.Data, probs.Shape, probs.Data)
	}
	for _, tc := range []struct {
		layer, batch int
		want         string
	}{
		{-1, 1, "layer must be in [0, 4)"},
		{4, 1, "layer must be in [0, 4)"},
		{0, 0, "batchSize must be > 0"},
	} {
		if _, err := m.PredictLayer(xs, tc.batch, tc.layer); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PredictLayer(layer %d, batch %d): error %v, want one containing %q", tc.layer, tc.batch, err, tc.want)
		}
	}
}
