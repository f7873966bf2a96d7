package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The notebooks write their models, compile and fit settings in their cells; package lab keeps the
// same experiments as presets for the tests and benchmarks. This test builds a Go program from a
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
			src, err := declarationsProgram(nb, presetMain(tc.preset))
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
	src, err := declarationsProgram(nb, presetMain("presets.Exercise2()"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(runInModule(t, root, src)), "\n")
	if len(lines) != 2 || lines[0] == lines[1] || !strings.Contains(lines[0], `"units":255`) {
		t.Errorf("an edited layer was not told apart from the preset:\n%s", strings.Join(lines, "\n"))
	}
}

// presetMain is the main of the comparison program: it prints the notebook's experiment and the
// preset's, one JSON line each, made by the same code.
func presetMain(preset string) string {
	return `
func main() {
	cifarlabTestPrint(newModel(), fitConfig(), TrainSamples, TestSamples)
	e := ` + preset + `
	m, err := e.NewModel()
	if err != nil {
		panic(err)
	}
	cifarlabTestPrint(m, e.Fit, e.TrainSamples, e.TestSamples)
}

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
`
}

// declarationsProgram makes a Go program of a notebook's declarations, as GoNB carries them from
// cell to cell (the part of each code cell before its "%%" line; special commands dropped), with
// main as its main function. Imports that nothing uses are dropped, as GoNB does.
func declarationsProgram(nb *Notebook, main string) ([]byte, error) {
	fset := token.NewFileSet()
	imports := map[string]string{} // path -> name ("" for the default)
	var decls []string
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var part []string
		for _, line := range strings.Split(string(c.Source), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "%%") {
				break
			}
			if strings.HasPrefix(line, "%") || strings.HasPrefix(line, "!") {
				continue
			}
			part = append(part, line)
		}
		f, err := parser.ParseFile(fset, fmt.Sprintf("cell%d.go", i), "package main\n"+strings.Join(part, "\n"), parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("cell %d: %w", i, err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			name := ""
			if imp.Name != nil {
				name = imp.Name.Name
			}
			imports[p] = name
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
				continue
			}
			var b bytes.Buffer
			if err := format.Node(&b, fset, d); err != nil {
				return nil, err
			}
			decls = append(decls, b.String())
		}
	}
	body := strings.Join(decls, "\n\n") + "\n" + main
	imports["encoding/json"], imports["fmt"], imports["github.com/cifarlab/cifarlab/internal/presets"] = "", "", ""
	used := usedPackages(body)
	var src strings.Builder
	src.WriteString("package main\n\nimport (\n")
	for p, name := range imports {
		short := name
		if short == "" {
			short = p[strings.LastIndex(p, "/")+1:]
		}
		if used[short] {
			fmt.Fprintf(&src, "\t%s %q\n", name, p)
		}
	}
	src.WriteString(")\n\n" + body)
	return format.Source([]byte(src.String()))
}

// usedPackages returns the identifiers that appear as X in X.Sel expressions of src.
func usedPackages(src string) map[string]bool {
	used := map[string]bool{}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package main\n"+src, 0)
	if err != nil {
		return used
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	return used
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
