//go:build !xla

package keras

import (
	"errors"

	"github.com/gomlx/gomlx/backends"
)

// xlaCompiledIn tells that this program links GoMLX's XLA backend; build with -tags xla for it.
const xlaCompiledIn = false

// newXLABackend reports that XLA is not part of this build.
func newXLABackend(string) (backends.Backend, error) {
	return nil, errors.New("which is not compiled into this program (build with -tags xla)")
}
