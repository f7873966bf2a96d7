package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// labNotebooks returns the notebooks of notebooks/, read.
func labNotebooks(t *testing.T) map[string]*Notebook {
	t.Helper()
	paths, err := filepath.Glob("../notebooks/*.ipynb")
	if err != nil || len(paths) < 3 {
		t.Fatalf("notebooks in ../notebooks: %v, %v", paths, err)
	}
	nbs := map[string]*Notebook{}
	for _, p := range paths {
		nb, err := ReadNotebook(p)
		if err != nil {
			t.Fatal(err)
		}
		nbs[filepath.Base(p)] = nb
	}
	return nbs
}

// codeCells returns the sources of a notebook's code cells.
func codeCells(nb *Notebook) []string {
	var out []string
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			out = append(out, string(c.Source))
		}
	}
	return out
}

// JupyterLab shows notebooks/ to students: the labs and nothing else lie there (hidden files such
// as .gitignore and Jupyter's .ipynb_checkpoints aside, which its file browser does not show).
func TestNotebooksFolderHoldsOnlyTheLabs(t *testing.T) {
	entries, err := os.ReadDir("../notebooks")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() || filepath.Ext(e.Name()) != ".ipynb" {
			t.Errorf("notebooks/%s lies beside the labs (the runner, tests and test data live outside notebooks/)", e.Name())
		}
	}
}

// The lab notebooks write the student's work in their cells, with package lab only for data,
// memoized runs and displays: no set-up cell (the kernel's Go workspace finds cifarlab), no preset
// experiments, no helpers of their own for errors or training, no nested lab.Must.
func TestNotebooksCellsAreTheStudentsWork(t *testing.T) {
	forbidden := []struct {
		re  *regexp.Regexp
		why string
	}{
		{regexp.MustCompile(`go mod edit|%noautoget|%goworkfix|GONB_DIR|(?m)^!\*`), "has a set-up cell (the kernel set-up makes cifarlab importable)"},
		{regexp.MustCompile(`lab\.(Lab3|Exercise2|Lab3Spec|Exercise2Spec|Lab3Compile|Exercise2Compile|Lab3Fit|Exercise2Fit|Experiment)\b`), "uses a preset of package lab (write the model, compile and fit in the cells)"},
		{regexp.MustCompile(`lab\.Must2?\([^\n]*lab\.Must2?\(`), "nests lab.Must"},
		{regexp.MustCompile(`(?m)^func (must|must2|check)\b`), "declares its own error helper (use lab.Check, lab.Must, lab.Must2)"},
		{regexp.MustCompile(`\bmust2?\(`), "calls a must helper of its own"},
		{regexp.MustCompile(`(?m)^func trainModel\b`), "declares its own training helper (use lab.Fit, lab.Trained)"},
		{regexp.MustCompile(`cifar\.Load\(`), "loads the data with cifar.Load (use lab.LoadData)"},
		{regexp.MustCompile(`\.Display\(\)`), "calls Display by hand (use lab.Show)"},
		{regexp.MustCompile(`lab\.Predict\(`), "runs inference again (use trained().Predict, memoized)"},
		{regexp.MustCompile(`lab\.(Pick|Quick)\b`), "puts the test runner's quick mode in a cell (CIFARLAB_QUICK applies it from outside)"},
		{regexp.MustCompile(`lab\.Must2?\(lab\.`), "wraps a function of lab in lab.Must (lab's functions stop the cell themselves)"},
	}
	for name, nb := range labNotebooks(t) {
		for i, src := range codeCells(nb) {
			for _, f := range forbidden {
				if loc := f.re.FindStringIndex(src); loc != nil {
					line := strings.Count(src[:loc[0]], "\n") + 1
					t.Errorf("%s code cell %d line %d %s: %q", name, i+1, line, f.why, f.re.FindString(src))
				}
			}
		}
	}
}

// Reading the PDF of a lab, a teacher sees every choice the lab asks for: the layers one by one,
// compile with its optimizer, loss and metrics, fit with its arguments and named callback fields.
func TestLabNotebooksShowTheirChoices(t *testing.T) {
	nbs := labNotebooks(t)
	for _, tc := range []struct {
		notebook string
		want     []string
	}{
		{"exercise2.ipynb", []string{
			"keras.Sequential([]int{32, 32, 3},", "keras.Flatten(),",
			"keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal),", "keras.Dense(10, keras.Softmax),",
			"model.SetSeed(Seed)", "Optimizer: keras.Nadam(0.001),", "Loss:      keras.LossSparseCategoricalCrossentropy,",
			"Metrics:   []keras.Metric{keras.MetricAccuracy},", "BatchSize:       128,", "ValidationSplit: 0.2,",
			`&keras.EarlyStopping{Monitor: "val_loss", Patience: 5, RestoreBestWeights: true}`,
			"lab.Fit(newModel(), trainImages(), fitConfig())", "lab.Trained(newModel(), trainImages(), fitConfig())",
			"trained().Evaluate(testImages())", "Epochs       = 50",
		}},
		{"lab3.ipynb", []string{
			"func createModelWithActivation(activation keras.Activation) *keras.Model {",
			"keras.Dense(512, activation),", "keras.Dropout(0.3),", "keras.Dense(256, activation),", "keras.Dropout(0.4),",
			"keras.Dense(128, activation),", "keras.Dropout(0.5),", "keras.Dense(10, keras.Softmax),",
			"model := createModelWithActivation(v.Activation)", "Optimizer: keras.Adam(0.001),",
			"Loss:      keras.LossCategoricalCrossentropy,", "BatchSize:       32,",
			`&keras.EarlyStopping{Monitor: "val_loss", Patience: 10, RestoreBestWeights: true}`,
			`&keras.ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 5, MinLR: 1e-5}`,
			"lab.Fit(newModel(), trainImages(), fitConfig())", "model.Evaluate(testImages())", "Epochs       = 50",
		}},
	} {
		nb := nbs[tc.notebook]
		if nb == nil {
			t.Fatalf("%s is missing", tc.notebook)
		}
		all := strings.Join(codeCells(nb), "\n")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no cell says %q", tc.notebook, w)
			}
		}
	}
}

