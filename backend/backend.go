// Package backend starts the GoMLX backend that cifarlab trains on: XLA on the CPU with the PJRT
// plugin that kernel-setup/setup.sh installs, or GoMLX's pure-Go backend when XLA cannot run, with
// one line saying which and why. It never downloads a plugin. It reads GOMLX_BACKEND (GoMLX's own
// choice of backend) and CIFARLAB_PJRT_PLUGIN; package keras knows neither and takes the backend it
// is given (keras.SetDefaultBackend, Model.SetBackend). The lab package and the benchmarks call
// [Default] and hand the backend to keras.
package backend

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// BackendEnv is the environment variable GoMLX uses to choose a backend: "xla" (XLA on the CPU,
// with the PJRT plugin that kernel-setup/setup.sh installs), "xla:cuda" or "xla:/abs/plugin.so"
// (XLA with another PJRT plugin), "go" or "go:<config>" (GoMLX's pure-Go backend). Unset, XLA runs
// when its CPU plugin is installed, the pure-Go backend otherwise.
const BackendEnv = "GOMLX_BACKEND"

// PJRTPluginEnv names the PJRT CPU plugin (an absolute path to its .so) that the XLA backend
// loads, instead of the one in [DefaultPJRTPluginPath].
const PJRTPluginEnv = "CIFARLAB_PJRT_PLUGIN"

// pjrtPluginFile is the plugin's file name: go-xla names a plugin after its file,
// pjrt_c_api_<name>_plugin.so, and a plugin named "cpu" gets the CPU's shared buffers.
const pjrtPluginFile = "pjrt_c_api_cpu_plugin.so"

// DefaultPJRTPluginPath returns where kernel-setup/setup.sh installs XLA's PJRT CPU plugin:
// $XDG_DATA_HOME/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so (XDG_DATA_HOME defaults to
// ~/.local/share). It returns "" when neither XDG_DATA_HOME nor the home folder is known.
func DefaultPJRTPluginPath() string {
	data := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(data) {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return ""
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "cifarlab", "pjrt", pjrtPluginFile)
}

// PJRTPluginPath returns the PJRT CPU plugin this program would load: CIFARLAB_PJRT_PLUGIN when
// set, else [DefaultPJRTPluginPath]. The error says why there is none (not installed, not an
// absolute path, not a file), in words a user can act on.
func PJRTPluginPath() (string, error) {
	path, from := os.Getenv(PJRTPluginEnv), PJRTPluginEnv
	if path == "" {
		path, from = DefaultPJRTPluginPath(), "the default location"
		if path == "" {
			return "", errors.New("no home folder to find XLA's PJRT CPU plugin in (set " + PJRTPluginEnv + ")")
		}
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%s=%q is not an absolute path", PJRTPluginEnv, path)
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("XLA's PJRT CPU plugin is not installed at %s (%s; kernel-setup/setup.sh installs it)", path, from)
	case err != nil:
		return "", fmt.Errorf("XLA's PJRT CPU plugin: %w", err)
	case info.IsDir():
		return "", fmt.Errorf("XLA's PJRT CPU plugin %s is a folder, not a file", path)
	}
	return path, nil
}

var (
	backendOnce  sync.Once
	backendValue compute.Backend
	backendInfo  string
	backendErr   error
)

// Default returns the backend for this process, creating it on first use from GOMLX_BACKEND (see
// New), and a one-line description of it (which backend, with which plugin or configuration, and
// why). Later calls return the same backend.
//
// XLA runs when this program links it (the default; the build tag noxla or CGO_ENABLED=0 leave it
// out) and its PJRT CPU plugin is installed ([PJRTPluginPath]), or when GOMLX_BACKEND asks for it.
// go-xla's automatic download of plugins is always off: a missing plugin means the pure-Go backend,
// never a network access. When XLA cannot start, the pure-Go backend runs and the description says
// why.
func Default() (compute.Backend, string, error) {
	backendOnce.Do(func() {
		backendValue, backendInfo, backendErr = New(os.Getenv(BackendEnv))
	})
	return backendValue, backendInfo, backendErr
}

