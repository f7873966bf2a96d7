package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Notebook is the part of an .ipynb file (nbformat 4) that nbrun reads.
type Notebook struct {
	Cells    []Cell                     `json:"cells"`
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// Cell is one notebook cell.
type Cell struct {
	CellType       string   `json:"cell_type"`
	Source         Text     `json:"source"`
	ExecutionCount *int     `json:"execution_count"`
	Outputs        []Output `json:"outputs"`
	Metadata       struct {
		Tags     []string `json:"tags"`
		Cifarlab struct {
			MinImages int `json:"min_images"` // this cell must show at least that many images
		} `json:"cifarlab"`
	} `json:"metadata"`
}

// Output is one output of a code cell.
type Output struct {
	OutputType string                     `json:"output_type"` // stream, display_data, execute_result, error
	Name       string                     `json:"name"`        // stdout or stderr, for streams
	Text       Text                       `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	Ename      string                     `json:"ename"`
	Evalue     string                     `json:"evalue"`
	Traceback  []string                   `json:"traceback"`
}

// Expectations are what a notebook promises to produce, from its metadata "cifarlab" object:
//
//	"metadata": {"cifarlab": {"min_images": 3, "pdf_contains": ["Accuracy"], "cell_timeout_s": 900}}
type Expectations struct {
	MinImages    int      `json:"min_images"`     // images (charts) the whole notebook shows, at least
	PDFContains  []string `json:"pdf_contains"`   // strings its PDF must contain, besides its headings
	CellTimeoutS int      `json:"cell_timeout_s"` // seconds a cell may run (0: the runner's default)
}

// Text is a notebook string, stored either as one string or as a list of lines.
type Text string

// UnmarshalJSON accepts a string or a list of strings.
func (t *Text) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var lines []string
		if err := json.Unmarshal(b, &lines); err != nil {
			return err
		}
		*t = Text(strings.Join(lines, ""))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = Text(s)
	return nil
}

// ReadNotebook reads and parses an .ipynb file.
func ReadNotebook(path string) (*Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb Notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("%s: not a notebook: %w", path, err)
	}
	return &nb, nil
}

// Expect returns the notebook's expectations (zero values when it states none).
func (nb *Notebook) Expect() (Expectations, error) {
	var e Expectations
	raw, ok := nb.Metadata["cifarlab"]
	if !ok {
		return e, nil
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, fmt.Errorf("metadata.cifarlab: %w", err)
	}
	return e, nil
}

// KernelName returns metadata.kernelspec.name, or "".
func (nb *Notebook) KernelName() string {
	var ks struct {
		Name string `json:"name"`
	}
	if raw, ok := nb.Metadata["kernelspec"]; ok {
		_ = json.Unmarshal(raw, &ks)
	}
	return ks.Name
}

// Headings returns the text of the Markdown headings ("# Title") of the notebook, as a reader
// sees them: without the leading #s, emphasis and code marks. Headings holding math or HTML are
// left out, since their rendered text differs from their source.
func (nb *Notebook) Headings() []string {
	var hs []string
	for _, c := range nb.Cells {
		if c.CellType != "markdown" {
			continue
		}
		inFence := false
		for _, line := range strings.Split(string(c.Source), "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
				inFence = !inFence
				continue
			}
			if inFence || !strings.HasPrefix(t, "#") {
				continue
			}
			h := strings.TrimSpace(strings.TrimLeft(t, "#"))
			if h == "" || strings.ContainsAny(h, "$<[\\") || len(t)-len(strings.TrimLeft(t, "#")) > 6 {
				continue
			}
			h = strings.NewReplacer("**", "", "__", "", "`", "", "*", "").Replace(h)
			hs = append(hs, strings.TrimSpace(h))
		}
	}
	return hs
}

// fixLanguageInfo fills in metadata.language_info.pygments_lexer of an executed notebook when
// the kernel left it empty (GoNB does), so that nbconvert highlights Go as Go, not as Python.
func fixLanguageInfo(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var nb map[string]any
	if err := json.Unmarshal(b, &nb); err != nil {
		return fmt.Errorf("%s: not a notebook: %w", path, err)
	}
	meta, _ := nb["metadata"].(map[string]any)
	li, _ := meta["language_info"].(map[string]any)
	if li == nil {
		return nil
	}
	lang, _ := li["name"].(string)
	if lex, _ := li["pygments_lexer"].(string); lex != "" || lang == "" {
		return nil
	}
	li["pygments_lexer"] = lang
	if cm, _ := li["codemirror_mode"].(string); cm == "" {
		li["codemirror_mode"] = lang
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// hasTag tells whether the cell carries the tag.
func (c *Cell) hasTag(tag string) bool {
	for _, t := range c.Metadata.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// firstLine returns the cell's first line of code, shortened: GoNB's "%%" (start of main),
// comments and import lines are skipped, since they do not tell cells apart.
func (c *Cell) firstLine() string {
	lines := strings.Split(string(c.Source), "\n")
	pick := ""
	inImports := false
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || l == "%%" || l == "%main" || strings.HasPrefix(l, "//"):
			continue
		case l == "import (":
			inImports = true
			continue
		case inImports:
			inImports = l != ")"
			continue
		case strings.HasPrefix(l, "import "):
			continue
		}
		pick = l
		break
	}
	if pick == "" {
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				pick = l
				break
			}
		}
	}
	if len(pick) > 70 {
		pick = pick[:67] + "..."
	}
	return pick
}
