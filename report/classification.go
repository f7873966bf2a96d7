package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ClassMetrics are the precision, recall, F1-score and support of one class or one average.
type ClassMetrics struct {
	Name      string
	Precision float64
	Recall    float64
	F1        float64
	Support   int // samples of the class; for the averages, all samples
}

// ClassificationReport is sklearn.metrics.classification_report(y_true, y_pred,
// labels=range(len(classNames)), target_names=classNames, digits=Digits, zero_division=0):
// per-class precision, recall, F1-score and support, the accuracy, and the macro and
// support-weighted averages.
//
// A class that is never predicted has precision 0, a class without samples has recall 0, and a
// class with neither has F1-score 0 (scikit-learn's zero_division=0); such classes still count in
// the macro average.
type ClassificationReport struct {
	Classes     []ClassMetrics
	Accuracy    float64
	MacroAvg    ClassMetrics // Name "macro avg"
	WeightedAvg ClassMetrics // Name "weighted avg"
	Total       int          // number of samples
	Digits      int          // decimals shown by String and Markdown (the labs use 4; sklearn's default is 2)
}

// NewClassificationReport computes the report of predictions yPred against the true labels yTrue,
// both class indices in [0, len(classNames)), showing digits decimals.
func NewClassificationReport(yTrue, yPred []int, classNames []string, digits int) (*ClassificationReport, error) {
	m, err := NewConfusionMatrix(yTrue, yPred, classNames)
	if err != nil {
		return nil, err
	}
	return m.Report(digits)
}

// Report computes the classification report from the confusion matrix.
func (m *ConfusionMatrix) Report(digits int) (*ClassificationReport, error) {
	if digits < 0 {
		return nil, fmt.Errorf("report: negative number of digits %d", digits)
	}
	k := len(m.ClassNames)
	if k == 0 || len(m.Counts) != k {
		return nil, errors.New("report: confusion matrix without classes")
	}
	r := &ClassificationReport{Digits: digits, Classes: make([]ClassMetrics, k), Total: m.Total()}
	precision, recall, f1, support := make([]float64, k), make([]float64, k), make([]float64, k), make([]float64, k)
	correct := 0
	for c := range k {
		tp, predicted, actual := m.Counts[c][c], 0, 0
		for j := range k {
			predicted += m.Counts[j][c]
			actual += m.Counts[c][j]
		}
		correct += tp
		// Same formulas as sklearn's _precision_recall_fscore_support, zero_division=0.
		precision[c] = divide(tp, predicted)
		recall[c] = divide(tp, actual)
		f1[c] = divide(2*tp, actual+predicted)
		support[c] = float64(actual)
		r.Classes[c] = ClassMetrics{Name: m.ClassNames[c], Precision: precision[c], Recall: recall[c], F1: f1[c], Support: actual}
	}
	r.Accuracy = divide(correct, r.Total)
	r.MacroAvg = ClassMetrics{Name: "macro avg", Support: r.Total,
		Precision: npSum(precision) / float64(k), Recall: npSum(recall) / float64(k), F1: npSum(f1) / float64(k)}
	r.WeightedAvg = ClassMetrics{Name: "weighted avg", Support: r.Total}
	if r.Total > 0 {
		weighted := func(v []float64) float64 {
			prod := make([]float64, k)
			for i := range v {
				prod[i] = v[i] * support[i]
			}
			return npSum(prod) / npSum(support)
		}
		r.WeightedAvg.Precision, r.WeightedAvg.Recall, r.WeightedAvg.F1 = weighted(precision), weighted(recall), weighted(f1)
	}
	return r, nil
}

// divide returns num/den, or 0 when den is 0 (zero_division=0).
func divide(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// npSum adds v the way numpy's add.reduce does (pairwise summation with an 8-way unrolled base
// case), so that averages match scikit-learn's to the last bit.
func npSum(v []float64) float64 {
	n := len(v)
	switch {
	case n < 8:
		res := 0.0
		for _, x := range v {
			res += x
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], v[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += v[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += v[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return npSum(v[:n2]) + npSum(v[n2:])
	}
}

// String renders the report exactly as sklearn's classification_report returns it (the string,
// which print() follows with one more newline). The average rows are "accuracy", "macro avg" and
// "weighted avg", as current scikit-learn prints them whenever the report covers every label that
// occurs (scikit-learn 1.2 and older print a "micro avg" row instead of "accuracy" when a class
// occurs neither in y_true nor in y_pred):
//
//	              precision    recall  f1-score   support
//
//	    airplane     0.5000    1.0000    0.6667         1
//	...
//
//	    accuracy                         0.5000         4
//	   macro avg     0.2500    0.3333    0.2778         4
//	weighted avg     0.3750    0.5000    0.4167         4
func (r *ClassificationReport) String() string {
	w := len("weighted avg")
	for _, c := range r.Classes {
		w = max(w, width(c.Name))
	}
	w = max(w, r.Digits)
	var b strings.Builder
	b.WriteString(pad("", w, AlignRight) + " ")
	for _, h := range []string{"precision", "recall", "f1-score", "support"} {
		b.WriteString(" " + pad(h, 9, AlignRight))
	}
	b.WriteString("\n\n")
	row := func(m ClassMetrics) {
		b.WriteString(pad(m.Name, w, AlignRight) + " ")
		for _, v := range []float64{m.Precision, m.Recall, m.F1} {
			b.WriteString(" " + pad(r.format(v), 9, AlignRight))
		}
		b.WriteString(" " + pad(strconv.Itoa(m.Support), 9, AlignRight) + "\n")
	}
	for _, c := range r.Classes {
		row(c)
	}
	b.WriteString("\n")
	b.WriteString(pad("accuracy", w, AlignRight) + " " + " " + pad("", 9, AlignRight) + " " + pad("", 9, AlignRight))
	b.WriteString(" " + pad(r.format(r.Accuracy), 9, AlignRight) + " " + pad(strconv.Itoa(r.Total), 9, AlignRight) + "\n")
	row(r.MacroAvg)
	row(r.WeightedAvg)
	return b.String()
}

// format writes v with the report's decimals (0 is a valid choice, as in scikit-learn).
func (r *ClassificationReport) format(v float64) string {
	return strconv.FormatFloat(v, 'f', r.Digits, 64)
}

// Table returns the report as a table with the same rows as String (the blank line before the
// accuracy is a blank row, which Markdown leaves out).
func (r *ClassificationReport) Table() *Table {
	t := &Table{Title: "Classification report", Header: []string{"", "precision", "recall", "f1-score", "support"}}
	row := func(m ClassMetrics) {
		t.AddRow(m.Name, r.format(m.Precision), r.format(m.Recall), r.format(m.F1), strconv.Itoa(m.Support))
	}
	for _, c := range r.Classes {
		row(c)
	}
	t.AddBlank()
	t.AddRow("accuracy", "", "", r.format(r.Accuracy), strconv.Itoa(r.Total))
	row(r.MacroAvg)
	row(r.WeightedAvg)
	return t
}

// Markdown renders the report as a Markdown table.
func (r *ClassificationReport) Markdown() string { return r.Table().Markdown() }

// Display shows the report in a GoNB cell, or prints it outside a notebook.
func (r *ClassificationReport) Display() error { return Display(r) }