// New creates a backend for a value of GOMLX_BACKEND: "" (XLA on the CPU when its plugin is
// installed and XLA is compiled in, else pure Go), "xla", "xla:cuda", "xla:/abs/plugin.so", "go",
// "go:<config>". A backend that cannot start falls back to pure Go, and the description says why;
// the error is only for a pure-Go backend that cannot start either.
func New(env string) (compute.Backend, string, error) {
	env = strings.TrimSpace(env)
	name, config, _ := strings.Cut(env, ":")
	var note string
	switch {
	case name == "" || (isXLAName(name) && (config == "" || config == "cpu")):
		plugin, err := PJRTPluginPath()
		if err != nil {
			if name == "" {
				note = oneLine(err)
				break
			}
			// GOMLX_BACKEND asks for XLA: let go-xla search its own folders (no download).
			plugin = "cpu"
		}
		if !XLACompiledIn {
			note = "XLA is not compiled into this program (built with -tags noxla or without cgo)"
			if name != "" {
				note = fmt.Sprintf("%s=%q asks for XLA, which is not compiled into this program (built with -tags noxla or without cgo)", BackendEnv, env)
			}
			break
		}
		b, desc, err := XLA(plugin)
		if err == nil {
			return b, "cifarlab: using GoMLX backend \"xla\" (" + desc + ")", nil
		}
		note = "XLA could not start: " + oneLine(err)
		if name != "" {
			note = fmt.Sprintf("%s=%q asks for XLA, which could not start: %s", BackendEnv, env, oneLine(err))
		}
	case isXLAName(name):
		if !XLACompiledIn {
			note = fmt.Sprintf("%s=%q asks for XLA, which is not compiled into this program (built with -tags noxla or without cgo)", BackendEnv, env)
			break
		}
		b, desc, err := XLA(config)
		if err == nil {
			return b, fmt.Sprintf("cifarlab: using GoMLX backend \"xla\" (%s; %s=%q)", desc, BackendEnv, env), nil
		}
		note = fmt.Sprintf("%s=%q asks for XLA, which could not start: %s", BackendEnv, env, oneLine(err))
	case name == gobackend.BackendName:
		b, err := gobackend.New(config)
		if err == nil {
			return b, goBackendInfo(config, fmt.Sprintf("%s=%q", BackendEnv, env)), nil
		}
		note = fmt.Sprintf("%s=%q is not a valid Go backend configuration: %s", BackendEnv, env, oneLine(err))
	default:
		note = fmt.Sprintf("%s=%q asks for backend %q, which is not compiled into this program", BackendEnv, env, name)
	}
	b, err := gobackend.New("")
	if err != nil {
		return nil, "", fmt.Errorf("backend: creating GoMLX's Go backend: %w", err)
	}
	return b, goBackendInfo("", note), nil
}

// isXLAName reports whether a GOMLX_BACKEND name selects go-xla's backend (it registers these
// aliases).
func isXLAName(name string) bool {
	switch name {
	case "xla", "stablehlo", "shlo", "hlo", "pjrt":
		return true
	}
	return false
}

// goBackendInfo describes the pure-Go backend with its configuration, whether its SIMD matrix
// products are compiled in, and why it runs.
func goBackendInfo(config, why string) string {
	desc := "pure Go, " + simdInfo
	if config != "" {
		desc += fmt.Sprintf(", config %q", config)
	}
	if why != "" {
		desc += "; " + why
	}
	return fmt.Sprintf("cifarlab: using GoMLX backend %q (%s)", gobackend.BackendName, desc)
}

// oneLine flattens an error message onto one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// BackendLineFile is the file, in the GoNB kernel's temporary folder, that remembers the backend
// line already printed in this notebook: every GoNB cell is a new process, and the line is worth
// reading once per notebook (and again when it changes), not once per cell.
const BackendLineFile = "cifarlab-backend.txt"

var backendPrinted sync.Once

// PrintOnce prints the backend's description to w the first time it is called in this process,
// unless this GoNB kernel (GONB_TMP_DIR) already printed the same line.
func PrintOnce(w io.Writer, info string) {
	backendPrinted.Do(func() { printOnceTo(w, info) })
}

// printOnceTo prints info to w unless this GoNB kernel printed the same line before.
func printOnceTo(w io.Writer, info string) {
	if w == nil {
		return
	}
	if dir := os.Getenv("GONB_TMP_DIR"); dir != "" {
		marker := filepath.Join(dir, BackendLineFile)
		if old, err := os.ReadFile(marker); err == nil && string(old) == info {
			return
		}
		_ = os.WriteFile(marker, []byte(info), 0o644) // best effort: at worst the line repeats
	}
	fmt.Fprintln(w, info)
}
