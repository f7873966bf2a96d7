package plots

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ClassDistribution returns a bar chart of the number of images per class, with the class names on
// the horizontal axis and the count written above each bar.
func ClassDistribution(classNames []string, counts []int) *Chart {
	return Bars("Class distribution", "Number of images", classNames, counts)
}

// Bars returns a bar chart of values with one named bar each, the value written above each bar.
func Bars(title, ylabel string, names []string, values []int) *Chart {
	if len(names) != len(values) || len(values) == 0 {
		return errChart(title, errorf("bar chart: %d names for %d values", len(names), len(values)))
	}
	for i, v := range values {
		if v < 0 {
			return errChart(title, errorf("bar chart: value %d (%s) is negative: %d", i, names[i], v))
		}
	}
	ch := newChart(title, 16, 7.5, func(ch *Chart, c draw.Canvas) error {
		c = drawFigureTitle(c, ch.Title)
		p := newPlot("", "", ylabel)
		addGrid(p, false, true)
		vals := make(plotter.Values, len(values))
		hi := 0.0
		for i, v := range values {
			vals[i] = float64(v)
			hi = math.Max(hi, float64(v))
		}
		// Bars take 70% of their slot.
		slot := (c.Max.X - c.Min.X - 1.5*vg.Centimeter) / vg.Length(len(values))
		bars, err := plotter.NewBarChart(vals, slot*0.7)
		if err != nil {
			return err
		}
		bars.Color = tab10[0]
		bars.LineStyle.Width = 0
		p.Add(bars)
		labels := &plotter.Labels{Labels: make([]string, len(values))}
		sty := textStyle(sansFont, annotationSize, black, draw.XCenter, draw.YBottom)
		for i, v := range values {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: float64(v)})
			labels.Labels[i] = strconv.Itoa(v)
			labels.TextStyle = append(labels.TextStyle, sty)
		}
		labels.Offset = vg.Point{Y: 2}
		p.Add(labels)
		p.NominalX(names...)
		p.X.Tick.Label = rotatedIfCrowded(p.X.Tick.Label, names, slot)
		p.X.Min, p.X.Max = -0.5, float64(len(values))-0.5
		p.Y.Min, p.Y.Max = 0, math.Max(1, hi*1.12) // room for the numbers above the bars
		p.Y.Tick.Marker = niceTicks{N: 5, Thousands: true, Integer: true}
		p.X.Tick.Length = 0
		p.Draw(c)
		return nil
	})
	var b strings.Builder
	for i, v := range values {
		fmt.Fprintf(&b, "\n  %-12s %d", names[i], v)
	}
	ch.Text = ylabel + ":" + b.String()
	return ch
}

// rotatedIfCrowded returns the tick label style rotated by 30 degrees (anchored at the end of the
// label) when the widest label does not fit its slot.
func rotatedIfCrowded(sty text.Style, labels []string, slot vg.Length) text.Style {
	widest := vg.Length(0)
	for _, l := range labels {
		widest = max(widest, sty.Width(l))
	}
	if widest+4 <= slot {
		return sty
	}
	sty.Rotation = math.Pi / 6
	sty.XAlign = draw.XRight
	sty.YAlign = draw.YTop
	return sty
}

var _ plot.Ticker = niceTicks{}
