package keras

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/internal/testutil"
)

// CIFARLAB_RETRAIN is read with settings.ParseBool: "no" and "off" load the saved run, "on" trains
// again, and a value it does not understand makes Fit fail before training.
func TestRetrainSetting(t *testing.T) {
	x, y, _ := blobs(23, 64, 4, 4, 4, 2)
	runs := t.TempDir()
	fit := func() (*History, error) {
		m := smallModel(t, 5, LossCategoricalCrossentropy, Adam(0.01))
		return m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16, Output: &bytes.Buffer{}, RunsDir: runs})
	}
	t.Setenv(RetrainEnv, "")
	if _, err := fit(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value      string
		wantLoaded bool
		wantErr    bool
	}{
		{"", true, false},
		{"0", true, false},
		{"no", true, false},
		{"off", true, false},
		{"False", true, false},
		{"1", false, false},
		{"on", false, false},
		{"YES", false, false},
		{"bogus", false, true},
		{"2", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv(RetrainEnv, tc.value)
			h, err := fit()
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), RetrainEnv) || h != nil {
					t.Fatalf("%s=%q: history %v, error %v; want an error naming the setting", RetrainEnv, tc.value, h, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Loaded != tc.wantLoaded {
				t.Errorf("%s=%q: loaded %v, want %v", RetrainEnv, tc.value, h.Loaded, tc.wantLoaded)
			}
		})
	}
}

// slowEpochs makes each epoch take at least Delay, so that two Fits surely overlap.
type slowEpochs struct {
	BaseCallback
	Delay time.Duration
}

func (c *slowEpochs) OnEpochEnd(TrainingRun, int, Logs) error {
	time.Sleep(c.Delay)
	return nil
}

// trainBegins counts the trainings that began.
type trainBegins struct {
	BaseCallback
	n *atomic.Int32
}

func (c *trainBegins) OnTrainBegin(TrainingRun) error {
	c.n.Add(1)
	return nil
}

// helperEnv makes TestMemoHelperProcess act as a helper process of the tests below.
const helperEnv = "KERAS_TEST_HELPER"

// slowFit is the memoized Fit that the concurrent tests run, in helpers and goroutines alike.
func slowFit(t *testing.T, runs string, out *bytes.Buffer) (*History, error) {
	x, y, _ := blobs(29, 64, 4, 4, 4, 2)
	m := smallModel(t, 3, LossCategoricalCrossentropy, Adam(0.01))
	return m.Fit(x, y, FitConfig{Epochs: 3, BatchSize: 16, Verbose: 2, Output: out, RunsDir: runs,
		Callbacks: []Callback{&slowEpochs{Delay: 150 * time.Millisecond}}})
}

// TestMemoHelperProcess is not a test: the tests below run it in helper processes.
func TestMemoHelperProcess(t *testing.T) {
	what := os.Getenv(helperEnv)
	if what == "" {
		t.Skip("helper process only")
	}
	dir := os.Getenv("KERAS_TEST_DIR")
	switch what {
	case "fit": // wait until both helpers are ready, then Fit
		ready := filepath.Join(dir, "barrier", "ready-"+os.Getenv("KERAS_TEST_ID"))
		os.WriteFile(ready, nil, 0o644)
		for {
			if m, _ := filepath.Glob(filepath.Join(dir, "barrier", "ready-*")); len(m) == 2 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		var out bytes.Buffer
		h, err := slowFit(t, filepath.Join(dir, "runs"), &out)
		loaded, key := false, ""
		if h != nil {
			loaded, key = h.Loaded, h.RunKey
		}
		fmt.Printf("result loaded=%v key=%s err=%v waited=%v\n", loaded, key, err, strings.Contains(out.String(), "waiting for it to finish"))
	case "save-stuck", "save-slow": // save a folder and stop (or dawdle) half-way
		err := writeAtomically(filepath.Join(dir, "0123456789abcdef"), func(tmp string) error {
			if err := os.WriteFile(filepath.Join(tmp, weightsFile), []byte("partial"), 0o644); err != nil {
				return err
			}
			fmt.Println("filling")
			if what == "save-stuck" {
				select {}
			}
			time.Sleep(500 * time.Millisecond)
			return nil
		})
		fmt.Println("saved:", err)
	}
	os.Exit(0)
}

// startHelper runs TestMemoHelperProcess as what in dir; its output lines arrive on the channel.
func startHelper(t *testing.T, what, dir string, env ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoHelperProcess$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+what, "KERAS_TEST_DIR="+dir), env...)
	return cmd, testutil.StartLines(t, cmd)
}

