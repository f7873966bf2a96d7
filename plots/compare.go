package plots

import (
	"fmt"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Metric names one per-epoch series of a History.
type Metric string

// The metrics of a History.
const (
	Loss         Metric = "loss"
	Accuracy     Metric = "accuracy"
	ValLoss      Metric = "val_loss"
	ValAccuracy  Metric = "val_accuracy"
	LearningRate Metric = "learning_rate"
)

// Values returns the series of h for the metric, nil if it was not recorded or m is unknown.
func (m Metric) Values(h History) []float64 {
	switch m {
	case Loss:
		return h.Loss
	case Accuracy:
		return h.Accuracy
	case ValLoss:
		return h.ValLoss
	case ValAccuracy:
		return h.ValAccuracy
	case LearningRate:
		return h.LearningRate
	}
	return nil
}

// Title returns a human title for the metric ("Validation accuracy").
func (m Metric) Title() string {
	switch m {
	case Loss:
		return "Training loss"
	case Accuracy:
		return "Training accuracy"
	case ValLoss:
		return "Validation loss"
	case ValAccuracy:
		return "Validation accuracy"
	case LearningRate:
		return "Learning rate"
	}
	return string(m)
}

func (m Metric) axisLabel() string {
	switch m {
	case Loss, ValLoss:
		return "Loss"
	case Accuracy, ValAccuracy:
		return "Accuracy"
	}
	return m.Title()
}

// Series is the training curves of one named run, for comparisons ("relu", "sgd",
// "categorical_crossentropy").
type Series struct {
	Name    string
	History History
}

// Compare returns one panel per metric (side by side, at most three per row), each showing every
// run as a line in its own colour on shared axes, with a legend of the runs below. Without
// metrics it shows validation accuracy and validation loss, or the training ones when a run has
// no validation data.
func Compare(runs []Series, metrics ...Metric) *Chart {
	if len(runs) == 0 {
		return errChart("", errorf("Compare: no runs"))
	}
	for _, r := range runs {
		if err := r.History.Validate(); err != nil {
			return errChart("", fmt.Errorf("run %q: %w", r.Name, err))
		}
	}
	if len(metrics) == 0 {
		metrics = []Metric{ValAccuracy, ValLoss}
		for _, r := range runs {
			if r.History.ValAccuracy == nil || r.History.ValLoss == nil {
				metrics = []Metric{Accuracy, Loss}
			}
		}
	}
	for _, m := range metrics {
		found := false
		for _, r := range runs {
			found = found || m.Values(r.History) != nil
		}
		if !found {
			return errChart("", errorf("Compare: no run has %s", m))
		}
	}
	cols := min(len(metrics), 3)
	rows := (len(metrics) + cols - 1) / cols
	ch := newChart("", 16, 1.2+6*float64(rows), func(ch *Chart, c draw.Canvas) error {
		c = drawFigureTitle(c, ch.Title)
		var legend []legendEntry
		epochs := 0
		for _, r := range runs {
			epochs = max(epochs, r.History.Epochs())
		}
		grid := make([][]*plot.Plot, rows)
		for i, m := range metrics {
			p := newPlot(m.Title(), "Epoch", m.axisLabel())
			addGrid(p, true, true)
			setEpochAxis(p, epochs)
			var all [][]float64
			for _, r := range runs {
				all = append(all, m.Values(r.History))
			}
			lo, hi, _ := paddedRange(0.06, all...)
			p.Y.Min, p.Y.Max = lo, hi
			p.Y.Tick.Marker = niceTicks{N: 5}
			for k, r := range runs {
				clr := tab10[k%len(tab10)]
				var dashes []vg.Length
				if k >= len(tab10) {
					dashes = []vg.Length{vg.Points(5), vg.Points(2)}
				}
				th := addSeries(p, m.Values(r.History), clr, dashes)
				if i == 0 || len(legend) <= k {
					if th == nil {
						th = vlineThumb{draw.LineStyle{}}
					}
					if len(legend) <= k {
						legend = append(legend, legendEntry{r.Name, th})
					}
				}
			}
			grid[i/cols] = append(grid[i/cols], p)
		}
		for len(grid[rows-1]) < cols {
			grid[rows-1] = append(grid[rows-1], nil)
		}
		c = newHorizontalLegend(legend).drawBottom(c)
		drawGrid(c, grid, vg.Points(20))
		return nil
	})
	var b strings.Builder
	for _, m := range metrics {
		fmt.Fprintf(&b, "%s:\n", m.Title())
		for _, r := range runs {
			v := m.Values(r.History)
			if len(v) == 0 {
				fmt.Fprintf(&b, "  %-16s -\n", r.Name)
				continue
			}
			fmt.Fprintf(&b, "  %-16s last %.4f", r.Name, v[len(v)-1])
			lo, hi, _ := paddedRange(0, v)
			fmt.Fprintf(&b, ", min %.4f, max %.4f (%d epochs)\n", lo, hi, len(v))
		}
	}
	ch.Text = b.String()
	return ch
}
