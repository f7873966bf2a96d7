package runs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/internal/atomicdir"
	"github.com/cifarlab/cifarlab/internal/testutil"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// helperEnv makes TestHelperProcess act as a helper process of the tests below; helperDirEnv
// names its folder.
const (
	helperEnv    = "RUNS_TEST_HELPER"
	helperDirEnv = "RUNS_TEST_DIR"
	helperIDEnv  = "RUNS_TEST_ID"
)

// fitHooks are what the concurrent tests observe of, and change in, sharedFit; none of them
// changes the run key.
type fitHooks struct {
	onTrainBegin func() error  // called as training begins
	onWaiting    func()        // called when the Fit says it waits for an identical one
	epochDelay   time.Duration // the least time an epoch takes
}

// sharedFit is the memoized Fit that the concurrent tests run, in helpers and goroutines alike.
func sharedFit(t testing.TB, dir string, hooks fitHooks) (*runs.Run, string, error) {
	x, y := blobs(29, 64)
	var out strings.Builder
	cfg := keras.FitConfig{Epochs: 3, BatchSize: 16, Verbose: 2,
		Callbacks: []keras.Callback{&probe{onTrainBegin: hooks.onTrainBegin, onEpochEnd: func(int) error {
			time.Sleep(hooks.epochDelay)
			return nil
		}}},
		Output: writerFunc(func(p []byte) {
			out.Write(p)
			if hooks.onWaiting != nil && strings.Contains(string(p), "is being trained by another Fit") {
				hooks.onWaiting()
			}
		})}
	r, err := runs.FitOrLoad(t.Context(), smallModel(t, 3), x, y, cfg, runs.Options{Dir: dir})
	return r, out.String(), err
}

// waitingLine is what a Fit prints when it waits for an identical one that trains.
func waitingLine(key string) string {
	return "runs: run " + key + " is being trained by another Fit right now; waiting for it to finish\n"
}

// printResult prints a helper's result line.
func printResult(r *runs.Run, out string, err error) {
	loaded, key := false, ""
	if r != nil {
		loaded, key = r.Loaded, r.Key
	}
	fmt.Printf("result loaded=%v key=%s err=%v waited=%v\n", loaded, key, err, strings.Contains(out, "being trained by another Fit"))
}

