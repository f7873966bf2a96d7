package plots

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/report"
)

var (
	realOnce sync.Once
	realDS   *cifar.Dataset
	realErr  error
)

// realData loads CIFAR-10 from CIFAR10_DIR, skipping the test when it is not set.
func realData(t *testing.T) *cifar.Dataset {
	t.Helper()
	dir := os.Getenv(cifar.EnvDataDir)
	if dir == "" {
		t.Skipf("%s not set; skipping the real-data charts", cifar.EnvDataDir)
	}
	realOnce.Do(func() {
		realDS, realErr = cifar.Load(context.Background(), cifar.Options{Dir: dir, NoFlatCache: true})
	})
	if realErr != nil {
		t.Fatal(realErr)
	}
	return realDS
}

// reviewDir returns where the real-data charts are written: PLOTS_REVIEW_DIR (for looking at
// them) or a temporary folder.
func reviewDir(t *testing.T) string {
	if d := os.Getenv("PLOTS_REVIEW_DIR"); d != "" {
		return d
	}
	return t.TempDir()
}

// TestReviewRealData renders every chart on real CIFAR-10 images (with a quick nearest-centroid
// classifier standing in for a trained model) and checks that each renders.
func TestReviewRealData(t *testing.T) {
	ds := realData(t)
	dir := reviewDir(t)
	charts := reviewCharts(t, ds)
	for name, ch := range charts {
		path := filepath.Join(dir, name+".png")
		if err := ch.Save(path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	t.Logf("wrote %d charts to %s", len(charts), dir)
}

// centroidPredictions classifies test images by the nearest class mean of train images and turns
// the distances into probabilities: a cheap, real (about 28% accurate) stand-in for a model.
func centroidPredictions(train, test *cifar.Split) (probs [][]float32) {
	const d = cifar.ImageSize
	var means [cifar.NumClasses][d]float64
	counts := train.ClassCounts()
	for i := range train.Len() {
		img, l := train.Image(i), train.Labels[i]
		for j, v := range img {
			means[l][j] += float64(v) / 255
		}
	}
	for c := range means {
		for j := range means[c] {
			means[c][j] /= float64(max(1, counts[c]))
		}
	}
	probs = make([][]float32, test.Len())
	for i := range test.Len() {
		img := test.Image(i)
		var dist [cifar.NumClasses]float64
		best := math.Inf(1)
		for c := range means {
			s := 0.0
			for j, v := range img {
				x := float64(v)/255 - means[c][j]
				s += x * x
			}
			dist[c] = s / d
			best = min(best, dist[c])
		}
		row := make([]float32, cifar.NumClasses)
		sum := 0.0
		for c := range dist {
			e := math.Exp(-(dist[c] - best) / 0.004)
			row[c] = float32(e)
			sum += e
		}
		for c := range row {
			row[c] /= float32(sum)
		}
		probs[i] = row
	}
	return probs
}

func reviewCharts(t *testing.T, ds *cifar.Dataset) map[string]*Chart {
	train, test := ds.Train.Head(5000), ds.Test.Head(1000)
	probs := centroidPredictions(train, test)
	images, labels := pick(test, 15)
	titles := make([]string, len(labels))
	for i, l := range labels {
		titles[i] = cifar.ClassNames[l]
	}
	pred, _ := report.Argmax(probs)
	cm, err := report.NewConfusionMatrix(test.IntLabels(), pred, cifar.ClassNames[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Chart{
		"01-class-samples":         classSamples(ds.Train),
		"02-image-grid":            ImageGrid(images, titles, nil).WithTitle("First test images"),
		"03-class-distribution":    ClassDistribution(cifar.ClassNames[:], countsOf(ds.Train.Head(5000))).WithTitle("Class distribution (first 5000 training images)"),
		"04-training-curves":       TrainingCurves(sampleHistory(30, 0, -1)),
		"04b-training-curves-long": TrainingCurves(sampleHistory(100, 1, -1)).WithTitle("Training history (100 epochs)"),
		"05-compare":               Compare(sampleRuns(), ValAccuracy, ValLoss).WithTitle("Activation functions"),
		"05b-compare-3":            Compare(sampleRuns(), Accuracy, ValAccuracy, ValLoss).WithTitle("Three metrics"),
		"06-prediction-grid":       PredictionGrid(images, labels, probs[:15], cifar.ClassNames[:]),
		"07-confusion":             ConfusionMatrix(cm),
		"07b-confusion-normalised": ConfusionMatrix(cm.Normalized()),
		"08-weights":               WeightHistograms(sampleLayers()),
	}
}

// countsOf returns the number of images of each class of s.
func countsOf(s *cifar.Split) []int {
	c := s.ClassCounts()
	return c[:]
}
