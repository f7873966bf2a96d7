package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"testing"
)

// parityCase is one scripted training for a callback, in the JSON that
// bench/keras/callbacks_parity.py reads.
type parityCase struct {
	Kind           string    `json:"kind"` // "early" or "reduce"
	Monitor        string    `json:"monitor"`
	Mode           string    `json:"mode"`
	MinDelta       float64   `json:"min_delta"`
	Patience       int       `json:"patience"`
	Baseline       *float64  `json:"baseline"`
	Restore        bool      `json:"restore"`
	StartFromEpoch int       `json:"start_from_epoch"`
	Factor         float64   `json:"factor"`
	Cooldown       int       `json:"cooldown"`
	MinLR          float64   `json:"min_lr"`
	LR             float64   `json:"lr"`
	Values         []float64 `json:"values"`
}

// parityResult is what a callback did over a case.
type parityResult struct {
	Ran      int       `json:"ran"`
	LRs      []float64 `json:"lrs"`
	Stopped  int       `json:"stopped"`
	Best     int       `json:"best"`
	Restored int       `json:"restored"`
}

// parityCases generates n scripted trainings: random walks with plateaus, exact repeats and
// improvements of exactly min_delta (values on a grid of min_delta), in every mode, with and
// without a baseline, a warm-up, restoring, cooldown and a learning-rate floor.
func parityCases(n int) []parityCase {
	rng := rand.New(rand.NewPCG(2026, 12))
	pick := func(xs ...float64) float64 { return xs[rng.IntN(len(xs))] }
	var cases []parityCase
	for i := range n {
		c := parityCase{Kind: []string{"early", "reduce"}[i%2], Monitor: "val_loss", Mode: []string{"auto", "min", "max"}[rng.IntN(3)],
			MinDelta: pick(0, 0.001, 0.01, 0.1, 1e-4), Patience: rng.IntN(5), LR: pick(0.001, 0.01, 0.1)}
		if rng.IntN(3) == 0 {
			c.Monitor = "val_accuracy"
		}
		maximize := c.Mode == "max" || c.Mode == "auto" && c.Monitor == "val_accuracy"
		step := c.MinDelta
		if step == 0 {
			step = 0.01
		}
		v := pick(0.5, 1, 2.3)
		for range 5 + rng.IntN(20) {
			switch r := rng.IntN(10); {
			case r < 3: // repeat exactly
			case r < 6: // move by a whole number of min_delta (ties at exactly min_delta)
				k := float64(rng.IntN(3) - 1)
				if maximize {
					k = -k
				}
				v -= k * step
			default:
				v += (rng.Float64() - 0.55) * 0.2
			}
			c.Values = append(c.Values, v)
		}
		if rng.IntN(4) == 0 {
			b := c.Values[0] + pick(-0.05, 0, 0.05)
			c.Baseline = &b
		}
		if c.Kind == "early" {
			c.Restore = rng.IntN(2) == 0
			c.StartFromEpoch = rng.IntN(3)
		} else {
			c.Factor = pick(0.1, 0.5, 0.2)
			c.Cooldown = rng.IntN(3)
			c.MinLR = pick(0, 1e-5, 1e-4, 0.001)
			c.Baseline = nil // ReduceLROnPlateau has none
		}
		cases = append(cases, c)
	}
	return cases
}

// goParity drives cifarlab's callback over a case.
func goParity(t *testing.T, c parityCase) parityResult {
	var cb Callback
	if c.Kind == "early" {
		cb = &EarlyStopping{Monitor: c.Monitor, MinDelta: c.MinDelta, Patience: c.Patience, Mode: c.Mode,
			RestoreBestWeights: c.Restore, Baseline: c.Baseline, StartFromEpoch: c.StartFromEpoch, Quiet: true}
	} else {
		minDelta := c.MinDelta
		if minDelta == 0 {
			minDelta = NoMinDelta // a literal's zero means Keras's default; the case asks for none
		}
		cb = &ReduceLROnPlateau{Monitor: c.Monitor, Factor: c.Factor, Patience: c.Patience, MinLR: c.MinLR,
			Cooldown: c.Cooldown, MinDelta: minDelta, Mode: c.Mode, Quiet: true}
	}
	run, ran, lrs := drive(t, cb, c.Monitor, c.Values, c.LR)
	r := parityResult{Ran: ran, LRs: lrs}
	if es, ok := cb.(*EarlyStopping); ok {
		r.Stopped, r.Best, r.Restored = es.StoppedEpoch(), es.BestEpoch(), run.restored
	}
	return r
}

