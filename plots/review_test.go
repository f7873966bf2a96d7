package plots

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
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
// classifier standing in for a trained model), saves it, and checks the saved PNG: its size, that
// it is not blank, and what the chart must show (the images drawn, the bars' heights, the cells'
// colours, the lines' colours). PLOTS_REVIEW_DIR keeps the files for a look.
func TestReviewRealData(t *testing.T) {
	ds := realData(t)
	dir := reviewDir(t)
	charts := reviewCharts(t, ds)
	for _, rc := range charts {
		t.Run(rc.name, func(t *testing.T) {
			path := filepath.Join(dir, rc.name+".png")
			if err := rc.chart.Save(path); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			decoded, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			img := toRGBAImage(decoded)
			w, h := rc.chart.PixelSize()
			if b := img.Bounds(); b.Dx() != w || b.Dy() != h || w != 945 {
				t.Errorf("the PNG is %dx%d, the chart %dx%d; want 945 wide (16 cm at 150 dpi)", b.Dx(), b.Dy(), w, h)
			}
			// Axes and labels alone ink under 4% of a chart; what it shows brings it well above.
			if share := inkShare(img); share < minInk {
				t.Errorf("only %.1f%% of the pixels are not white: the chart is (nearly) blank", 100*share)
			}
			rc.check(t, img)
		})
	}
	t.Logf("wrote %d charts to %s", len(charts), dir)
}

// minInk is the least share of non-white pixels of a chart that shows data.
const minInk = 0.06

// reviewChart is a chart of real data and what its PNG must show.
type reviewChart struct {
	name  string
	chart *Chart
	check func(t *testing.T, img *image.RGBA)
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

// reviewCharts returns every chart of the package drawn from ds (or from sample histories and
// weights where a trained model would give them), with what each must show.
func reviewCharts(t *testing.T, ds *cifar.Dataset) []reviewChart {
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
	var samples [][]uint8 // the first image of each class: what ClassSamples shows
	for c := range cifar.NumClasses {
		i := slices.Index(ds.Train.Labels, uint8(c))
		samples = append(samples, ds.Train.Image(i))
	}
	counts := countsOf(ds.Train.Head(5000))
	lines := func(colours ...color.Color) func(t *testing.T, img *image.RGBA) {
		return func(t *testing.T, img *image.RGBA) { checkColours(t, img, colours...) }
	}
	return []reviewChart{
		{"01-class-samples", classSamples(ds.Train), func(t *testing.T, img *image.RGBA) {
			at := checkImages(t, img, samples)
			for c := range at { // two rows of five, in class order
				if c%5 > 0 && (at[c].Y != at[c-1].Y || at[c].X <= at[c-1].X) || c%5 == 0 && c > 0 && at[c].Y <= at[c-1].Y {
					t.Errorf("class %d is drawn at %v after class %d at %v; want two rows of five in class order", c, at[c], c-1, at[c-1])
				}
			}
		}},
		{"02-image-grid", ImageGrid(images, titles, nil).WithTitle("First test images"), func(t *testing.T, img *image.RGBA) {
			checkImages(t, img, images)
		}},
		{"03-class-distribution", ClassDistribution(cifar.ClassNames[:], counts).WithTitle("Class distribution (first 5000 training images)"), func(t *testing.T, img *image.RGBA) {
			checkBars(t, img, counts)
		}},
		{"04-training-curves", TrainingCurves(sampleHistory(30, 0, -1)), lines(tab10[0], tab10[1], tab10[2])},
		{"04b-training-curves-long", TrainingCurves(sampleHistory(100, 1, -1)).WithTitle("Training history (100 epochs)"), lines(tab10[0], tab10[1], tab10[2])},
		{"05-compare", Compare(sampleRuns(), ValAccuracy, ValLoss).WithTitle("Activation functions"), lines(tab10[0], tab10[1], tab10[2])},
		{"05b-compare-3", Compare(sampleRuns(), Accuracy, ValAccuracy, ValLoss).WithTitle("Three metrics"), lines(tab10[0], tab10[1], tab10[2])},
		{"06-prediction-grid", PredictionGrid(images, labels, probs[:15], cifar.ClassNames[:]), func(t *testing.T, img *image.RGBA) {
			at := checkImages(t, img, images)
			side := 32 * scaleOf(t, img, images[0])
			// Each title, in the band above its image, is green for a correct prediction and red for
			// a wrong one.
			for i, corner := range at {
				band := image.Rect(corner.X, corner.Y-side/2, corner.X+side, corner.Y).Intersect(img.Bounds())
				want, other := color.Color(goodGreen), color.Color(badRed)
				if pred[i] != labels[i] {
					want, other = other, want
				}
				sub := img.SubImage(band).(*image.RGBA)
				if n, m := countNear(sub, want, 8), countNear(sub, other, 8); n < minTextPixels || m >= minTextPixels {
					t.Errorf("image %d (true %d, predicted %d): its title has %d pixels of %v and %d of %v", i, labels[i], pred[i], n, rgba(want), m, rgba(other))
				}
			}
		}},
		{"07-confusion", ConfusionMatrix(cm), func(t *testing.T, img *image.RGBA) {
			checkHeatmap(t, img, intsToFloats(cm.Counts))
		}},
		{"07b-confusion-normalised", ConfusionMatrix(cm.Normalized()), func(t *testing.T, img *image.RGBA) {
			checkHeatmap(t, img, cm.RowNormalized())
		}},
		{"08-weights", WeightHistograms(sampleLayers()), lines(tab10[0])},
	}
}

// scaleOf returns the factor by which pix is drawn upscaled in img.
func scaleOf(t *testing.T, img *image.RGBA, pix []uint8) int {
	t.Helper()
	_, s, ok := findImage(img, pix, 32)
	if !ok {
		t.Fatal("the image is not in the chart")
	}
	return s
}

// minTextPixels is the least number of pixels in a text colour that a few words leave.
const minTextPixels = 20

// minLinePixels is the least number of pixels in its colour that a line, a bar chart or a
// marker leaves (a 1.6 pt line is over 3 pixels wide at 150 dpi, and runs across a panel).
const minLinePixels = 100

// checkColours checks that each colour covers at least minLinePixels pixels of img.
func checkColours(t *testing.T, img *image.RGBA, colours ...color.Color) {
	t.Helper()
	for _, c := range colours {
		if n := countNear(img, c, 2); n < minLinePixels {
			t.Errorf("%d pixels of %v, want at least %d", n, rgba(c), minLinePixels)
		}
	}
}

// checkImages checks that each of the 32x32 images is drawn in img, upscaled by the same whole
// factor, in reading order (left to right, then the next row below), and returns where.
func checkImages(t *testing.T, img *image.RGBA, images [][]uint8) []image.Point {
	t.Helper()
	var corners []image.Point
	scale := 0
	for i, pix := range images {
		corner, s, ok := findImage(img, pix, 32)
		if !ok {
			t.Fatalf("image %d is not in the chart", i)
		}
		if scale != 0 && s != scale || s < 2 {
			t.Errorf("image %d is drawn %d times its size, want the same whole factor (>= 2) as the others (%d)", i, s, scale)
		}
		scale = s
		if k := len(corners); k > 0 && !(corner.Y == corners[k-1].Y && corner.X > corners[k-1].X || corner.Y > corners[k-1].Y) {
			t.Errorf("image %d is at %v, image %d at %v: not in reading order", i, corner, i-1, corners[k-1])
		}
		corners = append(corners, corner)
	}
	return corners
}

// checkBars checks that img shows len(counts) bars in tab10[0], left to right, with heights
// proportional to counts.
func checkBars(t *testing.T, img *image.RGBA, counts []int) {
	t.Helper()
	b := img.Bounds()
	height := func(x int) int {
		n := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if near(at(img, b.Min.X+x, y), rgba(tab10[0]), 2) {
				n++
			}
		}
		return n
	}
	bars := runs(b.Dx(), 0, func(x int) bool { return height(x) > 0 })
	if len(bars) != len(counts) {
		t.Fatalf("%d bars, want %d", len(bars), len(counts))
	}
	heights := make([]int, len(bars))
	for i, s := range bars {
		heights[i] = height((s.lo + s.hi) / 2)
	}
	top, most := slices.Max(heights), slices.Max(counts)
	for i, h := range heights {
		// Bar edges fall between pixels: allow 2 pixels.
		if want := float64(counts[i]) / float64(most) * float64(top); math.Abs(float64(h)-want) > 2 {
			t.Errorf("bar %d is %d pixels high, want %.1f (%d of the highest bar's %d)", i, h, want, counts[i], most)
		}
	}
}

