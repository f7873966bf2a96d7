package plots

import (
	"image"
	"image/color"
	"testing"
)

// Helpers that look at rendered charts: colours, shares of pixels, where an image was drawn. They
// rely on what a chart draws, not on fonts: filled areas and nearest-neighbour images keep exact
// colours inside, and only their edges and text are anti-aliased.

// rgba returns c as non-premultiplied 8-bit RGBA (the charts are opaque).
func rgba(c color.Color) color.RGBA {
	return color.RGBAModel.Convert(c).(color.RGBA)
}

// near reports whether a and b differ by at most tol in each of red, green and blue.
func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// at returns the pixel of img at (x, y).
func at(img *image.RGBA, x, y int) color.RGBA {
	i := img.PixOffset(x, y)
	return color.RGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3]}
}

// countNear returns the number of pixels of img within tol of c.
func countNear(img *image.RGBA, c color.Color, tol int) int {
	want, n := rgba(c), 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(at(img, x, y), want, tol) {
				n++
			}
		}
	}
	return n
}

// inkShare returns the share of the pixels of img that are not white.
func inkShare(img *image.RGBA) float64 {
	b := img.Bounds()
	return 1 - float64(countNear(img, color.White, 0))/float64(b.Dx()*b.Dy())
}

// findImage returns where the side x side HWC image pix is drawn in img, upscaled by a whole factor
// with nearest-neighbour interpolation: the top-left corner and the factor, such that the centre
// of every scale x scale block holds its image pixel's colour (within 2).
func findImage(img *image.RGBA, pix []uint8, side int) (corner image.Point, scale int, ok bool) {
	want := func(i, j int) color.RGBA {
		p := 3 * (i*side + j)
		return color.RGBA{pix[p], pix[p+1], pix[p+2], 255}
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if !near(at(img, x, y), want(0, 0), 2) {
				continue
			}
			for s := 1; x+s*side <= b.Max.X && y+s*side <= b.Max.Y; s++ {
				match := true
				for i := 0; i < side && match; i++ {
					for j := 0; j < side && match; j++ {
						match = near(at(img, x+j*s+s/2, y+i*s+s/2), want(i, j), 2)
					}
				}
				if match {
					return image.Point{x, y}, s, true
				}
			}
		}
	}
	return image.Point{}, 0, false
}

// span is a run [lo, hi) of pixel columns or rows.
type span struct{ lo, hi int }

// runs returns the runs of indices where full(i) holds, joining runs separated by at most gap
// indices (anti-aliased edges between cells).
func runs(n, gap int, full func(i int) bool) []span {
	var out []span
	for i := 0; i < n; i++ {
		if !full(i) {
			continue
		}
		if k := len(out) - 1; k >= 0 && i-out[k].hi <= gap {
			out[k].hi = i + 1
		} else {
			out = append(out, span{i, i + 1})
		}
	}
	return out
}

// widest returns the widest of spans (the zero span if there is none).
func widest(spans []span) span {
	var w span
	for _, s := range spans {
		if s.hi-s.lo > w.hi-w.lo {
			w = s
		}
	}
	return w
}

// heatmapArea returns the rectangle of img covered by the cells of a heatmap in the Blues colour
// map: the widest block of columns, then of rows, that are mostly colours of the map (the colour
// bar, a narrow block beside it, is left out).
func heatmapArea(t *testing.T, img *image.RGBA) image.Rectangle {
	t.Helper()
	ramp := NewBlues(0, 1).Palette(256).Colors()
	onRamp := map[color.RGBA]bool{}
	b := img.Bounds()
	isCell := func(x, y int) bool {
		c := at(img, x, y)
		if v, ok := onRamp[c]; ok {
			return v
		}
		v := false
		for _, r := range ramp {
			if near(c, rgba(r), 3) {
				v = true
				break
			}
		}
		onRamp[c] = v
		return v
	}
	cols := widest(runs(b.Dx(), 3, func(x int) bool {
		n := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if isCell(b.Min.X+x, y) {
				n++
			}
		}
		return n > b.Dy()/3
	}))
	rows := widest(runs(b.Dy(), 3, func(y int) bool {
		n := 0
		for x := cols.lo; x < cols.hi; x++ {
			if isCell(b.Min.X+x, b.Min.Y+y) {
				n++
			}
		}
		return n > (cols.hi-cols.lo)/2
	}))
	return image.Rect(b.Min.X+cols.lo, b.Min.Y+rows.lo, b.Min.X+cols.hi, b.Min.Y+rows.hi)
}

// modeColour returns the most frequent colour of img in r.
func modeColour(img *image.RGBA, r image.Rectangle) color.RGBA {
	counts := map[color.RGBA]int{}
	var best color.RGBA
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := at(img, x, y)
			counts[c]++
			if counts[c] > counts[best] {
				best = c
			}
		}
	}
	return best
}
