package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// printCSS is added to nbconvert's HTML before Chromium prints it: A4 pages, and long code and
// output lines wrapped instead of cut off at the page's edge.
const printCSS = `<style id="cifarlab-print">
@page { size: A4; margin: 14mm 12mm 14mm 12mm; }
html, body { background: #fff !important; }
body { margin: 0 !important; padding: 0 !important; }
/* Long lines wrap: code, text outputs, errors. */
pre, code, .jp-RenderedText pre, .jp-InputArea-editor pre, .highlight pre, .CodeMirror pre {
  white-space: pre-wrap !important;
  overflow-wrap: anywhere !important;
  word-break: break-word !important;
}
.jp-OutputArea-output, .jp-InputArea-editor, .jp-Cell, .jp-OutputArea, .jp-InputArea {
  overflow: visible !important;
  max-width: 100% !important;
}
/* Charts fit the page width and are not split across pages. */
.jp-OutputArea-output img, .jp-RenderedImage img, img, svg {
  max-width: 100% !important; height: auto !important;
  break-inside: avoid; page-break-inside: avoid;
}
.jp-RenderedImage, .jp-OutputArea-child { break-inside: avoid; page-break-inside: avoid; }
/* Go code is indented with tabs. */
pre, code { tab-size: 4; -moz-tab-size: 4; }
/* Narrower prompts leave more of the page to code and outputs. */
.jp-InputPrompt, .jp-OutputPrompt { min-width: 8ex !important; flex: 0 0 8ex !important; font-size: 75% !important; overflow: visible !important; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
</style>
`

// injectPrintCSS puts printCSS at the end of the HTML's head, so that it wins over the template's.
func injectPrintCSS(html string) string {
	if i := strings.LastIndex(strings.ToLower(html), "</head>"); i >= 0 {
		return html[:i] + printCSS + html[i:]
	}
	return printCSS + html
}

// exportHTML converts an executed notebook to HTML (nbconvert, lab template) that loads MathJax
// and require.js from Debian's local copies when they are installed, then adds the print CSS.
func exportHTML(ctx context.Context, jupyter, executed, outDir, name, logPath string) (string, error) {
	args := []string{"nbconvert", "--to", "html", "--HTMLExporter.exclude_anchor_links=True",
		"--output-dir", outDir, "--output", name}
	if _, err := os.Stat(localMathJax); err == nil {
		args = append(args, "--HTMLExporter.mathjax_url=file://"+localMathJax+"?config=TeX-AMS_CHTML-full,Safe")
	}
	if _, err := os.Stat(localRequireJS); err == nil {
		args = append(args, "--HTMLExporter.require_js_url=file://"+localRequireJS)
	}
	args = append(args, executed)
	if err := runLogged(ctx, logPath, filepath.Dir(executed), jupyterEnv(nil), jupyter, args...); err != nil {
		return "", err
	}
	htmlPath := filepath.Join(outDir, name+".html")
	b, err := os.ReadFile(htmlPath)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(htmlPath, []byte(injectPrintCSS(string(b))), 0o644); err != nil {
		return "", err
	}
	return htmlPath, nil
}

// printPDF prints an HTML file to PDF with headless Chromium: no network, a fresh profile,
// virtual time so that MathJax finishes typesetting, and no header or footer lines.
func printPDF(ctx context.Context, chromium, htmlPath, pdfPath, logPath string) error {
	profile, err := os.MkdirTemp("", "nbrun-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return err
	}
	os.Remove(pdfPath)
	u := url.URL{Scheme: "file", Path: abs}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-quic", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
		"--mute-audio", "--allow-file-access-from-files",
		"--user-data-dir=" + profile,
		"--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw",
		"--no-pdf-header-footer",
		"--print-to-pdf=" + pdfPath,
		u.String(),
	}
	// HOME inside the profile: Chromium writes its crash and font caches there.
	env := append(os.Environ(), "HOME="+profile)
	if err := runLogged(ctx, logPath, filepath.Dir(abs), env, chromium, args...); err != nil {
		return err
	}
	b, err := os.ReadFile(pdfPath)
	if err != nil || len(b) < 5 || string(b[:5]) != "%PDF-" {
		return fmt.Errorf("chromium wrote no PDF to %s\n%s", pdfPath, explainLog(logPath))
	}
	return nil
}

// latexAvailable tells whether nbconvert --to pdf can work here, and why not.
func latexAvailable() (bool, string) {
	for _, tool := range []string{"xelatex", "pandoc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false, tool + " not found (kernel-setup/setup.sh --with-tex installs TeX and pandoc)"
		}
	}
	return true, ""
}

// exportLaTeXPDF runs the standard nbconvert --to pdf (through XeLaTeX).
func exportLaTeXPDF(ctx context.Context, jupyter, executed, outDir, name, logPath string) (string, error) {
	args := []string{"nbconvert", "--to", "pdf", "--output-dir", outDir, "--output", name, executed}
	if err := runLogged(ctx, logPath, filepath.Dir(executed), jupyterEnv(nil), jupyter, args...); err != nil {
		return "", err
	}
	return filepath.Join(outDir, name+".pdf"), nil
}

// CheckPDF checks that the PDF's text holds every wanted string and renders its pages to PNG.
func CheckPDF(pdf string, want []string, pagePrefix string) (pages []string, err error) {
	text, err := pdfText(pdf)
	if err != nil {
		return nil, err
	}
	// pdftotext joins a word broken at a hyphen at the end of a line without the hyphen
	// ("CIFAR-" + "10" gives "CIFAR10"), so hyphens are left out on both sides as a second try.
	unhyphenated := strings.ReplaceAll(text, "-", "")
	var missing []string
	for _, w := range want {
		if n := normalizeText(w); n != "" && !strings.Contains(text, n) &&
			!strings.Contains(unhyphenated, strings.ReplaceAll(n, "-", "")) {
			missing = append(missing, fmt.Sprintf("%q", n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s lacks %s (its text starts: %.300q)", pdf, strings.Join(missing, ", "), text)
	}
	return renderPages(pdf, pagePrefix, 60)
}
