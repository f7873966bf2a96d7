package plots

import (
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Font sizes at print size. Charts are sized for a 16 cm wide column; if a PDF export shrinks them
// to 90% of a 15.9 cm text width, 10 pt tick labels still print at 9 pt.
const (
	figureTitleSize = 13
	panelTitleSize  = 11.5
	axisLabelSize   = 10.5
	tickLabelSize   = 10
	legendSize      = 10
	annotationSize  = 10
)

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}

	black     = color.RGBA{0, 0, 0, 255}
	darkGray  = color.RGBA{0x26, 0x26, 0x26, 255} // seaborn's ".15"
	gridGray  = color.RGBA{0xdd, 0xdd, 0xdd, 255}
	markGray  = color.RGBA{0x70, 0x70, 0x70, 255}
	goodGreen = color.RGBA{0x00, 0x80, 0x00, 255} // matplotlib's "green"
	badRed    = color.RGBA{0xd0, 0x00, 0x00, 255} // a red readable on white
)

// tab10 is matplotlib's default colour cycle, used for training/validation curves and runs.
var tab10 = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 255}, color.RGBA{0xff, 0x7f, 0x0e, 255}, color.RGBA{0x2c, 0xa0, 0x2c, 255},
	color.RGBA{0xd6, 0x27, 0x28, 255}, color.RGBA{0x94, 0x67, 0xbd, 255}, color.RGBA{0x8c, 0x56, 0x4b, 255},
	color.RGBA{0xe3, 0x77, 0xc2, 255}, color.RGBA{0x7f, 0x7f, 0x7f, 255}, color.RGBA{0xbc, 0xbd, 0x22, 255},
	color.RGBA{0x17, 0xbe, 0xcf, 255},
}

// textStyle returns a plain text style.
func textStyle(f font.Font, size float64, clr color.Color, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{Color: clr, Font: font.From(f, vg.Length(size)), XAlign: xa, YAlign: ya, Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot in the package's style: sans-serif fonts at readable sizes, a light
// grid, and the given panel title and axis labels.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(boldFont, panelTitleSize, black, draw.XCenter, draw.YTop)
	p.Title.Padding = 4
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = textStyle(sansFont, axisLabelSize, black, draw.XCenter, draw.YBottom)
		a.Label.Padding = 2
		a.Tick.Label.Font = font.From(sansFont, tickLabelSize)
		a.Tick.Length = 4
		a.Padding = 0
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.Legend.TextStyle = textStyle(sansFont, legendSize, black, draw.XLeft, draw.YBottom)
	return p
}

// addGrid adds light grey grid lines under the data.
func addGrid(p *plot.Plot, vertical, horizontal bool) {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridGray, gridGray
	g.Vertical.Width, g.Horizontal.Width = 0.5, 0.5
	if !vertical {
		g.Vertical.Color = nil
	}
	if !horizontal {
		g.Horizontal.Color = nil
	}
	p.Add(g)
}

// drawFigureTitle draws title at the top of c and returns the canvas left below it.
func drawFigureTitle(c draw.Canvas, title string) draw.Canvas {
	if title == "" {
		return c
	}
	sty := textStyle(boldFont, figureTitleSize, black, draw.XCenter, draw.YTop)
	pad := vg.Points(4)
	c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - pad}, title)
	c.Max.Y -= sty.Height(title) + 2*pad
	return c
}

// integerTicks labels whole numbers (epochs) with a step of 1, 2, 5, 10, 20, ... so that at most
// about eight are labelled.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for mult := 0; (hi-lo)/step > 8; mult++ {
		step = []float64{2, 5, 10}[mult%3] * math.Pow(10, float64(mult/3))
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+1e-9; v += step {
		if v >= 1 { // epochs start at 1
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(int(math.Round(v)))})
		}
	}
	return ticks
}

// legendEntry is one entry of a horizontal legend.
type legendEntry struct {
	label string
	thumb plot.Thumbnailer
}

// horizontalLegend lays entries out left to right, centred, wrapping onto more lines when they do
// not fit the width.
type horizontalLegend struct {
	entries []legendEntry
	style   text.Style
}

