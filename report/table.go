package report

import (
	"strings"
	"unicode/utf8"
)

// Align is the horizontal alignment of a table column.
type Align int

const (
	// AlignAuto aligns the first column to the left and the others to the right.
	AlignAuto Align = iota
	// AlignLeft aligns a column to the left.
	AlignLeft
	// AlignRight aligns a column to the right.
	AlignRight
)

// Table is a small table of strings, rendered as aligned plain text or as a Markdown pipe table.
// All reports of this package can be turned into a Table.
type Table struct {
	Title  string     // printed above the table (bold in Markdown); "" for none
	Header []string   // column headers
	Align  []Align    // per column; missing entries are AlignAuto
	Rows   [][]string // cells; an empty row is a blank line in plain text and is left out of Markdown
	Notes  []string   // lines printed after the table
}

// AddRow appends a row of cells.
func (t *Table) AddRow(cells ...string) { t.Rows = append(t.Rows, cells) }

// AddBlank appends a blank line (plain text only).
func (t *Table) AddBlank() { t.Rows = append(t.Rows, nil) }

// columns returns the number of columns: the longest of the header and the rows.
func (t *Table) columns() int {
	n := len(t.Header)
	for _, r := range t.Rows {
		n = max(n, len(r))
	}
	return n
}

func (t *Table) align(col int) Align {
	if col < len(t.Align) && t.Align[col] != AlignAuto {
		return t.Align[col]
	}
	if col == 0 {
		return AlignLeft
	}
	return AlignRight
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

func width(s string) int { return utf8.RuneCountInString(s) }

func pad(s string, w int, a Align) string {
	fill := strings.Repeat(" ", max(0, w-width(s)))
	if a == AlignRight {
		return fill + s
	}
	return s + fill
}

// String renders the table as aligned plain text: the title, the header, a rule of dashes, the
// rows and the notes, columns separated by two spaces, without trailing spaces.
func (t *Table) String() string {
	n := t.columns()
	widths := make([]int, n)
	for i := range n {
		widths[i] = width(cell(t.Header, i))
		for _, r := range t.Rows {
			widths[i] = max(widths[i], width(cell(r, i)))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		parts := make([]string, n)
		for i := range n {
			parts[i] = pad(cell(row, i), widths[i], t.align(i))
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " "))
		b.WriteByte('\n')
	}
	if t.Title != "" {
		b.WriteString(t.Title)
		b.WriteByte('\n')
	}
	if len(t.Header) > 0 {
		line(t.Header)
		rule := make([]string, n)
		for i := range n {
			rule[i] = strings.Repeat("-", widths[i])
		}
		line(rule)
	}
	for _, r := range t.Rows {
		if len(r) == 0 {
			b.WriteByte('\n')
			continue
		}
		line(r)
	}
	for _, note := range t.Notes {
		b.WriteString(note)
		b.WriteByte('\n')
	}
	return b.String()
}

// markdownEscaper escapes the characters that Markdown (Jupyter's and pandoc's) would interpret
// in a table cell.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`, "#", `\#`,
)

// EscapeMarkdown escapes s for use as literal text in Markdown.
func EscapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// Markdown renders the table as a Markdown pipe table, preceded by the title in bold and followed
// by the notes. Blank rows are left out.
func (t *Table) Markdown() string {
	n := t.columns()
	var b strings.Builder
	if t.Title != "" {
		b.WriteString("**" + EscapeMarkdown(t.Title) + "**\n\n")
	}
	row := func(r []string) {
		b.WriteString("|")
		for i := range n {
			c := EscapeMarkdown(cell(r, i))
			if c == "" {
				c = " "
			} else {
				c = " " + c + " "
			}
			b.WriteString(c + "|")
		}
		b.WriteByte('\n')
	}
	row(t.Header)
	b.WriteString("|")
	for i := range n {
		if t.align(i) == AlignRight {
			b.WriteString("---:|")
		} else {
			b.WriteString(":---|")
		}
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		if len(r) > 0 {
			row(r)
		}
	}
	if len(t.Notes) > 0 {
		b.WriteByte('\n')
		for i, note := range t.Notes {
			b.WriteString(EscapeMarkdown(note))
			if i < len(t.Notes)-1 {
				b.WriteString("  ") // hard line break
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Display shows the table in a GoNB cell, or prints it to standard output outside a notebook.
func (t *Table) Display() error { return Display(t) }
