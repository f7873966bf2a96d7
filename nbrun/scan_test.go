package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorded is a notebook executed by the gonb kernel with every kind of failure, kept so that
// the scanner is tested without Jupyter (made from testdata/failures.ipynb with
// `go run ./nbrun -out DIR nbrun/testdata/failures.ipynb`).
const recorded = "testdata/executed/failures.ipynb"

func TestCheckRecordedFailures(t *testing.T) {
	nb, err := ReadNotebook(recorded)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := nb.Expect()
	if err != nil {
		t.Fatal(err)
	}
	s := Check(nb, exp)
	if s.Cells != 12 || s.Executed != 12 || s.Images != 1 {
		t.Errorf("Check: %d code cells, %d executed, %d images; want 12, 12, 1", s.Cells, s.Executed, s.Images)
	}
	want := []struct {
		cell   int
		reason string
		detail string
	}{
		{4, "panic: boom", "exit status 2"},
		{5, "failed to run", "declared and not used: x"},
		{6, "exit status 3", ""},
		{7, "exit status 1", "fatal thing"},
		{8, "exit status 2", "No such file or directory"},
		{11, "fatal error: all goroutines are asleep - deadlock!", ""},
		{13, "expected at least 1 image(s) from this cell, it showed 0", ""},
		{0, "expected at least 2 image(s) (charts) in the notebook, its outputs hold 1", ""},
	}
	if len(s.Problems) != len(want) {
		for _, p := range s.Problems {
			t.Log(p)
		}
		t.Fatalf("Check found %d problems, want %d", len(s.Problems), len(want))
	}
	for i, w := range want {
		p := s.Problems[i]
		if p.Cell != w.cell || !strings.Contains(p.Reason, w.reason) || !strings.Contains(p.Detail, w.detail) {
			t.Errorf("problem %d = %v\nwant cell %d, reason with %q, detail with %q", i, p, w.cell, w.reason, w.detail)
		}
	}
	// Cells 9 (stderr warning only) and 10 (tagged raises-exception) are not problems.
	for _, p := range s.Problems {
		if p.Cell == 9 || p.Cell == 10 {
			t.Errorf("cell %d should pass: %v", p.Cell, p)
		}
	}
	if got := s.Problems[0].String(); !strings.HasPrefix(got, "cell 4 (In [3]) `panic(\"boom\")`: panic: boom") {
		t.Errorf("problem text = %q", got)
	}
}

// notebookJSON builds a one-cell executed notebook.
func notebookJSON(t *testing.T, outputs ...map[string]any) *Notebook {
	t.Helper()
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{},
		"cells": []any{map[string]any{
			"cell_type": "code", "source": []string{"%%\n", "run()"}, "metadata": map[string]any{},
			"execution_count": 1, "outputs": outputs,
		}},
	}
	b, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	var out Notebook
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func stream(name string, lines ...string) map[string]any {
	return map[string]any{"output_type": "stream", "name": name, "text": lines}
}

func TestCheckStreams(t *testing.T) {
	for _, tc := range []struct {
		text string
		fail string // "" when the cell passes
	}{
		{"all fine\n", ""},
		{"warning: the GPU is not used\nI1122 01:28:19.770342 klog info\n", ""},
		{"epoch 1: loss 2.3 error rate 0.8\n", ""},
		{"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\n", "panic: runtime error: index out of range [3] with length 3"},
		{"fatal error: runtime: out of memory\n", "fatal error: runtime: out of memory"},
		{"exit status 1\n", "exit status 1"},
		{"\x1b[31mexit status 2\x1b[0m\n", "exit status 2"},
		{"signal: killed\n", "signal: killed"},
		{"Error: cannot open file\n", "Error: cannot open file"},
		{"error loading data\n", "error loading data"},
		{"errors are fine when not first\n", ""},
	} {
		s := Check(notebookJSON(t, stream("stderr", tc.text)), Expectations{})
		got := ""
		if len(s.Problems) > 0 {
			got = s.Problems[0].Reason
		}
		if got != tc.fail {
			t.Errorf("stderr %q: problem %q, want %q", tc.text, got, tc.fail)
		}
	}
	// The same lines on stdout are not failures.
	if s := Check(notebookJSON(t, stream("stdout", "exit status 1\n", "panic: no\n")), Expectations{}); len(s.Problems) > 0 {
		t.Errorf("stdout lines taken for failures: %v", s.Problems)
	}
}

