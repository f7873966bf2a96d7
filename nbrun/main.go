// Command nbrun executes cifarlab's GoNB notebooks headless, fails on any cell that failed
// (GoNB reports panics and non-zero exits as successful executions), checks that each notebook
// showed its charts, and exports it to PDF (nbconvert HTML printed by headless Chromium).
//
//	go run ./nbrun [flags] NOTEBOOK.ipynb...
//
// For each notebook it writes, into -out (default: out/ in the current folder):
//
//	NAME.ipynb       the executed notebook, outputs included
//	NAME.log         nbconvert's and the kernel's log
//	NAME.html        the HTML export (with -pdf)
//	NAME.pdf         the PDF to hand in (with -pdf), and NAME-page-N.png, its pages
//	NAME-latex.pdf   nbconvert's own LaTeX PDF (with -latex, where XeLaTeX is installed)
//
// A notebook states what it must produce in its metadata:
//
//	"cifarlab": {"min_images": 3, "pdf_contains": ["Test accuracy"], "cell_timeout_s": 900}
//
// and a cell may require its own charts with cell metadata {"cifarlab": {"min_images": 1}}.
// Cells tagged "raises-exception" may fail. The notebooks run with their folder as working
// directory and, with -quick (or CIFARLAB_QUICK=1 in the environment), with CIFARLAB_QUICK=1, which
// they read to train on a subset for few epochs.
//
// A notebook that fails leaves nothing that could pass for a passing run: its HTML, PDF and page
// PNGs (and those of an earlier run) are removed, the executed notebook is kept as
// NAME.FAILED.ipynb beside NAME.log, and NAME.FAILED.txt says what failed.
//
// Every process that nbrun starts is stopped before nbrun moves on or ends, whether the notebook
// passed, failed or timed out, and when nbrun is interrupted (SIGINT, SIGTERM, SIGHUP): nbconvert,
// the Jupyter kernel it starts in a session of its own, the kernel's gopls and the running cell's
// program (see stopTree). Only a SIGKILL of nbrun itself leaves them to the system: then
// nbconvert is killed with it (its parent-death signal) and the rest is orphaned.
//
// Exit status: 0 when every notebook passed, 1 when any failed, 2 for bad usage, 128+N when
// stopped by signal N (130 for ctrl-C).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cifarlab/cifarlab/internal/settings"
)

func main() {
	os.Exit(runMain(os.Args[1:]))
}

// runMain is main without the exit: it makes nbrun a child subreaper (see becomeSubreaper) and
// turns SIGINT, SIGTERM and SIGHUP into a cancelled run, whose processes are stopped, and an exit
// status of 128+the signal's number.
func runMain(args []string) int {
	subreaper = becomeSubreaper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var caught atomic.Value
	go func() {
		sig := <-sigs
		caught.Store(sig)
		cancel(fmt.Errorf("nbrun interrupted by %v", sig))
	}()
	code := run(ctx, args, os.Stdout, os.Stderr)
	if sig, ok := caught.Load().(syscall.Signal); ok {
		fmt.Fprintf(os.Stderr, "nbrun: %v: stopped the notebook and every process it started\n", sig)
		return 128 + int(sig)
	}
	return code
}

