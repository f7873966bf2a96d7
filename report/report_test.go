package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/display"
)

// A small fixed example: four classes, "frog" is never predicted.
var (
	exNames = []string{"cat", "dog", "airplane", "frog"}
	exTrue  = []int{0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 0}
	exPred  = []int{0, 1, 0, 1, 0, 2, 2, 1, 2, 0, 1, 0}
)

func TestConfusionMatrixHandComputed(t *testing.T) {
	m, err := NewConfusionMatrix(exTrue, exPred, exNames)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{
		{3, 1, 0, 0},
		{1, 1, 0, 0},
		{0, 1, 3, 0},
		{1, 1, 0, 0}, // frog: never predicted, never right
	}
	for i := range want {
		for j := range want[i] {
			if m.Counts[i][j] != want[i][j] {
				t.Fatalf("Counts = %v, want %v", m.Counts, want)
			}
		}
	}
	if m.Total() != 12 || m.Correct() != 7 || m.Accuracy() != 7.0/12 {
		t.Errorf("Total, Correct, Accuracy = %d, %d, %v; want 12, 7, 7/12", m.Total(), m.Correct(), m.Accuracy())
	}
	norm := m.RowNormalized()
	if norm[0][0] != 0.75 || norm[0][1] != 0.25 || norm[1][0] != 0.5 || norm[3][3] != 0 {
		t.Errorf("RowNormalized = %v", norm)
	}

	// A class without samples gets a zero row, not NaN.
	m2, err := NewConfusionMatrix([]int{0, 0}, []int{0, 2}, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range m2.RowNormalized()[1] {
		if v != 0 {
			t.Errorf("row of a class without samples = %v, want zeros", m2.RowNormalized()[1])
		}
	}
}

func TestConfusionMatrixErrors(t *testing.T) {
	for name, c := range map[string]struct {
		yt, yp []int
		names  []string
	}{
		"lengths":      {[]int{0, 1}, []int{0}, exNames},
		"empty":        {nil, nil, exNames},
		"no classes":   {[]int{0}, []int{0}, nil},
		"true range":   {[]int{4}, []int{0}, exNames},
		"pred range":   {[]int{0}, []int{-1}, exNames},
		"pred too big": {[]int{0}, []int{9}, exNames},
	} {
		if _, err := NewConfusionMatrix(c.yt, c.yp, c.names); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := NewClassificationReport(c.yt, c.yp, c.names, 4); err == nil {
			t.Errorf("%s: classification report: no error", name)
		}
	}
	if _, err := NewClassificationReport(exTrue, exPred, exNames, -1); err == nil {
		t.Error("negative digits: no error")
	}
}

func TestClassificationReportMetrics(t *testing.T) {
	r, err := NewClassificationReport(exTrue, exPred, exNames, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Hand-computed from the confusion matrix above.
	want := []ClassMetrics{
		{"cat", 3.0 / 5, 3.0 / 4, 6.0 / 9, 4},
		{"dog", 1.0 / 4, 1.0 / 2, 2.0 / 6, 2},
		{"airplane", 3.0 / 3, 3.0 / 4, 6.0 / 7, 4},
		{"frog", 0, 0, 0, 2}, // never predicted: precision 0 (zero_division=0), not NaN
	}
	for i, w := range want {
		if g := r.Classes[i]; !close(g.Precision, w.Precision) || !close(g.Recall, w.Recall) || !close(g.F1, w.F1) || g.Support != w.Support || g.Name != w.Name {
			t.Errorf("class %d = %+v, want %+v", i, g, w)
		}
	}
	if !close(r.Accuracy, 7.0/12) || r.Total != 12 {
		t.Errorf("accuracy %v of %d, want 7/12 of 12", r.Accuracy, r.Total)
	}
	macroP := (0.6 + 0.25 + 1 + 0) / 4
	macroF := (6.0/9 + 2.0/6 + 6.0/7) / 4
	if !close(r.MacroAvg.Precision, macroP) || !close(r.MacroAvg.Recall, 0.5) || !close(r.MacroAvg.F1, macroF) {
		t.Errorf("macro avg = %+v, want precision %v recall 0.5 f1 %v", r.MacroAvg, macroP, macroF)
	}
	weightedP := (0.6*4 + 0.25*2 + 1*4) / 12
	if !close(r.WeightedAvg.Precision, weightedP) || !close(r.WeightedAvg.Recall, 7.0/12) || r.WeightedAvg.Support != 12 {
		t.Errorf("weighted avg = %+v, want precision %v recall 7/12", r.WeightedAvg, weightedP)
	}
}

func close(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// The expected strings below are what scikit-learn 1.2.1 returns for
// classification_report(y_true, y_pred, labels=range(k), target_names=names, digits=d,
// zero_division=0).
func TestClassificationReportSklearnText(t *testing.T) {
	for _, c := range []struct {
		names  []string
		yt, yp []int
		digits int
		want   string
	}{
		{exNames, exTrue, exPred, 4, "" +
			"              precision    recall  f1-score   support\n" +
			"\n" +
			"         cat     0.6000    0.7500    0.6667         4\n" +
			"         dog     0.2500    0.5000    0.3333         2\n" +
			"    airplane     1.0000    0.7500    0.8571         4\n" +
			"        frog     0.0000    0.0000    0.0000         2\n" +
			"\n" +
			"    accuracy                         0.5833        12\n" +
			"   macro avg     0.4625    0.5000    0.4643        12\n" +
			"weighted avg     0.5750    0.5833    0.5635        12\n"},
		{exNames, exTrue, exPred, 2, "" +
			"              precision    recall  f1-score   support\n" +
			"\n" +
			"         cat       0.60      0.75      0.67         4\n" +
			"         dog       0.25      0.50      0.33         2\n" +
			"    airplane       1.00      0.75      0.86         4\n" +
			"        frog       0.00      0.00      0.00         2\n" +
			"\n" +
			"    accuracy                           0.58        12\n" +
			"   macro avg       0.46      0.50      0.46        12\n" +
			"weighted avg       0.58      0.58      0.56        12\n"},
		// A class name longer than "weighted avg" sets the width.
		{[]string{"a", "bb", "a-very-long-class-name"}, []int{0, 1, 2, 2, 1}, []int{1, 1, 2, 2, 1}, 3, "" +
			"                        precision    recall  f1-score   support\n" +
			"\n" +
			"                     a      0.000     0.000     0.000         1\n" +
			"                    bb      0.667     1.000     0.800         2\n" +
			"a-very-long-class-name      1.000     1.000     1.000         2\n" +
			"\n" +
			"              accuracy                          0.800         5\n" +
			"             macro avg      0.556     0.667     0.600         5\n" +
			"          weighted avg      0.667     0.800     0.720         5\n"},
		// 15 digits overflow the 9-character columns and show the last bits of the averages.
		{[]string{"a", "bb", "a-very-long-class-name"}, []int{0, 1, 2, 2, 1}, []int{1, 1, 2, 2, 1}, 15, "" +
			"                        precision    recall  f1-score   support\n" +
			"\n" +
			"                     a  0.000000000000000 0.000000000000000 0.000000000000000         1\n" +
			"                    bb  0.666666666666667 1.000000000000000 0.800000000000000         2\n" +
			"a-very-long-class-name  1.000000000000000 1.000000000000000 1.000000000000000         2\n" +
			"\n" +
			"              accuracy                      0.800000000000000         5\n" +
			"             macro avg  0.555555555555555 0.666666666666667 0.600000000000000         5\n" +
			"          weighted avg  0.666666666666667 0.800000000000000 0.720000000000000         5\n"},
	} {
		r, err := NewClassificationReport(c.yt, c.yp, c.names, c.digits)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != c.want {
			t.Errorf("digits %d: got\n%s\nwant\n%s", c.digits, got, c.want)
		}
	}
}

// TestClassificationReportAgainstSklearn compares random reports with scikit-learn's, when
// /usr/bin/python3 has it (Debian: apt-get install python3-sklearn).
func TestClassificationReportAgainstSklearn(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the scikit-learn cross-check")
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import sklearn").Run(); err != nil {
		t.Skip("/usr/bin/python3 with scikit-learn not found; skipping the cross-check")
	}
	type testCase struct {
		Names  []string `json:"names"`
		True   []int    `json:"true"`
		Pred   []int    `json:"pred"`
		Digits int      `json:"digits"`
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var cases []testCase
	for i := range 60 {
		k := 2 + rng.IntN(9)
		names := cifar.ClassNames[:]
		if i%3 == 0 {
			names = []string{"x", "yy", "zzz", "a much longer name", "e", "f", "g", "h", "i", "j", "k", "l"}
		}
		n := k + rng.IntN(300)
		c := testCase{Names: names[:k], Digits: rng.IntN(7), True: make([]int, n), Pred: make([]int, n)}
		for j := range n {
			// Every class has a sample: scikit-learn before 1.3 prints "micro avg" instead of
			// "accuracy" when a class appears neither in y_true nor in y_pred.
			c.True[j] = j
			if j >= k {
				c.True[j] = rng.IntN(k)
			}
			if rng.IntN(3) == 0 {
				c.Pred[j] = c.True[j]
			} else {
				c.Pred[j] = rng.IntN(max(1, k-1)) // the last class is rarely or never predicted
			}
		}
		cases = append(cases, c)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, warnings
from sklearn.metrics import classification_report
warnings.simplefilter("ignore")
out = []
for c in json.load(sys.stdin):
    out.append(classification_report(c["true"], c["pred"], labels=list(range(len(c["names"]))),
        target_names=c["names"], digits=c["digits"], zero_division=0))
json.dump(out, sys.stdout)
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var want []string
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r, err := NewClassificationReport(c.True, c.Pred, c.Names, c.Digits)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != want[i] {
			t.Errorf("case %d (%d classes, %d samples, %d digits): got\n%s\nsklearn\n%s", i, len(c.Names), len(c.True), c.Digits, got, want[i])
		}
	}
}

func TestClassificationReportMarkdown(t *testing.T) {
	r, err := NewClassificationReport(exTrue, exPred, exNames, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := "**Classification report**\n\n" +
		"| | precision | recall | f1-score | support |\n" +
		"|:---|---:|---:|---:|---:|\n" +
		"| cat | 0.6000 | 0.7500 | 0.6667 | 4 |\n" +
		"| dog | 0.2500 | 0.5000 | 0.3333 | 2 |\n" +
		"| airplane | 1.0000 | 0.7500 | 0.8571 | 4 |\n" +
		"| frog | 0.0000 | 0.0000 | 0.0000 | 2 |\n" +
		"| accuracy | | | 0.5833 | 12 |\n" +
		"| macro avg | 0.4625 | 0.5000 | 0.4643 | 12 |\n" +
		"| weighted avg | 0.5750 | 0.5833 | 0.5635 | 12 |\n"
	if got := r.Markdown(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestConfusionMatrixText(t *testing.T) {
	m, err := NewConfusionMatrix(exTrue, exPred, exNames)
	if err != nil {
		t.Fatal(err)
	}
	want := "Confusion matrix\n" +
		`true \ predicted  0  1  2  3` + "\n" +
		"----------------  -  -  -  -\n" +
		"0 cat             3  1  0  0\n" +
		"1 dog             1  1  0  0\n" +
		"2 airplane        0  1  3  0\n" +
		"3 frog            1  1  0  0\n" +
		"Rows: true class; columns: predicted class, by index. 12 samples, accuracy 0.5833.\n"
	if got := m.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	wantNorm := "Confusion matrix (normalised by true class)\n" +
		`true \ predicted     0     1     2     3` + "\n" +
		"----------------  ----  ----  ----  ----\n" +
		"0 cat             0.75  0.25  0.00  0.00\n" +
		"1 dog             0.50  0.50  0.00  0.00\n" +
		"2 airplane        0.00  0.25  0.75  0.00\n" +
		"3 frog            0.50  0.50  0.00  0.00\n" +
		"Rows: true class; columns: predicted class, by index. 12 samples, accuracy 0.5833.\n"
	if got := m.Normalized().String(); got != wantNorm {
		t.Errorf("normalised: got\n%s\nwant\n%s", got, wantNorm)
	}
	if m.Normalize {
		t.Error("Normalized changed the original")
	}
	wantMD := "**Confusion matrix**\n\n" +
		`| true \\ predicted | 0 | 1 | 2 | 3 |` + "\n" +
		"|:---|---:|---:|---:|---:|\n" +
		"| 0 cat | 3 | 1 | 0 | 0 |\n" +
		"| 1 dog | 1 | 1 | 0 | 0 |\n" +
		"| 2 airplane | 0 | 1 | 3 | 0 |\n" +
		"| 3 frog | 1 | 1 | 0 | 0 |\n" +
		"\nRows: true class; columns: predicted class, by index. 12 samples, accuracy 0.5833.\n"
	if got := m.Markdown(); got != wantMD {
		t.Errorf("markdown: got\n%s\nwant\n%s", got, wantMD)
	}
}

func TestConfidenceAnalysis(t *testing.T) {
	probs := [][]float32{
		{0.7, 0.2, 0.1},   // predicts 0, true 0: correct, 0.7
		{0.1, 0.6, 0.3},   // predicts 1, true 1: correct, 0.6
		{0.25, 0.5, 0.25}, // predicts 1, true 2: incorrect, 0.5
		{0.4, 0.4, 0.2},   // tie: predicts 0 (first), true 1: incorrect, 0.4
	}
	a, err := NewConfidenceAnalysis(probs, []int{0, 1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if a.Correct != 2 || a.Incorrect != 2 {
		t.Errorf("correct, incorrect = %d, %d; want 2, 2", a.Correct, a.Incorrect)
	}
	if math.Abs(a.MeanCorrect-0.65) > 1e-6 || math.Abs(a.MeanIncorrect-0.45) > 1e-6 || math.Abs(a.Gap-0.2) > 1e-6 {
		t.Errorf("means %v, %v, gap %v; want 0.65, 0.45, 0.2", a.MeanCorrect, a.MeanIncorrect, a.Gap)
	}
	want := "Average confidence on correct predictions: 0.6500\n" +
		"Average confidence on incorrect predictions: 0.4500\n" +
		"Confidence gap: 0.2000\n"
	if got := a.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	wantMD := "**Confidence analysis**\n\n" +
		"| Predictions | Count | Average confidence |\n" +
		"|:---|---:|---:|\n" +
		"| correct | 2 | 0.6500 |\n" +
		"| incorrect | 2 | 0.4500 |\n" +
		"| gap (correct - incorrect) | | 0.2000 |\n"
	if got := a.Markdown(); got != wantMD {
		t.Errorf("markdown: got\n%s\nwant\n%s", got, wantMD)
	}

	// The lab's example numbers.
	b, err := NewConfidenceAnalysisFromPredictions([]int{0, 1}, []int{0, 0}, []float64{0.6523, 0.4512})
	if err != nil {
		t.Fatal(err)
	}
	want = "Average confidence on correct predictions: 0.6523\n" +
		"Average confidence on incorrect predictions: 0.4512\n" +
		"Confidence gap: 0.2011\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// All correct: the incorrect mean and the gap do not exist.
	c, err := NewConfidenceAnalysis(probs[:2], []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.String(), "incorrect predictions: n/a\nConfidence gap: n/a\n") {
		t.Errorf("all correct:\n%s", c)
	}

	for name, tc := range map[string]struct {
		p [][]float32
		y []int
	}{
		"lengths": {probs, []int{0}},
		"empty":   {nil, nil},
		"ragged":  {[][]float32{{1, 0}, {1}}, []int{0, 0}},
		"label":   {probs[:1], []int{3}},
	} {
		if _, err := NewConfidenceAnalysis(tc.p, tc.y); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	pred, conf := Argmax([][]float32{{0.1, 0.9}, {0.5, 0.5}, {0.2, nan, 0.9}, {}})
	if pred[0] != 1 || conf[0] != float64(float32(0.9)) || pred[1] != 0 || pred[2] != 1 || !math.IsNaN(conf[2]) || !math.IsNaN(conf[3]) {
		t.Errorf("Argmax = %v, %v", pred, conf)
	}
}

func TestWeightStats(t *testing.T) {
	s := NewWeightStats([]Layer{
		{Name: "dense", Kernel: []float32{1, 2, 3, 4}, Bias: []float32{0.5, -0.5}},
		{Name: "dense_1", Kernel: []float32{-1, 1}, Bias: []float32{0}},
		{Name: "flatten"},
	})
	l := s.Layers[0]
	// mean 2.5, population std sqrt(1.25); bias mean 0, std 0.5.
	if l.Params != 6 || l.WeightMean != 2.5 || !close(l.WeightStd, math.Sqrt(1.25)) || l.BiasMean != 0 || l.BiasStd != 0.5 || l.WeightMin != 1 || l.WeightMax != 4 {
		t.Errorf("dense = %+v", l)
	}
	if f := s.Layers[2]; f.Params != 0 || !math.IsNaN(f.WeightMean) || !math.IsNaN(f.BiasStd) {
		t.Errorf("flatten = %+v", f)
	}
	if s.TotalParams() != 9 {
		t.Errorf("TotalParams = %d, want 9", s.TotalParams())
	}
	want := "Backpropagation Weight Update Analysis\n" +
		"Layer    Parameters  Weight mean  Weight std  Bias mean  Bias std\n" +
		"-------  ----------  -----------  ----------  ---------  --------\n" +
		"dense             6     2.500000    1.118034   0.000000  0.500000\n" +
		"dense_1           3     0.000000    1.000000   0.000000  0.000000\n" +
		"flatten           0            -           -          -         -\n" +
		"Total parameters: 9\n"
	if got := s.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if md := s.Markdown(); !strings.Contains(md, "| dense\\_1 | 3 | 0.000000 | 1.000000 | 0.000000 | 0.000000 |\n") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestTable(t *testing.T) {
	tb := &Table{Title: "T", Header: []string{"name", "n"}, Align: []Align{AlignAuto, AlignLeft}}
	tb.AddRow("a|b", "1")
	tb.AddBlank()
	tb.AddRow("ünïcode", "22", "extra")
	tb.Notes = []string{"note one", "note *two*"}
	want := "T\n" +
		"name     n\n" +
		"-------  --  -----\n" +
		"a|b      1\n" +
		"\n" +
		"ünïcode  22  extra\n" +
		"note one\n" +
		"note *two*\n"
	if got := tb.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	wantMD := "**T**\n\n" +
		"| name | n | |\n" +
		"|:---|:---|---:|\n" +
		"| a\\|b | 1 | |\n" +
		"| ünïcode | 22 | extra |\n" +
		"\n" +
		"note one  \n" +
		"note \\*two\\*\n"
	if got := tb.Markdown(); got != wantMD {
		t.Errorf("got\n%q\nwant\n%q", got, wantMD)
	}
}

func TestDisplayOutsideNotebook(t *testing.T) {
	var buf bytes.Buffer
	display.Stdout = &buf
	defer func() { display.Stdout = os.Stdout }()
	a, _ := NewConfidenceAnalysisFromPredictions([]int{0}, []int{0}, []float64{1})
	if err := a.Display(); err != nil {
		t.Fatal(err)
	}
	if err := (Group{a, a.Table()}).Display(); err != nil {
		t.Fatal(err)
	}
	want := a.String() + a.String() + "\n" + a.Table().String()
	if buf.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", buf.String(), want)
	}
}
