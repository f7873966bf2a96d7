package lab

import (
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/plots"
	"github.com/cifarlab/cifarlab/report"
)

// Predictions holds a model's predictions on a split: the class probabilities, the predicted
// classes and their confidence, and the true classes.
type Predictions struct {
	Probs      [][]float32
	Pred       []int
	Confidence []float64
	True       []int
	Split      *cifar.Split // the images predicted
}

// Predict returns the trained model's predictions on the test images, like model.predict(x_test)
// in the lab. keras/runs saves them beside the run the first time, keyed by the model's weights
// and the images, so that the evaluation cells after it read them back instead of running the
// model again, and a retrained model (CIFARLAB_RETRAIN, another backend) never gets the
// predictions of the weights it had before.
func (r *TrainedModel) Predict(test *cifar.Split) *Predictions { return Must(r.predict(test)) }

func (r *TrainedModel) predict(test *cifar.Split) (*Predictions, error) {
	probs, err := r.Run.Predictions(r.Model, Images(test), evalBatchSize)
	if err != nil {
		return nil, err
	}
	return newPredictions(probs, test), nil
}

func newPredictions(probs [][]float32, s *cifar.Split) *Predictions {
	p := &Predictions{Probs: probs, True: s.IntLabels(), Split: s}
	p.Pred, p.Confidence = report.Argmax(p.Probs)
	return p
}

// Accuracy is the fraction of correct predictions.
func (p *Predictions) Accuracy() float64 {
	if len(p.True) == 0 {
		return 0
	}
	correct := 0
	for i, t := range p.True {
		if p.Pred[i] == t {
			correct++
		}
	}
	return float64(correct) / float64(len(p.True))
}

// Indices returns the first n indices whose prediction is correct (correct == true) or wrong.
func (p *Predictions) Indices(correct bool, n int) []int {
	var out []int
	for i, t := range p.True {
		if len(out) == n {
			break
		}
		if (p.Pred[i] == t) == correct {
			out = append(out, i)
		}
	}
	return out
}

// ConfusionMatrix is the confusion matrix of the predictions, with CIFAR-10's class names
// (sklearn's confusion_matrix(y_true, y_pred)).
func (p *Predictions) ConfusionMatrix() *report.ConfusionMatrix {
	return Must(report.NewConfusionMatrix(p.True, p.Pred, cifar.ClassNames[:]))
}

// ClassificationReport is sklearn's classification_report of the predictions with 4 decimals, as
// the labs print it.
func (p *Predictions) ClassificationReport() *report.ClassificationReport {
	return Must(report.NewClassificationReport(p.True, p.Pred, cifar.ClassNames[:], 4))
}

// ConfidenceAnalysis compares the model's confidence on its correct and incorrect predictions.
func (p *Predictions) ConfidenceAnalysis() *report.ConfidenceAnalysis {
	return Must(report.NewConfidenceAnalysis(p.Probs, p.True))
}

// Correct draws the first n correct predictions: each image with its true and predicted class and
// the predicted probability, titled "Correct predictions".
func (p *Predictions) Correct(n int) *plots.Chart { return p.grid(true, n) }

// Incorrect draws the first n incorrect predictions as Correct draws the correct ones, titled
// "Incorrect predictions".
func (p *Predictions) Incorrect(n int) *plots.Chart { return p.grid(false, n) }

func (p *Predictions) grid(correct bool, n int) *plots.Chart {
	idx := p.Indices(correct, n)
	images, labels, probs := make([][]uint8, len(idx)), make([]int, len(idx)), make([][]float32, len(idx))
	for i, j := range idx {
		images[i], labels[i], probs[i] = p.Split.Image(j), p.True[j], p.Probs[j]
	}
	title := map[bool]string{true: "Correct predictions", false: "Incorrect predictions"}[correct]
	return plots.PredictionGrid(images, labels, probs, cifar.ClassNames[:]).WithTitle(title)
}

// MCPredict returns Monte Carlo Dropout's predictions of the trained model on the test images:
// the mean class probabilities of samples predictions with dropout (and alpha dropout) active,
// like np.stack([model(x_test, training=True) for _ in range(samples)]).mean(axis=0) in Géron's
// book (see keras.Model.MCPredict). They are computed each time, not saved: every sample is one
// pass over the images.
func (r *TrainedModel) MCPredict(test *cifar.Split, samples int) *Predictions {
	probs, err := r.Model.MCPredict(Images(test), evalBatchSize, samples)
	Check(err)
	return newPredictions(probs.Rows(), test)
}
