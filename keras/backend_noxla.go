//go:build noxla || !cgo

package keras

import (
	"errors"

	"github.com/gomlx/compute"
)

// xlaCompiledIn tells that this program links GoMLX's XLA backend; it does not when built with
// -tags noxla or CGO_ENABLED=0.
const xlaCompiledIn = false

// newXLABackend reports that XLA is not part of this build.
func newXLABackend(string) (compute.Backend, string, error) {
	return nil, "", errors.New("XLA is not compiled into this program")
}
