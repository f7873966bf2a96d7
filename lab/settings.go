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
	// EnvQuick turns on quick mode: notebooks then train on a subset for a few epochs. The notebook
	// runner (nbrun -quick) and CI set it.
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

// mustSettings is ReadSettings for the helpers that cannot return an error (Pick, Quick); a bad
// value stops the cell, saying why.
func mustSettings() Settings {
	s, err := ReadSettings()
	Check(err)
	return s
}

// Quick reports whether quick mode is on (see Settings.Quick). It stops the cell on a value of
// CIFARLAB_QUICK it does not understand, instead of training in the wrong mode.
func Quick() bool { return mustSettings().Quick }

// Pick returns full normally and quick in quick mode; notebooks use it in their hyperparameter
// cell: Epochs = lab.Pick(50, 2).
func Pick[T any](full, quick T) T {
	if Quick() {
		return quick
	}
	return full
}
