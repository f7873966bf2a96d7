package plots

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/display"
	"github.com/cifarlab/cifarlab/report"
	"gonum.org/v1/plot/vg"
)

var update = flag.Bool("update", false, "regenerate the golden images in testdata")

// syntheticImage returns a 32x32x3 HWC image with a simple pattern per seed (stripes, gradients,
// a square), which compresses well in the golden files.
func syntheticImage(seed int) []uint8 {
	img := make([]uint8, cifar.ImageSize)
	base := tab10[seed%len(tab10)].(color.RGBA)
	for y := range 32 {
		for x := range 32 {
			r, g, b := base.R, base.G, base.B
			switch seed % 4 {
			case 0:
				if (x/4+y/4)%2 == 0 {
					r, g, b = 255-r, 255-g, 255-b
				}
			case 1:
				r = uint8(x * 8)
			case 2:
				if x > 8 && x < 24 && y > 8 && y < 24 {
					r, g, b = 250, 250, 250
				}
			case 3:
				g = uint8(y * 8)
			}
			p := (y*32 + x) * 3
			img[p], img[p+1], img[p+2] = r, g, b
		}
	}
	return img
}

// syntheticSplit returns a split of 20 synthetic images, two per class.
func syntheticSplit() *cifar.Split {
	s := &cifar.Split{Name: "synthetic"}
	for i := range 20 {
		s.Images = append(s.Images, syntheticImage(i)...)
		s.Labels = append(s.Labels, uint8((i*3)%10))
	}
	return s
}

