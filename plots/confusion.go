package plots

import (
	"image"
	"image/color"
	"math"
	"strconv"

	"github.com/cifarlab/cifarlab/report"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ConfusionMatrix returns the confusion matrix as a heatmap in the "Blues" colour map, like
// seaborn's heatmap(cm, annot=True, fmt="d", cmap="Blues"): true classes down, predicted classes
// across, the value written in each cell (white on dark cells, dark grey on light ones) and a
// colour bar. When m.Normalize is set, cells show the row-normalised values with two decimals.
func ConfusionMatrix(m *report.ConfusionMatrix) *Chart {
	title := "Confusion matrix"
	if m == nil {
		return errChart(title, errorf("ConfusionMatrix: nil matrix"))
	}
	k := len(m.ClassNames)
	if k == 0 || len(m.Counts) != k {
		return errChart(title, errorf("ConfusionMatrix: %d rows for %d classes", len(m.Counts), k))
	}
	values := make([][]float64, k)
	labels := make([][]string, k)
	norm := m.RowNormalized()
	for i, row := range m.Counts {
		if len(row) != k {
			return errChart(title, errorf("ConfusionMatrix: row %d has %d columns for %d classes", i, len(row), k))
		}
		values[i], labels[i] = make([]float64, k), make([]string, k)
		for j, n := range row {
			if m.Normalize {
				values[i][j] = norm[i][j]
				labels[i][j] = strconv.FormatFloat(norm[i][j], 'f', 2, 64)
			} else {
				values[i][j] = float64(n)
				labels[i][j] = strconv.Itoa(n)
			}
		}
	}
	if m.Normalize {
		title = "Confusion matrix (normalised by true class)"
	}
	h := heatmap{values: values, labels: labels, rowNames: m.ClassNames, colNames: m.ClassNames,
		xlabel: "Predicted label", ylabel: "True label", fractional: m.Normalize}
	ch := newChart(title, 16, 14.5, h.draw)
	ch.Text = m.String()
	return ch
}

// heatmap draws a matrix of values as coloured cells with their labels, row 0 at the top.
type heatmap struct {
	values             [][]float64 // [row][col]
	labels             [][]string  // text written in each cell
	rowNames, colNames []string
	xlabel, ylabel     string
	fractional         bool // values are not counts
}

// cells is the plot.Plotter that fills the cells and writes their labels.
type cells struct {
	h    *heatmap
	cmap *Blues
	text text.Style
}

func (cl cells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	rows := len(cl.h.values)
	for i, row := range cl.h.values {
		for j, v := range row {
			x0, x1 := trX(float64(j)-0.5), trX(float64(j)+0.5)
			y := float64(rows - 1 - i)
			y0, y1 := trY(y-0.5), trY(y+0.5)
			clr, err := cl.cmap.At(v)
			if err != nil {
				clr = color.RGBA{0xcc, 0xcc, 0xcc, 255}
			}
			c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			if cl.text.Font.Size > 0 {
				sty := cl.text
				sty.Color = textColorOn(clr)
				// Raise the text a little: YCenter centres the line box, descent included, which
				// puts digits (no descent) visibly low.
				c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0+y1)/2 + sty.Font.Size*0.1}, cl.h.labels[i][j])
			}
		}
	}
}

func (h *heatmap) draw(ch *Chart, c draw.Canvas) error {
	c = drawFigureTitle(c, ch.Title)
	rows, cols := len(h.values), len(h.values[0])
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range h.values {
		for _, v := range row {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	cmap := NewBlues(lo, hi)

	p := newPlot("", h.xlabel, h.ylabel)
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	xt, yt := make(plot.ConstantTicks, cols), make(plot.ConstantTicks, rows)
	for j := range cols {
		xt[j] = plot.Tick{Value: float64(j), Label: h.colNames[j]}
	}
	for i := range rows {
		yt[i] = plot.Tick{Value: float64(rows - 1 - i), Label: h.rowNames[i]}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	p.X.Label.Padding, p.Y.Label.Padding = 4, 4
	p.X.LineStyle.Width, p.Y.LineStyle.Width = 0, 0

	// Leave room on the right for the colour bar, then make the cells square.
	barW, barGap := vg.Points(12), vg.Points(12)
	barLabels := textStyle(sansFont, tickLabelSize, black, draw.XLeft, draw.YCenter)
	ticks := niceTicks{N: 5, Thousands: true, Integer: !h.fractional}.Ticks(lo, hi)
	if hi <= lo {
		ticks = []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	labelW := vg.Length(0)
	for _, t := range ticks {
		labelW = max(labelW, barLabels.Width(t.Label))
	}
	area := c
	area.Max.X -= barGap + barW + 4 + labelW + 4
	data := p.DataCanvas(area)
	cellW := (data.Max.X - data.Min.X) / vg.Length(cols)
	cellH := (data.Max.Y - data.Min.Y) / vg.Length(rows)
	if cellW > cellH {
		extra := (cellW - cellH) * vg.Length(cols)
		area.Min.X += extra / 2
		area.Max.X -= extra / 2
	} else {
		extra := (cellH - cellW) * vg.Length(rows)
		area.Max.Y -= extra / 2
		area.Min.Y += extra / 2
	}
	data = p.DataCanvas(area)
	cell := min(cellW, cellH)

	// Cell labels: the annotation size, smaller if needed, none if cells are tiny.
	widest := ""
	for _, row := range h.labels {
		for _, l := range row {
			if len(l) > len(widest) {
				widest = l
			}
		}
	}
	sty := textStyle(sansFont, annotationSize, black, draw.XCenter, draw.YCenter)
	for size := annotationSize; size >= 7; size-- {
		sty = textStyle(sansFont, float64(size), black, draw.XCenter, draw.YCenter)
		if sty.Width(widest) <= cell*0.9 {
			break
		}
	}
	if sty.Width(widest) > cell*0.9 {
		sty.Font.Size = 0
	}
	p.Add(cells{h: h, cmap: cmap, text: sty})
	p.Draw(area)

	// The colour bar, as tall as the cells.
	bar := vg.Rectangle{Min: vg.Point{X: data.Max.X + barGap, Y: data.Min.Y}, Max: vg.Point{X: data.Max.X + barGap + barW, Y: data.Max.Y}}
	const steps = 256
	grad := image.NewRGBA(image.Rect(0, 0, 1, steps))
	for i := range steps {
		clr := cmap.at(float64(steps-1-i) / (steps - 1))
		grad.Set(0, i, clr)
	}
	c.DrawImage(bar, grad)
	frame := draw.LineStyle{Color: black, Width: vg.Points(0.5)}
	c.StrokeLines(frame, []vg.Point{bar.Min, {X: bar.Max.X, Y: bar.Min.Y}, bar.Max, {X: bar.Min.X, Y: bar.Max.Y}, bar.Min})
	for _, t := range ticks {
		f := 0.5
		if hi > lo {
			f = (t.Value - lo) / (hi - lo)
		}
		if f < -1e-9 || f > 1+1e-9 {
			continue
		}
		y := bar.Min.Y + vg.Length(f)*(bar.Max.Y-bar.Min.Y)
		c.StrokeLine2(frame, bar.Max.X, y, bar.Max.X+3, y)
		c.FillText(barLabels, vg.Point{X: bar.Max.X + 5, Y: y}, t.Label)
	}
	return nil
}
