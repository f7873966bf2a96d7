package keras

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// printer writes Fit's output. Lines are plain (newline-terminated, no carriage returns or cursor
// control), so they read the same in a terminal, a log file and a GoNB/Jupyter cell. Epoch lines
// and callback messages also go to log, when set (FitConfig.Log), at every verbosity.
type printer struct {
	w       io.Writer
	verbose int
	log     io.Writer
}

// line prints an epoch line or message (verbose 1 and 2) and writes it to the log.
func (p *printer) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if p.log != nil {
		fmt.Fprintln(p.log, s)
	}
	if p.verbose > 0 {
		fmt.Fprintln(p.w, s)
	}
}

// progress prints a progress line within an epoch (verbose 1 only; not recorded).
func (p *printer) progress(format string, args ...any) {
	if p.verbose == 1 {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// metric is one "name: value" item of a Keras progress line.
type metric struct {
	name  string
	value float64
}

// formatStep formats the "1250/1250 - 12s - 9ms/step" head of a Keras line, padding the step count
// to the width of the total like Keras's Progbar.
func formatStep(step, steps int, elapsed time.Duration, eta bool) string {
	width := len(fmt.Sprint(steps))
	perStep := 0.0
	if step > 0 {
		perStep = elapsed.Seconds() / float64(step)
	}
	if eta {
		remaining := perStep * float64(steps-step)
		return fmt.Sprintf("%*d/%d - ETA: %.0fs -%s", width, step, steps, remaining, formatPerStep(perStep))
	}
	return fmt.Sprintf("%*d/%d - %.0fs -%s", width, step, steps, elapsed.Seconds(), formatPerStep(perStep))
}

// formatPerStep formats the time per step like Keras's Progbar._format_time: " 9ms/step".
func formatPerStep(seconds float64) string {
	switch {
	case seconds >= 1 || seconds == 0:
		return fmt.Sprintf(" %.0fs/step", seconds)
	case seconds >= 1e-3:
		return fmt.Sprintf(" %.0fms/step", seconds*1e3)
	default:
		return fmt.Sprintf(" %.0fus/step", seconds*1e6)
	}
}

// formatMetrics formats " - accuracy: 0.4012 - loss: 1.6543" with Keras's rule: 4 decimals, or
// scientific notation for values not above 1e-3 in magnitude ("learning_rate: 5.0000e-04").
func formatMetrics(metrics []metric) string {
	var b strings.Builder
	for _, m := range metrics {
		fmt.Fprintf(&b, " - %s: %s", m.name, formatMetricValue(m.value))
	}
	return b.String()
}

func formatMetricValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 0):
		if v > 0 {
			return "inf"
		}
		return "-inf"
	case math.Abs(v) > 1e-3:
		return fmt.Sprintf("%.4f", v)
	default:
		return fmt.Sprintf("%.4e", v)
	}
}

// epochMetrics lists an epoch's metrics in the order Keras 3 prints them.
func epochMetrics(logs Logs, showAccuracy bool) []metric {
	var out []metric
	for _, name := range []string{"accuracy", "loss", "val_accuracy", "val_loss", "learning_rate"} {
		v, ok := logs[name]
		if !ok || (!showAccuracy && strings.HasSuffix(name, "accuracy")) {
			continue
		}
		out = append(out, metric{name, v})
	}
	return out
}
