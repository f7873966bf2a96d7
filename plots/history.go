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

// History is the per-epoch record of a training run, like Keras's History.history. Entry i of
// each slice belongs to epoch i+1; slices that were not recorded are left nil, the others all
// have one value per epoch.
type History struct {
	Loss         []float64 // training loss
	Accuracy     []float64 // training accuracy
	ValLoss      []float64 // validation loss
	ValAccuracy  []float64 // validation accuracy
	LearningRate []float64 // learning rate used in each epoch
	// BestEpoch is the 1-based epoch whose weights early stopping restored (0 for none).
	BestEpoch int
}

// HistoryFromMap builds a History from Keras's History.history keys: "loss", "accuracy" (or
// "acc"), "val_loss", "val_accuracy" (or "val_acc") and "learning_rate" (or "lr"); other keys are
// ignored. bestEpoch is the 1-based epoch restored by early stopping, 0 for none.
func HistoryFromMap(m map[string][]float64, bestEpoch int) History {
	pick := func(keys ...string) []float64 {
		for _, k := range keys {
			if v, ok := m[k]; ok {
				return v
			}
		}
		return nil
	}
	return History{
		Loss: pick("loss"), Accuracy: pick("accuracy", "acc"),
		ValLoss: pick("val_loss"), ValAccuracy: pick("val_accuracy", "val_acc"),
		LearningRate: pick("learning_rate", "lr"), BestEpoch: bestEpoch,
	}
}

// Epochs returns the number of epochs recorded.
func (h History) Epochs() int {
	n := 0
	for _, s := range h.series() {
		n = max(n, len(s.values))
	}
	return n
}

type namedSeries struct {
	name   string
	values []float64
}

func (h History) series() []namedSeries {
	return []namedSeries{
		{"loss", h.Loss}, {"accuracy", h.Accuracy}, {"val_loss", h.ValLoss},
		{"val_accuracy", h.ValAccuracy}, {"learning_rate", h.LearningRate},
	}
}

// Validate checks that the recorded slices have one value per epoch and that BestEpoch is one of
// the epochs.
func (h History) Validate() error {
	n := h.Epochs()
	if n == 0 {
		return errorf("history has no epochs")
	}
	for _, s := range h.series() {
		if s.values != nil && len(s.values) != n {
			return errorf("history: %s has %d values for %d epochs", s.name, len(s.values), n)
		}
	}
	if h.BestEpoch < 0 || h.BestEpoch > n {
		return errorf("history: best epoch %d is not one of the %d epochs", h.BestEpoch, n)
	}
	return nil
}

// LRReductions returns the 1-based epochs that use a smaller learning rate than the epoch before.
func (h History) LRReductions() []int {
	var out []int
	for i := 1; i < len(h.LearningRate); i++ {
		if h.LearningRate[i] < h.LearningRate[i-1] {
			out = append(out, i+1)
		}
	}
	return out
}

// stepReductions are the LRReductions worth a line on the curves: none when the rate falls at
// more than half of the epochs (a schedule that decays all along, not a few reductions).
func (h History) stepReductions() []int {
	r := h.LRReductions()
	if 2*len(r) > h.Epochs() {
		return nil
	}
	return r
}

// String renders the history as a table of epochs, like Keras's per-epoch log.
func (h History) String() string {
	var b strings.Builder
	cols := []namedSeries{}
	for _, s := range h.series() {
		if s.values != nil {
			cols = append(cols, s)
		}
	}
	b.WriteString("epoch")
	for _, s := range cols {
		fmt.Fprintf(&b, "  %13s", s.name)
	}
	b.WriteString("\n")
	for i := range h.Epochs() {
		mark := " "
		if i+1 == h.BestEpoch {
			mark = "*"
		}
		fmt.Fprintf(&b, "%4d%s", i+1, mark)
		for _, s := range cols {
			if s.name == "learning_rate" {
				fmt.Fprintf(&b, "  %13.3g", s.values[i])
			} else {
				fmt.Fprintf(&b, "  %13.4f", s.values[i])
			}
		}
		b.WriteString("\n")
	}
	if h.BestEpoch > 0 {
		fmt.Fprintf(&b, "* best epoch (restored by early stopping): %d\n", h.BestEpoch)
	}
	if r := h.LRReductions(); len(r) > 0 {
		s := make([]string, len(r))
		for i, e := range r {
			s[i] = strconv.Itoa(e)
		}
		fmt.Fprintf(&b, "learning rate reduced from epoch %s\n", strings.Join(s, ", "))
	}
	return b.String()
}

