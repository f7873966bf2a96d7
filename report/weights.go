package report

import (
	"math"
	"strconv"
)

// Layer is the trained parameters of one layer: its kernel (weights) and bias, flattened.
type Layer struct {
	Name   string
	Kernel []float32
	Bias   []float32
}

// LayerStats summarises the parameters of one layer.
type LayerStats struct {
	Name                  string
	Params                int     // len(Kernel) + len(Bias)
	WeightMean, WeightStd float64 // of the kernel; NaN without a kernel
	BiasMean, BiasStd     float64 // of the bias; NaN without a bias
	WeightMin, WeightMax  float64 // range of the kernel; NaN without a kernel
	Weights, Biases       int     // len(Kernel), len(Bias)
}

// WeightStats is the lab's "Backpropagation Weight Update Analysis" table: the number of
// parameters, the mean and standard deviation of the weights and of the biases of every layer.
// Standard deviations are population ones (numpy's std with ddof=0); all statistics are computed in
// float64.
type WeightStats struct {
	Title  string // "" means "Backpropagation Weight Update Analysis"
	Layers []LayerStats
	Digits int // decimals of means and standard deviations; 0 means 6
}

// NewWeightStats computes the statistics of the given layers.
func NewWeightStats(layers []Layer) *WeightStats {
	s := &WeightStats{Layers: make([]LayerStats, len(layers))}
	for i, l := range layers {
		wm, ws := meanStd(l.Kernel)
		bm, bs := meanStd(l.Bias)
		lo, hi := math.NaN(), math.NaN()
		for j, v := range l.Kernel {
			if j == 0 {
				lo, hi = float64(v), float64(v)
			}
			lo, hi = min(lo, float64(v)), max(hi, float64(v))
		}
		s.Layers[i] = LayerStats{
			Name: l.Name, Params: len(l.Kernel) + len(l.Bias),
			WeightMean: wm, WeightStd: ws, BiasMean: bm, BiasStd: bs, WeightMin: lo, WeightMax: hi,
			Weights: len(l.Kernel), Biases: len(l.Bias),
		}
	}
	return s
}

// meanStd returns the mean and the population standard deviation of v (NaN, NaN when v is
// empty), computed in two passes in float64.
func meanStd(v []float32) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	sum := 0.0
	for _, x := range v {
		sum += float64(x)
	}
	mean = sum / float64(len(v))
	ss := 0.0
	for _, x := range v {
		d := float64(x) - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

// TotalParams returns the number of parameters of all layers.
func (s *WeightStats) TotalParams() int {
	n := 0
	for _, l := range s.Layers {
		n += l.Params
	}
	return n
}

// format writes v with the statistics' decimals (6 by default), "-" for a value that does not
// exist (the statistics of an empty tensor).
func (s *WeightStats) format(v float64) string { return fixed(v, s.Digits, 6, "-") }

// Table returns the statistics as a table with one row per layer and the total of parameters.
func (s *WeightStats) Table() *Table {
	title := s.Title
	if title == "" {
		title = "Backpropagation Weight Update Analysis"
	}
	t := &Table{Title: title, Header: []string{"Layer", "Parameters", "Weight mean", "Weight std", "Bias mean", "Bias std"}}
	for _, l := range s.Layers {
		t.AddRow(l.Name, strconv.Itoa(l.Params), s.format(l.WeightMean), s.format(l.WeightStd), s.format(l.BiasMean), s.format(l.BiasStd))
	}
	t.Notes = []string{"Total parameters: " + strconv.Itoa(s.TotalParams())}
	return t
}

// String renders the statistics as aligned plain text.
func (s *WeightStats) String() string { return s.Table().String() }

// Markdown renders the statistics as a Markdown table.
func (s *WeightStats) Markdown() string { return s.Table().Markdown() }

// Display shows the statistics in a GoNB cell, or prints them outside a notebook.
func (s *WeightStats) Display() error { return Display(s) }
