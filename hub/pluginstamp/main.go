// Command pluginstamp checks a PJRT plugin against its manifest as the backend does and leaves the
// stamp (PLUGIN.verified) beside it, so that kernels of users who cannot write that folder (the
// hub's shared read-only /opt/cifarlab/pjrt) skip hashing the plugin on every cell. hub/setup.sh
// runs it as root after copying the plugin.
package main

import (
	"fmt"
	"os"

	"github.com/cifarlab/cifarlab/backend"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pluginstamp PLUGIN.so")
		os.Exit(2)
	}
	if err := backend.CheckPJRTPlugin(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "pluginstamp:", err)
		os.Exit(1)
	}
}
