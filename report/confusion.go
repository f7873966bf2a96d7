package report

import (
	"errors"
	"fmt"
	"strconv"
)

// ConfusionMatrix counts predictions by true class (rows) and predicted class (columns), like
// sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(len(classNames))).
type ConfusionMatrix struct {
	ClassNames []string // class i is ClassNames[i]
	Counts     [][]int  // Counts[true][predicted]
	// Normalize makes String, Markdown and Display show each row divided by its total (the share
	// of each true class predicted as each class, sklearn's normalize="true") instead of counts.
	Normalize bool
	// Digits is the number of decimals of normalised values; 0 means 2.
	Digits int
}

// NewConfusionMatrix counts the pairs (yTrue[i], yPred[i]). Labels must be class indices in
// [0, len(classNames)).
func NewConfusionMatrix(yTrue, yPred []int, classNames []string) (*ConfusionMatrix, error) {
	if err := checkLabels(yTrue, yPred, len(classNames)); err != nil {
		return nil, err
	}
	k := len(classNames)
	m := &ConfusionMatrix{ClassNames: append([]string(nil), classNames...), Counts: make([][]int, k)}
	for i := range m.Counts {
		m.Counts[i] = make([]int, k)
	}
	for i, t := range yTrue {
		m.Counts[t][yPred[i]]++
	}
	return m, nil
}

// checkLabels checks that yTrue and yPred have the same non-zero length and hold indices of k
// classes.
func checkLabels(yTrue, yPred []int, k int) error {
	if k == 0 {
		return errors.New("report: no class names")
	}
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("report: %d true labels but %d predictions", len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return errors.New("report: no samples")
	}
	for i := range yTrue {
		if yTrue[i] < 0 || yTrue[i] >= k {
			return fmt.Errorf("report: true label %d of sample %d is outside 0..%d", yTrue[i], i, k-1)
		}
		if yPred[i] < 0 || yPred[i] >= k {
			return fmt.Errorf("report: predicted label %d of sample %d is outside 0..%d", yPred[i], i, k-1)
		}
	}
	return nil
}

// Total returns the number of samples.
func (m *ConfusionMatrix) Total() int {
	n := 0
	for _, row := range m.Counts {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Correct returns the number of correct predictions (the trace).
func (m *ConfusionMatrix) Correct() int {
	n := 0
	for i, row := range m.Counts {
		n += row[i]
	}
	return n
}

// Accuracy returns Correct()/Total(), or 0 for an empty matrix.
func (m *ConfusionMatrix) Accuracy() float64 {
	if t := m.Total(); t > 0 {
		return float64(m.Correct()) / float64(t)
	}
	return 0
}

// RowNormalized returns each row divided by its sum (the recall of each class on the diagonal);
// rows of classes without samples are all zero.
func (m *ConfusionMatrix) RowNormalized() [][]float64 {
	out := make([][]float64, len(m.Counts))
	for i, row := range m.Counts {
		out[i] = make([]float64, len(row))
		sum := 0
		for _, c := range row {
			sum += c
		}
		if sum == 0 {
			continue
		}
		for j, c := range row {
			out[i][j] = float64(c) / float64(sum)
		}
	}
	return out
}

// Normalized returns a copy of m that renders row-normalised values.
func (m *ConfusionMatrix) Normalized() *ConfusionMatrix {
	c := *m
	c.Normalize = true
	return &c
}

// Table returns the matrix as a table: one row per true class ("3 cat"), one column per predicted
// class, headed by its index so that ten classes fit on a page, and a note saying so.
func (m *ConfusionMatrix) Table() *Table {
	t := &Table{Title: "Confusion matrix"}
	if m.Normalize {
		t.Title = "Confusion matrix (normalised by true class)"
	}
	t.Header = []string{`true \ predicted`}
	for j := range m.ClassNames {
		t.Header = append(t.Header, strconv.Itoa(j))
	}
	digits := m.Digits
	if digits <= 0 {
		digits = 2
	}
	norm := m.RowNormalized()
	for i, name := range m.ClassNames {
		row := []string{fmt.Sprintf("%d %s", i, name)}
		for j := range m.ClassNames {
			if m.Normalize {
				row = append(row, strconv.FormatFloat(norm[i][j], 'f', digits, 64))
			} else {
				row = append(row, strconv.Itoa(m.Counts[i][j]))
			}
		}
		t.AddRow(row...)
	}
	t.Notes = []string{fmt.Sprintf("Rows: true class; columns: predicted class, by index. %d samples, accuracy %.4f.", m.Total(), m.Accuracy())}
	return t
}

// String renders the matrix as aligned plain text.
func (m *ConfusionMatrix) String() string { return m.Table().String() }

// Markdown renders the matrix as a Markdown table.
func (m *ConfusionMatrix) Markdown() string { return m.Table().Markdown() }

// Display shows the matrix in a GoNB cell, or prints it outside a notebook.
func (m *ConfusionMatrix) Display() error { return Display(m) }
