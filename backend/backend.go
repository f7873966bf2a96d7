// Package backend starts the GoMLX backend that cifarlab trains on: XLA on the CPU with the PJRT
// plugin that kernel-setup/setup.sh installs, or GoMLX's pure-Go backend when XLA cannot run, with
// one line saying which and why. It never downloads a plugin, and never loads one that is cut
// short or damaged ([CheckPJRTPlugin]), which would kill the process with SIGBUS. It reads
// GOMLX_BACKEND (GoMLX's own choice of backend) and CIFARLAB_PJRT_PLUGIN; package keras knows
// neither and takes the backend it is given (keras.SetDefaultBackend, Model.SetBackend). The lab
// package and the benchmarks call [Default] and hand the backend to keras; a training cell prints
// the line with [PrintForTraining], in every cell while a fallback runs ([FallbackReason]).
package backend

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// Env (GOMLX_BACKEND) is the environment variable GoMLX uses to choose a backend: "xla" (XLA on
// the CPU, with the PJRT plugin that kernel-setup/setup.sh installs), "xla:cuda" or
// "xla:/abs/plugin.so" (XLA with another PJRT plugin), "go" or "go:<config>" (GoMLX's pure-Go
// backend). Unset, XLA runs when its CPU plugin is installed, the pure-Go backend otherwise.
const Env = "GOMLX_BACKEND"

// EnvPJRTPlugin names the PJRT CPU plugin (an absolute path to its .so) that the XLA backend
// loads, instead of the one in [DefaultPJRTPluginPath].
const EnvPJRTPlugin = "CIFARLAB_PJRT_PLUGIN"

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
	path, from := os.Getenv(EnvPJRTPlugin), EnvPJRTPlugin
	if path == "" {
		path, from = DefaultPJRTPluginPath(), "the default location"
		if path == "" {
			return "", errors.New("no home folder to find XLA's PJRT CPU plugin in (set " + EnvPJRTPlugin + ")")
		}
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%s=%q is not an absolute path", EnvPJRTPlugin, path)
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
	backendOnce     sync.Once
	backendValue    compute.Backend
	backendInfo     string
	backendFallback string
	backendErr      error
)

// Default returns the backend for this process, creating it on first use from GOMLX_BACKEND (see
// New), and a one-line description of it (which backend, with which plugin or configuration, and
// why). Later calls return the same backend. The line names the plugin by its file name and writes
// the home folder "~", so that a saved notebook does not show the folders of its machine:
//
//	Backend: XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115)
//	Backend: pure Go (SIMD matrix products on (GOEXPERIMENT=simd); XLA's PJRT CPU plugin is not installed at ~/.local/share/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so (the default location; kernel-setup/setup.sh installs it))
//
// XLA runs when this program links it (the default; the build tag noxla or CGO_ENABLED=0 leave it
// out) and its PJRT CPU plugin is installed ([PJRTPluginPath]), or when GOMLX_BACKEND asks for it.
// go-xla's automatic download of plugins is always off: a missing plugin means the pure-Go backend,
// never a network access. When XLA cannot start, the pure-Go backend runs and the description says
// why.
func Default() (compute.Backend, string, error) {
	backendOnce.Do(func() {
		backendValue, backendInfo, backendFallback, backendErr = start(os.Getenv(Env))
	})
	return backendValue, backendInfo, backendErr
}

// FallbackReason returns why this process's backend ([Default], started here if needed) is GoMLX's
// pure-Go backend instead of the one wanted (XLA with its installed plugin, or the one
// GOMLX_BACKEND names), on one line: a missing or damaged PJRT plugin, a build without XLA, an
// unknown GOMLX_BACKEND value. It returns "" when the backend is the one wanted, pure Go included
// when GOMLX_BACKEND=go asks for it.
func FallbackReason() string {
	Default()
	return backendFallback
}

// New creates a backend for a value of GOMLX_BACKEND: "" (XLA on the CPU when its plugin is
// installed and XLA is compiled in, else pure Go), "xla", "xla:cuda", "xla:/abs/plugin.so", "go",
// "go:<config>". A backend that cannot start falls back to pure Go, and the description says why;
// the error is only for a pure-Go backend that cannot start either.
func New(env string) (compute.Backend, string, error) {
	b, info, _, err := start(env)
	return b, info, err
}

