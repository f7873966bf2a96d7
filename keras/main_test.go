package keras

import (
	"fmt"
	"os"
	"testing"

	"github.com/cifarlab/cifarlab/backend"
)

// TestMain runs the tests on the backend the labs use (package backend: XLA on the CPU when its
// plugin is installed, else pure Go; GOMLX_BACKEND=go forces pure Go), saying which on stderr.
func TestMain(m *testing.M) {
	b, info, err := backend.Default()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	SetDefaultBackend(b)
	fmt.Fprintln(os.Stderr, info)
	os.Exit(m.Run())
}
