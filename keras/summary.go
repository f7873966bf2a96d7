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
	total := 0
	in := m.spec.InputShape
	for i, l := range m.spec.Layers {
		n := 0
		for _, p := range l.params(in) {
			n += product(p.shape)
		}
		total += n
		rows[i] = row{fmt.Sprintf("%s (%s)", l.Name, l.Type), shapeString(m.shapes[i]), commaInt(n)}
		in = m.shapes[i]
	}

	header := row{"Layer (type)", "Output Shape", "Param #"}
	widths := [3]int{31, 22, 13}
	for _, r := range append(rows, header) {
		widths[0] = max(widths[0], utf8.RuneCountInString(r.layer))
		widths[1] = max(widths[1], utf8.RuneCountInString(r.shape))
		widths[2] = max(widths[2], utf8.RuneCountInString(r.params))
	}
	line := func(left, fill, mid, right string) string {
		parts := make([]string, 3)
		for i, w := range widths {
			parts[i] = strings.Repeat(fill, w+2)
		}
		return left + strings.Join(parts, mid) + right + "\n"
	}
	cells := func(sep string, r row) string {
		return fmt.Sprintf("%s %s %s %s %s %s %s\n", sep,
			pad(r.layer, widths[0], false), sep, pad(r.shape, widths[1], false), sep, pad(r.params, widths[2], true), sep)
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
	fmt.Fprintf(&b, " Trainable params: %s (%s)\n", commaInt(total), memorySize(4*total))
	fmt.Fprintf(&b, " Non-trainable params: %s (%s)\n", commaInt(0), memorySize(0))
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
