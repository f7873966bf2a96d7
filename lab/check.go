package lab

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Check stops the cell when err is not nil: it prints the error in one line on stderr,
// "Error: " and the message (no panic, no goroutine dump), and ends the cell's program with exit
// status 1, which GoNB reports under it (and nbrun as the cell's failure). The program's deferred
// calls do not run, so call it where nothing is left to clean up, as a cell's main does.
func Check(err error) {
	if err != nil {
		stop(err)
	}
}

// stop ends the program after an error (see Check); the tests replace it.
var stop = func(err error) {
	writeError(os.Stderr, err)
	os.Exit(1)
}

// writeError writes err as Check shows it: one line.
func writeError(w io.Writer, err error) {
	fmt.Fprintf(w, "Error: %s\n", strings.Join(strings.Fields(err.Error()), " "))
}

// Must returns v, or stops the cell when err is not nil (see Check):
//
//	model := lab.Must(keras.Sequential([]int{32, 32, 3}, keras.Flatten(), keras.Dense(10, keras.Softmax)))
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Must2 is Must for calls that return two values and an error:
//
//	fit, val := lab.Must2(train.ValidationSplit(0.2))
func Must2[A, B any](a A, b B, err error) (A, B) {
	Check(err)
	return a, b
}

// Displayer is what Show shows: a report table, a chart, a group of them.
type Displayer interface {
	Display() error
}

// Show displays each item in the cell's output, in order (see report and plots for what each
// looks like in a notebook and outside one), and stops the cell on the first error.
func Show(items ...Displayer) {
	for _, it := range items {
		Check(it.Display())
	}
}

// Assert stops the cell when ok is false, with the message formatted as by fmt.Sprintf, printed as
// Check prints an error: a test cell's assertion (Python's assert), which nbgrader's autograding
// counts as a failed test (the cell's error output).
//
//	lab.Assert(len(layers) == 6, "want 6 layers, got %d", len(layers))
func Assert(ok bool, format string, args ...any) {
	if !ok {
		stop(fmt.Errorf(format, args...))
	}
}