// kerasPython is the Python with Keras 3 for the parity test: CIFARLAB_KERAS_PY, else the venv
// that bench/keras/callbacks_venv.sh makes for $CIFARLAB_PYTHON (default /usr/bin/python3), one
// per Python version, which "callbacks_venv.sh --python" names. Without one, why not, in one
// line, and whether it is only that the Python is outside the venv's lock (a skip, even in CI).
func kerasPython() (py, why string, outsideLock bool) {
	if py := os.Getenv("CIFARLAB_KERAS_PY"); py != "" {
		return py, "", false
	}
	out, err := exec.Command("bash", "../bench/keras/callbacks_venv.sh", "--python").Output()
	line := string(bytes.TrimSpace(out))
	if err == nil && line != "" {
		return line, "", false
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 && line != "" {
		return "", line, true
	}
	if line == "" {
		line = fmt.Sprintf("bench/keras/callbacks_venv.sh --python: %v", err)
	}
	return "", line, false
}

// cifarlab's EarlyStopping and ReduceLROnPlateau decide as Keras 3's own do, ties at exactly
// min_delta included, with baseline and start_from_epoch: both are driven over 1,500 generated
// metric sequences (Keras through bench/keras/callbacks_parity.py) and every result must agree.
func TestCallbacksParityWithKeras(t *testing.T) {
	py := kerasPythonOrSkip(t)
	cases := parityCases(1500)
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	stdout := runKeras(t, py, "../bench/keras/callbacks_parity.py", in)
	var want []parityResult
	if err := json.Unmarshal(stdout, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("Keras side printed %d results (%v)", len(want), err)
	}
	differ := 0
	for i, c := range cases {
		got := goParity(t, c)
		if c.Kind == "reduce" {
			got.Stopped, got.Best, got.Restored = 0, 0, 0
			want[i].Restored = 0
		}
		if got.Ran != want[i].Ran || got.Stopped != want[i].Stopped || got.Best != want[i].Best ||
			got.Restored != want[i].Restored || !slices.EqualFunc(got.LRs, want[i].LRs, sameFloat) {
			differ++
			if differ <= 5 {
				cj, _ := json.Marshal(c)
				t.Errorf("case %d %s:\n  cifarlab %+v\n  Keras    %+v", i, cj, got, want[i])
			}
		}
	}
	t.Logf("%d of %d sequences agree with Keras %s", len(cases)-differ, len(cases), kerasVersion(py))
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func kerasVersion(py string) string {
	out, err := exec.Command(py, "-c", "import os; os.environ.setdefault('KERAS_BACKEND','jax'); import keras; print(keras.__version__)").Output()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%s", bytes.TrimSpace(out))
}

// kerasPythonOrSkip returns the Python of the Keras venv that the parity tests run, or skips the
// test saying why (in CI, where the venv must be there, it fails instead, unless the machine's
// Python is outside the venv's lock).
func kerasPythonOrSkip(t *testing.T) string {
	t.Helper()
	py, why, outsideLock := kerasPython()
	if py == "" {
		if os.Getenv("CI") == "true" && !outsideLock {
			t.Fatal("no Keras to compare with: " + why)
		}
		t.Skip("no Keras to compare with (CIFARLAB_KERAS_PY unset): " + why)
	}
	return py
}

// runKeras runs a parity script of bench/keras with py, in on its standard input, and returns what
// it printed; a failing script fails the test with its standard error.
func runKeras(t *testing.T, py, script string, in []byte) []byte {
	t.Helper()
	cmd := exec.Command(py, script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("Keras side (%s): %v\n%s", script, err, stderr.String())
	}
	return stdout.Bytes()
}
