package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/testutil"
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
	url, started := testutil.StallingArchiveServer(t)
	cache := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadDataHelperProcess$")
	cmd.Env = append(os.Environ(), "LAB_TEST_URL="+url, cifar.EnvCacheDir+"="+cache, cifar.EnvDataDir+"=")
	testutil.InterruptDownload(t, cmd, started, cache, syscall.SIGINT)
}
