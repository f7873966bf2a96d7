package plots

import (
	"bytes"
	"image/png"
	"slices"
	"strings"
	"testing"
)

func TestScaleBytes(t *testing.T) {
	if got, want := scaleBytes([]float32{-1, 0, 1}), []uint8{0, 128, 255}; !slices.Equal(got, want) {
		t.Errorf("scaleBytes(-1, 0, 1) = %v, want %v", got, want)
	}
	if got := scaleBytes([]float32{2, 2, 2}); !slices.Equal(got, []uint8{0, 0, 0}) {
		t.Errorf("scaleBytes of a constant = %v, want zeros", got)
	}
}

// A 1x1x3 kernel of two filters, [1, 1, 3, 2]: filter 0 is (red 1, green 0, blue −1), filter 1
// the reverse; a 2x2 map of two channels.
func TestFilterAndMapImages(t *testing.T) {
	kernel := []float32{1, -1, 0, 0, -1, 1} // [channel][filter]
	if got, want := filterImage(kernel, 2, 0), []uint8{255, 128, 0}; !slices.Equal(got, want) {
		t.Errorf("filter 0 = %v, want %v", got, want)
	}
	if got, want := filterImage(kernel, 2, 1), []uint8{0, 128, 255}; !slices.Equal(got, want) {
		t.Errorf("filter 1 = %v, want %v", got, want)
	}
	maps := []float32{0, 5, 1, 5, 2, 5, 4, 5} // [pixel][channel]: channel 0 is 0, 1, 2, 4; channel 1 constant
	if got, want := mapImage(maps, 2, 0), []uint8{0, 0, 0, 64, 64, 64, 128, 128, 128, 255, 255, 255}; !slices.Equal(got, want) {
		t.Errorf("map 0 = %v, want %v", got, want)
	}
	if got := mapImage(maps, 2, 1); slices.Max(got) != 0 {
		t.Errorf("a constant map = %v, want black", got)
	}
}

func TestFiltersAndFeatureMapsRender(t *testing.T) {
	kernel := make([]float32, 3*3*3*32)
	for i := range kernel {
		kernel[i] = float32(i%11) - 5
	}
	maps := make([]float32, 30*30*32)
	for i := range maps {
		maps[i] = float32(i % 13)
	}
	for name, ch := range map[string]*Chart{
		"filters":      Filters(kernel, []int{3, 3, 3, 32}),
		"feature maps": FeatureMaps("conv2d: 30x30x32", maps, []int{30, 30, 32}, 16),
	} {
		data, err := ch.PNG()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if w, _ := ch.PixelSize(); img.Bounds().Dx() != w || w != 945 {
			t.Errorf("%s: width %d pixels, want 945 (16 cm at 150 dpi)", name, img.Bounds().Dx())
		}
		if blank(img) {
			t.Errorf("%s: the chart is blank", name)
		}
	}
	if txt := FeatureMaps("conv2d", maps, []int{30, 30, 32}, 16).Text; !strings.Contains(txt, "16 of 32 maps of 30x30") {
		t.Errorf("feature maps text %q", txt)
	}
	if txt := Filters(kernel, []int{3, 3, 3, 32}).Text; !strings.Contains(txt, "32 filters of 3x3x3") {
		t.Errorf("filters text %q", txt)
	}
}

func TestFiltersAndFeatureMapsErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		ch   *Chart
		want string
	}{
		"filters over grey inputs": {Filters(make([]float32, 9*4), []int{3, 3, 1, 4}), "want [k, k, 3, filters]"},
		"filters short":            {Filters(make([]float32, 10), []int{3, 3, 3, 4}), "10 weights for shape"},
		"maps not square":          {FeatureMaps("m", make([]float32, 6), []int{1, 2, 3}, 0), "want [side, side, channels]"},
		"maps short":               {FeatureMaps("m", make([]float32, 6), []int{2, 2, 3}, 0), "6 values for shape"},
	} {
		if err := tc.ch.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}