// assertNoLeftovers fails if the runs folder holds temporaries or lock files.
func assertNoLeftovers(t *testing.T, runs string) {
	t.Helper()
	for _, e := range mustReadDir(t, runs) {
		if strings.HasPrefix(e, ".") {
			t.Errorf("%s left in the runs folder", e)
		}
	}
}

// Two identical memoized Fits at once, in two processes or two goroutines: one trains, the other
// waits for it and loads its run; neither fails.
func TestIdenticalFitsAtOnce(t *testing.T) {
	t.Run("two processes", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "barrier"), 0o755); err != nil {
			t.Fatal(err)
		}
		var results []string
		var outs []<-chan string
		for i := range 2 {
			_, lines := startHelper(t, "fit", dir, fmt.Sprintf("KERAS_TEST_ID=%d", i))
			outs = append(outs, lines)
		}
		for _, lines := range outs {
			for line := range lines {
				if strings.HasPrefix(line, "result ") {
					results = append(results, line)
				}
			}
		}
		slices.Sort(results)
		if len(results) != 2 || !strings.Contains(results[0], "loaded=false") || !strings.Contains(results[1], "loaded=true") ||
			!strings.Contains(results[0], "err=<nil>") || !strings.Contains(results[1], "err=<nil>") ||
			!strings.Contains(results[1], "waited=true") || results[0][strings.Index(results[0], "key="):][:20] != results[1][strings.Index(results[1], "key="):][:20] {
			t.Fatalf("results %q: want one trained and one loaded after waiting, same key, no error", results)
		}
		assertNoLeftovers(t, filepath.Join(dir, "runs"))
	})
	t.Run("two goroutines", func(t *testing.T) {
		runs := t.TempDir()
		var wg sync.WaitGroup
		var hists [2]*History
		var errs [2]error
		for i := range 2 {
			wg.Go(func() { hists[i], errs[i] = slowFit(t, runs, &bytes.Buffer{}) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("errors %v", errs)
		}
		if hists[0].Loaded == hists[1].Loaded || hists[0].RunKey != hists[1].RunKey {
			t.Fatalf("loaded %v and %v, keys %s and %s: want one trained and one loaded", hists[0].Loaded, hists[1].Loaded, hists[0].RunKey, hists[1].RunKey)
		}
		assertNoLeftovers(t, runs)
	})
}

// A runs folder that cannot be written fails Fit before training, not at the save after it.
func TestRunsDirNotWritable(t *testing.T) {
	x, y, _ := blobs(31, 32, 4, 4, 4, 2)
	tests := []struct {
		name string
		runs func(t *testing.T) string
	}{
		{"the runs folder is a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "runs")
			os.WriteFile(p, nil, 0o644)
			return p
		}},
		{"its parent is a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			os.WriteFile(p, nil, 0o644)
			return filepath.Join(p, "runs")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var began atomic.Int32
			m := smallModel(t, 3, LossCategoricalCrossentropy, Adam(0.01))
			_, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16, Output: &bytes.Buffer{}, RunsDir: tc.runs(t),
				Callbacks: []Callback{&trainBegins{n: &began}}})
			if err == nil || !strings.Contains(err.Error(), "cannot be written") || began.Load() != 0 {
				t.Errorf("Fit: %v, %d training(s) began; want an error before training", err, began.Load())
			}
		})
	}
}

// The same with a read-only folder, which only binds a user other than root.
func TestRunsDirReadOnly(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	runs := t.TempDir()
	if err := os.Chmod(runs, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(runs, 0o755) })
	x, y, _ := blobs(31, 32, 4, 4, 4, 2)
	var began atomic.Int32
	m := smallModel(t, 3, LossCategoricalCrossentropy, Adam(0.01))
	_, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16, Output: &bytes.Buffer{}, RunsDir: runs,
		Callbacks: []Callback{&trainBegins{n: &began}}})
	if err == nil || !strings.Contains(err.Error(), "permission denied") || began.Load() != 0 {
		t.Errorf("Fit: %v, %d training(s) began; want an error before training", err, began.Load())
	}
}