// start is [New], returning also why the pure-Go backend runs instead of the one wanted ("" when
// it is the one wanted).
func start(env string) (b compute.Backend, info, fallback string, err error) {
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
				note = fmt.Sprintf("%s=%q asks for XLA, which is not compiled into this program (built with -tags noxla or without cgo)", Env, env)
			}
			break
		}
		b, desc, err := XLA(plugin)
		if err == nil {
			return b, linePrefix + desc, "", nil
		}
		note = "XLA could not start: " + oneLine(err)
		if name != "" {
			note = fmt.Sprintf("%s=%q asks for XLA, which could not start: %s", Env, env, oneLine(err))
		}
	case isXLAName(name):
		if !XLACompiledIn {
			note = fmt.Sprintf("%s=%q asks for XLA, which is not compiled into this program (built with -tags noxla or without cgo)", Env, env)
			break
		}
		b, desc, err := XLA(config)
		if err == nil {
			return b, linePrefix + withNote(desc, envSetting(env, config)), "", nil
		}
		note = fmt.Sprintf("%s=%q asks for XLA, which could not start: %s", Env, env, oneLine(err))
	case name == gobackend.BackendName:
		b, err := gobackend.New(config)
		if err == nil {
			return b, goBackendInfo(config, fmt.Sprintf("%s=%q", Env, env)), "", nil
		}
		note = fmt.Sprintf("%s=%q is not a valid Go backend configuration: %s", Env, env, oneLine(err))
	default:
		note = unknownBackend(env, name)
	}
	b, err = gobackend.New("")
	if err != nil {
		return nil, "", "", fmt.Errorf("backend: creating GoMLX's Go backend: %w", err)
	}
	note = tildeHome(note)
	return b, goBackendInfo("", note), note, nil
}

// linePrefix starts the backend's line.
const linePrefix = "Backend: "

// xlaDescription describes XLA on a PJRT plugin, for the backend's line: device is "cpu", "cuda"
// or "" (another), plugin the plugin's path (only its file name is shown) or the name go-xla found
// it by, version its PJRT C API version ("" when unknown). For example
// "XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115)".
func xlaDescription(device, plugin, version string) string {
	desc := "XLA"
	switch device {
	case "cpu":
		desc += " on the CPU"
	case "cuda":
		desc += " on CUDA"
	}
	if filepath.IsAbs(plugin) {
		plugin = filepath.Base(plugin)
	}
	desc += " (PJRT plugin " + plugin
	if version != "" {
		desc += ", PJRT C API " + version
	}
	return desc + ")"
}

// withNote adds note to the parenthesis that ends desc, or in a parenthesis of its own.
func withNote(desc, note string) string {
	if strings.HasSuffix(desc, ")") {
		return strings.TrimSuffix(desc, ")") + "; " + note + ")"
	}
	return desc + " (" + note + ")"
}

// envSetting writes the GOMLX_BACKEND value env, whose part after the colon is config, for the
// line of a backend that started: as it is, or "plugin from GOMLX_BACKEND" when config is the
// path of a plugin, which the line already names by its file name.
func envSetting(env, config string) string {
	if path, _, _ := strings.Cut(config, ","); filepath.IsAbs(path) {
		return "plugin from " + Env
	}
	return fmt.Sprintf("%s=%q", Env, env)
}

// tildeHome writes the paths inside the user's home folder in text with "~" for the home folder
// (~/.local/share/cifarlab/pjrt), so that a line saved in a notebook does not show the home
// folder of the machine it ran on. It leaves text as it is when the home folder is unknown or the
// root folder.
func tildeHome(text string) string {
	home, err := os.UserHomeDir()
	if err != nil || !filepath.IsAbs(home) {
		return text
	}
	home = filepath.Clean(home)
	if home == filepath.VolumeName(home)+string(filepath.Separator) {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, home)
		if i < 0 {
			break
		}
		end := i + len(home)
		// The whole home folder, not the end of a longer name or the start of one (/home/young).
		whole := (i == 0 || !isPathByte(text[i-1])) && (end == len(text) || text[end] == filepath.Separator || !isPathByte(text[end]))
		b.WriteString(text[:i])
		if whole {
			b.WriteString("~")
		} else {
			b.WriteString(home)
		}
		text = text[end:]
	}
	b.WriteString(text)
	return b.String()
}

