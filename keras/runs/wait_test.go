package runs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/internal/testutil"

	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// A quiet, load-only Fit (lab.Trained in a notebook cell) that finds its run being trained by
// another Fit says what it waits for when the wait starts, and again with the time waited so far,
// instead of sitting in silence for the length of a training; it then reports ErrNotTrained when
// the other Fit ends without a run.
func TestLoadOnlyWaitsAloud(t *testing.T) {
	defer func(d time.Duration) { scratch.WaitReportInterval = d }(scratch.WaitReportInterval)
	scratch.WaitReportInterval = 100 * time.Millisecond
	f := newFitter(t)
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	m := smallModel(t, f.seed)
	key, err := runs.Key(m, f.x, f.y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The other trainer: it holds the run's lock, as a training Fit does.
	held, err := scratch.LockPath(context.Background(), filepath.Join(f.dir, ".lock-"+key), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out testutil.SyncBuffer
	cfg.Output = &out
	done := make(chan error, 1)
	go func() {
		_, err := runs.FitOrLoad(t.Context(), m, f.x, f.y, cfg, runs.Options{Dir: f.dir, Quiet: true, LoadOnly: true})
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "so far)") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	held.Release()
	err = <-done
	text := out.String()
	if !strings.Contains(text, "runs: run "+key+" is being trained by another Fit right now; waiting for it to finish") ||
		!strings.Contains(text, "runs: still waiting for run "+key+" to finish training elsewhere (") {
		t.Errorf("a quiet Fit waited with this output: %q", text)
	}
	if !errors.Is(err, runs.ErrNotTrained) {
		t.Errorf("load-only Fit after the other ended without a run: %v, want ErrNotTrained", err)
	}
}
