package plots

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LearningRateFinder returns the loss of every batch against its learning rate (log scale), as
// the book's plot_lr_vs_loss draws what a learning-rate finder recorded (keras.FindLearningRate):
// a horizontal line at the lowest loss, the loss axis from 0 to the first loss plus the lowest.
// NaN and infinite losses are left out.
func LearningRateFinder(rates, losses []float64) *Chart {
	const title = "Learning-rate finder"
	if len(rates) != len(losses) {
		return errChart("", errorf("learning-rate finder: %d rates for %d losses", len(rates), len(losses)))
	}
	var pts plotter.XYs
	for i, r := range rates {
		if !(r > 0) || math.IsInf(r, 0) {
			return errChart("", errorf("learning-rate finder: rate %d is %g; rates must be > 0 (a log scale)", i, r))
		}
		if l := losses[i]; !math.IsNaN(l) && !math.IsInf(l, 0) {
			pts = append(pts, plotter.XY{X: r, Y: l})
		}
	}
	if len(pts) < 2 {
		return errChart("", errorf("learning-rate finder: %d finite losses; a plot needs 2", len(pts)))
	}
	minRate, maxRate := math.Inf(1), math.Inf(-1)
	best := pts[0]
	for _, p := range pts {
		minRate, maxRate = math.Min(minRate, p.X), math.Max(maxRate, p.X)
		if p.Y < best.Y {
			best = p
		}
	}
	if minRate == maxRate {
		return errChart("", errorf("learning-rate finder: every rate is %g; a plot needs a range of rates", minRate))
	}
	ch := newChart("", 16, 8, func(ch *Chart, c draw.Canvas) error {
		c = drawFigureTitle(c, ch.Title)
		p := newPlot("", "Learning rate", "Loss")
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.Y.Tick.Marker = niceTicks{N: 5}
		addGrid(p, true, true)
		floor, err := plotter.NewLine(plotter.XYs{{X: minRate, Y: best.Y}, {X: maxRate, Y: best.Y}})
		if err != nil {
			return err
		}
		floor.LineStyle = draw.LineStyle{Color: black, Width: vg.Points(1)}
		p.Add(floor)
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.LineStyle = draw.LineStyle{Color: tab10[0], Width: vg.Points(1.6)}
		p.Add(line)
		// After Add, which widens the axes to the data: an exploding loss runs off the top.
		p.X.Min, p.X.Max = minRate, maxRate
		p.Y.Min, p.Y.Max = 0, pts[0].Y+best.Y
		if best.Y < 0 || p.Y.Max <= p.Y.Min {
			p.Y.Min, p.Y.Max, _ = paddedRange(0.06, losses)
		}
		drawGrid(c, [][]*plot.Plot{{p}}, vg.Points(20))
		return nil
	})
	ch.Title = title
	ch.Text = fmt.Sprintf("%s: %d batches, rates %.3g to %.3g; lowest loss %.4g at rate %.3g",
		title, len(pts), minRate, maxRate, best.Y, best.X)
	return ch
}

// logTicks labels the powers of ten of a log axis ("0.001", "1", "1e-05") and marks the
// multiples between them without labels.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		decade := math.Pow(10, e)
		for k := 1; k < 10; k++ {
			v := decade * float64(k)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
