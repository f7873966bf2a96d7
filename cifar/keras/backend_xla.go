//go:build xla

package keras

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// xlaCompiledIn tells that this program links GoMLX's XLA backend (built with -tags xla).
const xlaCompiledIn = true

// newXLABackend starts GoMLX's XLA backend for config ("xla", "xla:cpu", "xla:cuda", a plugin
// path) with plugin auto-installation off, so that a missing plugin is an error instead of a
// download (and, without internet, a panic). A panic inside GoMLX is turned into an error too.
func newXLABackend(config string) (b backends.Backend, err error) {
	xla.EnableAutoInstall(false)
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("but it could not start: %v", r)
		}
	}()
	b, err = backends.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("but it could not start: %w", err)
	}
	return b, nil
}
