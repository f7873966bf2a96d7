//go:build !noxla && cgo

package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

// XLACompiledIn tells whether this program links GoMLX's XLA backend (go-xla, through cgo); it
// does not when built with -tags noxla or CGO_ENABLED=0.
const XLACompiledIn = true

var mallocOnce sync.Once

// XLA starts go-xla's backend for config: an absolute path to a PJRT plugin, a plugin
// name ("cpu", "cuda") that go-xla looks up in its folders and PJRT_PLUGIN_LIBRARY_PATH, optionally
// followed by go-xla's options (",noshared_buffers"). Automatic installation is off, so a missing
// plugin is an error instead of a download (and, without internet, a panic); a panic inside go-xla
// is turned into an error too. A plugin given by its path must pass [CheckPJRTPlugin] first: a
// truncated one would kill the process with SIGBUS as it loads. It returns the backend and a short
// description of it with the plugin's file name, not its folder:
// "XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115)".
func XLA(config string) (b compute.Backend, desc string, err error) {
	if path, _, _ := strings.Cut(config, ","); filepath.IsAbs(path) {
		if err := CheckPJRTPlugin(path); err != nil {
			return nil, "", err
		}
	}
	xla.EnableAutoInstall(false)
	mallocOnce.Do(keepFreedBuffers)
	// Child processes built with go-xla (GoNB cells, benchmarks) must not download either.
	_ = os.Setenv(xla.NoAutoInstallEnv, "1")
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				b, desc, err = nil, "", fmt.Errorf("go-xla panicked: %w", e)
			} else {
				b, desc, err = nil, "", fmt.Errorf("go-xla panicked: %v", r)
			}
		}
	}()
	xb, err := xla.NewWithOptions(config, nil)
	if err != nil {
		return nil, "", err
	}
	device := ""
	switch {
	case xb.IsCPU():
		device = "cpu"
	case xb.IsCUDA():
		device = "cuda"
	}
	plugin, version := xb.PluginName(), ""
	if p, err := pjrt.GetPlugin(xb.PluginName()); err == nil { // already loaded: a lookup
		major, minor := p.Version()
		version = fmt.Sprintf("%d.%d", major, minor)
		if filepath.IsAbs(p.Path()) {
			plugin = p.Path()
		}
	}
	return xb, xlaDescription(device, plugin, version), nil
}
