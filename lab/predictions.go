package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/atomicdir"
	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/keras"
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

// Predictions returns the trained model's predictions on the test images, like
// model.predict(x_test) in the lab. They are saved beside the run the first time, keyed by the
// model's weights and the images, so that the evaluation cells after it read them back instead of
// running the model again, and a retrained model (CIFARLAB_RETRAIN, another backend) never gets
// the predictions of the weights it had before. Damaged saved predictions are computed again,
// with a line that says so.
func (r *Run) Predictions(test *cifar.Split) (*Predictions, error) {
	path := ""
	if r.Dir != "" {
		weights, err := weightsFingerprint(r.Model)
		if err != nil {
			return nil, err
		}
		path = filepath.Join(filepath.Dir(r.Dir), "predictions", fmt.Sprintf("%s-%s.bin", weights, splitFingerprint(test)))
		probs, err := readProbs(path, test.Len(), r.Model.NumOutputs())
		switch {
		case err == nil:
			return newPredictions(probs, test), nil
		case !errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(os.Stderr, "lab: the saved predictions are damaged (%v); computing them again\n", err)
		}
	}
	p, err := Predict(r, test)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := writeProbs(path, p.Probs); err != nil {
			fmt.Fprintf(os.Stderr, "lab: could not save the predictions (they will be computed again): %v\n", err)
		}
	}
	return p, nil
}

// Predict runs the run's model on s (not memoized; see Run.Predictions).
func Predict(r *Run, s *cifar.Split) (*Predictions, error) {
	probs, err := r.Model.Predict(Images(s), evalBatchSize)
	if err != nil {
		return nil, err
	}
	return newPredictions(probs.Rows(), s), nil
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
func (p *Predictions) ConfusionMatrix() (*report.ConfusionMatrix, error) {
	return report.NewConfusionMatrix(p.True, p.Pred, cifar.ClassNames[:])
}

// ClassificationReport is sklearn's classification_report of the predictions with 4 decimals, as
// the labs print it.
func (p *Predictions) ClassificationReport() (*report.ClassificationReport, error) {
	return report.NewClassificationReport(p.True, p.Pred, cifar.ClassNames[:], 4)
}

// ConfidenceAnalysis compares the model's confidence on its correct and incorrect predictions.
func (p *Predictions) ConfidenceAnalysis() (*report.ConfidenceAnalysis, error) {
	return report.NewConfidenceAnalysis(p.Probs, p.True)
}

// Grid draws the first n correct (correct == true) or incorrect predictions: each image with its
// true and predicted class and the predicted probability, titled "Correct predictions" or
// "Incorrect predictions".
func (p *Predictions) Grid(correct bool, n int) *plots.Chart {
	idx := p.Indices(correct, n)
	images, labels, probs := make([][]uint8, len(idx)), make([]int, len(idx)), make([][]float32, len(idx))
	for i, j := range idx {
		images[i], labels[i], probs[i] = p.Split.Image(j), p.True[j], p.Probs[j]
	}
	title := map[bool]string{true: "Correct predictions", false: "Incorrect predictions"}[correct]
	return plots.PredictionGrid(images, labels, probs, cifar.ClassNames[:]).WithTitle(title)
}

// The predictions file: a header, the probabilities as little-endian float32, row after row,
// and a CRC-32C of everything before it.
const probsMagic = "cifarlab-predictions/1\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// weightsFingerprint identifies the model's weights: 16 hex digits of a SHA-256 of every layer's
// kernel and bias.
func weightsFingerprint(m *keras.Model) (string, error) {
	weights, err := m.Weights()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var buf []byte
	for _, l := range weights {
		for _, values := range [][]float32{l.Kernel, l.Bias} {
			buf = buf[:0]
			for _, v := range values {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			_, _ = h.Write(buf)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// splitFingerprint identifies the images and labels of s (CRC-32C and length), so that
// predictions saved for other test images are never read back.
func splitFingerprint(s *cifar.Split) string {
	h := crc32.New(castagnoli)
	_, _ = h.Write(s.Images)
	_, _ = h.Write(s.Labels)
	return fmt.Sprintf("%d-%08x", s.Len(), h.Sum32())
}

// writeProbs saves probabilities atomically (a locked temporary renamed into place).
func writeProbs(path string, probs [][]float32) error {
	var b bytes.Buffer
	b.WriteString(probsMagic)
	cols := 0
	if len(probs) > 0 {
		cols = len(probs[0])
	}
	b.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(len(probs))), uint32(cols)))
	for _, row := range probs {
		for _, v := range row {
			b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
		}
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(b.Bytes(), castagnoli)))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, _ = scratch.RemoveStale(dir, ".tmp-*")
	f, lock, err := scratch.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	defer lock.Release()
	tmp := f.Name()
	f.Close()
	if err := atomicdir.WriteFile(tmp, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readProbs reads probabilities saved by writeProbs, checking their shape and checksum.
func readProbs(path string, rows, cols int) ([][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	want := len(probsMagic) + 8 + 4*rows*cols + 4
	if len(data) != want || string(data[:len(probsMagic)]) != probsMagic {
		return nil, fmt.Errorf("%s: %d bytes, want %d for %d×%d", path, len(data), want, rows, cols)
	}
	body, sum := data[:want-4], binary.LittleEndian.Uint32(data[want-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errors.New(path + ": checksum mismatch")
	}
	head := body[len(probsMagic):]
	if int(binary.LittleEndian.Uint32(head)) != rows || int(binary.LittleEndian.Uint32(head[4:])) != cols {
		return nil, fmt.Errorf("%s: shape differs", path)
	}
	values := head[8:]
	probs := make([][]float32, rows)
	for i := range probs {
		probs[i] = make([]float32, cols)
		for j := range probs[i] {
			probs[i][j] = math.Float32frombits(binary.LittleEndian.Uint32(values[4*(i*cols+j):]))
		}
	}
	return probs, nil
}
