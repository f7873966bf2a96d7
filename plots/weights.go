package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/cifarlab/cifarlab/report"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// histogramBins is the number of bins of each weight histogram.
const histogramBins = 50

// WeightHistograms returns one histogram of kernel weights per layer (three per row), titled with
// the layer name, its number of weights, and their mean and standard deviation. Layers without a
// kernel (Flatten, Dropout) are left out.
func WeightHistograms(layers []report.Layer) *Chart {
	title := "Weight distribution per layer"
	var kept []report.Layer
	for _, l := range layers {
		if len(l.Kernel) > 0 {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		return errChart(title, errorf("WeightHistograms: no layer has weights"))
	}
	stats := report.NewWeightStats(kept)
	for i, s := range stats.Layers {
		if math.IsNaN(s.WeightMean) || math.IsInf(s.WeightMean, 0) {
			return errChart(title, errorf("WeightHistograms: layer %q has NaN or infinite weights", kept[i].Name))
		}
	}
	cols := min(len(kept), 3)
	rows := (len(kept) + cols - 1) / cols
	ch := newChart(title, 16, 1.0+5.8*float64(rows), func(ch *Chart, c draw.Canvas) error {
		c = drawFigureTitle(c, ch.Title)
		grid := make([][]*plot.Plot, rows)
		for i, l := range kept {
			s := stats.Layers[i]
			ptitle := fmt.Sprintf("%s (%s weights)\nmean %s, std %s", l.Name, thousands(s.Weights), short(s.WeightMean), short(s.WeightStd))
			ylabel := ""
			if i%cols == 0 {
				ylabel = "Count"
			}
			p := newPlot(ptitle, "Weight value", ylabel)
			p.Title.TextStyle.Font = boldFont
			p.Title.TextStyle.Font.Size = tickLabelSize
			addGrid(p, false, true)
			hist := weightHistogram(l.Kernel, s.WeightMin, s.WeightMax)
			p.Add(hist)
			lo, hi := hist.Bins[0].Min, hist.Bins[len(hist.Bins)-1].Max
			p.X.Min, p.X.Max = lo, hi
			p.X.Tick.Marker = niceTicks{N: 3}
			top := 0.0
			for _, b := range hist.Bins {
				top = math.Max(top, b.Weight)
			}
			p.Y.Min, p.Y.Max = 0, top*1.05
			p.Y.Tick.Marker = niceTicks{N: 4, Thousands: true, Integer: true}
			grid[i/cols] = append(grid[i/cols], p)
		}
		for len(grid[rows-1]) < cols {
			grid[rows-1] = append(grid[rows-1], nil)
		}
		drawGrid(c, grid, vg.Points(14))
		return nil
	})
	ch.Text = stats.String()
	return ch
}

// weightHistogram bins values into histogramBins equal bins over [lo, hi] (widened when all
// values are equal).
func weightHistogram(values []float32, lo, hi float64) *plotter.Histogram {
	if hi <= lo {
		d := math.Max(math.Abs(lo)*0.1, 1e-3)
		lo, hi = lo-d, hi+d
	}
	width := (hi - lo) / histogramBins
	bins := make([]plotter.HistogramBin, histogramBins)
	for i := range bins {
		bins[i].Min = lo + float64(i)*width
		bins[i].Max = lo + float64(i+1)*width
	}
	for _, v := range values {
		i := int((float64(v) - lo) / width)
		i = max(0, min(i, histogramBins-1))
		bins[i].Weight++
	}
	return &plotter.Histogram{
		Bins: bins, Width: width, FillColor: tab10[0],
		LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.3)},
	}
}

// short writes v with four decimals, or in scientific notation when that would show only zeros.
func short(v float64) string {
	if v != 0 && math.Abs(v) < 0.001 {
		return strconv.FormatFloat(v, 'e', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// thousands writes n with comma separators ("1,572,864", "-1,234").
func thousands(n int) string { return englishNumbers.Sprintf("%d", n) }

// englishNumbers writes numbers with English digit grouping.
var englishNumbers = message.NewPrinter(language.English)
