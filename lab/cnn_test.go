package lab

import (
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
)

// The tutorial CNN's first convolution: 32 filters of 3x3x3; its feature maps: the image, then one
// chart per Conv2D (30x30, 13x13 and 4x4 maps), without training.
func TestFiltersAndFeatureMaps(t *testing.T) {
	m, err := keras.Sequential([]int{32, 32, 3},
		keras.Conv2D(32, 3, keras.ReLU), keras.MaxPooling2D(2),
		keras.Conv2D(64, 3, keras.ReLU), keras.MaxPooling2D(2),
		keras.Conv2D(64, 3, keras.ReLU),
		keras.Flatten(), keras.Dense(64, keras.ReLU), keras.Dense(10, keras.Softmax),
	)
	if err != nil {
		t.Fatal(err)
	}
	test := &cifar.Split{Name: "test", Images: make([]uint8, 2*cifar.ImageSize), Labels: []uint8{3, 8}}
	for i := range test.Images {
		test.Images[i] = uint8(i * 7 % 256)
	}
	f, err := filters(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil || !strings.Contains(f.Text, "32 filters of 3x3x3") || !strings.Contains(f.Title, "conv2d") {
		t.Errorf("filters: %v, title %q, text %q", err, f.Title, f.Text)
	}
	charts, err := featureMaps(m, test, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Test image 1 (ship)", "conv2d (layer 0, 30x30x32), the first 16", "conv2d_1 (layer 2, 13x13x64)", "conv2d_2 (layer 4, 4x4x64)"}
	if len(charts) != len(want) {
		t.Fatalf("%d charts, want %d", len(charts), len(want))
	}
	for i, c := range charts {
		if err := c.Err(); err != nil {
			t.Errorf("chart %d: %v", i, err)
		}
		if !strings.Contains(c.Title, want[i]) {
			t.Errorf("chart %d title %q, want it to contain %q", i, c.Title, want[i])
		}
		if _, err := c.PNG(); err != nil {
			t.Errorf("chart %d: %v", i, err)
		}
	}
	if _, err := featureMaps(m, test, 2); err == nil || !strings.Contains(err.Error(), "image 2, the split has 2 images") {
		t.Errorf("image out of range: %v", err)
	}
	mlp, err := keras.Sequential([]int{32, 32, 3}, keras.Flatten(), keras.Dense(10, keras.Softmax))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := filters(mlp); err == nil || !strings.Contains(err.Error(), "no Conv2D layer") {
		t.Errorf("filters of an MLP: %v", err)
	}
	if _, err := featureMaps(mlp, test, 0); err == nil || !strings.Contains(err.Error(), "no Conv2D layer") {
		t.Errorf("feature maps of an MLP: %v", err)
	}
}
