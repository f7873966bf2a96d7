package keras

import (
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

var defaultBackend struct {
	sync.Mutex
	b compute.Backend
}

// SetDefaultBackend sets the GoMLX backend that models run on when they have none of their own
// (see Model.SetBackend). It applies to models whose computations are built afterwards (at their
// first Fit, Evaluate or Predict). Without it, keras runs on GoMLX's pure-Go backend.
func SetDefaultBackend(b compute.Backend) {
	defaultBackend.Lock()
	defer defaultBackend.Unlock()
	defaultBackend.b = b
}

// DefaultBackend returns the backend set with SetDefaultBackend, or else GoMLX's pure-Go backend
// (created once and set as the default).
func DefaultBackend() (compute.Backend, error) {
	defaultBackend.Lock()
	defer defaultBackend.Unlock()
	if defaultBackend.b == nil {
		b, err := gobackend.New("")
		if err != nil {
			return nil, errorf("creating GoMLX's pure-Go backend: %w", err)
		}
		defaultBackend.b = b
	}
	return defaultBackend.b, nil
}

// SetBackend makes the model run on b instead of the default backend. It must be called before
// the model's first Fit, Evaluate or Predict, which build its computations on a backend.
func (m *Model) SetBackend(b compute.Backend) error {
	if m.engine != nil {
		return errorf("SetBackend: the model already runs on a backend (call it before Fit, Evaluate and Predict)")
	}
	m.backend = b
	return nil
}