func syntheticConfusion(t *testing.T) *report.ConfusionMatrix {
	var yt, yp []int
	for c := range 10 {
		for k := range 10 + 3*c {
			yt = append(yt, c)
			switch {
			case k < 4+c:
				yp = append(yp, c)
			case k%3 == 0:
				yp = append(yp, (c+1)%10)
			default:
				yp = append(yp, (c+k)%10)
			}
		}
	}
	m, err := report.NewConfusionMatrix(yt, yp, cifar.ClassNames[:])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func syntheticPredictions() (images [][]uint8, labels []int, probs [][]float32) {
	for i := range 10 {
		images = append(images, syntheticImage(i))
		labels = append(labels, i)
		row := make([]float32, 10)
		for j := range row {
			row[j] = 0.02
		}
		pred := i
		if i%3 == 1 {
			pred = (i + 4) % 10
		}
		row[pred] = 0.5 + 0.04*float32(i)
		probs = append(probs, row)
	}
	return images, labels, probs
}

// goldenCharts are the charts compared with testdata/<name>.png, all from synthetic data.
func goldenCharts(t *testing.T) map[string]*Chart {
	images, labels, probs := syntheticPredictions()
	titles := make([]string, len(images))
	colors := make([]color.Color, len(images))
	for i := range images {
		titles[i] = cifar.ClassNames[labels[i]]
		if i%2 == 1 {
			colors[i] = badRed
		}
	}
	cm := syntheticConfusion(t)
	counts := []int{5000, 4990, 5010, 5000, 5000, 4800, 5000, 5100, 5000, 5000}
	return map[string]*Chart{
		"class-samples":        classSamples(syntheticSplit()),
		"image-grid":           ImageGrid(images[:7], titles[:7], colors[:7]).WithTitle("Seven images"),
		"class-distribution":   ClassDistribution(cifar.ClassNames[:], counts),
		"training-curves":      TrainingCurves(sampleHistory(30, 0, -1)),
		"compare":              Compare(sampleRuns()).WithTitle("Activation functions"),
		"prediction-grid":      PredictionGrid(images, labels, probs, cifar.ClassNames[:]),
		"confusion":            ConfusionMatrix(cm),
		"confusion-normalised": ConfusionMatrix(cm.Normalized()),
		"weights":              WeightHistograms(sampleLayers()),
	}
}

// wantSizes are the pixel sizes of the golden charts at 150 dpi (16 cm = 945 pixels wide).
var wantSizes = map[string]image.Point{
	"training-curves":      {945, 425},
	"class-distribution":   {945, 443},
	"confusion":            {945, 856},
	"confusion-normalised": {945, 856},
	"compare":              {945, 425},
	"weights":              {945, 402},
}

func TestGolden(t *testing.T) {
	for name, ch := range goldenCharts(t) {
		t.Run(name, func(t *testing.T) {
			data, err := ch.PNG()
			if err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			w, h := ch.PixelSize()
			if b := got.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Errorf("image is %dx%d, PixelSize says %dx%d", b.Dx(), b.Dy(), w, h)
			}
			if want, ok := wantSizes[name]; ok && (w != want.X || h != want.Y) {
				t.Errorf("size %dx%d, want %dx%d", w, h, want.X, want.Y)
			}
			if w != 945 {
				t.Errorf("width %d pixels, want 945 (16 cm at 150 dpi)", w)
			}
			if blank(got) {
				t.Error("the chart is blank")
			}
			path := filepath.Join("testdata", name+".png")
			if *update {
				if err := os.WriteFile(path, compressPNG(t, got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./plots -run TestGolden -update to create it)", err)
			}
			want, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if diff, ok := compareImages(got, want); !ok {
				// Keep what was drawn for a look: $PLOTS_FAILED_DIR, else a folder in the temp dir.
				dir := os.Getenv("PLOTS_FAILED_DIR")
				if dir == "" {
					dir = filepath.Join(os.TempDir(), "plots-golden-failures")
				}
				failed := filepath.Join(dir, name+".png")
				if err := os.MkdirAll(dir, 0o755); err == nil {
					os.WriteFile(failed, data, 0o644)
				}
				t.Errorf("differs from %s: %s; the new image is %s (go test ./plots -run TestGolden -update regenerates the goldens)", path, diff, failed)
			}
		})
	}
}

// compressPNG encodes img with the best compression, to keep the golden files small.
func compressPNG(t *testing.T, img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compareImages reports whether got matches want within a tolerance that absorbs anti-aliasing
// differences between platforms: at most 0.01% of the pixels (about 40) may differ by more than 24 (of 255)
// in some channel.
func compareImages(got, want image.Image) (string, bool) {
	if got.Bounds().Size() != want.Bounds().Size() {
		return "size " + got.Bounds().String() + ", golden " + want.Bounds().String(), false
	}
	a, b := toRGBAImage(got), toRGBAImage(want)
	bad := 0
	for i := 0; i < len(a.Pix); i += 4 {
		for c := range 3 {
			d := int(a.Pix[i+c]) - int(b.Pix[i+c])
			if d > 24 || d < -24 {
				bad++
				break
			}
		}
	}
	limit := len(a.Pix) / 4 / 10000
	if bad > limit {
		return fmt.Sprintf("%d pixels differ, at most %d allowed", bad, limit), false
	}
	return "", true
}

// toRGBAImage returns img as an *image.RGBA with bounds starting at (0, 0).
func toRGBAImage(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Bounds().Min == (image.Point{}) {
		return r
	}
	r := image.NewRGBA(image.Rectangle{Max: img.Bounds().Size()})
	draw.Draw(r, r.Bounds(), img, img.Bounds().Min, draw.Src)
	return r
}

// blank reports whether img is a single colour.
func blank(img image.Image) bool {
	pix := toRGBAImage(img).Pix
	for i := 4; i < len(pix); i += 4 {
		if !bytes.Equal(pix[i:i+4], pix[:4]) {
			return false
		}
	}
	return true
}

func TestGoldenFilesSmall(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	if total > 2<<20 {
		t.Errorf("testdata holds %d bytes, keep it under 2 MiB", total)
	}
}

func TestPNGRecordsResolution(t *testing.T) {
	data, err := ClassDistribution(cifar.ClassNames[:], []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}).WithDPI(200).PNG()
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("pHYs"))
	if i < 0 {
		t.Fatal("no pHYs chunk")
	}
	ppm := binary.BigEndian.Uint32(data[i+4:])
	if want := uint32(math.Round(200 / 0.0254)); ppm != want || data[i+12] != 1 {
		t.Errorf("pHYs = %d pixels per unit %d, want %d per metre", ppm, data[i+12], want)
	}
	img, err := png.Decode(bytes.NewReader(data)) // the CRC must be right
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != int(math.Round(16/2.54*200)) {
		t.Errorf("width %d at 200 dpi, want %d", w, int(math.Round(16/2.54*200)))
	}
}

