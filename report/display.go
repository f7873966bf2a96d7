package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/cifarlab/cifarlab/internal/display"
)

// Renderer is what every report of this package implements.
type Renderer interface {
	String() string   // aligned plain text
	Markdown() string // Markdown, for notebooks and their PDF export
}

// Display shows r in the running GoNB cell as Markdown (with the plain text as the text/plain
// alternative) and waits until GoNB has received it. Outside a notebook it prints the plain text
// to standard output.
func Display(r Renderer) error {
	err := display.Show(protocol.MIMETextMarkdown, func() (any, error) { return r.Markdown(), nil }, r.String())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Fprint writes the plain text of r to w, ending with a newline.
func Fprint(w io.Writer, r Renderer) error {
	s := r.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	_, err := io.WriteString(w, s)
	return err
}

// Group is several reports shown together, separated by blank lines.
type Group []Renderer

// String joins the plain text of the reports with blank lines.
func (g Group) String() string {
	parts := make([]string, len(g))
	for i, r := range g {
		parts[i] = strings.TrimRight(r.String(), "\n") + "\n"
	}
	return strings.Join(parts, "\n")
}

// Markdown joins the Markdown of the reports with blank lines.
func (g Group) Markdown() string {
	parts := make([]string, len(g))
	for i, r := range g {
		parts[i] = strings.TrimRight(r.Markdown(), "\n") + "\n"
	}
	return strings.Join(parts, "\n")
}

// Display shows the reports in one cell output (see Display).
func (g Group) Display() error { return Display(g) }