// Options are nbrun's flags.
type Options struct {
	Out         string        // output folder; "" means out/ in the current folder
	Quick       bool          // set CIFARLAB_QUICK=1 for the notebooks
	NoExec      bool          // check and export the notebooks as they are
	PDF         bool          // export to PDF through Chromium and check it
	LaTeX       bool          // also nbconvert --to pdf, where XeLaTeX is installed
	MinImages   int           // -1: from the notebook's metadata
	Contains    []string      // strings the PDF must contain
	CellTimeout time.Duration // per cell; 0: metadata, else the default
	Timeout     time.Duration // per notebook execution; 0: none
	Kernel      string        // kernel name
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, notebooks, code := parseArgs(args, stderr)
	if code >= 0 {
		return code
	}
	passed, failed := 0, 0
	for _, nbPath := range notebooks {
		if ctx.Err() != nil {
			break
		}
		res, err := RunNotebook(ctx, nbPath, o, stdout)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s\n  %s\n", nbPath, strings.ReplaceAll(err.Error(), "\n", "\n  "))
			continue
		}
		passed++
		fmt.Fprintf(stdout, "PASS %s: %s\n", nbPath, res)
	}
	fmt.Fprintf(stdout, "nbrun: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// parseArgs parses nbrun's command line; code is the exit status when nbrun must stop (2 for bad
// usage), else -1.
func parseArgs(args []string, stderr io.Writer) (o Options, notebooks []string, code int) {
	fs := flag.NewFlagSet("nbrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var contains stringList
	fs.StringVar(&o.Out, "out", "", "folder for the executed notebooks, logs, HTML, PDFs and page PNGs (default: out/ in the current folder)")
	quick, err := settings.Bool(envQuick)
	if err != nil {
		fmt.Fprintf(stderr, "nbrun: %v\n", err)
		return o, nil, 2
	}
	fs.BoolVar(&o.Quick, "quick", quick, "quick mode: run the notebooks with CIFARLAB_QUICK=1 (a subset, few epochs); default from $CIFARLAB_QUICK")
	fs.BoolVar(&o.NoExec, "no-exec", false, "do not execute: check (and export) notebooks that were executed already")
	fs.BoolVar(&o.PDF, "pdf", false, "export each notebook to PDF (nbconvert HTML printed by headless Chromium) and check the PDF")
	fs.BoolVar(&o.LaTeX, "latex", false, "also export with nbconvert --to pdf (XeLaTeX); skipped with a message where XeLaTeX is not installed")
	fs.IntVar(&o.MinImages, "min-images", -1, "images (charts) each notebook must show (default: its metadata cifarlab.min_images)")
	fs.Var(&contains, "contains", "a string the PDF must contain (repeatable; the notebook's headings and metadata cifarlab.pdf_contains are checked too)")
	fs.DurationVar(&o.CellTimeout, "cell-timeout", 0, "time a cell may run (default: metadata cifarlab.cell_timeout_s, else 10m in quick mode, 2h otherwise)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "time a whole notebook may run (default: no limit)")
	fs.StringVar(&o.Kernel, "kernel", "gonb", "Jupyter kernel to run the notebooks with")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nbrun [flags] NOTEBOOK.ipynb...\n\nExecutes GoNB notebooks headless, fails on any failed cell or missing chart, exports PDFs.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, nil, 2
	}
	o.Contains = contains
	if fs.NArg() == 0 {
		fs.Usage()
		return o, nil, 2
	}
	return o, fs.Args(), -1
}

// envQuick is the quick-mode switch that nbrun reads and sets for the notebooks (lab.EnvQuick).
const envQuick = "CIFARLAB_QUICK"

// Result tells what RunNotebook produced.
type Result struct {
	Executed  string        // the executed notebook
	ExecTime  time.Duration // time nbconvert took to execute it
	Scan      Scan
	HTML, PDF string   // with -pdf
	Pages     []string // PNG renderings of the PDF's pages
	LaTeXPDF  string   // with -latex, where available
	Notes     []string // things skipped
}

func (r *Result) String() string {
	var parts []string
	if r.ExecTime > 0 {
		parts = append(parts, fmt.Sprintf("executed in %.1fs", r.ExecTime.Seconds()))
	}
	parts = append(parts, fmt.Sprintf("%d/%d code cells ran, %d image(s)", r.Scan.Executed, r.Scan.Cells, r.Scan.Images))
	if r.PDF != "" {
		parts = append(parts, fmt.Sprintf("PDF %s (%d page(s))", r.PDF, len(r.Pages)))
	}
	if r.LaTeXPDF != "" {
		parts = append(parts, "LaTeX PDF "+r.LaTeXPDF)
	}
	s := strings.Join(parts, ", ")
	for _, n := range r.Notes {
		s += "\n  note: " + n
	}
	return s
}

// RunNotebook executes one notebook (unless NoExec), checks its outputs and, with PDF, exports
// and checks its PDF. Progress lines go to progress.
//
// It first removes the outputs of an earlier run of the notebook from the output folder. When the
// notebook fails, its HTML, PDF and page PNGs are removed, the executed notebook is renamed
// NAME.FAILED.ipynb and NAME.FAILED.txt holds the error, so that nothing of a failed run can be
// mistaken for the outputs of a passing one.
func RunNotebook(ctx context.Context, nbPath string, o Options, progress io.Writer) (*Result, error) {
	var out outputs
	res, err := runNotebook(ctx, nbPath, o, progress, &out)
	if err != nil && out.dir != "" {
		err = out.markFailed(err)
	}
	return res, err
}

// outputs names the files that RunNotebook writes for one notebook.
type outputs struct {
	dir, name string
	source    string // the notebook itself, never removed
}

func (o outputs) path(suffix string) string { return filepath.Join(o.dir, o.name+suffix) }

// remove removes, with handIn, what could be handed in (HTML, PDFs, page PNGs), else the executed
// notebook, the log and a failure report. It never removes the notebook itself.
func (o outputs) remove(handIn bool) {
	var paths []string
	if handIn {
		paths = []string{o.path(".html"), o.path(".pdf"), o.path("-latex.pdf")}
		for _, pattern := range []string{o.path("-page-*.png"), o.path("-latex-page-*.png")} {
			m, _ := filepath.Glob(pattern)
			paths = append(paths, m...)
		}
	} else {
		paths = []string{o.path(".ipynb"), o.path(".log"), o.path(".FAILED.ipynb"), o.path(".FAILED.txt")}
	}
	for _, p := range paths {
		if p != o.source {
			os.Remove(p)
		}
	}
}

// markFailed turns the outputs of a failed run into a failure report and returns err with the
// report's place.
func (o outputs) markFailed(err error) error {
	o.remove(true)
	executed, kept := o.path(".ipynb"), ""
	if executed != o.source {
		if rerr := os.Rename(executed, o.path(".FAILED.ipynb")); rerr == nil {
			kept = o.path(".FAILED.ipynb")
		}
	}
	report := o.path(".FAILED.txt")
	text := fmt.Sprintf("nbrun: this run of %s FAILED; these outputs are not a passing run's.\n\n%v\n", o.source, err)
	if werr := os.WriteFile(report, []byte(text), 0o644); werr != nil {
		return fmt.Errorf("%w\n(writing %s: %w)", err, report, werr)
	}
	if kept != "" {
		return fmt.Errorf("%w\nfailure report %s, executed notebook kept as %s", err, report, kept)
	}
	return fmt.Errorf("%w\nfailure report %s", err, report)
}

func runNotebook(ctx context.Context, nbPath string, o Options, progress io.Writer, out *outputs) (*Result, error) {
	src, err := ReadNotebook(nbPath)
	if err != nil {
		return nil, err
	}
	exp, err := src.Expect()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nbPath, err)
	}
	if o.MinImages >= 0 {
		exp.MinImages = o.MinImages
	}
	absNB, err := filepath.Abs(nbPath)
	if err != nil {
		return nil, err
	}
	outDir := o.Out
	if outDir == "" {
		outDir = "out" // in the current folder: never beside the notebooks, which students browse
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(absNB), ".ipynb")
	logPath := filepath.Join(outDir, name+".log")
	executed := filepath.Join(outDir, name+".ipynb")
	res := &Result{Executed: executed}
	if !o.NoExec && executed == absNB {
		return nil, fmt.Errorf("-out %s would overwrite the notebook itself: choose another folder", outDir)
	}
	// From here on a failure is reported in the output folder; nothing of an earlier run stays.
	*out = outputs{dir: outDir, name: name, source: absNB}
	out.remove(true)
	out.remove(false)

	var jupyter string
	if !o.NoExec || o.PDF || o.LaTeX {
		if jupyter, err = findJupyter(); err != nil {
			return nil, err
		}
	}
	if o.NoExec {
		if executed != absNB {
			if err := copyFile(executed, absNB); err != nil {
				return nil, err
			}
		}
	} else {
		fmt.Fprintf(progress, "nbrun: executing %s (kernel %s%s), log in %s\n", nbPath, o.Kernel, map[bool]string{true: ", quick mode"}[o.Quick], logPath)
		start := time.Now()
		if err := execute(ctx, jupyter, absNB, outDir, name, logPath, exp, o); err != nil {
			return nil, err
		}
		res.ExecTime = time.Since(start)
	}

	if err := fixLanguageInfo(executed); err != nil {
		return nil, err
	}
	nb, err := ReadNotebook(executed)
	if err != nil {
		return nil, err
	}
	res.Scan = Check(nb, exp)
	if len(res.Scan.Problems) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%d problem(s) in the executed notebook:", len(res.Scan.Problems))
		for _, p := range res.Scan.Problems {
			b.WriteString("\n- ")
			b.WriteString(strings.ReplaceAll(p.String(), "\n", "\n  "))
		}
		return nil, errors.New(b.String())
	}
	if !o.PDF && !o.LaTeX {
		return res, nil
	}

	want := append(append(src.Headings(), exp.PDFContains...), o.Contains...)
	if o.PDF {
		chromium, err := findChromium()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "nbrun: exporting %s to PDF\n", executed)
		if res.HTML, err = exportHTML(ctx, jupyter, executed, outDir, name, logPath); err != nil {
			return nil, err
		}
		pdf := filepath.Join(outDir, name+".pdf")
		if err := printPDF(ctx, chromium, res.HTML, pdf, logPath); err != nil {
			return nil, err
		}
		res.PDF = pdf
		if res.Pages, err = CheckPDF(pdf, want, filepath.Join(outDir, name+"-page")); err != nil {
			return nil, err
		}
	}
	if o.LaTeX {
		if ok, why := latexAvailable(); !ok {
			res.Notes = append(res.Notes, "LaTeX PDF skipped: "+why)
		} else {
			fmt.Fprintf(progress, "nbrun: exporting %s to PDF through LaTeX\n", executed)
			if res.LaTeXPDF, err = exportLaTeXPDF(ctx, jupyter, executed, outDir, name+"-latex", logPath); err != nil {
				return nil, err
			}
			if _, err := CheckPDF(res.LaTeXPDF, want, filepath.Join(outDir, name+"-latex-page")); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// execute runs jupyter nbconvert --execute on the notebook, in the notebook's folder.
func execute(ctx context.Context, jupyter, absNB, outDir, name, logPath string, exp Expectations, o Options) error {
	cellTimeout := o.CellTimeout
	if cellTimeout == 0 && exp.CellTimeoutS > 0 {
		cellTimeout = time.Duration(exp.CellTimeoutS) * time.Second
	}
	if cellTimeout == 0 {
		cellTimeout = 2 * time.Hour
		if o.Quick {
			cellTimeout = 10 * time.Minute
		}
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.Timeout, fmt.Errorf("the notebook ran longer than -timeout %v", o.Timeout))
		defer cancel()
	}
	args := []string{"nbconvert", "--to", "notebook", "--execute",
		// Failed cells are found by Check, which also sees what GoNB does not report as errors;
		// allow_errors keeps nbconvert going so that the executed notebook is always written.
		"--allow-errors",
		"--ExecutePreprocessor.kernel_name=" + o.Kernel,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(cellTimeout.Seconds())),
		"--ExecutePreprocessor.startup_timeout=180",
		"--output-dir", outDir, "--output", name, absNB}
	quick := "0"
	if o.Quick {
		quick = "1"
	}
	env := jupyterEnv(map[string]string{envQuick: quick})
	if err := runLogged(ctx, logPath, filepath.Dir(absNB), env, jupyter, args...); err != nil {
		return fmt.Errorf("executing %s failed: %w", absNB, err)
	}
	return nil
}

// jupyterEnv returns the environment for jupyter commands: this process's, with the given
// variables set, and Python's debugger warning about frozen modules silenced.
func jupyterEnv(set map[string]string) []string {
	set2 := map[string]string{"PYDEVD_DISABLE_FILE_VALIDATION": "1"}
	for k, v := range set {
		set2[k] = v
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set2[k]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range set2 {
		env = append(env, k+"="+v)
	}
	return env
}
