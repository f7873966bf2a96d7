package lab

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/backend"
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/settings"
)

// The environment variables of the labs. cifar.EnvDataDir (CIFAR10_DIR) and backend.Env
// (GOMLX_BACKEND) are read here too.
const (
	// EnvQuick turns on quick mode: notebooks then train on a subset for a few epochs (see
	// QuickEpochs), whatever their settings cell says. The notebook runner (nbrun -quick), the
	// browser and hub tests and CI set it; students never need it.
	EnvQuick = "CIFARLAB_QUICK"
	// EnvRetrain makes Fit train again even when a finished run is saved (and replace it).
	EnvRetrain = "CIFARLAB_RETRAIN"
	// EnvRunsDir overrides the folder of memoized training runs.
	EnvRunsDir = "CIFARLAB_RUNS_DIR"
)

// Settings are the labs' settings, as the environment gives them.
type Settings struct {
	// Quick is quick mode (CIFARLAB_QUICK): a subset of the images and a few epochs.
	Quick bool
	// Retrain makes Fit train even when a finished run is saved (CIFARLAB_RETRAIN).
	Retrain bool
	// RunsDir is the folder of memoized training runs: CIFARLAB_RUNS_DIR, else "runs" in the
	// per-user cache folder ("runs-quick" in quick mode, so that quick runs never stand in for
	// full ones).
	RunsDir string
	// DataDir is the CIFAR-10 folder (CIFAR10_DIR); "" means the per-user cache, downloading the
	// official archive there when it is missing (see cifar.Load).
	DataDir string
	// Backend is GOMLX_BACKEND as given; "" means XLA when its plugin is installed, else pure Go
	// (see backend.New).
	Backend string
}

// ReadSettings reads the settings from the environment. The boolean ones take 1, true, yes or on,
// and 0, false, no, off or nothing; any other value is an error naming the variable, so that a typo
// never turns a full run into a quick one or the reverse.
func ReadSettings() (Settings, error) {
	quick, err := settings.Bool(EnvQuick)
	if err != nil {
		return Settings{}, fmt.Errorf("lab: %w", err)
	}
	retrain, err := settings.Bool(EnvRetrain)
	if err != nil {
		return Settings{}, fmt.Errorf("lab: %w", err)
	}
	s := Settings{Quick: quick, Retrain: retrain, RunsDir: os.Getenv(EnvRunsDir),
		DataDir: os.Getenv(cifar.EnvDataDir), Backend: os.Getenv(backend.Env)}
	if s.RunsDir == "" {
		base, err := cifar.DefaultCacheDir()
		if err != nil {
			base = filepath.Join(os.TempDir(), "cifarlab")
		}
		s.RunsDir = filepath.Join(base, map[bool]string{false: "runs", true: "runs-quick"}[quick])
	}
	return s, nil
}

// Quick mode's limits: what CIFARLAB_QUICK=1 (the test runner's switch, never the student's) cuts
// the notebooks' data and epochs to, whatever their settings cell says, so that every notebook
// runs in seconds in the tests. LoadData and Fit apply them and say so.
const (
	QuickTrainImages = 2000 // training images at most (the first ones)
	QuickTestImages  = 500  // test images at most (the first ones)
	QuickEpochs      = 3    // epochs at most
)
