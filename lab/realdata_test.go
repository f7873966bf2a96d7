package lab_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/keras"
)

// loadCIFAR loads CIFAR-10 from CIFAR10_DIR, skipping the test when it is not set.
func loadCIFAR(t *testing.T) (train, test *cifar.Split) {
	dir := os.Getenv(cifar.EnvDataDir)
	if dir == "" {
		t.Skipf("%s is not set", cifar.EnvDataDir)
	}
	ds, err := cifar.Load(context.Background(), cifar.Options{Dir: dir, NoFlatCache: true})
	if err != nil {
		t.Fatal(err)
	}
	return ds.Train, ds.Test
}

// TestExercise2RealData trains exercise 2's model for 3 epochs on the first 5,000 CIFAR-10
// training images, as the exercise does, and checks that it clearly beats chance (10%) on the
// first 1,000 test images. It runs only when CIFAR10_DIR points at the data.
func TestExercise2RealData(t *testing.T) {
	fullTrain, fullTest := loadCIFAR(t)
	train, test := fullTrain.Head(5000), fullTest.Head(1000)
	m, err := presets.Exercise2().NewModel()
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(testLog{t})
	cfg := presets.Exercise2Fit()
	cfg.Epochs = 3
	hist, err := m.Fit(context.Background(), keras.NewArray(train.Float32(), -1, 32, 32, 3), keras.Classes(train.Labels), cfg)
	if err != nil {
		t.Fatal(err)
	}
	loss, acc, err := m.Evaluate(keras.NewArray(test.Float32(), -1, 32, 32, 3), keras.Classes(test.Labels), 128)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d epochs: val_accuracy %.4f, test loss %.4f, test accuracy %.4f", len(hist.Epochs), hist.Last().ValAccuracy, loss, acc)
	if acc <= 0.25 {
		t.Errorf("test accuracy %.4f, want > 0.25", acc)
	}
}

// TestExercise2ReferenceRun is the whole exercise 2 (up to 50 epochs with early stopping), for
// comparison with the original Keras run (test accuracy 0.3850 after 15 epochs). It takes minutes
// and runs only with CIFARLAB_LONG_TESTS=1 and CIFAR10_DIR set.
func TestExercise2ReferenceRun(t *testing.T) {
	if os.Getenv("CIFARLAB_LONG_TESTS") != "1" {
		t.Skip("CIFARLAB_LONG_TESTS is not 1")
	}
	fullTrain, fullTest := loadCIFAR(t)
	train, test := fullTrain.Head(5000), fullTest.Head(1000)
	m, err := presets.Exercise2().NewModel()
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(testLog{t})
	hist, err := m.Fit(context.Background(), keras.NewArray(train.Float32(), -1, 32, 32, 3), keras.Classes(train.Labels), presets.Exercise2Fit())
	if err != nil {
		t.Fatal(err)
	}
	_, acc, err := m.Evaluate(keras.NewArray(test.Float32(), -1, 32, 32, 3), keras.Classes(test.Labels), 128)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d epochs (best %d): test accuracy %.4f (Keras: 0.3850 after 15 epochs)", len(hist.Epochs), hist.BestEpoch, acc)
	// Epoch to epoch the test accuracy of this small run swings by several points (0.26 to 0.39 was
	// seen), so only a clear failure to learn is an error.
	if acc <= 0.25 {
		t.Errorf("test accuracy %.4f, want > 0.25", acc)
	}
}

// testLog sends the model's output to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestLab3OneEpochRealData trains lab 3's model for one epoch on the 50,000 training images (40,000
// after the validation split, 1,250 steps of 32), with progress lines, and reports the time per
// step. It takes minutes and runs only with CIFARLAB_LONG_TESTS=1 and CIFAR10_DIR set.
func TestLab3OneEpochRealData(t *testing.T) {
	if os.Getenv("CIFARLAB_LONG_TESTS") != "1" {
		t.Skip("CIFARLAB_LONG_TESTS is not 1")
	}
	train, test := loadCIFAR(t)
	m, err := presets.Lab3(keras.ReLU).NewModel()
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(testLog{t})
	cfg := presets.Lab3Fit()
	cfg.Epochs, cfg.Verbose, cfg.ProgressInterval = 1, 1, 30*time.Second
	hist, err := m.Fit(context.Background(), keras.NewArray(train.Float32(), -1, 32, 32, 3), keras.OneHot(train.OneHot(), 10), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, acc, err := m.Evaluate(keras.NewArray(test.Float32(), -1, 32, 32, 3), keras.OneHot(test.OneHot(), 10), 256)
	if err != nil {
		t.Fatal(err)
	}
	e := hist.Last()
	t.Logf("1 epoch: %.0fs (%.0f ms/step incl. validation), val_accuracy %.4f, test accuracy %.4f",
		e.Seconds, 1000*e.Seconds/float64(hist.StepsPerEpoch), e.ValAccuracy, acc)
	if acc <= 0.2 {
		t.Errorf("test accuracy %.4f after one epoch, want > 0.2", acc)
	}
}
