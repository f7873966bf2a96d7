package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/cifarlab/cifarlab/cifar/cifartest"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/testutil"
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
	if err := cifartest.WriteBinary(dir, cifartest.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cifar.EnvCacheDir, t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run([]string{"data", "-dir", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// The progress, the short line a lab prints, the details, then both splits.
	want := regexp.MustCompile(`(?m)^CIFAR-10 from ` + regexp.QuoteMeta(dir) + ` \(binary version\), 120 images, \d+\.\d ms\n` +
		`  folder: ` + regexp.QuoteMeta(dir) + ` \(given as an argument\)\n` +
		`  batches: binary batches in ` + regexp.QuoteMeta(filepath.Join(dir, cifar.BinaryFolder)) + ` \(the folder holding cifar-10-batches-bin\)\n` +
		`  data: decoded from the batch files\n` +
		`train: 100 images\n`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("output does not match %s:\n%s", want, stdout.String())
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
			url, started := testutil.StallingArchiveServer(t)
			cache := t.TempDir()
			cmd := exec.Command(os.Args[0], "data")
			cmd.Env = append(os.Environ(), helperEnv+"=1", "CIFARLAB_TEST_URL="+url,
				cifar.EnvCacheDir+"="+cache, cifar.EnvDataDir+"=")
			testutil.InterruptDownload(t, cmd, started, cache, sig)
		})
	}
}
