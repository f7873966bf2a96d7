package cifar

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPythonReadsOurPickles checks the synthetic writer against the real thing: Python's pickle
// and numpy must read the files we write (the same files the Go reader is tested on) and see the
// same labels and pixels, after the lab's reshape(-1,3,32,32).transpose(0,2,3,1).
func TestPythonReadsOurPickles(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s with numpy is required in CI (apt-get install python3-numpy): %v", python, err)
		}
		t.Skipf("%s with numpy not available: %v", python, err)
	}
	for _, py3 := range []bool{false, true} {
		dir := t.TempDir()
		want, err := WriteSynthetic(dir, Python, SyntheticOptions{Seed: 11, TrainPerBatch: 4, Test: 6, Python3Bytes: py3})
		if err != nil {
			t.Fatal(err)
		}
		script := `
import pickle, sys
import numpy as np
with open(sys.argv[1], 'rb') as f:
    d = pickle.load(f, encoding='bytes')
x = d[b'data'].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
print(x.shape, x.dtype, ' '.join(map(str, d[b'labels'])))
print(' '.join(str(int(v)) for v in x.reshape(-1)[::97]))
`
		out, err := exec.Command(python, "-c", script, filepath.Join(dir, PythonFolder, "test_batch")).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var labels []string
		for _, l := range want.Test.Labels {
			labels = append(labels, string(rune('0'+l)))
		}
		if wantHead := "(6, 32, 32, 3) uint8 " + strings.Join(labels, " "); lines[0] != wantHead {
			t.Errorf("python3Bytes=%v: python sees %q, want %q", py3, lines[0], wantHead)
		}
		var sample []string
		for i := 0; i < len(want.Test.Images); i += 97 {
			sample = append(sample, strconv.Itoa(int(want.Test.Images[i])))
		}
		if lines[1] != strings.Join(sample, " ") {
			t.Errorf("python3Bytes=%v: pixels seen by numpy differ from ours", py3)
		}
	}
}
