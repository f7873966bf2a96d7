package main

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
)

// Problem is one reason an executed notebook fails.
type Problem struct {
	Cell   int    // 1-based position of the cell in the notebook (0: the notebook as a whole)
	Exec   int    // its execution count, as Jupyter shows it ("In [3]"), or 0
	Head   string // the first line of its source
	Reason string // one line: what went wrong
	Detail string // the relevant output lines
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Cell > 0 {
		fmt.Fprintf(&b, "cell %d", p.Cell)
		if p.Exec > 0 {
			fmt.Fprintf(&b, " (In [%d])", p.Exec)
		}
		if p.Head != "" {
			fmt.Fprintf(&b, " `%s`", p.Head)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	if p.Detail != "" {
		for _, l := range strings.Split(strings.TrimRight(p.Detail, "\n"), "\n") {
			b.WriteString("\n    | ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// Scan is what Check found in an executed notebook.
type Scan struct {
	Cells    int // code cells with source
	Executed int // of which ran
	Images   int // images shown (PNG, SVG, or images inside HTML)
	Problems []Problem
}

// AllowErrorsTag marks a cell whose errors are expected (the tag nbconvert itself uses).
const AllowErrorsTag = "raises-exception"

// Lines of a cell's stderr that mean the cell failed. GoNB (v0.11.4) reports a Go cell whose
// program panics or exits non-zero as an error, but a failed `!` shell line as a normal, successful
// execution: only its stderr tells.
var stderrFailures = []*regexp.Regexp{
	regexp.MustCompile(`^panic: `),                // Go panic
	regexp.MustCompile(`^fatal error: `),          // Go runtime fatal error (deadlock, out of memory)
	regexp.MustCompile(`^exit status [0-9]+\s*$`), // GoNB: the cell's program or a !command exited non-zero
	regexp.MustCompile(`^signal: [a-z]`),          // GoNB: the cell's program was killed (signal: killed)
	regexp.MustCompile(`^(?i:error)(\b|:)`),       // a line starting with "error", "Error:", "ERROR ..."
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// Check scans an executed notebook's outputs for failures and counts its images.
func Check(nb *Notebook, exp Expectations) Scan {
	var s Scan
	for i := range nb.Cells {
		c := &nb.Cells[i]
		if c.CellType != "code" || strings.TrimSpace(string(c.Source)) == "" {
			continue
		}
		s.Cells++
		exec := 0
		if c.ExecutionCount != nil {
			s.Executed++
			exec = *c.ExecutionCount
		}
		base := Problem{Cell: i + 1, Exec: exec, Head: c.firstLine()}
		images := 0
		var gonbHTMLError string
		for _, o := range c.Outputs {
			images += countImages(o)
			if o.OutputType == "display_data" {
				if h := dataString(o, "text/html"); strings.Contains(h, "gonb-err") || strings.Contains(h, "application/vnd.jupyter.stderr") {
					gonbHTMLError = htmlToText(h)
				}
			}
		}
		s.Images += images
		if c.ExecutionCount == nil && len(c.Outputs) == 0 {
			p := base
			p.Reason = "did not run"
			s.Problems = append(s.Problems, p)
			continue
		}
		if !c.hasTag(AllowErrorsTag) {
			s.Problems = append(s.Problems, cellFailures(base, c.Outputs, gonbHTMLError)...)
		}
		if want := c.Metadata.Cifarlab.MinImages; images < want {
			p := base
			p.Reason = fmt.Sprintf("expected at least %d image(s) from this cell, it showed %d", want, images)
			s.Problems = append(s.Problems, p)
		}
	}
	if s.Images < exp.MinImages {
		s.Problems = append(s.Problems, Problem{Reason: fmt.Sprintf(
			"expected at least %d image(s) (charts) in the notebook, its outputs hold %d", exp.MinImages, s.Images)})
	}
	return s
}

// cellFailures returns the failures of one cell's outputs. Since v0.11.4, GoNB reports a Go cell
// whose program panics or exits non-zero as an error output: then the cell has one problem, named
// after the first failure line of its stderr (the panic) when there is one. Where GoNB still says
// "ok" (a failed `!` shell line), the stderr lines that mark a failure are the problems.
func cellFailures(base Problem, outputs []Output, gonbHTMLError string) []Problem {
	var stderr []string
	var errOut *Output
	for i, o := range outputs {
		switch {
		case o.OutputType == "error" && errOut == nil:
			errOut = &outputs[i]
		case o.OutputType == "stream" && o.Name == "stderr":
			stderr = append(stderr, ansiEscape.ReplaceAllString(string(o.Text), ""))
		}
	}
	if errOut != nil {
		p := base
		p.Reason = strings.TrimSpace(fmt.Sprintf("%s: %s", errOut.Ename, ansiEscape.ReplaceAllString(errOut.Evalue, "")))
		detail := ansiEscape.ReplaceAllString(strings.Join(errOut.Traceback, "\n"), "")
		if gonbHTMLError != "" {
			detail = gonbHTMLError
		}
		for _, text := range stderr {
			if line, ok := failureLine(text); ok {
				p.Reason, detail = line, text
				break
			}
		}
		p.Detail = clip(detail, 30)
		return []Problem{p}
	}
	var problems []Problem
	for _, text := range stderr {
		if line, ok := failureLine(text); ok {
			p := base
			p.Reason = line
			p.Detail = clip(text, 30)
			problems = append(problems, p)
		}
	}
	return problems
}

// failureLine returns the first line of a stderr text that marks a failure.
func failureLine(text string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		for _, re := range stderrFailures {
			if re.MatchString(line) {
				return strings.TrimSpace(line), true
			}
		}
	}
	return "", false
}

// countImages counts the images of one output: PNG, JPEG or SVG data, and <img>/<svg> inside HTML.
func countImages(o Output) int {
	if o.OutputType != "display_data" && o.OutputType != "execute_result" {
		return 0
	}
	for _, mime := range []string{"image/png", "image/jpeg", "image/svg+xml"} {
		if _, ok := o.Data[mime]; ok {
			return 1
		}
	}
	h := dataString(o, "text/html")
	return strings.Count(h, "<img") + strings.Count(h, "<svg")
}

// dataString returns an output's data of the given MIME type as one string.
func dataString(o Output, mime string) string {
	raw, ok := o.Data[mime]
	if !ok {
		return ""
	}
	var t Text
	if err := json.Unmarshal(raw, &t); err != nil {
		return ""
	}
	return string(t)
}

var (
	htmlStyle = regexp.MustCompile(`(?s)<style.*?</style>`)
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n\s*\n+`)
)

// htmlToText turns GoNB's HTML error report into plain lines.
func htmlToText(h string) string {
	h = htmlStyle.ReplaceAllString(h, "")
	h = htmlBreak.ReplaceAllString(h, "\n")
	h = htmlTag.ReplaceAllString(h, "")
	h = html.UnescapeString(h)
	h = blankRuns.ReplaceAllString(h, "\n")
	return strings.TrimSpace(h)
}

// clip keeps the first n lines of a text.
func clip(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}
