package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/internal/gonbtest"
)

// The notebooks write their models, compile and fit settings in their cells; internal/presets
// keeps the same experiments for the tests and benchmarks. This test builds a Go program from a
// notebook's declarations (what GoNB carries from cell to cell), as GoNB does, and compares what
// the notebook's newModel and fitConfig make (full mode) with the preset, so the two cannot drift
// apart.
func TestNotebookModelsArePresets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with GoMLX: not in -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ notebook, preset string }{
		{"exercise2.ipynb", "presets.Exercise2()"},
		{"lab3.ipynb", "presets.Lab3(keras.ReLU)"},
	} {
		t.Run(tc.notebook, func(t *testing.T) {
			nb, err := ReadNotebook(filepath.Join(root, "notebooks", tc.notebook))
			if err != nil {
				t.Fatal(err)
			}
			src, err := declarationsProgram(nb, presetCell(tc.preset))
			if err != nil {
				t.Fatalf("%s: %v", tc.notebook, err)
			}
			out := runInModule(t, root, src)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("program printed %q, want two lines", out)
			}
			t.Logf("%s: %s", tc.notebook, lines[0])
			if lines[0] != lines[1] {
				t.Errorf("%s and %s differ:\nnotebook: %s\npreset:   %s", tc.notebook, tc.preset, lines[0], lines[1])
			}
		})
	}
}

// A notebook whose model differs from the preset (one Dense layer of 255 units instead of 256)
// fails the comparison: the test above can fail.
func TestNotebookModelsArePresetsCatchesAnEdit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with GoMLX: not in -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ReadNotebook(filepath.Join(root, "notebooks", "exercise2.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	edited := false
	for i, c := range nb.Cells {
		if s := string(c.Source); strings.Contains(s, "keras.Dense(256, keras.ELU)") {
			nb.Cells[i].Source = Text(strings.Replace(s, "keras.Dense(256, keras.ELU)", "keras.Dense(255, keras.ELU)", 1))
			edited = true
		}
	}
	if !edited {
		t.Fatal("exercise2.ipynb has no keras.Dense(256, keras.ELU)")
	}
	src, err := declarationsProgram(nb, presetCell("presets.Exercise2()"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(runInModule(t, root, src)), "\n")
	if len(lines) != 2 || lines[0] == lines[1] || !strings.Contains(lines[0], `"units":255`) {
		t.Errorf("an edited layer was not told apart from the preset:\n%s", strings.Join(lines, "\n"))
	}
}

// presetCell is the last cell of the comparison program: it prints the notebook's experiment and
// the preset's, one JSON line each, made by the same code.
func presetCell(preset string) string {
	return `import (
	"encoding/json"
	"fmt"

	"github.com/cifarlab/cifarlab/internal/presets"
)

// cifarlabTestPrint prints what decides a training run: the architecture and seed, the compile
// settings, the fit settings with each callback's type and fields, and the images used (0 = all).
func cifarlabTestPrint(m *keras.Model, fit keras.FitConfig, trainSamples, testSamples int) {
	all := func(n, size int) int {
		if n <= 0 || n > size {
			return size
		}
		return n
	}
	compile, _ := m.CompileConfig()
	var callbacks []string
	for _, cb := range fit.Callbacks {
		config, err := json.Marshal(cb)
		if err != nil {
			panic(err)
		}
		callbacks = append(callbacks, fmt.Sprintf("%T%s", cb, config))
	}
	line, err := json.Marshal(map[string]any{
		"spec": m.Spec(), "compile": compile, "epochs": fit.Epochs, "batch_size": fit.BatchSize,
		"validation_split": fit.ValidationSplit, "no_shuffle": fit.NoShuffle, "verbose": fit.Verbose,
		"callbacks": callbacks, "train": all(trainSamples, 50000), "test": all(testSamples, 10000),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}

%%
cifarlabTestPrint(newModel(), fitConfig(), TrainSamples, TestSamples)
e := ` + preset + `
m, err := e.NewModel()
if err != nil {
	panic(err)
}
cifarlabTestPrint(m, e.Fit, e.TrainSamples, e.TestSamples)`
}

// declarationsProgram makes the Go program that GoNB builds for the cell last run after every
// code cell of nb: the notebook's declarations (the part of each code cell above its "%%" line,
// special commands dropped), and last's (see gonbtest.Program).
func declarationsProgram(nb *Notebook, last string) ([]byte, error) {
	var mem gonbtest.Memory
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var lines []string
		for _, line := range strings.Split(string(c.Source), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "%%") {
				break
			}
			if strings.HasPrefix(line, "%") || strings.HasPrefix(line, "!") {
				line = "" // keeps the line numbers
			}
			lines = append(lines, line)
		}
		var err error
		if _, mem, err = gonbtest.Program(gonbtest.Cell{File: fmt.Sprintf("cell%d", i+1), Line: 1, Lines: lines}, mem); err != nil {
			return nil, fmt.Errorf("cell %d: %w", i+1, err)
		}
	}
	src, _, err := gonbtest.Program(gonbtest.Cell{File: "comparison", Line: 1, Lines: strings.Split(last, "\n")}, mem)
	return []byte(src), err
}

// runInModule runs the program src as a package of the module at root (in a temporary folder
// under nbrun/testdata, so that it may import the module's internal presets), in full mode, and
// returns its output. The notebook's declarations compile there as in the kernel's workspace:
// both build against this clone's packages.
func runInModule(t *testing.T, root string, src []byte) string {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Join(root, "nbrun", "testdata"), "presetcheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./"+filepath.Join("nbrun", "testdata", filepath.Base(dir)))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off", "CIFARLAB_QUICK=", "GOFLAGS=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run of the notebook's declarations: %v\n%s\n--- main.go:\n%s", err, stderr.String(), src)
	}
	return stdout.String()
}
