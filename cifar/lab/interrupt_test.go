package lab

import (
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

// TestLoadDataHelperProcess is not a test: TestLoadDataInterrupted runs it as a helper process
// that loads the data into an empty cache from a local server.
func TestLoadDataHelperProcess(t *testing.T) {
	url := os.Getenv("LAB_TEST_URL")
	if url == "" {
		t.Skip("helper process only")
	}
	a := cifar.Archive{URL: url, Size: 1 << 20, SHA256: strings.Repeat("0", 64), Root: cifar.PythonFolder}
	_, err := loadData(cifar.Options{Archive: a})
	fmt.Println("returned:", err)
	os.Exit(0)
}

// An interrupt during LoadData (GoNB's stop button sends SIGINT) removes the partial download,
// then ends the cell's program with the signal.
func TestLoadDataInterrupted(t *testing.T) {
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
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadDataHelperProcess$")
	cmd.Env = append(os.Environ(), "LAB_TEST_URL="+srv.URL+"/cifar-10-python.tar.gz", cifar.EnvCacheDir+"="+cache, cifar.EnvDataDir+"=")
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
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
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	output, _ := os.ReadFile(out.Name())
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("helper ended with %v, want killed by SIGINT:\n%s", err, output)
	}
	entries, err := os.ReadDir(filepath.Join(cache, "cifar10"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left in the cache", e.Name())
	}
}
