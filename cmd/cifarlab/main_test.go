package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/cifar"
)

// helperEnv makes the test binary run the command (with archive from $CIFARLAB_TEST_URL) instead
// of the tests.
const helperEnv = "CIFARLAB_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		archive = cifar.Archive{URL: os.Getenv("CIFARLAB_TEST_URL"), Size: 1 << 20, SHA256: strings.Repeat("0", 64), Root: cifar.PythonFolder}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestData(t *testing.T) {
	dir := t.TempDir()
	if _, err := cifar.WriteSynthetic(dir, cifar.Python, cifar.SyntheticOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cifar.EnvCacheDir, t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run([]string{"data", "-dir", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "train: 100 images") {
		t.Errorf("output:\n%s", stdout.String())
	}
	if code := run([]string{"nonsense"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

// An interrupt during the download into the cache removes the partial download, then ends the
// command with the signal.
func TestInterruptDuringDownloadLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			started := make(chan struct{})
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(1<<20))
				w.Write(make([]byte, 64<<10))
				w.(http.Flusher).Flush()
				once.Do(func() { close(started) })
				select {
				case <-r.Context().Done():
				case <-time.After(30 * time.Second):
				}
			}))
			defer srv.Close()
			cache := t.TempDir()
			cmd := exec.Command(os.Args[0], "data")
			cmd.Env = append(os.Environ(), helperEnv+"=1", "CIFARLAB_TEST_URL="+srv.URL+"/cifar-10-python.tar.gz",
				cifar.EnvCacheDir+"="+cache, cifar.EnvDataDir+"=")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			select {
			case <-started:
			case <-time.After(20 * time.Second):
				t.Fatal("the download never started")
			}
			partial := filepath.Join(cache, "cifar10", ".download-*.tar.gz")
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if m, _ := filepath.Glob(partial); len(m) == 1 {
					if info, err := os.Stat(m[0]); err == nil && info.Size() > 0 {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no partial download appeared:\n%s", out.String())
				}
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("command ended with %v:\n%s", err, out.String())
			}
			if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("command ended with %v, want killed by %v:\n%s", err, sig, out.String())
			}
			entries, err := os.ReadDir(filepath.Join(cache, "cifar10"))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("%s left in the cache", e.Name())
			}
		})
	}
}
