package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/cifarlab/cifarlab/backend"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
	"github.com/cifarlab/cifarlab/plots"
	"github.com/cifarlab/cifarlab/report"
)

// TrainedModel is a model that Fit trained, or Trained loaded: the model with its trained
// weights, its training History, the memoized run it came from (its key and folder, and whether it
// was loaded rather than trained now), and the images it was trained on. The evaluation cells of
// a notebook get one from the helper that the training cell declares.
type TrainedModel struct {
	Model       *keras.Model
	History     *keras.History
	Run         *runs.Run
	TrainImages *cifar.Split // with the validation split at their end
}

// Fit trains a compiled model on the training images, like model.fit(x_train, y_train, ...) in
// the lab: the images as float32 pixel/255 and the labels as the model's loss wants them (class
// ids for sparse categorical cross-entropy, one-hot rows otherwise). With cfg.Verbose > 0 it prints
// Keras's epoch lines and, in a notebook, draws the training curves live (see LiveCurves), ending
// with the final chart.
//
// The run is memoized: when the same model (architecture and initial weights), compile and fit
// settings and images were trained before, the saved run is loaded into the model instead, in
// about a second, and its epoch lines and curves are shown again, unless CIFARLAB_RETRAIN asks to
// train again (see Settings). Editing a layer, a rate or an argument makes a new run.
//
// In quick mode (CIFARLAB_QUICK, the test runner's) it trains at most QuickEpochs epochs, and says
// so. An interrupt (GoNB's stop button, ctrl-C) stops the training between two steps: nothing is
// saved. Like every function of lab, Fit stops the cell with a one-line error when it fails (see
// Check).
func Fit(model *keras.Model, train *cifar.Split, cfg keras.FitConfig) *TrainedModel {
	return Must(fit(model, train, cfg, false))
}

// Trained returns the model that Fit trained with the same model, images and settings, loaded
// quietly from its saved run: the training cell declares a helper that calls Trained with its own
// arguments, and the cells after it use that. It never trains. When that run does not exist (the
// training cell has not run with these settings, or was stopped), it stops the cell saying to run
// the training cell first.
func Trained(model *keras.Model, train *cifar.Split, cfg keras.FitConfig) *TrainedModel {
	return Must(fit(model, train, cfg, true))
}

// errNotCompiled is the error of Fit and FindLearningRate on a model that was not compiled.
var errNotCompiled = errors.New("lab: the model is not compiled; call model.Compile first")

// ErrNotTrained is wrapped by the error that stops Trained when the run it asks for has not been
// trained.
var ErrNotTrained = runs.ErrNotTrained

// fit is Fit (loadOnly false) and Trained (loadOnly true), returning its error.
func fit(model *keras.Model, train *cifar.Split, cfg keras.FitConfig, loadOnly bool) (*TrainedModel, error) {
	if model == nil || train == nil {
		return nil, errors.New("lab: Fit needs a model and training images (got nil)")
	}
	s, err := ReadSettings()
	if err != nil {
		return nil, err
	}
	if _, err := UseBackend(); err != nil {
		return nil, err
	}
	if s.Quick && cfg.Epochs > QuickEpochs {
		if !loadOnly && cfg.Verbose > 0 {
			fmt.Fprintf(outputOf(cfg), "Quick mode (%s=1, set by the test runner): %d epochs instead of %d, on at most %d training images\n",
				EnvQuick, QuickEpochs, cfg.Epochs, QuickTrainImages)
		}
		cfg.Epochs = QuickEpochs
	}
	if !loadOnly && cfg.Verbose > 0 {
		// Once per kernel; in every training cell when it fell back to pure Go, with the reason.
		backend.PrintForTraining(outputOf(cfg))
	}
	compiled, ok := model.CompileConfig()
	if !ok {
		return nil, errNotCompiled
	}
	// The live chart only watches: an observer, which is not part of the run's key.
	live := NewLiveCurves(cfg.Verbose > 0 && !loadOnly)
	cfg.Observers = append(slices.Clone(cfg.Observers), live)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	memo, err := runs.FitOrLoad(ctx, model, Images(train), labelsFor(train, compiled.Loss), cfg,
		runs.Options{Dir: s.RunsDir, Retrain: s.Retrain && !loadOnly, Quiet: loadOnly, LoadOnly: loadOnly,
			FallbackDir: fallbackRunsDir()})
	switch {
	case errors.Is(err, runs.ErrNotTrained):
		return nil, fmt.Errorf("lab: this model has not been trained with these settings on these images yet: run the training cell (lab.Fit) first (%w)", err)
	case errors.Is(err, context.Canceled):
		done := 0
		if memo != nil && memo.History != nil {
			done = len(memo.History.Epochs)
		}
		err := fmt.Errorf("lab: training interrupted after %d of %d epochs; nothing was saved (%w)", done, cfg.Epochs, context.Canceled)
		var h *keras.History
		if memo != nil {
			h = memo.History
		}
		live.Stopped(h, err.Error())
		return nil, err
	case err != nil:
		return nil, err
	}
	r := &TrainedModel{Model: model, History: memo.History, Run: memo, TrainImages: train}
	if ctx.Err() != nil && !loadOnly {
		// The interrupt came while the run was saved (or loaded): it is complete on disk.
		return nil, fmt.Errorf("lab: interrupted after the run was saved in full (%d epochs, run %s); the cells after this one load it (%w)",
			len(r.History.Epochs), r.Run.Key, context.Canceled)
	}
	if !loadOnly {
		if err := live.Done(r.History); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// fallbackRunsDir is where a trained run goes when the runs folder cannot take it (a full disk):
// a folder of this user's in the system's temporary folder, usually another file system.
func fallbackRunsDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("cifarlab-runs-%d", os.Getuid()))
}

// outputOf is where a Fit with cfg prints.
func outputOf(cfg keras.FitConfig) io.Writer {
	if cfg.Output != nil {
		return cfg.Output
	}
	return os.Stdout
}

// evalBatchSize is the batch size of Evaluate and predictions (the results do not depend on it).
const evalBatchSize = 256

// Evaluate returns the loss and accuracy of the trained model on the test images, like
// model.evaluate(x_test, y_test) in the lab.
func (r *TrainedModel) Evaluate(test *cifar.Split) (loss, accuracy float64) {
	return Must2(r.evaluate(test))
}

func (r *TrainedModel) evaluate(test *cifar.Split) (loss, accuracy float64, err error) {
	compiled, _ := r.Model.CompileConfig()
	return r.Model.Evaluate(Images(test), labelsFor(test, compiled.Loss), evalBatchSize)
}

// Curves returns the training curves for plots.TrainingCurves.
func (r *TrainedModel) Curves() plots.History { return curves(r.History) }

// Layers returns the trained model's Dense layers for report.NewWeightStats and
// plots.WeightHistograms.
func (r *TrainedModel) Layers() []report.Layer { return Must(layers(r.Model)) }

// Convergence describes the training in a few lines: epochs run, early stop, best epoch, learning
// rate reductions and the gap between training and validation accuracy in the last epoch.
func (r *TrainedModel) Convergence() string {
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
