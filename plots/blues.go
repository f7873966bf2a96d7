package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// bluesStops are the nine ColorBrewer "Blues" colours from which matplotlib builds its "Blues"
// colour map (the one seaborn's heatmaps use), from white-ish to dark navy.
var bluesStops = [9]color.RGBA{
	{0xf7, 0xfb, 0xff, 255}, {0xde, 0xeb, 0xf7, 255}, {0xc6, 0xdb, 0xef, 255},
	{0x9e, 0xca, 0xe1, 255}, {0x6b, 0xae, 0xd6, 255}, {0x42, 0x92, 0xc6, 255},
	{0x21, 0x71, 0xb5, 255}, {0x08, 0x51, 0x9c, 255}, {0x08, 0x30, 0x6b, 255},
}

// Blues is matplotlib's "Blues" colour map: a linear interpolation between the nine ColorBrewer
// Blues colours over [Min, Max]. It implements gonum's palette.ColorMap.
type Blues struct {
	min, max float64
	alpha    float64
}

// NewBlues returns the Blues colour map over [min, max].
func NewBlues(min, max float64) *Blues { return &Blues{min: min, max: max, alpha: 1} }

var _ palette.ColorMap = (*Blues)(nil)

// At returns the colour of v, an error if v is outside [Min, Max] or the range is empty.
func (b *Blues) At(v float64) (color.Color, error) {
	if b.max <= b.min {
		if b.max == b.min && v == b.min {
			return b.at(0), nil // a constant matrix is drawn in the lightest colour
		}
		return nil, fmt.Errorf("plots: Blues range [%g, %g] is empty", b.min, b.max)
	}
	if math.IsNaN(v) {
		return nil, palette.ErrNaN
	}
	if v < b.min {
		return nil, palette.ErrUnderflow
	}
	if v > b.max {
		return nil, palette.ErrOverflow
	}
	return b.at((v - b.min) / (b.max - b.min)), nil
}

// at returns the colour at position t in [0, 1].
func (b *Blues) at(t float64) color.Color {
	t = math.Max(0, math.Min(1, t)) * float64(len(bluesStops)-1)
	i := min(int(t), len(bluesStops)-2)
	f := t - float64(i)
	lo, hi := bluesStops[i], bluesStops[i+1]
	mix := func(a, b uint8) float64 { return float64(a) + f*(float64(b)-float64(a)) }
	a := b.alpha
	// Premultiplied alpha, as color.RGBA wants.
	return color.RGBA{
		R: uint8(math.Round(mix(lo.R, hi.R) * a)), G: uint8(math.Round(mix(lo.G, hi.G) * a)),
		B: uint8(math.Round(mix(lo.B, hi.B) * a)), A: uint8(math.Round(255 * a)),
	}
}

// Max returns the value mapped to the darkest colour.
func (b *Blues) Max() float64 { return b.max }

// SetMax sets the value mapped to the darkest colour.
func (b *Blues) SetMax(v float64) { b.max = v }

// Min returns the value mapped to the lightest colour.
func (b *Blues) Min() float64 { return b.min }

// SetMin sets the value mapped to the lightest colour.
func (b *Blues) SetMin(v float64) { b.min = v }

// Alpha returns the opacity.
func (b *Blues) Alpha() float64 { return b.alpha }

// SetAlpha sets the opacity, in [0, 1].
func (b *Blues) SetAlpha(a float64) {
	if a < 0 || a > 1 {
		panic("plots: alpha outside [0, 1]")
	}
	b.alpha = a
}

// Palette returns n colours evenly spaced over the map.
func (b *Blues) Palette(n int) palette.Palette {
	cols := make([]color.Color, n)
	for i := range cols {
		t := 0.0
		if n > 1 {
			t = float64(i) / float64(n-1)
		}
		cols[i] = b.at(t)
	}
	return plainPalette(cols)
}

type plainPalette []color.Color

func (p plainPalette) Colors() []color.Color { return p }

// relativeLuminance is the W3C relative luminance of c, which seaborn uses to choose the colour of
// the numbers written on heatmap cells.
func relativeLuminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// textColorOn returns the colour of text written on a cell of colour bg: dark grey on light
// cells, white on dark ones (seaborn's rule: luminance above 0.408 is light).
func textColorOn(bg color.Color) color.Color {
	if relativeLuminance(bg) > 0.408 {
		return darkGray
	}
	return color.White
}
