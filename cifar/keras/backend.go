package keras

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/cifarlab/cifarlab/cifar/keras/internal/fastdot"
)

// DefaultGoBackendConfig is the configuration of GoMLX's pure-Go backend used unless GOMLX_BACKEND
// gives one ("go:<config>"); simplego v0.26.0 accepts parallelism=N, dotgeneral_small,
// dotgeneral_large, dotgeneral_check, ops_sequential and ops_parallel.
//
//   - dotgeneral_large always uses the blocked matrix product, several times faster than the small
//     version for these dense layers.
//   - ops_sequential runs a graph's ops one after the other, each matrix product still split over
//     the CPUs. By default simplego runs ops in parallel on a worker pool bounded by the number of
//     CPUs, where an op waits for pool workers from inside the pool: that can deadlock, and
//     training was seen to hang on 2-core machines. Sequentially, only the matrix products' own
//     tasks use the pool, and they never wait for it, so execution cannot block.
//
// "parallelism=-1" (an unbounded pool) cannot deadlock either and runs about 10% faster here, but
// simplego's parallel op executor then has data races (go test -race reports them on its buffer
// reuse bookkeeping) and simplego prints a line of its own; set GOMLX_BACKEND=go:dotgeneral_large,parallelism=-1
// to use it anyway.
const DefaultGoBackendConfig = "dotgeneral_large,ops_sequential"

// BackendEnv is the environment variable GoMLX uses to choose a backend, e.g. "go" or
// "go:dotgeneral_large"; requests for XLA ("xla", "xla:cuda", ...) fall back to "go".
const BackendEnv = "GOMLX_BACKEND"

var (
	backendOnce  sync.Once
	backendValue backends.Backend
	backendInfo  string
	backendErr   error
)

// Backend returns the GoMLX backend shared by all models, creating it on first use, and a one-line
// description of it (which backend, with which configuration, and why).
//
// By default this package compiles in only GoMLX's pure-Go backend ("go", simplego): GoMLX's XLA
// backend installs its plugin from the internet at run time and panics without it. Built with
// -tags xla (backend_xla.go), it links XLA with auto-installation off and uses it when its PJRT
// plugin is installed (or GOMLX_BACKEND asks for it); otherwise, or when XLA fails to start, it
// falls back to "go" and the description says why.
func Backend() (backends.Backend, string, error) {
	backendOnce.Do(func() {
		registerFastDotGradient()
		// Float32 matrix products go to OpenBLAS's sgemm when it can be loaded, and large float32
		// Add/Sub/Mul/Div/Sqrt to AVX2 loops (package fastdot, for every simplego backend of the
		// process, whatever its dotgeneral_* option); otherwise simplego's own kernels are used and
		// the description says why. CIFAR_FASTDOT=off keeps simplego as it is.
		dotInfo, _ := fastdot.Install()
		backendValue, backendInfo, backendErr = newBackend(os.Getenv(BackendEnv))
		if backendErr == nil && dotInfo != "" {
			backendInfo += "; " + dotInfo
		}
	})
	return backendValue, backendInfo, backendErr
}

// newBackend creates the backend for the value of GOMLX_BACKEND. XLA is used when this program
// was built with it (-tags xla) and its PJRT plugin is installed, or when GOMLX_BACKEND asks for it;
// when it cannot start, the pure-Go backend is used and the description says why, in one line.
func newBackend(env string) (backends.Backend, string, error) {
	name, config, _ := strings.Cut(strings.TrimSpace(env), ":")
	note := ""
	switch {
	case name == "" && xlaCompiledIn:
		b, err := newXLABackend("xla:cpu")
		if err == nil {
			return b, `keras: using GoMLX backend "xla" (XLA, PJRT plugin "cpu")`, nil
		}
		note = fmt.Sprintf(" (XLA is compiled in, %s)", oneLine(err))
		config = DefaultGoBackendConfig
	case name == "" || (name == simplego.BackendName && config == ""):
		config = DefaultGoBackendConfig
	case name == simplego.BackendName:
		// The user's own configuration for the Go backend.
	case strings.HasPrefix(name, "xla"):
		b, err := newXLABackend(env)
		if err == nil {
			return b, fmt.Sprintf("keras: using GoMLX backend %q (XLA, %s=%q)", name, BackendEnv, env), nil
		}
		note = fmt.Sprintf(" (%s=%q asks for XLA, %s)", BackendEnv, env, oneLine(err))
		config = DefaultGoBackendConfig
	default:
		note = fmt.Sprintf(" (%s=%q asks for backend %q, which is not compiled into this program)", BackendEnv, env, name)
		config = DefaultGoBackendConfig
	}
	b, err := simplego.New(config)
	if err != nil {
		if config == DefaultGoBackendConfig {
			return nil, "", fmt.Errorf("keras: creating the Go backend: %w", err)
		}
		note = fmt.Sprintf(" (%s=%q is not a valid Go backend configuration: %v)", BackendEnv, env, err)
		config = DefaultGoBackendConfig
		if b, err = simplego.New(config); err != nil {
			return nil, "", fmt.Errorf("keras: creating the Go backend: %w", err)
		}
	}
	info := fmt.Sprintf("keras: using GoMLX backend %q (pure Go, config %q)%s", simplego.BackendName, config, note)
	return b, info, nil
}

// oneLine flattens an error message onto one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

var backendPrinted sync.Once

// printBackendOnce prints the backend's description the first time a model of this process needs
// the backend.
func printBackendOnce(w io.Writer, info string) {
	backendPrinted.Do(func() {
		if w != nil {
			fmt.Fprintln(w, info)
		}
	})
}