const (
	legendThumb = vg.Length(22) // width of a thumbnail
	legendGap   = vg.Length(5)  // between a thumbnail and its label
	legendSpace = vg.Length(16) // between entries
)

func newHorizontalLegend(entries []legendEntry) horizontalLegend {
	return horizontalLegend{entries: entries, style: textStyle(sansFont, legendSize, black, draw.XLeft, draw.YCenter)}
}

func (l horizontalLegend) entryWidth(e legendEntry) vg.Length {
	return legendThumb + legendGap + l.style.Width(e.label)
}

// lines splits the entries into lines that fit width.
func (l horizontalLegend) lines(width vg.Length) [][]legendEntry {
	var out [][]legendEntry
	var cur []legendEntry
	var w vg.Length
	for _, e := range l.entries {
		ew := l.entryWidth(e)
		if len(cur) > 0 && w+legendSpace+ew > width {
			out = append(out, cur)
			cur, w = nil, 0
		}
		if len(cur) > 0 {
			w += legendSpace
		}
		cur = append(cur, e)
		w += ew
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func (l horizontalLegend) lineHeight() vg.Length { return l.style.Height("Xg") * 1.35 }

// height returns the height the legend needs in a canvas of the given width.
func (l horizontalLegend) height(width vg.Length) vg.Length {
	if len(l.entries) == 0 {
		return 0
	}
	return vg.Length(len(l.lines(width)))*l.lineHeight() + 4
}

// drawBottom draws the legend at the bottom of c and returns the canvas left above it.
func (l horizontalLegend) drawBottom(c draw.Canvas) draw.Canvas {
	if len(l.entries) == 0 {
		return c
	}
	width := c.Max.X - c.Min.X
	lines := l.lines(width)
	lh := l.lineHeight()
	y := c.Min.Y + vg.Length(len(lines))*lh - lh/2
	for _, line := range lines {
		var total vg.Length
		for i, e := range line {
			if i > 0 {
				total += legendSpace
			}
			total += l.entryWidth(e)
		}
		x := c.Min.X + (width-total)/2
		for _, e := range line {
			thumb := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - lh*0.3}, Max: vg.Point{X: x + legendThumb, Y: y + lh*0.3}}}
			e.thumb.Thumbnail(&thumb)
			c.FillText(l.style, vg.Point{X: x + legendThumb + legendGap, Y: y}, e.label)
			x += l.entryWidth(e) + legendSpace
		}
		y -= lh
	}
	c.Min.Y += l.height(width)
	return c
}

// vlineThumb is a legend thumbnail showing a vertical line.
type vlineThumb struct{ style draw.LineStyle }

func (t vlineThumb) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(t.style, x, c.Min.Y, x, c.Max.Y)
}

// vline is a plotter drawing a vertical line across the whole data area at X.
type vline struct {
	X     float64
	Style draw.LineStyle
}

func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.X)
	c.StrokeLine2(v.Style, x, c.Min.Y, x, c.Max.Y)
}

// finiteSegments splits ys (at x = 1, 2, ...) into runs of finite values, so that a NaN (a
// diverged loss) leaves a gap instead of failing.
func finiteSegments(ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i, y := range ys {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: float64(i + 1), Y: y})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// addSeries adds ys as a line (with small markers when there are few points) and returns its
// legend thumbnail, or nil when no value is finite.
func addSeries(p *plot.Plot, ys []float64, clr color.Color, dashes []vg.Length) plot.Thumbnailer {
	style := draw.LineStyle{Color: clr, Width: vg.Points(1.6), Dashes: dashes}
	var thumb plot.Thumbnailer
	for _, seg := range finiteSegments(ys) {
		l, err := plotter.NewLine(seg)
		if err != nil {
			continue
		}
		l.LineStyle = style
		p.Add(l)
		if thumb == nil {
			thumb = l
		}
		if len(ys) <= 30 {
			s, err := plotter.NewScatter(seg)
			if err == nil {
				s.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
				p.Add(s)
			}
		}
	}
	return thumb
}
