package lab

import (
	"github.com/cifarlab/cifarlab/backend"
	"github.com/cifarlab/cifarlab/keras"
)

// UseBackend starts the backend of this process (package backend: XLA on the CPU when its plugin is
// installed, else pure Go; GOMLX_BACKEND chooses another) and makes it keras's default, so that
// every model trains on it. It returns the backend's one-line description. Fit calls it; programs
// that use keras directly (the benchmarks) call it first.
func UseBackend() (string, error) {
	b, info, err := backend.Default()
	if err != nil {
		return "", err
	}
	keras.SetDefaultBackend(b)
	return info, nil
}
