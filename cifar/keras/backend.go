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
// This package only compiles in GoMLX's pure-Go backend ("go", simplego). It deliberately does not
// import GoMLX's XLA backend, whose plugin auto-installation needs the internet and panics without
// it; when GOMLX_BACKEND asks for XLA the description says so and "go" is used instead.
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

// newBackend creates the backend for the value of GOMLX_BACKEND.
func newBackend(env string) (backends.Backend, string, error) {
	name, config, _ := strings.Cut(strings.TrimSpace(env), ":")
	note := ""
	switch {
	case name == "" || (name == simplego.BackendName && config == ""):
		config = DefaultGoBackendConfig
	case name == simplego.BackendName:
		// The user's own configuration for the Go backend.
	default:
		what := "XLA"
		if !strings.HasPrefix(name, "xla") {
			what = fmt.Sprintf("backend %q", name)
		}
		note = fmt.Sprintf(" (%s=%q asks for %s, which is not compiled into this program)", BackendEnv, env, what)
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
