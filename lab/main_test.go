package lab

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the tests on the labs' backend (UseBackend: XLA on the CPU when its plugin is
// installed, else pure Go), also the tests that train a preset's model without Train.
func TestMain(m *testing.M) {
	if _, err := UseBackend(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
