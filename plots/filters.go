package plots

import (
	"fmt"
	"math"
)

// Filters returns the filters of a convolution over RGB images as a grid of small colour
// images, one per filter: kernel is a Conv2D layer's kernel, row-major in Keras's shape
// [height, width, 3, filters] (keras.LayerWeights.Kernel and KernelShape). Every filter is
// scaled on its own, its smallest weight black and its largest full brightness in each channel
// (the same scale for its three channels), so that the grid shows each filter's pattern of
// colours and edges, not its size; the title above a filter is its index.
func Filters(kernel []float32, shape []int) *Chart {
	title := "First convolution's filters"
	if len(shape) != 4 || shape[2] != 3 || shape[0] != shape[1] || shape[0] <= 0 || shape[3] <= 0 {
		return errChart(title, errorf("Filters: kernel shape %v, want [k, k, 3, filters] (a square kernel over RGB inputs)", shape))
	}
	k, filters := shape[0], shape[3]
	if len(kernel) != k*k*3*filters {
		return errChart(title, errorf("Filters: %d weights for shape %v (%d)", len(kernel), shape, k*k*3*filters))
	}
	g := Grid{Title: fmt.Sprintf("%s: %d filters of %dx%dx3", title, filters, k, k), Cols: 8}
	for f := range filters {
		g.Images = append(g.Images, filterImage(kernel, filters, f))
		g.Titles = append(g.Titles, fmt.Sprint(f))
	}
	ch := g.Chart()
	if ch.Err() == nil {
		ch.Text = fmt.Sprintf("%s: %d filters of %dx%dx3, each scaled from its smallest weight (black) to its largest", title, filters, k, k)
	}
	return ch
}

// FeatureMaps returns the first maps (channels) of a layer's output for one image as a grid of
// grey images, brighter where the map is larger: maps is row-major [height, width, channels]
// (keras.Model.PredictLayer's output for one sample), n how many channels to show (at most all;
// 0 for all). Every map is scaled on its own, from its smallest value (black) to its largest
// (white); a map that is constant (often 0 after a ReLU: the filter found nothing) is black.
// The title above a map is its channel.
func FeatureMaps(title string, maps []float32, shape []int, n int) *Chart {
	if len(shape) != 3 || shape[0] != shape[1] || shape[0] <= 0 || shape[2] <= 0 {
		return errChart(title, errorf("FeatureMaps: shape %v, want [side, side, channels]", shape))
	}
	side, channels := shape[0], shape[2]
	if len(maps) != side*side*channels {
		return errChart(title, errorf("FeatureMaps: %d values for shape %v (%d)", len(maps), shape, side*side*channels))
	}
	if n <= 0 || n > channels {
		n = channels
	}
	g := Grid{Title: title, Cols: 8}
	for c := range n {
		g.Images = append(g.Images, mapImage(maps, channels, c))
		g.Titles = append(g.Titles, fmt.Sprint(c))
	}
	ch := g.Chart()
	if ch.Err() == nil {
		ch.Text = fmt.Sprintf("%s: %d of %d maps of %dx%d, each scaled from its smallest value (black) to its largest (white)", title, n, channels, side, side)
	}
	return ch
}

// filterImage is filter f of a kernel of filters filters as an RGB image: the kernel's values
// [.., .., .., f] in row, column, channel order, scaled by scaleBytes.
func filterImage(kernel []float32, filters, f int) []uint8 {
	values := make([]float32, len(kernel)/filters)
	for i := range values { // i = (row·k + column)·3 + channel
		values[i] = kernel[i*filters+f]
	}
	return scaleBytes(values)
}

// mapImage is channel c of maps [.., .., channels] as a grey RGB image, scaled by scaleBytes.
func mapImage(maps []float32, channels, c int) []uint8 {
	values := make([]float32, len(maps)/channels)
	for i := range values {
		values[i] = maps[i*channels+c]
	}
	grey := scaleBytes(values)
	rgb := make([]uint8, 3*len(grey))
	for i, v := range grey {
		rgb[3*i], rgb[3*i+1], rgb[3*i+2] = v, v, v
	}
	return rgb
}

// scaleBytes maps values linearly onto 0..255, the smallest to 0 and the largest to 255; all
// zeros when they are equal (or not finite).
func scaleBytes(values []float32) []uint8 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
	}
	out := make([]uint8, len(values))
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return out
	}
	for i, v := range values {
		out[i] = uint8(math.Round(255 * (float64(v) - lo) / (hi - lo)))
	}
	return out
}
