package keras

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPixelArrayTrainsLikeFloats checks that images kept as bytes (NewPixelArray) give exactly the
// training history, weights, evaluation and predictions of the same images as float32 pixel/255.
func TestPixelArrayTrainsLikeFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	const n = 240
	pixels := make([]uint8, n*4*4*2)
	ids := make([]int, n)
	for i := range n {
		ids[i] = rng.IntN(4)
		for j := range 32 {
			// Class-dependent brightness plus noise, so that the model has something to learn.
			v := 40*ids[i] + (j%4)*10 + rng.IntN(60)
			pixels[i*32+j] = uint8(min(v, 255))
		}
	}
	floats := make([]float32, len(pixels))
	for i, p := range pixels {
		floats[i] = float32(p) / 255
	}
	asPixels, asFloats := NewPixelArray(pixels, -1, 4, 4, 2), NewArray(floats, -1, 4, 4, 2)
	if !slices.Equal(asPixels.Float32(), floats) || !slices.Equal(asPixels.Shape, asFloats.Shape) {
		t.Fatalf("NewPixelArray: shape %v, values differ from pixel/255", asPixels.Shape)
	}
	y := Classes(ids)
	type result struct {
		h          *History
		w          []LayerWeights
		loss, acc  float64
		prediction []float32
	}
	train := func(x Array) result {
		m := smallModel(t, 7, LossSparseCategoricalCrossentropy, Adam(0.01))
		h, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 3, BatchSize: 16, ValidationSplit: 0.25})
		if err != nil {
			t.Fatal(err)
		}
		w, err := m.Weights()
		if err != nil {
			t.Fatal(err)
		}
		loss, acc, err := m.Evaluate(x, y, 32)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict(x, 32)
		if err != nil {
			t.Fatal(err)
		}
		for i := range h.Epochs {
			h.Epochs[i].Seconds = 0
		}
		return result{h, w, loss, acc, p.Data}
	}
	a, b := train(asPixels), train(asFloats)
	if !slices.Equal(a.h.Epochs, b.h.Epochs) {
		t.Errorf("histories differ:\npixels %+v\nfloats %+v", a.h.Epochs, b.h.Epochs)
	}
	if !weightsEqual(a.w, b.w) || a.loss != b.loss || a.acc != b.acc || !slices.Equal(a.prediction, b.prediction) {
		t.Errorf("pixels and floats trained differently: evaluate %v/%v vs %v/%v", a.loss, a.acc, b.loss, b.acc)
	}
	if a.h.Last().Accuracy < 0.4 { // chance is 0.25
		t.Errorf("accuracy %.3f after 3 epochs: the test data should be learnable", a.h.Last().Accuracy)
	}
}

// TestArrayValidation checks the messages for arrays whose shape and values disagree.
func TestArrayValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    Array
		want string
	}{
		{"floats too short", NewArray(make([]float32, 10), 2, 4, 4, 2), "holds 64 values but len(x.Data) is 10"},
		{"pixels too short", NewPixelArray(make([]uint8, 10), 2, 4, 4, 2), "holds 64 values but len(x.Pixels) is 10"},
		{"both set", Array{Data: make([]float32, 64), Pixels: make([]uint8, 64), Shape: []int{2, 4, 4, 2}}, "both Data and Pixels"},
		{"no sample axis", NewPixelArray(make([]uint8, 4), 4), "at least 2 axes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.x.validate("x")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// ToCategorical one-hot encodes class ids as Keras's to_categorical does, and refuses an id
// outside [0, numClasses).
func TestToCategorical(t *testing.T) {
	for _, tc := range []struct {
		ids     []uint8
		n       int
		want    []float32
		wantErr string
	}{
		{ids: []uint8{2, 0}, n: 3, want: []float32{0, 0, 1, 1, 0, 0}},
		{ids: []uint8{}, n: 10, want: []float32{}},
		{ids: []uint8{1, 3}, n: 3, wantErr: "label 1 is 3, outside [0, 3)"},
		{ids: []uint8{0}, n: 0, wantErr: "numClasses must be > 0"},
	} {
		got, err := ToCategorical(tc.ids, tc.n)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ToCategorical(%v, %d): %v, want an error with %q", tc.ids, tc.n, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.NumClasses != tc.n || !slices.Equal(got.OneHot, tc.want) {
			t.Errorf("ToCategorical(%v, %d) = %v (%d classes), %v; want %v", tc.ids, tc.n, got.OneHot, got.NumClasses, err, tc.want)
		}
	}
}