func TestCheckImagesAndErrors(t *testing.T) {
	png := map[string]any{"output_type": "display_data", "metadata": map[string]any{}, "data": map[string]any{"image/png": "iVBORw0KGgo=", "text/plain": "<image>"}}
	svg := map[string]any{"output_type": "display_data", "metadata": map[string]any{}, "data": map[string]any{"image/svg+xml": "<svg></svg>"}}
	html := map[string]any{"output_type": "display_data", "metadata": map[string]any{}, "data": map[string]any{"text/html": `<div><img src="data:image/png;base64,AAAA"/><img src="x"/></div>`}}
	s := Check(notebookJSON(t, png, svg, html), Expectations{MinImages: 4})
	if s.Images != 4 || len(s.Problems) != 0 {
		t.Errorf("images %d, problems %v; want 4 images and no problem", s.Images, s.Problems)
	}
	s = Check(notebookJSON(t, png), Expectations{MinImages: 2})
	if len(s.Problems) != 1 || s.Problems[0].Cell != 0 {
		t.Errorf("want one notebook-level problem for a missing chart, got %v", s.Problems)
	}
	errOut := map[string]any{"output_type": "error", "ename": "ERROR", "evalue": "failed to run \"go get\": exit status 1", "traceback": []string{"\x1b[31mtrace\x1b[0m"}}
	s = Check(notebookJSON(t, errOut), Expectations{})
	if len(s.Problems) != 1 || s.Problems[0].Reason != `ERROR: failed to run "go get": exit status 1` || s.Problems[0].Detail != "trace" {
		t.Errorf("error output: %v", s.Problems)
	}
	// GoNB v0.11.4: a panicking cell has its panic on stderr and an error output; one problem,
	// named after the panic.
	panicked := stream("stderr", "panic: boom\n\ngoroutine 1 [running]:\nexit status 2\n")
	exitErr := map[string]any{"output_type": "error", "ename": "ERROR", "evalue": "exit status 2", "traceback": []string{"exit status 2"}}
	s = Check(notebookJSON(t, panicked, exitErr), Expectations{})
	if len(s.Problems) != 1 || s.Problems[0].Reason != "panic: boom" || !strings.Contains(s.Problems[0].Detail, "goroutine 1") {
		t.Errorf("panic with an error output: %v", s.Problems)
	}
}

func TestCheckCellNotRun(t *testing.T) {
	nb := notebookJSON(t)
	nb.Cells[0].ExecutionCount = nil
	if s := Check(nb, Expectations{}); len(s.Problems) != 1 || s.Problems[0].Reason != "did not run" {
		t.Errorf("a cell that did not run: %v", s.Problems)
	}
}

func TestHeadings(t *testing.T) {
	var nb Notebook
	src := `{"cells": [
	  {"cell_type": "markdown", "metadata": {}, "source": ["# Lab 3: **CNN** on CIFAR-10\n", "text\n", "## Train ` + "`model`" + `\n",
	    "` + "```" + `\n", "# not a heading\n", "` + "```" + `\n", "### Loss $L$\n"]},
	  {"cell_type": "code", "metadata": {}, "source": "# code comment", "outputs": [], "execution_count": null}
	], "metadata": {}}`
	if err := json.Unmarshal([]byte(src), &nb); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(nb.Headings(), "|")
	if want := "Lab 3: CNN on CIFAR-10|Train model"; got != want {
		t.Errorf("Headings = %q, want %q", got, want)
	}
}

func TestFirstLine(t *testing.T) {
	for src, want := range map[string]string{
		"import (\n\t\"fmt\"\n)\n\nfunc f() {}\n%%\nf()": "func f() {}",
		"%%\nfmt.Println(1)":                             "fmt.Println(1)",
		"import \"log\"\n\n%%\nlog.Print(1)":             "log.Print(1)",
		"!*go mod edit -replace a=b":                     "!*go mod edit -replace a=b",
		"import \"fmt\"":                                 "import \"fmt\"",
		"// f says hello.\nfunc f() {}":                  "func f() {}",
	} {
		c := Cell{Source: Text(src)}
		if got := c.firstLine(); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestInjectPrintCSS(t *testing.T) {
	got := injectPrintCSS("<html><head><title>x</title></head><body></body></html>")
	if !strings.Contains(got, "white-space: pre-wrap") || !strings.Contains(got, "size: A4") ||
		strings.Index(got, "cifarlab-print") > strings.Index(got, "</head>") {
		t.Errorf("print CSS not at the end of the head: %s", got)
	}
}

func TestNormalizeText(t *testing.T) {
	if got := normalizeText("  CIFAR-10\n smoke\u00a0test  e\ufb03cient "); got != "CIFAR-10 smoke test efficient" {
		t.Errorf("normalizeText = %q", got)
	}
}

func TestFixLanguageInfo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nb.ipynb")
	src := `{"cells": [], "metadata": {"language_info": {"name": "go", "pygments_lexer": "", "codemirror_mode": ""}, "other": "<kept>"}, "nbformat": 4, "nbformat_minor": 5}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fixLanguageInfo(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte(`"pygments_lexer": "go"`)) || !bytes.Contains(b, []byte(`"other": "<kept>"`)) {
		t.Errorf("fixLanguageInfo wrote %s", b)
	}
}

// The command fails, naming the cells, on a notebook that failed; -no-exec needs no Jupyter.
func TestRunNoExecReportsFailures(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-no-exec", "-out", t.TempDir(), recorded}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; output:\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"FAIL " + recorded, "cell 4 (In [3])", "panic: boom", "declared and not used: x", "nbrun: 0 passed, 1 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := run(context.Background(), nil, &out, &errOut); code != 2 {
		t.Errorf("no arguments: exit code %d, want 2", code)
	}
}
