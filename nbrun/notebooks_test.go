package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests below execute notebooks on the gonb kernel. They run when CIFARLAB_NOTEBOOK_TESTS=1
// (nbrun/test.sh sets it after kernel-setup/setup.sh); then a missing Jupyter or kernel is a
// failure, not a skip. CIFARLAB_NOTEBOOK_OUT keeps their outputs (PDFs, page PNGs) in that folder.

func notebookTests(t *testing.T) string {
	t.Helper()
	if os.Getenv("CIFARLAB_NOTEBOOK_TESTS") != "1" {
		t.Skip("set CIFARLAB_NOTEBOOK_TESTS=1 to execute the notebooks (nbrun/test.sh does, after kernel-setup/setup.sh)")
	}
	if _, err := findJupyter(); err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("CIFARLAB_NOTEBOOK_OUT")
	if out == "" {
		return t.TempDir()
	}
	out = filepath.Join(out, t.Name())
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every notebook of notebooks/, and the machinery's own smoke test (testdata/smoke.ipynb), runs
// in quick mode without a failed cell, shows its charts, and exports to a PDF that holds its
// headings and renders to PNG pages.
func TestNotebooks(t *testing.T) {
	out := notebookTests(t)
	nbs, err := filepath.Glob("../notebooks/*.ipynb")
	if err != nil || len(nbs) == 0 {
		t.Fatalf("no notebooks in ../notebooks: %v", err)
	}
	nbs = append(nbs, "testdata/smoke.ipynb")
	for _, nb := range nbs {
		name := strings.TrimSuffix(filepath.Base(nb), ".ipynb")
		t.Run(name, func(t *testing.T) {
			o := Options{Out: out, Quick: true, PDF: true, LaTeX: true, MinImages: -1, Kernel: "gonb"}
			var progress bytes.Buffer
			res, err := RunNotebook(context.Background(), nb, o, &progress)
			if err != nil {
				t.Fatalf("%s\n%s", progress.String(), err)
			}
			t.Logf("%s: %s", nb, res)
			if len(res.Pages) == 0 {
				t.Errorf("%s: PDF without pages", nb)
			}
		})
	}
}

// A cell that panics makes the runner fail and name the cell, although GoNB reports the cell's
// execution as successful.
func TestRunnerFailsOnPanic(t *testing.T) {
	out := notebookTests(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-out", out, "testdata/panic.ipynb"}, &stdout, &stderr)
	got := stdout.String() + stderr.String()
	if code != 1 {
		t.Fatalf("exit code %d, want 1:\n%s", code, got)
	}
	for _, want := range []string{"FAIL testdata/panic.ipynb", "1 problem(s)", "cell 3 (In [2])", "panic: boom in cell 3"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// The cells before and after it ran; the failed run's executed notebook is kept under a name
	// that says so.
	nb, err := ReadNotebook(filepath.Join(out, "panic.FAILED.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if s := Check(nb, Expectations{}); s.Executed != 3 {
		t.Errorf("%d cells ran, want 3", s.Executed)
	}
}

// A notebook that shows fewer charts than its metadata promises fails.
func TestRunnerFailsOnMissingChart(t *testing.T) {
	out := notebookTests(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-out", out, "testdata/nochart.ipynb"}, &stdout, &stderr)
	got := stdout.String() + stderr.String()
	if code != 1 || !strings.Contains(got, "expected at least 1 image(s) (charts) in the notebook, its outputs hold 0") {
		t.Fatalf("exit code %d, want 1 and the missing chart named:\n%s", code, got)
	}
}
