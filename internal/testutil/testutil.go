// Package testutil holds helpers shared by cifarlab's tests that inject faults with real files and
// real processes.
package testutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// envUnprivileged marks the child process that Unprivileged starts.
const envUnprivileged = "CIFARLAB_TEST_UNPRIVILEGED"

// nobody is the user and group the child process runs as.
const nobody = 65534

// Unprivileged makes the rest of the calling test run without root's privileges, so that file
// permissions apply to it (root reads and writes any file). When the test runs as another user,
// it returns true and the test goes on. As root, it runs the test again in a child process (this
// test binary, only this test) as user nobody, reports the child's result and returns false:
// the caller returns at once. The child cannot use the parent's temporary folders; it makes its own.
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	if os.Getenv(envUnprivileged) != "" {
		t.Fatalf("%s is set but the test still runs as root", envUnprivileged)
	}
	// The test binary lives in a folder that only root may enter: run a copy that nobody can.
	dir, err := os.MkdirTemp("", "unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(os.Args[0]))
	if err := copyExecutable(bin, os.Args[0]); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run="+runPattern(t.Name()), "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envUnprivileged+"=1", "HOME="+dir)
	cmd.SysProcAttr = credential(nobody, nobody)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && errors.Is(err, os.ErrPermission) {
		t.Skipf("cannot run a process as user %d: %v", nobody, err)
	}
	if err != nil {
		t.Fatalf("as user %d: %v\n%s", nobody, err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as user %d the test did not pass:\n%s", nobody, out)
	}
	t.Logf("ran as user %d:\n%s", nobody, out)
	return false
}

// runPattern is the -test.run pattern that selects exactly the test (or subtest) name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func copyExecutable(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying the test binary: %w", err)
	}
	return out.Close()
}
