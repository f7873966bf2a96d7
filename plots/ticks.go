package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// niceTicks labels about N round values (steps of 1, 2, 2.5 or 5 times a power of ten) with as
// many decimals as the step needs. Large values are written in thousands ("20k") when Thousands
// is set.
type niceTicks struct {
	N         int
	Thousands bool
	Integer   bool // counts: no step below 1
}

// niceStep returns the smallest round step (1, 2, 2.5 or 5 times a power of ten) that divides
// span into at most n+1 parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || math.IsInf(span, 0) || math.IsNaN(span) {
		return 1
	}
	raw := span / float64(max(1, n)+1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw*0.999 {
			return m * mag
		}
	}
	return 10 * mag
}

// decimals returns the number of decimals needed to write multiples of step.
func decimals(step float64) int {
	for d := 0; d < 10; d++ {
		scaled := step * math.Pow(10, float64(d))
		if math.Abs(scaled-math.Round(scaled)) < 1e-6*scaled {
			return d
		}
	}
	return 10
}

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	n := t.N
	if n <= 0 {
		n = 5
	}
	step := niceStep(hi-lo, n)
	if t.Integer {
		step = max(step, 1)
	}
	thousands := t.Thousands && math.Max(math.Abs(lo), math.Abs(hi)) >= 10000
	d := decimals(step)
	if thousands {
		d = decimals(step / 1000)
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0"
		}
		label := strconv.FormatFloat(v, 'f', d, 64)
		if thousands {
			label = strconv.FormatFloat(v/1000, 'f', d, 64) + "k"
			if v == 0 {
				label = "0"
			}
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}

// paddedRange returns [lo, hi] widened by frac of its span on each side (or by 0.5 when the span is
// zero), ignoring NaN and infinite values. ok is false when there is no finite value.
func paddedRange(frac float64, series ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return 0, 1, false
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(lo), 1)
	}
	return lo - frac*span, hi + frac*span, true
}
