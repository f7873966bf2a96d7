package report

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Argmax returns, for each row of class probabilities, the predicted class (the index of the
// largest probability, the first one on ties, like numpy.argmax) and its probability (the
// confidence). A row containing NaN predicts the class of the first NaN with confidence NaN, as
// numpy does.
func Argmax(probs [][]float32) (pred []int, confidence []float64) {
	pred, confidence = make([]int, len(probs)), make([]float64, len(probs))
	for i, row := range probs {
		best := 0
		for j, p := range row {
			if p != p { // NaN wins, like numpy.argmax
				best = j
				break
			}
			if p > row[best] {
				best = j
			}
		}
		pred[i] = best
		if len(row) > 0 {
			confidence[i] = float64(row[best])
		} else {
			confidence[i] = math.NaN()
		}
	}
	return pred, confidence
}

// ConfidenceAnalysis compares the model's confidence (the probability of the predicted class) on
// its correct and on its incorrect predictions, as the lab prints it.
type ConfidenceAnalysis struct {
	Correct, Incorrect int     // number of correct and incorrect predictions
	MeanCorrect        float64 // average confidence on correct predictions; NaN if there are none
	MeanIncorrect      float64 // average confidence on incorrect predictions; NaN if there are none
	Gap                float64 // MeanCorrect - MeanIncorrect; NaN if either is NaN
	Digits             int     // decimals shown; 0 means 4, as the lab prints them
}

// NewConfidenceAnalysis computes the analysis from class probabilities (one row per sample, one
// column per class, such as a softmax output) and the true labels.
func NewConfidenceAnalysis(probs [][]float32, yTrue []int) (*ConfidenceAnalysis, error) {
	if len(probs) != len(yTrue) {
		return nil, fmt.Errorf("report: %d rows of probabilities but %d labels", len(probs), len(yTrue))
	}
	if len(probs) == 0 {
		return nil, errors.New("report: no samples")
	}
	k := len(probs[0])
	for i, row := range probs {
		if len(row) != k || k == 0 {
			return nil, fmt.Errorf("report: row %d of probabilities has %d classes, want %d", i, len(row), k)
		}
		if yTrue[i] < 0 || yTrue[i] >= k {
			return nil, fmt.Errorf("report: true label %d of sample %d is outside 0..%d", yTrue[i], i, k-1)
		}
	}
	pred, conf := Argmax(probs)
	return NewConfidenceAnalysisFromPredictions(yTrue, pred, conf)
}

// NewConfidenceAnalysisFromPredictions computes the analysis from predicted classes and their
// confidences.
func NewConfidenceAnalysisFromPredictions(yTrue, yPred []int, confidence []float64) (*ConfidenceAnalysis, error) {
	if len(yTrue) != len(yPred) || len(yTrue) != len(confidence) {
		return nil, fmt.Errorf("report: %d true labels, %d predictions and %d confidences", len(yTrue), len(yPred), len(confidence))
	}
	var sumC, sumI float64
	a := &ConfidenceAnalysis{}
	for i := range yTrue {
		if yTrue[i] == yPred[i] {
			a.Correct++
			sumC += confidence[i]
		} else {
			a.Incorrect++
			sumI += confidence[i]
		}
	}
	a.MeanCorrect, a.MeanIncorrect = math.NaN(), math.NaN()
	if a.Correct > 0 {
		a.MeanCorrect = sumC / float64(a.Correct)
	}
	if a.Incorrect > 0 {
		a.MeanIncorrect = sumI / float64(a.Incorrect)
	}
	a.Gap = a.MeanCorrect - a.MeanIncorrect
	return a, nil
}

// format writes v with the analysis's decimals (4 by default), "n/a" for a value that does not
// exist.
func (a *ConfidenceAnalysis) format(v float64) string { return fixed(v, a.Digits, 4, "n/a") }

// String renders the analysis as the lab prints it:
//
//	Average confidence on correct predictions: 0.6523
//	Average confidence on incorrect predictions: 0.4512
//	Confidence gap: 0.2011
//
// A value that does not exist (no incorrect predictions, say) is shown as "n/a".
func (a *ConfidenceAnalysis) String() string {
	return "Average confidence on correct predictions: " + a.format(a.MeanCorrect) + "\n" +
		"Average confidence on incorrect predictions: " + a.format(a.MeanIncorrect) + "\n" +
		"Confidence gap: " + a.format(a.Gap) + "\n"
}

// Table returns the analysis as a table with the number of predictions of each kind.
func (a *ConfidenceAnalysis) Table() *Table {
	t := &Table{Title: "Confidence analysis", Header: []string{"Predictions", "Count", "Average confidence"}}
	t.AddRow("correct", strconv.Itoa(a.Correct), a.format(a.MeanCorrect))
	t.AddRow("incorrect", strconv.Itoa(a.Incorrect), a.format(a.MeanIncorrect))
	t.AddRow("gap (correct - incorrect)", "", a.format(a.Gap))
	return t
}

// Markdown renders the analysis as a Markdown table.
func (a *ConfidenceAnalysis) Markdown() string { return a.Table().Markdown() }

// Display shows the analysis in a GoNB cell, or prints it outside a notebook.
func (a *ConfidenceAnalysis) Display() error { return Display(a) }
