package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/cifarlab/cifarlab/backend"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
	"github.com/cifarlab/cifarlab/plots"
	"github.com/cifarlab/cifarlab/report"
)

// Run is a trained Experiment: the model with its trained weights, the History, and the images it
// was trained and is tested on.
type Run struct {
	Experiment Experiment
	Model      *keras.Model
	History    *keras.History
	Key        string       // the memoized run's key (see keras/runs)
	Dir        string       // the memoized run's folder
	Loaded     bool         // loaded from the runs folder rather than trained now
	Train      *cifar.Split // the training images (with the validation split at their end)
	Test       *cifar.Split // the test images
}

// Train trains the experiment, like model.fit in the lab, printing the epoch lines and drawing the
// training curves live in a notebook (when e.Live and e.Fit.Verbose > 0). A finished run of the same
// experiment on the same data is loaded instead, in about a second, and its epoch lines and
// curves are shown again, unless CIFARLAB_RETRAIN asks to train again (see Settings).
//
// An interrupt (GoNB's stop button, ctrl-C) stops the training between two steps: nothing is saved
// and Train returns an error that says how far it got.
func Train(e Experiment) (*Run, error) { return train(e, false) }

// Trained returns the run that Train made of the experiment, loaded quietly from the runs folder,
// for the cells after the training cell. When there is none yet (the training cell has not run
// with these settings), it trains, printing as Train does. It never trains again because of
// CIFARLAB_RETRAIN: that is the training cell's business.
func Trained(e Experiment) (*Run, error) { return train(e, true) }

func train(e Experiment, quiet bool) (*Run, error) {
	s, err := ReadSettings()
	if err != nil {
		return nil, err
	}
	info, err := UseBackend()
	if err != nil {
		return nil, err
	}
	if !quiet && e.Fit.Verbose > 0 {
		backend.PrintOnce(outputOf(e.Fit), info)
	}
	ds, err := loadData(cifar.Options{})
	if err != nil {
		return nil, err
	}
	r := &Run{Experiment: e, Train: head(ds.Train, e.TrainSamples), Test: head(ds.Test, e.TestSamples)}
	if r.Model, err = e.NewModel(); err != nil {
		return nil, err
	}
	cfg := e.Fit
	live := NewLiveCurves(e.Live && cfg.Verbose > 0)
	if e.Live {
		cfg.Callbacks = append(slices.Clone(cfg.Callbacks), live)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	memo, err := runs.Fit(ctx, r.Model, Images(r.Train), LabelsFor(r.Train, e.Compile.Loss), cfg,
		runs.Options{Dir: s.RunsDir, Retrain: s.Retrain && !quiet, Quiet: quiet})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("lab: training interrupted; nothing was saved: %w", err)
		}
		return nil, err
	}
	r.History, r.Key, r.Dir, r.Loaded = memo.History, memo.Key, memo.Dir, memo.Loaded
	if !quiet || !r.Loaded { // a quiet load shows nothing; a training its final curves
		if err := live.Done(r.History); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// outputOf is where a Fit with cfg prints.
func outputOf(cfg keras.FitConfig) io.Writer {
	if cfg.Output != nil {
		return cfg.Output
	}
	return os.Stdout
}

// head returns the first n images of s, or all of them when n is 0.
func head(s *cifar.Split, n int) *cifar.Split {
	if n <= 0 || n >= s.Len() {
		return s
	}
	return s.Head(n)
}

// evalBatchSize is the batch size of Evaluate and predictions (the results do not depend on it).
const evalBatchSize = 256

// Evaluate returns the test loss and accuracy of the trained model, like model.evaluate(x_test,
// y_test) in the lab.
func (r *Run) Evaluate() (loss, accuracy float64, err error) {
	return r.Model.Evaluate(Images(r.Test), LabelsFor(r.Test, r.Experiment.Compile.Loss), evalBatchSize)
}

// Curves returns the run's training curves for plots.TrainingCurves.
func (r *Run) Curves() plots.History { return Curves(r.History) }

// Layers returns the trained model's Dense layers for report.NewWeightStats and
// plots.WeightHistograms.
func (r *Run) Layers() ([]report.Layer, error) { return Layers(r.Model) }

// Summary describes the training in a few lines: epochs run, early stop, best epoch, learning
// rate reductions and the gap between training and validation accuracy in the last epoch.
func (r *Run) Summary() string {
	h := r.History
	if h == nil || len(h.Epochs) == 0 {
		return "no epochs\n"
	}
	var b []byte
	printf := func(format string, args ...any) { b = fmt.Appendf(b, format, args...) }
	best, last := h.Epoch(max(h.BestEpoch, 1)), h.Last()
	total := 0.0
	for _, e := range h.Epochs {
		total += e.Seconds
	}
	printf("Epochs run: %d of %d in %.0f s\n", len(h.Epochs), h.EpochsRequested, total)
	if h.StoppedEpoch > 0 {
		printf("Early stopping ended training at epoch %d\n", h.StoppedEpoch)
	}
	printf("Best epoch: %d (val_loss %.4f, val_accuracy %.4f)\n", h.BestEpoch, best.ValLoss, best.ValAccuracy)
	for i := 1; i < len(h.Epochs); i++ {
		if h.Epochs[i].LearningRate < h.Epochs[i-1].LearningRate {
			printf("Learning rate reduced to %.6g before epoch %d\n", float32(h.Epochs[i].LearningRate), i+1)
		}
	}
	printf("Last epoch: accuracy %.4f, val_accuracy %.4f (gap %.4f)\n", last.Accuracy, last.ValAccuracy, last.Accuracy-last.ValAccuracy)
	return string(b)
}
