package runs

import (
	"testing"

	"github.com/cifarlab/cifarlab/keras"
)

// The data fingerprints tell apart what the run key must: shapes, values, pixels from floats,
// sparse from one-hot labels.
func TestFingerprints(t *testing.T) {
	floats := []float32{0, 0.5, 1, 0.25, 0.75, 1}
	arrays := map[string]keras.Array{
		"floats":         keras.NewArray(floats, 2, 3),
		"other shape":    keras.NewArray(floats, 3, 2),
		"one value":      keras.NewArray([]float32{0, 0.5, 1, 0.25, 0.75, 0.5}, 2, 3),
		"pixels":         keras.NewPixelArray([]uint8{0, 128, 255, 64, 191, 255}, 2, 3),
		"one pixel":      keras.NewPixelArray([]uint8{0, 128, 255, 64, 191, 254}, 2, 3),
		"no samples":     keras.NewArray(nil, 0, 3),
		"other features": keras.NewArray(nil, 0, 2),
	}
	labels := map[string]keras.Labels{
		"classes":       keras.Classes([]int{0, 1, 2}),
		"other classes": keras.Classes([]int{0, 2, 1}),
		"one-hot":       keras.OneHot([]float32{1, 0, 0, 0, 1, 0, 0, 0, 1}, 3),
		"other one-hot": keras.OneHot([]float32{1, 0, 0, 0, 0, 1, 0, 1, 0}, 3),
		"wider one-hot": keras.OneHot([]float32{1, 0, 0, 1, 0, 0}, 2),
	}
	seen := map[string]string{}
	add := func(what, fp string) {
		t.Helper()
		if len(fp) != 16 {
			t.Errorf("%s: fingerprint %q is not 16 hex digits", what, fp)
		}
		if other, ok := seen[fp]; ok {
			t.Errorf("%s and %s have the same fingerprint %s", what, other, fp)
		}
		seen[fp] = what
	}
	for name, a := range arrays {
		fp := arrayFingerprint(a)
		if again := arrayFingerprint(a); again != fp {
			t.Errorf("array %s: fingerprints %s and %s", name, fp, again)
		}
		add("array "+name, fp)
	}
	for name, l := range labels {
		fp := labelsFingerprint(l)
		if again := labelsFingerprint(l); again != fp {
			t.Errorf("labels %s: fingerprints %s and %s", name, fp, again)
		}
		add("labels "+name, fp)
	}
}

// BenchmarkFingerprint fingerprints CIFAR-10's training images as float32 (50,000 × 3072, 614 MB).
func BenchmarkFingerprint(b *testing.B) {
	data := make([]float32, 50000*3072)
	for i := range data {
		data[i] = float32(i%255) / 255
	}
	x := keras.NewArray(data, -1, 32, 32, 3)
	b.SetBytes(int64(4 * len(data)))
	for b.Loop() {
		arrayFingerprint(x)
	}
}

// BenchmarkFingerprintPixels fingerprints the same images as bytes (keras.NewPixelArray, 154 MB).
func BenchmarkFingerprintPixels(b *testing.B) {
	pixels := make([]uint8, 50000*3072)
	for i := range pixels {
		pixels[i] = uint8(i % 255)
	}
	x := keras.NewPixelArray(pixels, -1, 32, 32, 3)
	b.SetBytes(int64(len(pixels)))
	for b.Loop() {
		arrayFingerprint(x)
	}
}