func TestSaveAndDisplayOutsideNotebook(t *testing.T) {
	ch := ClassDistribution(cifar.ClassNames[:], []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "dist.png")
	if err := ch.Save(path); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() < 1000 {
		t.Errorf("saved file: %v, %v", info, err)
	}
	if err := ch.Save(filepath.Join(dir, "dist.svg")); err == nil {
		t.Error("saving as .svg: no error")
	}
	var buf bytes.Buffer
	display.Stdout = &buf
	defer func() { display.Stdout = os.Stdout }()
	if err := ch.Display(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, `[chart "Class distribution", 945x443 PNG at 150 dpi; Save(path) writes it]`) || !strings.Contains(out, "automobile   2") {
		t.Errorf("Display printed:\n%s", out)
	}
}

func TestInputErrors(t *testing.T) {
	img := syntheticImage(0)
	good := History{Loss: []float64{1, 0.5}, Accuracy: []float64{0.2, 0.4}}
	for name, ch := range map[string]*Chart{
		"grid no images":         ImageGrid(nil, nil, nil),
		"grid bad image":         ImageGrid([][]uint8{img[:100]}, nil, nil),
		"grid mixed sizes":       ImageGrid([][]uint8{img, make([]uint8, 12)}, nil, nil),
		"grid too many titles":   ImageGrid([][]uint8{img}, []string{"a", "b"}, nil),
		"samples lengths":        ClassSamples(make([][]uint8, 2), []int{0}, cifar.ClassNames[:]),
		"samples missing class":  ClassSamples([][]uint8{img}, []int{0}, cifar.ClassNames[:]),
		"bars lengths":           Bars("t", "y", []string{"a"}, []int{1, 2}),
		"bars negative":          Bars("t", "y", []string{"a"}, []int{-1}),
		"history empty":          TrainingCurves(History{}),
		"history lengths":        TrainingCurves(History{Loss: []float64{1, 2}, ValLoss: []float64{1}}),
		"history best epoch":     TrainingCurves(History{Loss: []float64{1, 2}, BestEpoch: 3}),
		"compare no runs":        Compare(nil),
		"compare bad run":        Compare([]Series{{"a", History{}}}),
		"compare missing":        Compare([]Series{{"a", good}}, ValAccuracy),
		"compare unknown metric": Compare([]Series{{"a", good}}, Loss, Metric("nothing")),
		"predictions lengths":    PredictionGrid([][]uint8{img}, []int{0, 1}, nil, cifar.ClassNames[:]),
		"predictions classes":    PredictionGrid([][]uint8{img}, []int{0}, [][]float32{{1, 0}}, cifar.ClassNames[:]),
		"predictions label":      PredictionGrid([][]uint8{img}, []int{12}, [][]float32{make([]float32, 10)}, cifar.ClassNames[:]),
		"confusion nil":          ConfusionMatrix(nil),
		"confusion ragged":       ConfusionMatrix(&report.ConfusionMatrix{ClassNames: []string{"a", "b"}, Counts: [][]int{{1, 2}, {3}}}),
		"weights none":           WeightHistograms([]report.Layer{{Name: "flatten"}}),
		"weights NaN":            WeightHistograms([]report.Layer{{Name: "d", Kernel: []float32{1, float32(math.NaN())}}}),
		"size":                   ClassDistribution(cifar.ClassNames[:], make([]int, 10)).WithSize(0, vg.Centimeter),
	} {
		if _, err := ch.PNG(); err == nil {
			t.Errorf("%s: no error", name)
		}
		if err := ch.Save(filepath.Join(t.TempDir(), "x.png")); err == nil {
			t.Errorf("%s: Save: no error", name)
		}
	}
	var nilChart *Chart
	if _, err := nilChart.PNG(); err == nil {
		t.Error("nil chart: no error")
	}
}

