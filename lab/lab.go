// Package lab is the glue that keeps the lab notebooks short: it loads CIFAR-10 as the labs do,
// turns splits into model inputs, converts training results into the report and plot types, and
// knows the quick mode that CI uses to run every notebook in minutes.
//
// It is the only package that imports the data, training, report and plot packages together, so
// that none of those has to depend on another.
package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/internal/settings"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/plots"
	"github.com/cifarlab/cifarlab/report"
)

// EnvQuick is the environment variable that turns on quick mode: notebooks then train on a
// subset for a few epochs. The notebook runner (notebooks/nbrun -quick) sets it.
const EnvQuick = "CIFARLAB_QUICK"

// EnvRunsDir overrides the folder of memoized training runs.
const EnvRunsDir = "CIFARLAB_RUNS_DIR"

// QuickMode reports whether quick mode is on: CIFARLAB_QUICK set to 1, true, yes or on (any case).
// 0, false, no, off and an empty or unset variable mean off; any other value is an error, so that a
// typo never turns a full run into a quick one or the reverse.
func QuickMode() (bool, error) {
	return settings.Bool(EnvQuick)
}

// Quick is QuickMode for the notebooks' hyperparameter cells. It panics on a value of
// CIFARLAB_QUICK that QuickMode does not understand: the cell fails, saying why, instead of
// training in the wrong mode.
func Quick() bool {
	on, err := QuickMode()
	if err != nil {
		panic(fmt.Sprintf("lab: %v", err))
	}
	return on
}

// Pick returns full normally and quick in quick mode; notebooks use it in their
// hyperparameter cell: Epochs = lab.Pick(50, 2).
func Pick[T any](full, quick T) T {
	if Quick() {
		return quick
	}
	return full
}

// RunsDir is where memoized training runs are kept: $CIFARLAB_RUNS_DIR, else "runs" in the
// per-user cache folder (quick-mode runs go to "runs-quick", so that they never stand in for full
// runs).
func RunsDir() string {
	if d := os.Getenv(EnvRunsDir); d != "" {
		return d
	}
	base, err := cifar.DefaultCacheDir()
	if err != nil {
		base = filepath.Join(os.TempDir(), "cifarlab")
	}
	return filepath.Join(base, Pick("runs", "runs-quick"))
}

// LoadData loads CIFAR-10 like keras.datasets.cifar10.load_data() (see cifar.Load), printing the
// progress and one line saying where the data came from.
//
// An interrupt (GoNB's stop button sends SIGINT to the cell, a terminal's ctrl-C, SIGTERM) stops
// the load after it removed what it was writing (a partial download, a flat cache being
// written); the signal then ends the program as usual.
func LoadData() (*cifar.Dataset, error) {
	return loadData(cifar.Options{})
}

// loadData is LoadData with options; tests give a local download server.
func loadData(opts cifar.Options) (*cifar.Dataset, error) {
	var ds *cifar.Dataset
	err := scratch.Interruptible(context.Background(), func(ctx context.Context) error {
		var err error
		ds, err = cifar.Load(ctx, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	fmt.Println(ds.Source)
	return ds, nil
}

// Images returns the images of s as a model input of shape [N,32,32,3] with values in [0,1]
// (pixel/255, like the lab's x.astype('float32') / 255). The pixels are shared, not copied: they
// are normalised batch by batch as they are fed to the model, so that the 50,000 training images
// take 147 MiB instead of 586 MiB of float32.
func Images(s *cifar.Split) keras.Array {
	return keras.NewPixelArray(s.Images, s.Len(), cifar.Height, cifar.Width, cifar.Channels)
}

// OneHot returns the labels of s one-hot encoded, for categorical cross-entropy and MSE.
func OneHot(s *cifar.Split) keras.Labels { return keras.OneHot(s.OneHot(), cifar.NumClasses) }

// Sparse returns the labels of s as class ids, for sparse categorical cross-entropy.
func Sparse(s *cifar.Split) keras.Labels { return keras.Classes(s.Labels) }

// Curves converts a training History into the input of plots.TrainingCurves.
func Curves(h *keras.History) plots.History {
	if h == nil {
		return plots.History{}
	}
	return plots.History{
		Loss:         h.Series("loss"),
		Accuracy:     h.Series("accuracy"),
		ValLoss:      h.Series("val_loss"),
		ValAccuracy:  h.Series("val_accuracy"),
		LearningRate: h.Series("learning_rate"),
		BestEpoch:    h.BestEpoch,
	}
}

// Layers returns the model's Dense layers as the input of report.NewWeightStats and
// plots.WeightHistograms.
func Layers(m *keras.Model) ([]report.Layer, error) {
	weights, err := m.Weights()
	if err != nil {
		return nil, err
	}
	out := make([]report.Layer, len(weights))
	for i, w := range weights {
		out[i] = report.Layer{Name: w.Name, Kernel: w.Kernel, Bias: w.Bias}
	}
	return out, nil
}

// Predictions holds a model's predictions on a split: the class probabilities, the predicted
// classes and their confidence, and the true classes.
type Predictions struct {
	Probs      [][]float32
	Pred       []int
	Confidence []float64
	True       []int
}

// Predict runs the model on s and collects what the evaluation cells need.
func Predict(m *keras.Model, s *cifar.Split, batchSize int) (*Predictions, error) {
	probs, err := m.Predict(Images(s), batchSize)
	if err != nil {
		return nil, err
	}
	p := &Predictions{Probs: probs.Rows(), True: s.IntLabels()}
	p.Pred, p.Confidence = report.Argmax(p.Probs)
	return p, nil
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