// checkHeatmap checks that the cells of the heatmap in img have the colours of values in the
// Blues map over their range, true classes (rows) down and predicted classes across, and that the
// larger of two diagonal values has the darker cell.
func checkHeatmap(t *testing.T, img *image.RGBA, values [][]float64) {
	t.Helper()
	k := len(values)
	area := heatmapArea(t, img)
	if area.Dx() < 10*k || area.Dy() < 10*k {
		t.Fatalf("the cells cover %v: too small for %dx%d cells", area, k, k)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range values {
		lo, hi = math.Min(lo, slices.Min(row)), math.Max(hi, slices.Max(row))
	}
	cmap := NewBlues(lo, hi)
	cellW, cellH := float64(area.Dx())/float64(k), float64(area.Dy())/float64(k)
	got := make([]color.RGBA, k)
	for i, row := range values {
		for j, v := range row {
			// A patch near the cell's top-left corner: clear of its edges and of its centred label.
			x, y := area.Min.X+int(float64(j)*cellW), area.Min.Y+int(float64(i)*cellH)
			patch := image.Rect(x+int(0.12*cellW), y+int(0.12*cellH), x+int(0.3*cellW), y+int(0.3*cellH))
			c := modeColour(img, patch)
			want, err := cmap.At(v)
			if err != nil {
				t.Fatal(err)
			}
			if !near(c, rgba(want), 2) {
				t.Errorf("cell (%d, %d) of value %v is %v, want %v", i, j, v, c, rgba(want))
			}
			if i == j {
				got[i] = c
			}
		}
	}
	for i := range k {
		for j := range k {
			if values[i][i] > values[j][j] && relativeLuminance(got[i]) >= relativeLuminance(got[j]) {
				t.Errorf("diagonal cell %d (%v) is not darker than cell %d (%v)", i, values[i][i], j, values[j][j])
			}
		}
	}
}

// intsToFloats converts a matrix of counts.
func intsToFloats(m [][]int) [][]float64 {
	out := make([][]float64, len(m))
	for i, row := range m {
		for _, v := range row {
			out[i] = append(out[i], float64(v))
		}
	}
	return out
}

// countsOf returns the number of images of each class of s.
func countsOf(s *cifar.Split) []int {
	c := s.ClassCounts()
	return c[:]
}
