//go:build linux

package runs_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// tmpfs mounts a tmpfs of the given size on a new folder and unmounts it at the end; it skips the
// test where mounting is not allowed (not root).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// wideModel is a compiled model whose run needs several MiB on disk: [4, 4, 2] → 4096 ReLU → 4.
func wideModel(t *testing.T) *keras.Model {
	t.Helper()
	m, err := keras.NewModel(keras.ModelSpec{InputShape: []int{4, 4, 2}, Seed: 3,
		Layers: []keras.LayerSpec{keras.Flatten(), keras.Dense(4096, keras.ReLU), keras.Dense(4, keras.Softmax)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(keras.CompileConfig{Optimizer: keras.Adam(0.01), Loss: keras.LossCategoricalCrossentropy}); err != nil {
		t.Fatal(err)
	}
	return m
}

// A runs folder on a 2 MiB tmpfs cannot hold the run: Fit says so before training (how much is
// needed and where), and trains nothing.
func TestFullDiskKnownBeforeTraining(t *testing.T) {
	dir := tmpfs(t, "2m")
	x, y := blobs(21, 64)
	m := wideModel(t)
	batches := 0
	cfg := keras.FitConfig{Epochs: 2, BatchSize: 16, Callbacks: []keras.Callback{&probe{onBatchEnd: func() error { batches++; return nil }}}}
	_, err := runs.FitOrLoad(t.Context(), m, x, y, cfg, runs.Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "MiB free") {
		t.Fatalf("Fit into a full runs folder: %v, want an error naming the folder, the free and the needed space", err)
	}
	if batches != 0 {
		t.Errorf("%d batches trained before the error", batches)
	}
	if need := runs.NeededSpace(m); need < 3*4*(32*4096) {
		t.Errorf("NeededSpace = %d, less than the weights and optimizer state", need)
	}
}

// When the disk fills during the save anyway (another process took the space while the model
// trained), the trained run is saved to the fallback folder, the message says where, a later
// load-only Fit finds it there, and nothing half-written stays in the runs folder.
func TestFullDiskDuringSaveFallsBack(t *testing.T) {
	dir := tmpfs(t, "16m")
	fallback := filepath.Join(t.TempDir(), "fallback")
	x, y := blobs(21, 64)
	filler := filepath.Join(dir, "someone-else.bin")
	fill := func() error { // leaves about 64 KiB free on the tmpfs
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return err
		}
		free := int64(st.Bavail) * st.Bsize
		return os.WriteFile(filler, make([]byte, free-64<<10), 0o644)
	}
	cfg := keras.FitConfig{Epochs: 2, BatchSize: 16, Verbose: 2,
		Callbacks: []keras.Callback{&probe{onEpochEnd: func(epoch int) error {
			if epoch == 1 {
				return fill()
			}
			return nil
		}}}}
	var out bytes.Buffer
	cfg.Output = &out
	m := wideModel(t)
	r, err := runs.FitOrLoad(t.Context(), m, x, y, cfg, runs.Options{Dir: dir, FallbackDir: fallback})
	if err != nil {
		t.Fatalf("Fit with a fallback folder: %v\n%s", err, out.String())
	}
	if r.Dir != filepath.Join(fallback, r.Key) || !strings.Contains(out.String(), "saved to "+r.Dir+" instead") ||
		!strings.Contains(out.String(), "no space left on device") {
		t.Errorf("run in %s; output:\n%s", r.Dir, out.String())
	}
	for _, name := range readDir(t, dir) {
		if name != filepath.Base(filler) && !strings.HasPrefix(name, ".lock-") {
			t.Errorf("%s left in the full runs folder", name)
		}
	}
	// A later cell (lab.Trained) asks for the run: found in the fallback folder.
	cfg.Callbacks = []keras.Callback{&probe{}}
	cfg.Output = &bytes.Buffer{}
	again, err := runs.FitOrLoad(t.Context(), wideModel(t), x, y, cfg, runs.Options{Dir: dir, FallbackDir: fallback, LoadOnly: true, Quiet: true})
	if err != nil || !again.Loaded || again.Dir != r.Dir {
		t.Errorf("load-only Fit after the fallback: %+v, %v", again, err)
	}
	// Without a fallback folder the save fails: the error says so, and nothing half-written stays.
	_ = os.Remove(filler)
	cfg.Callbacks = []keras.Callback{&probe{onEpochEnd: func(epoch int) error {
		if epoch == 1 {
			return fill()
		}
		return nil
	}}}
	cfg.Epochs = 3 // another key
	_, err = runs.FitOrLoad(t.Context(), wideModel(t), x, y, cfg, runs.Options{Dir: dir})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Fit without a fallback into a disk that filled: %v, want ENOSPC", err)
	}
	for _, name := range readDir(t, dir) {
		if name != filepath.Base(filler) && !strings.HasPrefix(name, ".lock-") {
			t.Errorf("%s left in the full runs folder", name)
		}
	}
}
