// Package report computes and renders the text reports of the CIFAR-10 labs: the classification
// report in scikit-learn's layout, the confusion matrix, the confidence analysis, the per-layer
// weight statistics and the dataset description tables.
//
// Every report renders as aligned plain text (String) and as Markdown (Markdown), and Display
// shows it in a GoNB cell (as Markdown, with the plain text as text/plain alternative) or, outside
// a notebook, prints the plain text to standard output. Markdown is used rather than HTML because
// the notebooks' LaTeX PDF export drops HTML tables but converts Markdown tables.
//
// The package is plain Go: it does not depend on GoMLX, so reports can be computed from any
// predictions.
package report
