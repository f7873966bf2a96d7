package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// SetupHint is what to run when a tool is missing.
const SetupHint = "run kernel-setup/setup.sh"

// findJupyter returns a jupyter command whose nbconvert works: $JUPYTER, then the JupyterLab
// virtual environment of kernel-setup/setup.sh ($CIFARLAB_JUPYTER_VENV, default
// ${XDG_DATA_HOME:-~/.local/share}/cifarlab/jupyter), then `jupyter` on PATH (a pyenv or venv
// Python on PATH may have none), then Debian's /usr/bin/jupyter, then pip's --user one.
func findJupyter() (string, error) {
	home, _ := os.UserHomeDir()
	data := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(data) {
		data = filepath.Join(home, ".local", "share")
	}
	// $JUPYTER, then the JupyterLab venv that kernel-setup/setup.sh makes, then any other.
	venv := os.Getenv("CIFARLAB_JUPYTER_VENV")
	if venv == "" {
		venv = filepath.Join(data, "cifarlab", "jupyter")
	}
	candidates := []string{os.Getenv("JUPYTER"), filepath.Join(venv, "bin", "jupyter")}
	if p, err := exec.LookPath("jupyter"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/jupyter", filepath.Join(home, ".local/bin/jupyter"))
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err != nil {
			continue
		}
		cmd := exec.Command(c, "nbconvert", "--version")
		cmd.Env = append(os.Environ(), "PYDEVD_DISABLE_FILE_VALIDATION=1")
		if err := cmd.Run(); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("jupyter nbconvert not found: %s", SetupHint)
}

// findChromium returns $CHROMIUM or the first Chromium/Chrome on PATH.
func findChromium() (string, error) {
	for _, c := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found (needed for the PDF export): %s", SetupHint)
}

// Local copies of the JavaScript that nbconvert's HTML loads (Debian's libjs-mathjax and
// libjs-requirejs): the export works offline, where a CDN is out of reach.
const (
	localMathJax   = "/usr/share/javascript/mathjax/MathJax.js"
	localRequireJS = "/usr/share/javascript/requirejs/require.min.js"
)

// runLogged runs a command with its output appended to logPath; on failure the error includes
// the log's tail. Whether the command passes, fails or is cancelled (time-out, interrupt), every
// process it started is stopped before runLogged returns (see stopTree).
func runLogged(ctx context.Context, logPath, dir string, env []string, name string, args ...string) error {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "\n$ %s %s\n", name, strings.Join(args, " "))
	if env == nil {
		env = os.Environ()
	}
	marker := newMarker()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(env[:len(env):len(env)], markerEnv+"="+marker)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.Stdin = nil
	prepareCommand(cmd)
	err = cmd.Run()
	if cmd.Process != nil {
		if serr := stopTree(cmd.Process.Pid, marker); serr != nil {
			fmt.Fprintf(log, "nbrun: stopping the processes of %s: %v\n", filepath.Base(name), serr)
			err = errors.Join(err, fmt.Errorf("stopping its processes: %w", serr))
		}
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), firstArg(args), err, explainLog(logPath))
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

var kernelLogLine = regexp.MustCompile(`^[IWEF][0-9]{4} [0-9:.]+ +[0-9]+ \S+:[0-9]+\]`)

// explainLog returns a hint for well-known failures plus the log's last lines, without the
// kernel's own info logging.
func explainLog(path string) string {
	b, _ := os.ReadFile(path)
	var hint string
	switch {
	case bytes.Contains(b, []byte("NoSuchKernel")):
		hint = "the gonb kernel is not installed: " + SetupHint + "\n"
	case bytes.Contains(b, []byte("CellTimeoutError")) || bytes.Contains(b, []byte("Cell execution timed out")):
		hint = "a cell ran longer than the cell time-out (-cell-timeout, or metadata cifarlab.cell_timeout_s)\n"
	case bytes.Contains(b, []byte("DeadKernelError")):
		hint = "the kernel died (out of memory?)\n"
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "I") && kernelLogLine.MatchString(l) {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > 25 {
		keep = keep[len(keep)-25:]
	}
	return hint + "    log " + path + ", last lines:\n    | " + strings.Join(keep, "\n    | ")
}

// pdfText returns the text of a PDF (pdftotext), whitespace collapsed, ligatures undone.
func pdfText(pdf string) (string, error) {
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("pdftotext not found (poppler-utils): %s", SetupHint)
		}
		return "", fmt.Errorf("pdftotext %s: %w", pdf, err)
	}
	return normalizeText(string(out)), nil
}

var ligatures = strings.NewReplacer("\ufb00", "ff", "\ufb01", "fi", "\ufb02", "fl", "\ufb03", "ffi", "\ufb04", "ffl", "\u00a0", " ", "\u00ad", "")

// normalizeText undoes ligatures and collapses whitespace, so that strings compare as read.
func normalizeText(s string) string {
	return strings.Join(strings.Fields(ligatures.Replace(s)), " ")
}

// renderPages renders the PDF's pages to PNG files prefix-N.png (pdftoppm) and returns them.
func renderPages(pdf, prefix string, dpi int) ([]string, error) {
	old, _ := filepath.Glob(prefix + "-*.png")
	for _, f := range old {
		os.Remove(f)
	}
	cmd := exec.Command("pdftoppm", "-png", "-r", fmt.Sprint(dpi), pdf, prefix)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("pdftoppm not found (poppler-utils): %s", SetupHint)
		}
		return nil, fmt.Errorf("pdftoppm %s: %w: %s", pdf, err, stderr.String())
	}
	pages, _ := filepath.Glob(prefix + "-*.png")
	if len(pages) == 0 {
		return nil, fmt.Errorf("pdftoppm rendered no page of %s", pdf)
	}
	return pages, nil
}

// copyFile copies a small file.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
