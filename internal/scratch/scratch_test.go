//go:build unix

package scratch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The tests run helper processes: this test binary again, with helperEnv naming what to do.
const helperEnv = "SCRATCH_TEST_HELPER"

func TestMain(m *testing.M) {
	if what := os.Getenv(helperEnv); what != "" {
		os.Exit(helper(what, os.Getenv("SCRATCH_TEST_DIR")))
	}
	os.Exit(m.Run())
}

// helper is the body of a helper process. It prints "ready" and its paths when it holds what it
// was asked to hold, then waits for a signal or the end of its standard input.
func helper(what, dir string) int {
	switch what {
	case "hold-temps":
		f, _, err := CreateTemp(dir, ".tmp-*.cifar")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		d, _, err := MkdirTemp(dir, ".tmp-run-")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		os.WriteFile(filepath.Join(d, "weights.bin"), []byte("partial"), 0o644)
		fmt.Println("ready", f.Name(), d)
	case "hold-lock":
		if _, err := LockPath(context.Background(), filepath.Join(dir, "key.lock"), nil); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("ready")
	case "interruptible", "interruptible-handled":
		if what == "interruptible-handled" {
			signal.Notify(make(chan os.Signal, 1), os.Interrupt, syscall.SIGTERM)
		}
		err := Interruptible(context.Background(), func(ctx context.Context) error {
			f, l, err := CreateTemp(dir, ".download-*.tar.gz")
			if err != nil {
				return err
			}
			defer l.Release()
			defer os.Remove(f.Name())
			defer f.Close()
			fmt.Println("ready", f.Name())
			<-ctx.Done()
			return fmt.Errorf("download: %w", context.Cause(ctx))
		})
		fmt.Println("returned:", err, errors.Is(err, ErrInterrupted))
		return 0
	default:
		fmt.Println("unknown helper", what)
		return 1
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// startHelper starts a helper process and waits for its "ready" line; it returns the process
// and the rest of that line.
func startHelper(t *testing.T, what, dir string) (*exec.Cmd, []string, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+what, "SCRATCH_TEST_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("helper %s said nothing", what)
	}
	fields := strings.Fields(lines.Text())
	if len(fields) == 0 || fields[0] != "ready" {
		t.Fatalf("helper %s: %q", what, lines.Text())
	}
	return cmd, fields[1:], lines
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Temporaries of a living process are kept, those of a killed one removed, names that do not
// match are never touched.
func TestRemoveStaleRemovesOnlyTemporariesOfDeadProcesses(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "data_batch_1")
	unrelated := filepath.Join(dir, ".tmp-notes.txt") // matches no pattern below
	for _, p := range []string{other, unrelated} {
		if err := os.WriteFile(p, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	patterns := []string{".tmp-*.cifar", ".tmp-run-*"}

	// This process's own temporaries are locked too.
	own, ownLock, err := CreateTemp(dir, ".tmp-*.cifar")
	if err != nil {
		t.Fatal(err)
	}
	own.Close() // closing does not release the lock
	defer ownLock.Release()

	cmd, paths, _ := startHelper(t, "hold-temps", dir)
	if removed, err := RemoveStale(dir, patterns...); err != nil || len(removed) != 0 {
		t.Fatalf("while their processes live: removed %v, %v", removed, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	removed, err := RemoveStale(dir, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	slices.Sort(paths)
	if !slices.Equal(removed, paths) {
		t.Errorf("removed %v, want the killed process's %v", removed, paths)
	}
	for _, p := range paths {
		if exists(p) {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range []string{other, unrelated, own.Name()} {
		if !exists(p) {
			t.Errorf("%s was removed", p)
		}
	}
	if removed, err := RemoveStale(filepath.Join(dir, "missing"), patterns...); err != nil || removed != nil {
		t.Errorf("missing folder: %v, %v", removed, err)
	}
}

// LockPath waits for the holder, in another process or this one, and removes its file on release.
func TestLockPathWaitsForTheHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.lock")
	old := lockPollInterval
	lockPollInterval = 10 * time.Millisecond
	t.Cleanup(func() { lockPollInterval = old })

	cmd, _, _ := startHelper(t, "hold-lock", dir)
	var waited atomic.Int32
	got := make(chan error, 1)
	go func() {
		l, err := LockPath(context.Background(), path, func(time.Duration) { waited.Add(1) })
		if err == nil {
			err = l.Release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("LockPath returned while another process held the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGKILL) // the kernel releases a dead process's locks
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LockPath still waiting after the holder died")
	}
	if waited.Load() != 1 {
		t.Errorf("waiting called %d times, want 1", waited.Load())
	}
	if exists(path) {
		t.Error("the lock file was not removed on release")
	}

	// In one process: the second waits for the first's Release; a cancelled wait fails.
	l1, err := LockPath(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LockPath(ctx, path, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LockPath with a held lock and an expiring context: %v", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); l1.Release() }()
	l2, err := LockPath(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
	l2.Release() // twice is fine
}

// SIGINT or SIGTERM during Interruptible lets fn remove its temporary, then ends the process as
// the signal would have; a program that handles the signal itself receives it and goes on.
func TestInterruptibleCleansUpThenEndsTheProcess(t *testing.T) {
	for _, tc := range []struct {
		helper   string
		sig      syscall.Signal
		survives bool
	}{
		{"interruptible", syscall.SIGINT, false},
		{"interruptible", syscall.SIGTERM, false},
		{"interruptible-handled", syscall.SIGINT, true},
	} {
		t.Run(tc.helper+"/"+tc.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, paths, lines := startHelper(t, tc.helper, dir)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var rest []string
			for lines.Scan() {
				rest = append(rest, lines.Text())
			}
			err := cmd.Wait()
			if exists(paths[0]) {
				t.Errorf("temporary %s left behind", paths[0])
			}
			if tc.survives {
				if err != nil || len(rest) != 1 || !strings.HasSuffix(rest[0], "true") || !strings.Contains(rest[0], "interrupted by") {
					t.Errorf("handled signal: exit %v, output %q", err, rest)
				}
				return
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("process ended with %v, output %q", err, rest)
			}
			if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != tc.sig {
				t.Errorf("process ended with %v, want killed by %v (output %q)", err, tc.sig, rest)
			}
		})
	}
}

// A signal that arrives while fn finishes its work (a save that completes) does not turn fn's
// success into an error: Interruptible returns nil, and the signal still reaches the program's own
// handler afterwards.
func TestInterruptibleKeepsACompletedWork(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			handler := make(chan os.Signal, 2)
			signal.Notify(handler, sig) // the program's own handling, as lab.Fit's
			defer signal.Stop(handler)
			err := Interruptible(context.Background(), func(ctx context.Context) error {
				if err := syscall.Kill(os.Getpid(), sig); err != nil {
					return err
				}
				select { // the signal arrives during the work...
				case <-ctx.Done():
				case <-time.After(10 * time.Second):
					return errors.New("the signal never cancelled the context")
				}
				return nil // ...which completes all the same
			})
			if err != nil {
				t.Errorf("Interruptible after a completed work: %v, want nil", err)
			}
			select {
			case got := <-handler:
				if got != sig {
					t.Errorf("handler got %v, want %v", got, sig)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("the signal did not reach the program's handler")
			}
		})
	}
}
