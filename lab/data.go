package lab

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/plots"
	"github.com/cifarlab/cifarlab/report"
)

// LoadData loads CIFAR-10 like keras.datasets.cifar10.load_data() (see cifar.Load) from the data
// folder of the settings. After the first load, the flat cache gives the data back in
// milliseconds, so every cell that needs the images calls it, and such a quick load prints
// nothing; a load that takes longer than half a second (a download, the first decoding) prints its
// progress. Dataset.Source says where the data came from, in one line.
//
// In quick mode (CIFARLAB_QUICK, the test runner's) the splits hold only the first
// QuickTrainImages training and QuickTestImages test images (Fit says so when it trains).
//
// An interrupt (GoNB's stop button sends SIGINT to the cell, a terminal's ctrl-C, SIGTERM) stops
// the load after it removed what it was writing (a partial download, a flat cache being written);
// the signal then ends the program as usual. Like every function of lab, LoadData stops the cell
// with a one-line error when it fails (see Check).
func LoadData() *cifar.Dataset {
	progress := newLateWriter(os.Stdout, progressDelay)
	defer progress.stop()
	return Must(loadData(cifar.Options{Progress: progress}))
}

// progressDelay is how long a load may take before LoadData shows its progress.
const progressDelay = 500 * time.Millisecond

// lateWriter holds back what is written to it until delay has passed since it was made, then
// writes that and everything after it through to w: quick work prints nothing, long work all its
// progress. stop ends it, dropping what is still held back.
type lateWriter struct {
	mu      sync.Mutex
	w       io.Writer
	held    bytes.Buffer
	through bool // the delay has passed: writes go to w
	stopped bool
	timer   *time.Timer
}

func newLateWriter(w io.Writer, delay time.Duration) *lateWriter {
	l := &lateWriter{w: w}
	l.timer = time.AfterFunc(delay, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.stopped {
			l.through = true
			_, _ = l.w.Write(l.held.Bytes())
			l.held.Reset()
		}
	})
	return l
}

// Write implements io.Writer.
func (l *lateWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.stopped:
		return len(p), nil
	case l.through:
		return l.w.Write(p)
	}
	return l.held.Write(p)
}

// stop drops what is held back and discards later writes.
func (l *lateWriter) stop() {
	l.timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	l.held.Reset()
}

// loadData loads the dataset from CIFAR10_DIR, else the per-user cache (cifar.Load reads the
// variable itself, so that what it prints names it rather than its value); tests give a local
// download server.
func loadData(opts cifar.Options) (*cifar.Dataset, error) {
	s, err := ReadSettings()
	if err != nil {
		return nil, err
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	var ds *cifar.Dataset
	err = scratch.Interruptible(context.Background(), func(ctx context.Context) error {
		var err error
		ds, err = cifar.Load(ctx, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.Quick {
		ds.Train, ds.Test = ds.Train.Head(QuickTrainImages), ds.Test.Head(QuickTestImages)
	}
	return ds, nil
}

// Images returns the images of s as a model input of shape [N,32,32,3] with values in [0,1]
// (pixel/255, like the lab's x.astype('float32') / 255). The pixels are shared, not copied: they
// are normalised batch by batch as they are fed to the model, so that the 50,000 training images
// take 147 MiB instead of 586 MiB of float32.
func Images(s *cifar.Split) keras.Array {
	return keras.NewPixelArray(s.Images, s.Len(), cifar.Height, cifar.Width, cifar.Channels)
}

// labelsFor returns the labels of s as a model with loss takes them: class ids for sparse
// categorical cross-entropy, one-hot rows otherwise.
func labelsFor(s *cifar.Split, loss keras.Loss) keras.Labels {
	if loss.Sparse() {
		return keras.Classes(s.Labels)
	}
	return keras.OneHot(s.OneHot(), cifar.NumClasses)
}

// curves converts a training History into the input of plots.TrainingCurves.
func curves(h *keras.History) plots.History {
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

// layers returns the model's Dense layers as the input of report.NewWeightStats and
// plots.WeightHistograms.
func layers(m *keras.Model) ([]report.Layer, error) {
	weights, err := m.Weights()
	if err != nil {
		return nil, err
	}
	out := make([]report.Layer, 0, len(weights))
	for _, w := range weights {
		if w.Others == nil { // BatchNormalization's weights are not a kernel and biases
			out = append(out, report.Layer{Name: w.Name, Kernel: w.Kernel, Bias: w.Bias})
		}
	}
	return out, nil
}