// isPathByte reports whether c can be part of a file name next to a path in a message.
func isPathByte(c byte) bool {
	return c == '/' || c == '\\' || c == '.' || c == '_' || c == '-' || c == '~' ||
		'0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// validBackends lists the values of GOMLX_BACKEND that New knows, for the message about one it
// does not.
const validBackends = `"" (XLA when its plugin is installed, else pure Go), "xla", "xla:cuda", "xla:/abs/plugin.so", "go", "go:<config>"`

// unknownBackend says that GOMLX_BACKEND=env names a backend (name) that does not exist here,
// suggesting the value meant when it looks like a typo, and lists the valid ones.
func unknownBackend(env, name string) string {
	hint := ""
	if meant := meantBackend(name); meant != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", meant)
	}
	return fmt.Sprintf("%s=%q names no backend of this program%s, so it falls back to pure Go, several times slower than XLA; valid values: %s",
		Env, env, hint, validBackends)
}

// meantBackend returns the GOMLX_BACKEND value that name was probably meant to be: the same
// letters in another case or order, one letter added, dropped or changed, or a word for the
// hardware; "" when it looks like none.
func meantBackend(name string) string {
	lower := strings.ToLower(name)
	switch lower {
	case "gpu", "cuda", "nvidia":
		return "xla:cuda"
	case "cpu", "jax", "pjrt-cpu":
		return "xla"
	case "golang", "purego", "pure-go", "simplego":
		return "go"
	}
	for _, valid := range []string{"xla", gobackend.BackendName} {
		if lower == valid || sortedLetters(lower) == sortedLetters(valid) || oneEditApart(lower, valid) {
			return valid
		}
	}
	return ""
}

// sortedLetters returns the bytes of s in increasing order.
func sortedLetters(s string) string {
	b := []byte(s)
	slices.Sort(b)
	return string(b)
}

// oneEditApart reports whether a and b differ by exactly one byte inserted, deleted or replaced.
func oneEditApart(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if a == b || len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:]
	}
	return a[i:] == b[i+1:]
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
	desc := simdInfo
	if config != "" {
		desc += fmt.Sprintf(", config %q", config)
	}
	if why != "" {
		desc += "; " + why
	}
	return linePrefix + "pure Go (" + desc + ")"
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

// PrintForTraining prints the line of this process's backend ([Default]) to w for a training cell:
// once per GoNB kernel, like [PrintOnce], when the backend is the one wanted, and in every
// training cell (once per process) when it is the pure-Go fallback, so that the reason
// ([FallbackReason]: a missing or damaged plugin, an unknown GOMLX_BACKEND) is never out of sight
// while training runs several times slower than it could.
func PrintForTraining(w io.Writer) {
	_, info, err := Default()
	if err != nil {
		return // no backend at all: the caller reports Default's error
	}
	backendPrinted.Do(func() { printForTraining(w, info, backendFallback != "") })
}

// printForTraining prints info to w: always when fallback is set, else unless this GoNB kernel
// printed the same line before.
func printForTraining(w io.Writer, info string, fallback bool) {
	if fallback {
		printTo(w, info, true)
		return
	}
	printOnceTo(w, info)
}

// printOnceTo prints info to w unless this GoNB kernel printed the same line before.
func printOnceTo(w io.Writer, info string) { printTo(w, info, false) }

// printTo prints info to w, unless always is false and this GoNB kernel printed the same line
// before; it remembers the line as the last one printed in this kernel.
func printTo(w io.Writer, info string, always bool) {
	if w == nil {
		return
	}
	if dir := os.Getenv("GONB_TMP_DIR"); dir != "" {
		marker := filepath.Join(dir, BackendLineFile)
		if old, err := os.ReadFile(marker); err == nil && string(old) == info && !always {
			return
		}
		_ = os.WriteFile(marker, []byte(info), 0o644) // best effort: at worst the line repeats
	}
	fmt.Fprintln(w, info)
}
