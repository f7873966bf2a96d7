//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests of this file run nbrun with a fake jupyter (testdata/fake-jupyter.sh) that starts
// what a GoNB kernel leaves running (processes in sessions of their own, an orphan, one that
// ignores SIGTERM), then passes, fails or hangs.

// helperEnv makes the test binary run nbrun's main (runMain) instead of the tests.
const helperEnv = "NBRUN_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		cancelGrace, killGrace = 300*time.Millisecond, 300*time.Millisecond
		os.Exit(runMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeJupyter points findJupyter at the fake and returns its environment for mode.
func fakeJupyter(t *testing.T, mode, executed, tag string) []string {
	t.Helper()
	fake, err := filepath.Abs("testdata/fake-jupyter.sh")
	if err != nil {
		t.Fatal(err)
	}
	if executed != "" {
		if executed, err = filepath.Abs(executed); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"JUPYTER=" + fake, "FAKE_MODE=" + mode, "FAKE_EXECUTED=" + executed, "FAKE_TAG=" + tag}
}

// tagged returns the living processes whose command line holds tag.
func tagged(t *testing.T, tag string) []string {
	t.Helper()
	ps, err := processes()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range ps {
		if !p.zombie && strings.Contains(p.args, tag) {
			found = append(found, fmt.Sprintf("%d %s", p.pid, p.args))
		}
	}
	return found
}

// Every way nbrun ends (pass, fail, time-out, SIGINT, SIGTERM) leaves no process behind, although
// the "kernel" runs in a session of its own and one of its processes ignores SIGTERM.
func TestNoProcessLeftBehind(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		args     []string
		signal   syscall.Signal
		wantCode int
	}{
		{"pass", "pass", nil, 0, 0},
		{"fail", "fail", nil, 0, 1},
		{"time-out", "hang", []string{"-timeout", "2s"}, 0, 1},
		{"SIGINT", "hang", nil, syscall.SIGINT, 130},
		{"SIGTERM", "hang", nil, syscall.SIGTERM, 143},
		{"SIGINT while passing", "pass", nil, syscall.SIGINT, 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tag := fmt.Sprintf("86%03d.%06d", rand.IntN(1000), rand.IntN(1_000_000))
			out := t.TempDir()
			cmd := exec.Command(os.Args[0], append(append([]string{"-out", out}, tc.args...), "testdata/pass.ipynb")...)
			cmd.Env = append(append(os.Environ(), helperEnv+"=1"), fakeJupyter(t, tc.mode, "testdata/pass.ipynb", tag)...)
			var output bytes.Buffer
			cmd.Stdout, cmd.Stderr = &output, &output
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				cmd.Process.Kill()
				for _, p := range tagged(t, tag) { // never leave them, even when the test fails
					var pid int
					fmt.Sscan(p, &pid)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if tc.signal != 0 {
				for deadline := time.Now().Add(20 * time.Second); len(tagged(t, tag)) < 4; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("the fake kernel's processes never appeared: %v\n%s", tagged(t, tag), output.String())
					}
				}
				cmd.Process.Signal(tc.signal)
			}
			err := cmd.Wait()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if left := tagged(t, tag); len(left) > 0 {
				t.Errorf("processes left behind: %v", left)
			}
			if code != tc.wantCode && !(tc.name == "SIGINT while passing" && code == 0) {
				t.Errorf("exit code %d, want %d:\n%s", code, tc.wantCode, output.String())
			}
		})
	}
}

// stopTree finds a process tree by its marker even from outside it: a command started without
// nbrun as its ancestor (a session of its own, parent gone) is stopped too.
func TestStopTreeFindsOrphansByMarker(t *testing.T) {
	tag := fmt.Sprintf("87%03d.%06d", rand.IntN(1000), rand.IntN(1_000_000))
	marker := newMarker()
	cmd := exec.Command("setsid", "bash", "-c", `(trap "" TERM; exec sleep `+tag+`) & (sleep `+tag+` &); exit 0`)
	cmd.Env = append(os.Environ(), markerEnv+"="+marker)
	if err := cmd.Run(); err != nil {
		t.Skipf("setsid: %v", err)
	}
	t.Cleanup(func() {
		for _, p := range tagged(t, tag) {
			var pid int
			fmt.Sscan(p, &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); len(tagged(t, tag)) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("processes never appeared: %v", tagged(t, tag))
		}
	}
	old := killGrace
	killGrace = 200 * time.Millisecond
	t.Cleanup(func() { killGrace = old })
	if err := stopTree(cmd.Process.Pid, marker); err != nil {
		t.Fatal(err)
	}
	if left := tagged(t, tag); len(left) > 0 {
		t.Errorf("left: %v", left)
	}
}

// A failed run leaves no output of an earlier passing run (PDF, HTML, pages, executed notebook),
// keeps its executed notebook as NAME.FAILED.ipynb and says why in NAME.FAILED.txt; a passing
// run removes an earlier failure report.
func TestFailedRunLeavesNothingThatLooksPassed(t *testing.T) {
	out := t.TempDir()
	earlier := []string{"pass.ipynb", "pass.log", "pass.html", "pass.pdf", "pass-page-1.png", "pass-page-2.png", "pass-latex.pdf", "pass-latex-page-1.png"}
	tests := []struct {
		name      string
		mode      string
		executed  string
		wantFiles []string
	}{
		{"nbconvert fails", "fail", "", []string{"pass.FAILED.txt", "pass.log"}},
		{"a cell panics", "pass", "testdata/executed/failures.ipynb", []string{"pass.FAILED.ipynb", "pass.FAILED.txt", "pass.log"}},
		{"passes", "pass", "testdata/pass.ipynb", []string{"pass.ipynb", "pass.log"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range earlier {
				if err := os.WriteFile(filepath.Join(out, name), []byte("Test accuracy: 0.99"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, kv := range fakeJupyter(t, tc.mode, tc.executed, "") {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			var progress bytes.Buffer
			_, err := RunNotebook(t.Context(), "testdata/pass.ipynb", Options{Out: out, MinImages: -1, Kernel: "gonb"}, &progress)
			if (err == nil) != (tc.mode == "pass" && tc.executed == "testdata/pass.ipynb") {
				t.Fatalf("RunNotebook: %v", err)
			}
			var got []string
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if strings.Join(got, " ") != strings.Join(tc.wantFiles, " ") {
				t.Errorf("output folder holds %v, want %v", got, tc.wantFiles)
			}
			if err != nil {
				report, rerr := os.ReadFile(filepath.Join(out, "pass.FAILED.txt"))
				if rerr != nil || !bytes.Contains(report, []byte("FAILED")) || !strings.Contains(err.Error(), "pass.FAILED.txt") {
					t.Errorf("failure report %q (%v), error %v", report, rerr, err)
				}
			}
		})
	}
}
