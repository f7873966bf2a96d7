package plots

import (
	"fmt"
	"image/color"
	"strings"
)

// PredictionGrid returns a grid of images titled with their true label, the predicted label (the
// most probable class) and its probability: green titles for correct predictions, red for wrong
// ones. probs holds one row of class probabilities per image (a softmax output); classNames names
// the classes.
func PredictionGrid(images [][]uint8, yTrue []int, probs [][]float32, classNames []string) *Chart {
	title := "Predictions (green: correct, red: wrong)"
	if len(images) != len(yTrue) || len(images) != len(probs) {
		return errChart(title, errorf("PredictionGrid: %d images, %d labels and %d rows of probabilities", len(images), len(yTrue), len(probs)))
	}
	g := Grid{Title: title, Images: images}
	correct := 0
	var text strings.Builder
	for i, row := range probs {
		if len(row) != len(classNames) {
			return errChart(title, errorf("PredictionGrid: row %d has %d probabilities for %d classes", i, len(row), len(classNames)))
		}
		if yTrue[i] < 0 || yTrue[i] >= len(classNames) {
			return errChart(title, errorf("PredictionGrid: label %d of image %d is outside 0..%d", yTrue[i], i, len(classNames)-1))
		}
		pred := 0
		for j, p := range row {
			if p > row[pred] {
				pred = j
			}
		}
		conf := row[pred]
		clr, mark := color.Color(badRed), "wrong"
		if pred == yTrue[i] {
			clr, mark = goodGreen, "correct"
			correct++
		}
		g.Titles = append(g.Titles, fmt.Sprintf("True: %s\nPred: %s\nConf: %.2f", classNames[yTrue[i]], classNames[pred], conf))
		g.TitleColors = append(g.TitleColors, clr)
		fmt.Fprintf(&text, "\n  %d: true %s, predicted %s (%.2f), %s", i, classNames[yTrue[i]], classNames[pred], conf, mark)
	}
	ch := g.Chart()
	if ch.err == nil {
		ch.Text = fmt.Sprintf("%d predictions, %d correct:", len(images), correct) + text.String()
	}
	return ch
}
