package lab

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/cifarlab/cifarlab/cifar/cifartest"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/internal/testutil"
	"github.com/cifarlab/cifarlab/keras"
)

// TestLoadDataHelperProcess is not a test: TestLoadDataInterrupted runs it as a helper process
// that loads the data into an empty cache from a local server.
func TestLoadDataHelperProcess(t *testing.T) {
	url := os.Getenv("LAB_TEST_URL")
	if url == "" {
		t.Skip("helper process only")
	}
	a := cifar.Archive{URL: url, Size: 1 << 20, SHA256: strings.Repeat("0", 64), Root: cifar.PythonFolder}
	_, err := loadData(cifar.Options{Archive: a})
	fmt.Println("returned:", err)
	os.Exit(0)
}

// An interrupt during LoadData (GoNB's stop button sends SIGINT) removes the partial download,
// then ends the cell's program with the signal.
func TestLoadDataInterrupted(t *testing.T) {
	url, started := testutil.StallingArchiveServer(t)
	cache := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadDataHelperProcess$")
	cmd.Env = append(os.Environ(), "LAB_TEST_URL="+url, cifar.EnvCacheDir+"="+cache, cifar.EnvDataDir+"=")
	testutil.InterruptDownload(t, cmd, started, cache, syscall.SIGINT)
}

// trainCell is a helper process's training cell: it trains a tiny experiment (on the synthetic
// files the parent test names in CIFAR10_DIR) for the given epochs and batch size, printing the
// epoch lines, then the error that Fit stops the cell with, and exits.
func trainCell(epochs, batchSize int) {
	e := presets.Experiment{
		Model: keras.ModelSpec{InputShape: []int{32, 32, 3}, Seed: 5,
			Layers: []keras.LayerSpec{keras.Flatten(), keras.Dense(16, keras.ReLU), keras.Dense(10, keras.Softmax)}},
		Compile:      keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossSparseCategoricalCrossentropy},
		Fit:          keras.FitConfig{Epochs: epochs, BatchSize: batchSize, Verbose: 2},
		TrainSamples: 150,
	}
	_, err := fitExperiment(e, false)
	fmt.Println("returned:", err)
	os.Exit(0)
}

// TestTrainHelperProcess is not a test: TestTrainInterrupted runs it as a helper process that
// trains for many epochs.
func TestTrainHelperProcess(t *testing.T) {
	if os.Getenv("LAB_TEST_TRAIN") == "" {
		t.Skip("helper process only")
	}
	trainCell(100000, 2)
}

// An interrupt during Fit (GoNB's stop button sends SIGINT to the cell; a closed terminal or
// session SIGHUP) stops the training between two steps: Fit returns an error saying so, and no
// run is saved.
func TestTrainInterrupted(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { testTrainInterrupted(t, sig) })
	}
}

func testTrainInterrupted(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	if err := cifartest.WriteBinary(dir, cifartest.Options{TrainPerBatch: 40, Test: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	runsDir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainHelperProcess$")
	cmd.Env = append(os.Environ(), "LAB_TEST_TRAIN=1", cifar.EnvDataDir+"="+dir, cifar.EnvCacheDir+"="+t.TempDir(),
		EnvRunsDir+"="+runsDir, EnvQuick+"=", EnvRetrain+"=")
	lines := testutil.StartLines(t, cmd)
	var returned string
	for line := range lines {
		if strings.HasPrefix(line, "Epoch 3/") {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
		}
		if strings.HasPrefix(line, "returned:") {
			returned = line
		}
	}
	if !regexp.MustCompile(`training interrupted after [23] of 100000 epochs; nothing was saved`).MatchString(returned) || !strings.Contains(returned, "context canceled") {
		t.Fatalf("helper said %q, want the interrupted training reported", returned)
	}
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left in the runs folder", e.Name())
	}
}

// TestFallbackHelperProcess is not a test: TestEveryTrainingCellSaysItFellBack runs it as one
// training cell of a GoNB kernel.
func TestFallbackHelperProcess(t *testing.T) {
	if os.Getenv("LAB_TEST_FALLBACK") == "" {
		t.Skip("helper process only")
	}
	trainCell(1, 50)
}

// A mistyped GOMLX_BACKEND runs the (slower) pure-Go backend: every training cell of the kernel
// says so with the reason, not only the first one.
func TestEveryTrainingCellSaysItFellBack(t *testing.T) {
	dir := t.TempDir()
	if err := cifartest.WriteBinary(dir, cifartest.Options{TrainPerBatch: 40, Test: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	kernel := t.TempDir() // GONB_TMP_DIR: what the cells of one kernel share
	for cell := 1; cell <= 2; cell++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFallbackHelperProcess$")
		cmd.Env = append(os.Environ(), "LAB_TEST_FALLBACK=1", cifar.EnvDataDir+"="+dir, cifar.EnvCacheDir+"="+t.TempDir(),
			EnvRunsDir+"="+t.TempDir(), EnvQuick+"=", EnvRetrain+"=", "GONB_TMP_DIR="+kernel, "GOMLX_BACKEND=xal")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cell %d: %v\n%s", cell, err, out)
		}
		if !strings.Contains(string(out), "returned: <nil>") {
			t.Fatalf("cell %d did not train:\n%s", cell, out)
		}
		if testing.Verbose() {
			t.Logf("cell %d:\n%s", cell, out)
		}
		if !strings.Contains(string(out), `"xal"`) || !strings.Contains(strings.ToLower(string(out)), "pure") {
			t.Errorf("training cell %d does not say it fell back to pure Go because of GOMLX_BACKEND=xal:\n%s", cell, out)
		}
	}
}