func TestEdgeCasesRender(t *testing.T) {
	nan := math.NaN()
	withLR := []Series{{"a", sampleHistory(20, 1, 0)}, {"b", sampleHistory(20, 2, 0)}}
	for _, tc := range []struct {
		name  string
		chart *Chart
		check func(t *testing.T, ch *Chart, img *image.RGBA) // more than rendering, when set
	}{
		{name: "one epoch", chart: TrainingCurves(History{Loss: []float64{1}, ValLoss: []float64{1.2}})},
		{name: "loss only", chart: TrainingCurves(History{Loss: []float64{2, 1, 0.5}}), check: func(t *testing.T, _ *Chart, img *image.RGBA) {
			checkColours(t, img, tab10[0])
		}},
		{name: "diverged", chart: TrainingCurves(History{Loss: []float64{2, nan, math.Inf(1)}, Accuracy: []float64{0.1, 0.1, 0.1}})},
		// A run whose loss was NaN from the start draws empty axes (no line), and its text says NaN.
		{name: "all NaN", chart: TrainingCurves(History{Loss: []float64{nan, nan}}), check: func(t *testing.T, ch *Chart, img *image.RGBA) {
			if n := countNear(img, tab10[0], 2); n != 0 {
				t.Errorf("%d pixels of the training line's colour, want none", n)
			}
			if !strings.Contains(ch.Text, "NaN") {
				t.Errorf("the text does not show the NaN losses:\n%s", ch.Text)
			}
		}},
		{name: "constant", chart: TrainingCurves(History{Accuracy: []float64{0.5, 0.5, 0.5}, BestEpoch: 2, LearningRate: []float64{1, 1, 0.5}})},
		{name: "zero counts", chart: ClassDistribution(cifar.ClassNames[:], make([]int, 10))},
		{name: "one image", chart: ImageGrid([][]uint8{syntheticImage(1)}, []string{"one\ntwo\nthree"}, []color.Color{nil})},
		{name: "many images", chart: ImageGrid(repeatImages(37), nil, nil)},
		{name: "small chart", chart: classSamples(syntheticSplit()).WithSize(4*vg.Centimeter, 3*vg.Centimeter)},
		{name: "constant confusion", chart: ConfusionMatrix(&report.ConfusionMatrix{ClassNames: []string{"a", "b"}, Counts: [][]int{{0, 0}, {0, 0}}})},
		{name: "big confusion", chart: ConfusionMatrix(bigConfusion())},
		{name: "constant weights", chart: WeightHistograms([]report.Layer{{Name: "d", Kernel: []float32{0.5, 0.5}}})},
		{name: "four layers", chart: WeightHistograms(append(sampleLayers(), report.Layer{Name: "x", Kernel: []float32{1, 2, 3}}))},
		{name: "compare 12 runs", chart: Compare(manyRuns(12), Loss)},
		// Five panels take two rows (three, then two): about twice the height of one row.
		{name: "compare five panels", chart: Compare(withLR, Loss, Accuracy, ValLoss, ValAccuracy, LearningRate), check: func(t *testing.T, ch *Chart, img *image.RGBA) {
			_, one := Compare(withLR, Loss).PixelSize()
			if h := img.Bounds().Dy(); float64(h) < 1.7*float64(one) || h > 2*one {
				t.Errorf("%d pixels high, one row is %d: want two rows", h, one)
			}
			for _, m := range []Metric{Loss, Accuracy, ValLoss, ValAccuracy, LearningRate} {
				if !strings.Contains(ch.Text, m.Title()+":") {
					t.Errorf("the text has no %s", m.Title())
				}
			}
			checkColours(t, img, tab10[0], tab10[1])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := tc.chart.Image()
			if err != nil {
				t.Fatal(err)
			}
			if d := os.Getenv("PLOTS_REVIEW_DIR"); d != "" {
				if err := tc.chart.Save(filepath.Join(d, "edge-"+strings.ReplaceAll(tc.name, " ", "-")+".png")); err != nil {
					t.Error(err)
				}
			}
			if w, h := tc.chart.PixelSize(); img.Bounds().Dx() != w || img.Bounds().Dy() != h {
				t.Errorf("image %v, PixelSize %dx%d", img.Bounds(), w, h)
			}
			if blank(img) {
				t.Error("the chart is blank")
			}
			if tc.check != nil {
				tc.check(t, tc.chart, img)
			}
		})
	}
}

func repeatImages(n int) [][]uint8 {
	out := make([][]uint8, n)
	for i := range out {
		out[i] = syntheticImage(i)
	}
	return out
}

func bigConfusion() *report.ConfusionMatrix {
	names := make([]string, 40)
	var yt, yp []int
	for i := range names {
		names[i] = "class " + strconv.Itoa(i)
		for k := range 200 {
			yt = append(yt, i)
			yp = append(yp, (i+k%3)%40)
		}
	}
	m, _ := report.NewConfusionMatrix(yt, yp, names)
	return m
}

