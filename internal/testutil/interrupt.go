package testutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StallingArchiveServer serves a download that announces 1 MiB, sends 64 KiB and then stalls (until
// the client goes away, or 30 s): a download caught in the middle. It returns the archive's URL and
// a channel closed once the first bytes are out. The server is closed when the test ends.
func StallingArchiveServer(t *testing.T) (url string, started <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(1<<20))
		w.Write(make([]byte, 64<<10))
		w.(http.Flusher).Flush()
		once.Do(func() { close(ch) })
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/cifar-10-python.tar.gz", ch
}

// InterruptDownload starts cmd, a process that downloads CIFAR-10 from a StallingArchiveServer into
// the cache folder cache, waits until its partial download (cifar10/.download-*.tar.gz) holds
// bytes, sends it sig, and checks that the process ended killed by sig and left nothing in
// cache/cifar10. cmd's output goes into the failure messages.
func InterruptDownload(t *testing.T, cmd *exec.Cmd, started <-chan struct{}, cache string, sig syscall.Signal) {
	t.Helper()
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
			t.Fatal("no partial download appeared")
		}
	}
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("process ended with %v, want killed by %v:\n%s", err, sig, out.String())
	}
	if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
		t.Errorf("process ended with %v, want killed by %v:\n%s", err, sig, out.String())
	}
	entries, err := os.ReadDir(filepath.Join(cache, "cifar10"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left in the cache", e.Name())
	}
}

// StartLines starts cmd (usually this test binary, as a helper process) with its stderr on the
// test's and returns a channel of its stdout lines, closed when its stdout ends. The process is
// killed and waited for when the test ends.
func StartLines(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	return lines
}
