package keras

import (
	"math"
	"testing"
)

// Fans are Keras's (keras/src/initializers/random_initializers.py compute_fans): a convolution
// kernel's include its receptive field, so that its Glorot or He scale is the one Keras draws.
func TestComputeFans(t *testing.T) {
	for _, tc := range []struct {
		shape         []int
		fanIn, fanOut int
	}{
		{nil, 1, 1},
		{[]int{10}, 10, 10},
		{[]int{3072, 256}, 3072, 256},
		{[]int{3, 3, 3, 32}, 27, 288},
		{[]int{5, 3, 64, 128}, 960, 1920},
	} {
		in, out := computeFans(tc.shape)
		if in != tc.fanIn || out != tc.fanOut {
			t.Errorf("computeFans(%v) = %d, %d; want %d, %d", tc.shape, in, out, tc.fanIn, tc.fanOut)
		}
	}
}

// A Conv2D kernel drawn by glorot_uniform lies within Keras's limit √(6/(fan_in+fan_out)) and
// spans it (a kernel drawn with a matrix's fans, or none, would be several times larger).
func TestConv2DKernelGlorotScale(t *testing.T) {
	m, err := Sequential([]int{32, 32, 3}, Conv2D(32, 3, ReLU), Flatten(), Dense(10, Softmax))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	limit := math.Sqrt(6.0 / (27 + 288))
	var largest float64
	for _, w := range ws[0].Kernel {
		largest = math.Max(largest, math.Abs(float64(w)))
	}
	if largest > limit || largest < 0.9*limit {
		t.Errorf("largest |kernel| %.4f, want within [0.9, 1] of Keras's limit %.4f", largest, limit)
	}
}