var (
	lrStyle   = draw.LineStyle{Color: markGray, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	bestStyle = draw.LineStyle{Color: tab10[2], Width: vg.Points(1.4), Dashes: []vg.Length{vg.Points(1.5), vg.Points(2)}}
)

// TrainingCurves returns the training and validation accuracy (left) and loss (right) per epoch,
// side by side, with dashed grey lines at the epochs where the learning rate was reduced and a
// green dotted line at the best epoch restored by early stopping, and a legend below.
func TrainingCurves(h History) *Chart {
	if err := h.Validate(); err != nil {
		return errChart("", err)
	}
	ch := newChart("", 16, 7.2, func(ch *Chart, c draw.Canvas) error {
		c = drawFigureTitle(c, ch.Title)
		var legend []legendEntry
		seen := map[string]bool{}
		addLegend := func(label string, th plot.Thumbnailer) {
			if th != nil && !seen[label] {
				seen[label] = true
				legend = append(legend, legendEntry{label, th})
			}
		}
		panel := func(title, ylabel string, train, val []float64) *plot.Plot {
			p := newPlot(title, "Epoch", ylabel)
			addGrid(p, true, true)
			setEpochAxis(p, h.Epochs())
			lo, hi, _ := paddedRange(0.06, train, val)
			p.Y.Min, p.Y.Max = lo, hi
			p.Y.Tick.Marker = niceTicks{N: 5}
			for _, e := range h.stepReductions() {
				p.Add(vline{X: float64(e), Style: lrStyle})
				addLegend("learning rate reduced", vlineThumb{lrStyle})
			}
			if h.BestEpoch > 0 {
				p.Add(vline{X: float64(h.BestEpoch), Style: bestStyle})
				addLegend(fmt.Sprintf("best epoch (%d)", h.BestEpoch), vlineThumb{bestStyle})
			}
			if train != nil {
				addLegend("training", addSeries(p, train, tab10[0], nil))
			}
			if val != nil {
				addLegend("validation", addSeries(p, val, tab10[1], nil))
				if b := h.BestEpoch; b > 0 && !math.IsNaN(val[b-1]) && !math.IsInf(val[b-1], 0) {
					if s, err := plotter.NewScatter(plotter.XYs{{X: float64(b), Y: val[b-1]}}); err == nil {
						s.GlyphStyle = draw.GlyphStyle{Color: tab10[2], Radius: vg.Points(4), Shape: draw.RingGlyph{}}
						p.Add(s)
					}
				}
			}
			return p
		}
		var panels []*plot.Plot
		if h.Accuracy != nil || h.ValAccuracy != nil {
			panels = append(panels, panel("Accuracy", "Accuracy", h.Accuracy, h.ValAccuracy))
		}
		if h.Loss != nil || h.ValLoss != nil {
			panels = append(panels, panel("Loss", "Loss", h.Loss, h.ValLoss))
		}
		if len(panels) == 0 {
			return errorf("history has neither accuracy nor loss")
		}
		// Put "training" and "validation" first in the legend.
		sortLegend(legend, "training", "validation")
		c = newHorizontalLegend(legend).drawBottom(c)
		drawGrid(c, [][]*plot.Plot{panels}, vg.Points(20))
		return nil
	})
	ch.Text = h.String()
	return ch
}

// sortLegend moves the entries with the given labels, in that order, to the front.
func sortLegend(entries []legendEntry, first ...string) {
	k := 0
	for _, name := range first {
		for i := k; i < len(entries); i++ {
			if entries[i].label == name {
				e := entries[i]
				copy(entries[k+1:i+1], entries[k:i])
				entries[k] = e
				k++
				break
			}
		}
	}
}

// setEpochAxis sets the horizontal axis to epochs 1..n with whole-number ticks.
func setEpochAxis(p *plot.Plot, n int) {
	pad := math.Max(0.3, 0.02*float64(n))
	p.X.Min, p.X.Max = 1-pad, float64(n)+pad
	p.X.Tick.Marker = integerTicks{}
}

// drawGrid draws a grid of plots (nil for an empty cell) in c with equally sized, aligned data
// areas and the plots' titles on one line per row, whatever their tick labels.
func drawGrid(c draw.Canvas, grid [][]*plot.Plot, padX vg.Length) {
	rows, cols := len(grid), len(grid[0])
	// Titles are drawn here rather than by the plots, which would put them at heights that
	// depend on their tick labels.
	titleH := vg.Length(0)
	type title struct {
		text  string
		style text.Style
	}
	titles := make([][]title, rows)
	for j, row := range grid {
		titles[j] = make([]title, cols)
		for i, p := range row {
			if p != nil && p.Title.Text != "" {
				titles[j][i] = title{p.Title.Text, p.Title.TextStyle}
				titleH = max(titleH, p.Title.TextStyle.Height(p.Title.Text))
				p.Title.Text = ""
			}
		}
	}
	gap := vg.Points(4)
	if titleH > 0 {
		titleH += gap
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: padX, PadY: vg.Points(12) + titleH, PadTop: vg.Points(2) + titleH,
		PadBottom: vg.Points(2), PadLeft: vg.Points(2), PadRight: vg.Points(8)}
	canvases := plot.Align(grid, tiles, c)
	for j, row := range grid {
		top := vg.Length(math.Inf(-1))
		for i, p := range row {
			if p != nil {
				p.Draw(canvases[j][i])
				top = max(top, canvases[j][i].Max.Y)
			}
		}
		for i, p := range row {
			if t := titles[j][i]; p != nil && t.text != "" {
				data := p.DataCanvas(canvases[j][i])
				sty := t.style
				sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
				// Centred on the data area, but kept inside the figure.
				w := sty.Width(t.text)
				x := max(c.Min.X+w/2, min(c.Max.X-w/2, (data.Min.X+data.Max.X)/2))
				c.FillText(sty, vg.Point{X: x, Y: top + gap}, t.text)
			}
		}
	}
}