func manyRuns(n int) []Series {
	var runs []Series
	for i := range n {
		h := History{}
		for e := range 5 {
			h.Loss = append(h.Loss, 2-0.1*float64(e)-0.05*float64(i))
		}
		runs = append(runs, Series{Name: "run " + strconv.Itoa(i), History: h})
	}
	return runs
}

func TestBlues(t *testing.T) {
	b := NewBlues(0, 100)
	lo, _ := b.At(0)
	hi, _ := b.At(100)
	if lo != (color.RGBA{0xf7, 0xfb, 0xff, 255}) || hi != (color.RGBA{0x08, 0x30, 0x6b, 255}) {
		t.Errorf("ends %v, %v", lo, hi)
	}
	mid, _ := b.At(50) // the middle stop, #6baed6
	if mid != (color.RGBA{0x6b, 0xae, 0xd6, 255}) {
		t.Errorf("middle %v", mid)
	}
	if _, err := b.At(101); err == nil {
		t.Error("overflow: no error")
	}
	if _, err := b.At(math.NaN()); err == nil {
		t.Error("NaN: no error")
	}
	if textColorOn(lo) != darkGray || textColorOn(hi) != color.White {
		t.Error("text colours: want dark on light cells, white on dark ones")
	}
	if p := b.Palette(5).Colors(); len(p) != 5 || p[0] != lo || p[4] != hi {
		t.Errorf("palette %v", p)
	}
}

func TestTicks(t *testing.T) {
	var got []string
	for _, tk := range (niceTicks{N: 5}).Ticks(0.31, 0.77) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "0.4 0.5 0.6 0.7" {
		t.Errorf("ticks %v", got)
	}
	got = nil
	for _, tk := range (niceTicks{N: 5}).Ticks(-0.6, 1.9) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "-0.5 0.0 0.5 1.0 1.5" {
		t.Errorf("ticks %v", got)
	}
	got = nil
	for _, tk := range (niceTicks{N: 4, Thousands: true}).Ticks(0, 14000) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "0 5k 10k" {
		t.Errorf("thousands ticks %v", got)
	}
	got = nil
	for _, tk := range (integerTicks{}).Ticks(0.7, 30.3) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "5 10 15 20 25 30" {
		t.Errorf("epoch ticks %v", got)
	}
	got = nil
	for _, tk := range (integerTicks{}).Ticks(0.7, 3.3) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "1 2 3" {
		t.Errorf("epoch ticks %v", got)
	}
}

func TestHistoryText(t *testing.T) {
	h := History{Loss: []float64{1, 0.5}, ValAccuracy: []float64{0.3, 0.4}, LearningRate: []float64{0.001, 0.0005}, BestEpoch: 2}
	want := "epoch           loss   val_accuracy  learning_rate\n" +
		"   1          1.0000         0.3000          0.001\n" +
		"   2*         0.5000         0.4000         0.0005\n" +
		"* best epoch (restored by early stopping): 2\n" +
		"learning rate reduced from epoch 2\n"
	if got := h.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestHistoryFromMap(t *testing.T) {
	h := HistoryFromMap(map[string][]float64{"loss": {1, 0.5}, "acc": {0.1, 0.2}, "val_loss": {1.1, 0.9}, "lr": {1e-3, 5e-4}, "other": {7}}, 2)
	if len(h.Loss) != 2 || h.Accuracy[1] != 0.2 || h.ValLoss[0] != 1.1 || h.ValAccuracy != nil || h.LearningRate[1] != 5e-4 || h.BestEpoch != 2 {
		t.Errorf("HistoryFromMap = %+v", h)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
	if r := h.LRReductions(); len(r) != 1 || r[0] != 2 {
		t.Errorf("LRReductions = %v, want [2]", r)
	}
}

// classSamples is ClassSamples of a split's images and labels, with CIFAR-10's class names.
func classSamples(s *cifar.Split) *Chart {
	images, labels := pick(s, s.Len())
	return ClassSamples(images, labels, cifar.ClassNames[:])
}

// pick returns the first n images of s and their labels.
func pick(s *cifar.Split, n int) (images [][]uint8, labels []int) {
	for i := range min(n, s.Len()) {
		images = append(images, s.Image(i))
		labels = append(labels, int(s.Labels[i]))
	}
	return images, labels
}

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1572864, "1,572,864"}, {-123, "-123"}, {-1234, "-1,234"}} {
		if got := thousands(tc.n); got != tc.want {
			t.Errorf("thousands(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
