package cifar

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	got := Normalize([]uint8{0, 51, 255, 128})
	want := []float32{0, 0.2, 1, 128.0 / 255}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Normalize[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestOneHotEncoding(t *testing.T) {
	got, err := oneHot([]uint8{2, 0, 3}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("OneHot = %v, want %v", got, want)
		}
	}
	if _, err := oneHot([]uint8{1, 4}, 4); err == nil || !strings.Contains(err.Error(), "label 4 of sample 1") {
		t.Errorf("out-of-range label: err = %v", err)
	}
	if _, err := oneHot(nil, 0); err == nil {
		t.Error("zero classes: no error")
	}
}

// splitOf makes a split of n images whose first pixel byte and label encode the index.
func splitOf(n int) *Split {
	s := &Split{Name: "train", Images: make([]uint8, n*ImageSize), Labels: make([]uint8, n)}
	for i := range n {
		s.Images[i*ImageSize] = uint8(i)
		s.Labels[i] = uint8(i % NumClasses)
	}
	return s
}

func TestValidationSplit(t *testing.T) {
	tests := []struct {
		n         int
		fraction  float64
		wantTrain int
		wantErr   string
	}{
		{10, 0.2, 8, ""},
		{5000, 0.2, 4000, ""},   // exercise 2
		{50000, 0.2, 40000, ""}, // lab 3
		{3, 0.5, 1, ""},         // int(3 * 0.5) = 1, like Keras
		{7, 0.3, 4, ""},         // int(7 * 0.7) = int(4.8999) = 4
		{10, 0, 10, ""},
		{10, 1, 0, "outside [0, 1)"},
		{10, -0.1, 0, "outside [0, 1)"},
		{1, 0.2, 0, "leaves an empty"},
		{2, 0.6, 0, "leaves an empty"},
	}
	for _, tc := range tests {
		train, val, err := splitOf(tc.n).ValidationSplit(tc.fraction)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("n=%d fraction=%v: err = %v, want %q", tc.n, tc.fraction, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if train.Len() != tc.wantTrain || val.Len() != tc.n-tc.wantTrain {
			t.Errorf("n=%d fraction=%v: %d/%d, want %d/%d", tc.n, tc.fraction, train.Len(), val.Len(), tc.wantTrain, tc.n-tc.wantTrain)
		}
		// The validation part is the last samples, in order.
		if val.Len() > 0 && val.Image(0)[0] != uint8(tc.wantTrain) {
			t.Errorf("n=%d: validation starts at sample %d, want %d", tc.n, val.Image(0)[0], tc.wantTrain)
		}
	}
}

func TestHeadAndSlice(t *testing.T) {
	s := splitOf(20)
	h := s.Head(5)
	if h.Len() != 5 || h.Name != "train[:5]" || h.Image(4)[0] != 4 {
		t.Errorf("Head(5) = %d images named %q", h.Len(), h.Name)
	}
	if s.Head(100).Len() != 20 {
		t.Error("Head beyond the end is not clamped")
	}
	if sl := s.Slice(15, 30); sl.Len() != 5 || sl.Image(0)[0] != 15 {
		t.Errorf("Slice(15, 30) = %d images", sl.Len())
	}
	// Appending to a subset must not overwrite the parent.
	h.Labels = append(h.Labels, 9)
	if s.Labels[5] != 5 {
		t.Error("append to a Head overwrote the parent split")
	}
}

func TestFloat32AndOneHotOfSplit(t *testing.T) {
	s := &Split{Images: make([]uint8, 2*ImageSize), Labels: []uint8{3, 9}}
	s.Images[ImageSize+5] = 255
	x := s.Float32()
	if len(x) != 2*ImageSize || x[ImageSize+5] != 1 || x[0] != 0 {
		t.Errorf("Float32: len %d, x[3077]=%v", len(x), x[ImageSize+5])
	}
	y := s.OneHot()
	if len(y) != 20 || y[3] != 1 || y[19] != 1 || y[0] != 0 {
		t.Errorf("OneHot of split = %v", y)
	}
	if got := s.IntLabels(); got[0] != 3 || got[1] != 9 {
		t.Errorf("IntLabels = %v", got)
	}
}

func TestDescribe(t *testing.T) {
	s := &Split{Name: "test", Images: make([]uint8, 3*ImageSize), Labels: []uint8{1, 1, 7}}
	s.Images[10], s.Images[20] = 3, 200
	for i := range s.Images {
		if s.Images[i] == 0 {
			s.Images[i] = 3
		}
	}
	d := s.Describe()
	if d.ImageShape != [4]int{3, 32, 32, 3} || d.MinValue != 3 || d.MaxValue != 200 || d.MinLabel != 1 || d.MaxLabel != 7 {
		t.Errorf("Describe = %+v", d)
	}
	if d.ClassCounts[1] != 2 || d.ClassCounts[7] != 1 || d.ClassCounts[0] != 0 {
		t.Errorf("class counts %v", d.ClassCounts)
	}
	want := `test: 3 images
  images: shape (3, 32, 32, 3), dtype uint8, values 3..200
  labels: shape (3,), values 1..7
  images per class:
    0 airplane        0
    1 automobile      2
`
	if got := d.String(); !strings.HasPrefix(got, want) || !strings.Contains(got, "    9 truck           0\n") {
		t.Errorf("String() =\n%s\nwant prefix\n%s", got, want)
	}
}