// TestHelperProcess is not a test: the tests below run it in helper processes.
func TestHelperProcess(t *testing.T) {
	what := os.Getenv(helperEnv)
	if what == "" {
		t.Skip("helper process only")
	}
	dir := os.Getenv(helperDirEnv)
	switch what {
	case "fit-at-once": // wait until both helpers are ready, then Fit with slow epochs
		os.WriteFile(filepath.Join(dir, "barrier", "ready-"+os.Getenv(helperIDEnv)), nil, 0o644)
		for {
			if m, _ := filepath.Glob(filepath.Join(dir, "barrier", "ready-*")); len(m) == 2 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		printResult(sharedFit(t, filepath.Join(dir, "runs"), fitHooks{epochDelay: 150 * time.Millisecond}))
	case "fit-first": // train, holding on as training begins until the file "waiting" appears
		printResult(sharedFit(t, filepath.Join(dir, "runs"), fitHooks{onTrainBegin: func() error {
			fmt.Println("training")
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
				if _, err := os.Stat(filepath.Join(dir, "waiting")); err == nil {
					break
				}
			}
			return nil
		}}))
	case "train-stuck": // begin training and stop there, holding the run's lock
		sharedFit(t, dir, fitHooks{onTrainBegin: func() error {
			fmt.Println("training")
			select {}
		}})
	case "save-stuck", "save-slow": // save a run folder and stop (or dawdle) half-way
		err := atomicdir.Write(filepath.Join(dir, os.Getenv(helperIDEnv)), func(tmp string) error {
			if err := os.MkdirAll(filepath.Join(tmp, "model"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, "log.txt"), []byte("partial"), 0o644); err != nil {
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

// startHelper runs TestHelperProcess as what in dir; its output lines arrive on the channel.
func startHelper(t *testing.T, what, dir string, env ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+what, helperDirEnv+"="+dir), env...)
	return cmd, testutil.StartLines(t, cmd)
}

// expectLine fails the test unless the helper's next line is want.
func expectLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	select {
	case line := <-lines:
		if line != want {
			t.Fatalf("helper: %q, want %q", line, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("helper: no %q after 30 s", want)
	}
}

// parseResult parses a helper's result line.
func parseResult(t *testing.T, line string) (loaded bool, key, err string, waited bool) {
	t.Helper()
	if _, scanErr := fmt.Sscanf(line, "result loaded=%t key=%s err=%s waited=%t", &loaded, &key, &err, &waited); scanErr != nil {
		t.Fatalf("helper result %q: %v", line, scanErr)
	}
	return loaded, key, err, waited
}

// Two identical memoized Fits started at once, in two processes or two goroutines, with epochs
// slow enough that they overlap: one trains, the other loads its run; neither fails, and nothing
// is left beside the run.
//
// The Fit that loads usually says that it waited, but not always: when one Fit's clean-up of the
// runs folder (checkDir's scratch.RemoveStale) removes the lock file that the other has just
// created, and the other then waits, scratch.LockPath does not call its waiting function (it only
// does when its first attempt finds the lock held). TestFitWaitsForIdenticalFit checks the message.
func TestIdenticalFitsAtOnce(t *testing.T) {
	t.Run("two processes", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "barrier"), 0o755); err != nil {
			t.Fatal(err)
		}
		var outs []<-chan string
		for i := range 2 {
			_, lines := startHelper(t, "fit-at-once", dir, fmt.Sprintf("%s=%d", helperIDEnv, i))
			outs = append(outs, lines)
		}
		var results []string
		for _, lines := range outs {
			for line := range lines {
				if strings.HasPrefix(line, "result ") {
					results = append(results, line)
				}
			}
		}
		slices.Sort(results) // loaded=false before loaded=true
		if len(results) != 2 {
			t.Fatalf("results %q, want two", results)
		}
		loaded0, key0, err0, _ := parseResult(t, results[0])
		loaded1, key1, err1, waited := parseResult(t, results[1])
		if loaded0 || !loaded1 || err0 != "<nil>" || err1 != "<nil>" || !hexKey.MatchString(key0) || key0 != key1 {
			t.Fatalf("results %q: want one trained and one loaded, same key, no error", results)
		}
		if !waited {
			t.Error("the loading Fit did not say that it waited")
		}
		if names := readDir(t, filepath.Join(dir, "runs")); !slices.Equal(names, []string{key0}) {
			t.Errorf("the runs folder holds %v, want only the run %s", names, key0)
		}
	})
	t.Run("two goroutines", func(t *testing.T) {
		dir := t.TempDir()
		var wg sync.WaitGroup
		var rs [2]*runs.Run
		var outs [2]string
		var errs [2]error
		for i := range 2 {
			wg.Go(func() { rs[i], outs[i], errs[i] = sharedFit(t, dir, fitHooks{epochDelay: 150 * time.Millisecond}) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("errors %v", errs)
		}
		if rs[0].Loaded { // the trained one first
			rs[0], rs[1], outs[0], outs[1] = rs[1], rs[0], outs[1], outs[0]
		}
		if rs[0].Loaded || !rs[1].Loaded || rs[0].Key != rs[1].Key {
			t.Fatalf("loaded %v and %v, keys %s and %s: want one trained and one loaded", rs[0].Loaded, rs[1].Loaded, rs[0].Key, rs[1].Key)
		}
		if !strings.Contains(outs[1], waitingLine(rs[0].Key)) {
			t.Error("the loading Fit did not say that it waited")
		}
		if historyJSON(t, rs[0].History) != historyJSON(t, rs[1].History) {
			t.Error("the loaded History differs from the trained one")
		}
		if names := readDir(t, dir); !slices.Equal(names, []string{rs[0].Key}) {
			t.Errorf("the runs folder holds %v, want only the run %s", names, rs[0].Key)
		}
	})
}

// A Fit identical to one that another process or goroutine is training says that it waits, waits
// for it, and loads its run, printing its epoch lines. The training Fit holds on as training
// begins until the other says that it waits.
func TestFitWaitsForIdenticalFit(t *testing.T) {
	check := func(t *testing.T, dir string, r *runs.Run, out string) {
		t.Helper()
		if !r.Loaded {
			t.Fatalf("the second Fit trained (printed %q); want it to load the first one's run", out)
		}
		log, err := os.ReadFile(filepath.Join(r.Dir, "log.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if want := waitingLine(r.Key) + "loaded run " + r.Key + " from " + r.Dir + "\n" + string(log); out != want {
			t.Errorf("the second Fit printed\n%s\nwant\n%s", out, want)
		}
		if names := readDir(t, dir); !slices.Equal(names, []string{r.Key}) {
			t.Errorf("the runs folder holds %v, want only the run %s", names, r.Key)
		}
	}
	t.Run("another process", func(t *testing.T) {
		dir := t.TempDir()
		runsDir := filepath.Join(dir, "runs")
		_, lines := startHelper(t, "fit-first", dir)
		expectLine(t, lines, "training")
		r, out, err := sharedFit(t, runsDir, fitHooks{onWaiting: func() { os.WriteFile(filepath.Join(dir, "waiting"), nil, 0o644) }})
		if err != nil {
			t.Fatal(err)
		}
		var result string
		for line := range lines {
			if strings.HasPrefix(line, "result ") {
				result = line
			}
		}
		if loaded, key, err, _ := parseResult(t, result); loaded || key != r.Key || err != "<nil>" {
			t.Errorf("the helper's Fit: %q; want trained with key %s", result, r.Key)
		}
		check(t, runsDir, r, out)
	})
	t.Run("another goroutine", func(t *testing.T) {
		dir := t.TempDir()
		training, waiting := make(chan struct{}), make(chan struct{})
		var first *runs.Run
		var firstErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			first, _, firstErr = sharedFit(t, dir, fitHooks{onTrainBegin: func() error {
				close(training)
				select {
				case <-waiting:
				case <-time.After(30 * time.Second):
				}
				return nil
			}})
		})
		<-training
		r, out, err := sharedFit(t, dir, fitHooks{onWaiting: func() { close(waiting) }})
		wg.Wait()
		if err != nil || firstErr != nil {
			t.Fatalf("errors %v and %v", firstErr, err)
		}
		if first.Loaded || first.Key != r.Key {
			t.Errorf("the first Fit: loaded %v, key %s; want trained with key %s", first.Loaded, first.Key, r.Key)
		}
		if historyJSON(t, first.History) != historyJSON(t, r.History) {
			t.Error("the loaded History differs from the trained one")
		}
		check(t, dir, r, out)
	})
}

// A process killed while it trains leaves the run's lock file, and one killed while it saves
// leaves a temporary folder: neither looks like a run, the next identical Fit neither waits nor
// loads, it trains, and it removes the leftovers.
func TestKilledFits(t *testing.T) {
	key := func(t *testing.T) string {
		x, y := blobs(29, 64)
		k, err := runs.Key(smallModel(t, 3), x, y, keras.FitConfig{Epochs: 3, BatchSize: 16, Callbacks: []keras.Callback{&probe{}}})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	tests := []struct {
		name     string
		helper   string
		ready    string
		leftover string // prefix
		otherKey bool   // the next Fit is another one
	}{
		{"while training", "train-stuck", "training", ".lock-", false},
		{"while saving", "save-stuck", "filling", ".tmp-", false},
		{"while training, then another Fit", "train-stuck", "training", ".lock-", true},
		{"while saving, then another Fit", "save-stuck", "filling", ".tmp-", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, key := t.TempDir(), key(t)
			cmd, lines := startHelper(t, tc.helper, dir, helperIDEnv+"="+key)
			expectLine(t, lines, tc.ready)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if names := readDir(t, dir); len(names) != 1 || !strings.HasPrefix(names[0], tc.leftover+key) {
				t.Fatalf("after the kill the runs folder holds %v, want only a %s%s… leftover", names, tc.leftover, key)
			}
			var r *runs.Run
			var out string
			if tc.otherKey {
				f := newFitter(t)
				f.dir = dir
				_, r, out = f.fit(baseConfig(), runs.Options{})
			} else {
				var err error
				if r, out, err = sharedFit(t, dir, fitHooks{}); err != nil {
					t.Fatal(err)
				}
			}
			if (r.Key == key) == tc.otherKey || r.Loaded || strings.Contains(out, "being trained by another Fit") || strings.Contains(out, "unreadable") {
				t.Errorf("after the kill: key %s (killed %s), loaded %v, printed %q; want trained at once", r.Key, key, r.Loaded, out)
			}
			if names := readDir(t, dir); !slices.Equal(names, []string{r.Key}) {
				t.Errorf("the runs folder holds %v, want only the run %s", names, r.Key)
			}
		})
	}
}

// A process interrupted (SIGINT) while it saves a run folder finishes the save, leaves nothing
// else, then dies of the signal.
func TestInterruptedSave(t *testing.T) {
	dir := t.TempDir()
	const key = "0123456789abcdef"
	cmd, lines := startHelper(t, "save-slow", dir, helperIDEnv+"="+key)
	expectLine(t, lines, "filling")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("helper ended with %v, want killed by SIGINT", err)
	}
	if !atomicdir.IsComplete(filepath.Join(dir, key)) {
		t.Error("the save was not finished")
	}
	if names := readDir(t, dir); !slices.Equal(names, []string{key}) {
		t.Errorf("the runs folder holds %v, want only %s", names, key)
	}
}

// writerFunc is an io.Writer that calls a function with each write.
type writerFunc func(p []byte)

func (w writerFunc) Write(p []byte) (int, error) {
	w(p)
	return len(p), nil
}

// A Fit waiting for an identical one to finish gives up when its context is cancelled, with an
// error wrapping context.Canceled; the training Fit is not disturbed.
func TestWaitCancelled(t *testing.T) {
	dir := t.TempDir()
	training, release := make(chan struct{}), make(chan struct{})
	var trained *runs.Run
	var trainErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		trained, _, trainErr = sharedFit(t, dir, fitHooks{onTrainBegin: func() error {
			close(training)
			<-release
			return nil
		}})
	})
	<-training

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	x, y := blobs(29, 64)
	var out strings.Builder
	cfg := keras.FitConfig{Epochs: 3, BatchSize: 16, Verbose: 2, Callbacks: []keras.Callback{&probe{}},
		Output: writerFunc(func(p []byte) {
			out.Write(p)
			if strings.Contains(string(p), "being trained by another Fit") {
				cancel()
			}
		})}
	r, err := runs.FitOrLoad(ctx, smallModel(t, 3), x, y, cfg, runs.Options{Dir: dir})
	close(release)
	wg.Wait()
	if !errors.Is(err, context.Canceled) || r != nil {
		t.Errorf("the waiting Fit: %+v, %v (printed %q); want an error wrapping context.Canceled", r, err, out.String())
	}
	if trainErr != nil || trained == nil || trained.Loaded {
		t.Fatalf("the training Fit: %+v, %v", trained, trainErr)
	}
	if names := readDir(t, dir); !slices.Equal(names, []string{trained.Key}) {
		t.Errorf("the runs folder holds %v, want only the run %s", names, trained.Key)
	}
}