// codeLines counts the non-blank lines of code that are not comments only ("//" in Go, "#" in
// Python).
func codeLines(src, comment string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, comment) {
			n++
		}
	}
	return n
}

// Exercise 2's cells read like the Keras cells: at most 1.3 times the seed notebook's code lines.
func TestExercise2LinesAgainstSeed(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed/exercise2.py")
	if err != nil {
		t.Fatal(err)
	}
	keras := codeLines(string(seed), "#")
	nb := labNotebooks(t)["exercise2.ipynb"]
	goLines := 0
	for _, src := range codeCells(nb) {
		goLines += codeLines(src, "//")
	}
	ratio := float64(goLines) / float64(keras)
	t.Logf("exercise2.ipynb: %d code lines; the seed's Keras cells: %d; ratio %.2f", goLines, keras, ratio)
	if keras < 40 || ratio > 1.3 {
		t.Errorf("exercise2.ipynb has %d code lines for the seed's %d (ratio %.2f, want at most 1.3)", goLines, keras, ratio)
	}
}

// machinePath finds an absolute path in an output's text ("/root/.cache/...", "/work/data"): a
// slash-rooted path of two or more names at the start of the text or after a space, quote,
// bracket, "=" or ":". URLs ("http://host/x"), "~/..." and relative paths are not machine paths.
var machinePath = regexp.MustCompile(`(?:^|[\s"'(\[=:])(/[A-Za-z0-9._+-]+(?:/[A-Za-z0-9._+-]+)+)`)

// machinePaths returns the absolute paths in text that do not lie in the folder dir (which may be
// "").
func machinePaths(text, dir string) []string {
	var out []string
	for _, m := range machinePath.FindAllStringSubmatch(text, -1) {
		p := m[1]
		if dir != "" && (p == dir || strings.HasPrefix(p, dir+"/")) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// outputTexts returns the texts of a cell's outputs that a reader sees: streams, text and HTML
// results, errors (images are left out: their base64 holds slashes).
func outputTexts(c Cell) []string {
	var out []string
	for _, o := range c.Outputs {
		out = append(out, string(o.Text), o.Evalue, strings.Join(o.Traceback, "\n"))
		for mime, raw := range o.Data {
			if !strings.HasPrefix(mime, "text/") {
				continue
			}
			var t Text
			if err := json.Unmarshal(raw, &t); err == nil {
				out = append(out, string(t))
			}
		}
	}
	return out
}

// Students open the committed notebooks (the hub copies them into every home): no saved output
// names a path of the machine they were executed on (a home, a data folder, the plugin's path);
// paths inside the notebooks' own folder would be the student's too.
func TestCommittedOutputsNameNoMachinePath(t *testing.T) {
	dir, err := filepath.Abs("../notebooks")
	if err != nil {
		t.Fatal(err)
	}
	for name, nb := range labNotebooks(t) {
		outputs := 0
		for i, c := range nb.Cells {
			for _, text := range outputTexts(c) {
				for _, p := range machinePaths(text, dir) {
					t.Errorf("%s cell %d: an output names the path %s of the machine it ran on", name, i+1, p)
				}
			}
			outputs += len(c.Outputs)
		}
		if outputs == 0 {
			t.Errorf("%s has no saved outputs (execute it and commit them)", name)
		}
	}
}

// The check above finds the paths that the committed outputs once held, and lets through what
// names no machine.
func TestMachinePaths(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"CIFAR-10 python batches in /work/shared/cifar10/cifar-10-batches-py (folder from CIFAR10_DIR)", []string{"/work/shared/cifar10/cifar-10-batches-py"}},
		{"read back from the flat cache /root/.cache/cifarlab/flat/33bb.cifar in 0.3 ms", []string{"/root/.cache/cifarlab/flat/33bb.cifar"}},
		{`plugin "/home/ann/.local/lib/pjrt_c_api_cpu_plugin.so"`, []string{"/home/ann/.local/lib/pjrt_c_api_cpu_plugin.so"}},
		{"loaded run 0123 from=/tmp/cifarlab-runs-0/0123", []string{"/tmp/cifarlab-runs-0/0123"}},
		{"CIFAR-10 from ~/.cache/cifarlab/cifar10 (downloaded 2026-12-07), 60,000 images, 0.3 ms", nil},
		{"CIFAR-10 from $CIFAR10_DIR (python version), 60,000 images", nil},
		{"see https://www.cs.toronto.edu/~kriz/cifar.html and 0.3/1.0", nil},
		{"x /nb/dir/lab3.ipynb", nil}, // inside the notebooks' folder
		{"values 0.0/1.0, ratio 3/4", nil},
	} {
		got := machinePaths(tc.text, "/nb/dir")
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("machinePaths(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
