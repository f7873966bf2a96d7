package plots

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// finderSeries is what a learning-rate finder records: rates growing from 1e-5 to 10 over 300
// batches, a loss that falls, flattens and explodes past a rate of about 1.
func finderSeries() (rates, losses []float64) {
	for i := range 300 {
		r := 1e-5 * math.Pow(1e6, float64(i)/300)
		l := 2.3 - 0.9/(1+math.Exp(-2*(math.Log10(r)+3))) + 0.05*math.Sin(float64(i))
		if r > 0.3 {
			l += 4 * math.Pow(math.Log10(r/0.3)*3, 2)
		}
		rates, losses = append(rates, r), append(losses, l)
	}
	losses[120] = math.NaN()
	return rates, losses
}

// The learning-rate finder's plot renders (golden testdata/lr-finder.png: loss against a log
// rate axis labelled at the powers of ten, the lowest loss as a line, the explosion cut at the top)
// and says what it shows; bad input is an error.
func TestLearningRateFinder(t *testing.T) {
	rates, losses := finderSeries()
	ch := LearningRateFinder(rates, losses)
	data, err := ch.PNG()
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := ch.PixelSize(); w != 945 || h != 472 || got.Bounds().Dx() != w {
		t.Errorf("size %dx%d, want 945x472", w, h)
	}
	if blank(got) {
		t.Error("the chart is blank")
	}
	if !strings.Contains(ch.Text, "299 batches, rates 1e-05 to 9.55; lowest loss") {
		t.Errorf("text %q", ch.Text)
	}
	path := filepath.Join("testdata", "lr-finder.png")
	if *update {
		if err := os.WriteFile(path, compressPNG(t, got), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if raw, err := os.ReadFile(path); err != nil {
		t.Fatalf("%v (run go test ./plots -run TestLearningRateFinder -update to create it)", err)
	} else if want, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	} else if diff, ok := compareImages(got, want); !ok {
		t.Errorf("differs from %s: %s", path, diff)
	}

	for _, bad := range []struct {
		rates, losses []float64
		want          string
	}{
		{[]float64{1e-4, 1e-3}, []float64{1}, "2 rates for 1 losses"},
		{[]float64{0, 1e-3}, []float64{1, 2}, "rate 0 is 0; rates must be > 0"},
		{[]float64{1e-3, 1e-2}, []float64{1, math.NaN()}, "1 finite losses; a plot needs 2"},
		{[]float64{1e-3, 1e-3}, []float64{1, 2}, "every rate is 0.001"},
	} {
		if err := LearningRateFinder(bad.rates, bad.losses).Err(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v, %v: error %v, want %q", bad.rates, bad.losses, err, bad.want)
		}
	}
}

// The training curves mark a few learning-rate reductions (ReduceLROnPlateau, a piecewise
// constant schedule) with dashed lines, but not a rate that decays at every epoch (a schedule).
func TestTrainingCurvesWithASchedule(t *testing.T) {
	loss := []float64{2, 1.5, 1.2, 1, 0.9, 0.85, 0.8, 0.78, 0.77, 0.76}
	grey := func(lr []float64) int {
		img, err := TrainingCurves(History{Loss: loss, LearningRate: lr}).Image()
		if err != nil {
			t.Fatal(err)
		}
		return countNear(img, markGray, 2)
	}
	constant, decaying, steps := make([]float64, 10), make([]float64, 10), make([]float64, 10)
	for i := range 10 {
		constant[i] = 0.01
		decaying[i] = 0.01 * math.Pow(0.9, float64(i))
		steps[i] = 0.01
		if i >= 5 {
			steps[i] = 0.001
		}
	}
	base := grey(constant)
	if n := grey(decaying); n != base {
		t.Errorf("a rate decaying at every epoch draws %d grey pixels, a constant one %d: want no reduction lines", n, base)
	}
	if n := grey(steps); n <= base+20 {
		t.Errorf("one reduction draws %d grey pixels, a constant rate %d: want its line", n, base)
	}
}
