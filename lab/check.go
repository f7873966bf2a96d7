package lab

// Check stops the cell when err is not nil: it panics with err, which GoNB shows as the cell's
// error (and nbrun reports as the cell's failure).
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Must returns v, or stops the cell when err is not nil (see Check):
//
//	ds := lab.Must(lab.LoadData())
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Must2 is Must for calls that return two values and an error:
//
//	loss, acc := lab.Must2(run.Evaluate())
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
