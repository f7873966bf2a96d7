// Package report computes and renders the text reports of a classifier: the classification
// report in scikit-learn's layout, the confusion matrix, the confidence analysis, the per-layer
// weight statistics, and plain tables (Table) for anything else.
//
// Every report renders as aligned plain text (String) and as Markdown (Markdown), and Display
// shows it in a GoNB cell (as Markdown, with the plain text as text/plain alternative) or, outside
// a notebook, prints the plain text to standard output. Markdown is used rather than HTML because
// the notebooks' LaTeX PDF export drops HTML tables but converts Markdown tables.
//
// The package is plain Go: it knows nothing of CIFAR-10 (class names are arguments; package lab
// builds the dataset's tables) and does not depend on GoMLX, so reports can be computed from any
// predictions.
package report