// A process killed while it saves a run leaves its temporary folder, which the next memoized Fit
// removes; one interrupted (SIGINT) while it saves finishes the save, leaves nothing, then dies of
// the signal.
func TestInterruptedSaves(t *testing.T) {
	t.Run("killed", func(t *testing.T) {
		runs := t.TempDir()
		cmd, lines := startHelper(t, "save-stuck", runs)
		if line := <-lines; line != "filling" {
			t.Fatalf("helper: %q", line)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if names := mustReadDir(t, runs); len(names) != 1 || !strings.HasPrefix(names[0], ".tmp-0123456789abcdef-") {
			t.Fatalf("after the kill the runs folder holds %v, want the temporary folder", names)
		}
		x, y, _ := blobs(37, 32, 4, 4, 4, 2)
		m := smallModel(t, 3, LossCategoricalCrossentropy, Adam(0.01))
		if _, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16, Output: &bytes.Buffer{}, RunsDir: runs}); err != nil {
			t.Fatal(err)
		}
		assertNoLeftovers(t, runs)
	})
	t.Run("interrupted", func(t *testing.T) {
		runs := t.TempDir()
		cmd, lines := startHelper(t, "save-slow", runs)
		if line := <-lines; line != "filling" {
			t.Fatalf("helper: %q", line)
		}
		cmd.Process.Signal(syscall.SIGINT)
		for range lines {
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
			t.Errorf("helper ended with %v, want killed by SIGINT", err)
		}
		if !isComplete(filepath.Join(runs, "0123456789abcdef")) {
			t.Error("the save was not finished")
		}
		assertNoLeftovers(t, runs)
	})
}

// Every file of a saved folder is covered by a checksum: a changed byte in history.json or
// model.json is refused by Load and makes a memoized Fit train again; folders of the previous
// format (no SHA256SUMS) still load, a current one without it does not.
func TestSavedFilesChecksums(t *testing.T) {
	x, y, _ := blobs(41, 64, 4, 4, 4, 2)
	save := func(t *testing.T) string {
		m := smallModel(t, 7, LossCategoricalCrossentropy, Adam(0.01))
		if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 16, Output: &bytes.Buffer{}}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "model")
		if err := m.Save(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	flip := func(t *testing.T, path string, find, replace string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(data, []byte(find))
		if i < 0 {
			t.Fatalf("%s lacks %q", path, find)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte(replace), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ file, find, replace string }{
		{historyFile, `"epochs"`, `"epochz"`},
		{historyFile, `0.`, `1.`},
		{modelFile, `"relu"`, `"tanh"`},
		{modelFile, `"fits": 1`, `"fits": 7`},
	} {
		t.Run(tc.file+" "+tc.replace, func(t *testing.T) {
			dir := save(t)
			flip(t, filepath.Join(dir, tc.file), tc.find, tc.replace)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
				t.Errorf("Load after changing %s: %v", tc.file, err)
			}
		})
	}
	t.Run("previous format", func(t *testing.T) {
		dir := save(t)
		flip(t, filepath.Join(dir, modelFile), savedFormat, savedFormatV1)
		if _, err := Load(dir); err == nil {
			t.Error("a changed format with SHA256SUMS loaded")
		}
		if err := os.Remove(filepath.Join(dir, sumsFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err != nil {
			t.Errorf("a folder of the previous format: %v", err)
		}
	})
	t.Run("no SHA256SUMS", func(t *testing.T) {
		dir := save(t)
		if err := os.Remove(filepath.Join(dir, sumsFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), sumsFile) {
			t.Errorf("Load without %s: %v", sumsFile, err)
		}
	})
	t.Run("memoized run", func(t *testing.T) {
		runs := t.TempDir()
		fit := func(out *bytes.Buffer) *History {
			m := smallModel(t, 7, LossCategoricalCrossentropy, Adam(0.01))
			h, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 16, Verbose: 2, Output: out, RunsDir: runs})
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		h := fit(&bytes.Buffer{})
		flip(t, filepath.Join(runs, h.RunKey, historyFile), `"epochs"`, `"epochz"`)
		var out bytes.Buffer
		if h := fit(&out); h.Loaded || !strings.Contains(out.String(), "checksum mismatch") {
			t.Errorf("a run with a changed history.json: loaded %v, output %q", h.Loaded, out.String())
		}
		if h := fit(&bytes.Buffer{}); !h.Loaded {
			t.Error("the run trained again was not saved")
		}
	})
}
