//go:build noxla || !cgo

package backend

import (
	"errors"

	"github.com/gomlx/compute"
)

// XLACompiledIn tells whether this program links GoMLX's XLA backend (go-xla, through cgo); it
// does not when built with -tags noxla or CGO_ENABLED=0.
const XLACompiledIn = false

// XLA reports that XLA is not part of this build.
func XLA(string) (compute.Backend, string, error) {
	return nil, "", errors.New("XLA is not compiled into this program")
}
