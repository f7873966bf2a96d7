package keras

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Summary returns the model's table the way Keras 3's model.summary() prints it: one row per layer
// with its name and type, output shape ("(None, 512)") and parameter count, followed by the total,
// trainable and non-trainable parameter counts with their size in float32.
func (m *Model) Summary() string {
	type row struct{ layer, shape, params string }
	rows := make([]row, len(m.spec.Layers))
	trainable, nonTrainable := 0, 0
	in := m.spec.InputShape
	for i, l := range m.spec.Layers {
		t, n := l.paramCounts(in)
		trainable += t
		nonTrainable += n
		rows[i] = row{fmt.Sprintf("%s (%s)", l.Name, l.Type), shapeString(m.shapes[i]), commaInt(t + n)}
		in = m.shapes[i]
	}
	total := trainable + nonTrainable

	header := row{"Layer (type)", "Output Shape", "Param #"}
	// Keras's columns have fixed widths (rich wraps longer cells at spaces, then folds words).
	widths := [3]int{31, 22, 13}
	line := func(left, fill, mid, right string) string {
		parts := make([]string, 3)
		for i, w := range widths {
			parts[i] = strings.Repeat(fill, w+2)
		}
		return left + strings.Join(parts, mid) + right + "\n"
	}
	cells := func(sep string, r row) string {
		cols := [3][]string{wrap(r.layer, widths[0]), wrap(r.shape, widths[1]), wrap(r.params, widths[2])}
		var b strings.Builder
		for k := range max(len(cols[0]), len(cols[1]), len(cols[2])) {
			cell := func(c int) string {
				if k < len(cols[c]) {
					return cols[c][k]
				}
				return ""
			}
			fmt.Fprintf(&b, "%s %s %s %s %s %s %s\n", sep,
				pad(cell(0), widths[0], false), sep, pad(cell(1), widths[1], false), sep, pad(cell(2), widths[2], true), sep)
		}
		return b.String()
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q\n", m.spec.Name)
	b.WriteString(line("┏", "━", "┳", "┓"))
	b.WriteString(cells("┃", header))
	b.WriteString(line("┡", "━", "╇", "┩"))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(line("├", "─", "┼", "┤"))
		}
		b.WriteString(cells("│", r))
	}
	b.WriteString(line("└", "─", "┴", "┘"))
	fmt.Fprintf(&b, " Total params: %s (%s)\n", commaInt(total), memorySize(4*total))
	fmt.Fprintf(&b, " Trainable params: %s (%s)\n", commaInt(trainable), memorySize(4*trainable))
	fmt.Fprintf(&b, " Non-trainable params: %s (%s)\n", commaInt(nonTrainable), memorySize(4*nonTrainable))
	return b.String()
}

// shapeString formats a per-sample shape with Keras's unknown batch axis: "(None, 512)".
func shapeString(shape []int) string {
	parts := []string{"None"}
	for _, d := range shape {
		parts = append(parts, strconv.Itoa(d))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// commaInt formats n with thousands separators, as Keras's summary does: 1738890 → "1,738,890".
func commaInt(n int) string { return englishNumbers.Sprintf("%d", n) }

// englishNumbers writes numbers with English digit grouping.
var englishNumbers = message.NewPrinter(language.English)

// memorySize formats a byte count like Keras's readable_memory_size: "6.63 MB", "0.00 B".
func memorySize(bytes int) string {
	size := float64(bytes)
	for _, unit := range []string{"B", "KB", "MB", "GB", "TB"} {
		if size/1024 < 1 {
			return fmt.Sprintf("%.2f %s", size, unit)
		}
		size /= 1024
	}
	return fmt.Sprintf("%.2f PB", size)
}

// pad pads s with spaces to width runes, on the left when right-aligned.
func pad(s string, width int, right bool) string {
	fill := strings.Repeat(" ", max(0, width-utf8.RuneCountInString(s)))
	if right {
		return fill + s
	}
	return s + fill
}

// wrap splits s into lines of at most width runes as rich does in Keras's summary: at spaces, and
// a word longer than width is cut into pieces of width.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
			continue
		default:
			lines = append(lines, line)
		}
		for r := []rune(word); ; r = r[width:] {
			if len(r) <= width {
				line = string(r)
				break
			}
			lines = append(lines, string(r[:width]))
		}
	}
	return append(lines, line)
}
