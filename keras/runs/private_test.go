package runs_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// copyTree copies the folder src to dst (files and folders, modes kept), as a classmate's cp -r.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

// A run planted in the fallback folder (the shared /tmp's cifarlab-runs-<uid>, which anyone can
// create first) is loaded only from a folder that is this user's alone: a group- or
// world-accessible folder, a symbolic link, or a folder owned by another user is refused with a
// line that says why, and the load finds no run. The same run in a folder of mode 0700 of this
// user's is found: the check is what refuses the others.
func TestFallbackFolderMustBePrivate(t *testing.T) {
	x, y := blobs(1, 64)
	cfg := keras.FitConfig{Epochs: 2, BatchSize: 16, Verbose: 2, Output: &bytes.Buffer{}}
	// The planter trains the run that the victim's notebook will ask for (same model, data, key).
	planted := t.TempDir()
	r, err := runs.FitOrLoad(t.Context(), smallModel(t, 3), x, y, cfg, runs.Options{Dir: planted})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, fallback string) // makes fallback hold the planted run
		reason  string                              // in the refusal line; "" when it must load
	}{
		{"private", func(t *testing.T, fb string) {
			mustMkdir(t, fb, 0o700)
			copyTree(t, r.Dir, filepath.Join(fb, r.Key))
		}, ""},
		{"world-readable (0755)", func(t *testing.T, fb string) {
			mustMkdir(t, fb, 0o755)
			copyTree(t, r.Dir, filepath.Join(fb, r.Key))
		}, "has mode 0755"},
		{"group-writable (0770)", func(t *testing.T, fb string) {
			mustMkdir(t, fb, 0o770)
			copyTree(t, r.Dir, filepath.Join(fb, r.Key))
		}, "has mode 0770"},
		{"symbolic link to a private folder", func(t *testing.T, fb string) {
			target := filepath.Join(t.TempDir(), "theirs")
			mustMkdir(t, target, 0o700)
			copyTree(t, r.Dir, filepath.Join(target, r.Key))
			if err := os.Symlink(target, fb); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"owned by another user", func(t *testing.T, fb string) {
			if os.Getuid() != 0 {
				t.Skip("only root can give a folder to another user")
			}
			mustMkdir(t, fb, 0o700)
			copyTree(t, r.Dir, filepath.Join(fb, r.Key))
			if err := os.Chown(fb, 65534, 65534); err != nil { // nobody
				t.Fatal(err)
			}
		}, "belongs to the user with id 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fallback := filepath.Join(t.TempDir(), "cifarlab-runs")
			tc.prepare(t, fallback)
			var out bytes.Buffer
			c := cfg
			c.Output = &out
			got, err := runs.FitOrLoad(t.Context(), smallModel(t, 3), x, y, c,
				runs.Options{Dir: t.TempDir(), FallbackDir: fallback, LoadOnly: true, Quiet: true})
			if tc.reason == "" {
				if err != nil || !got.Loaded {
					t.Fatalf("the run in a private fallback folder was not loaded: %v\n%s", err, out.String())
				}
				return
			}
			if !errors.Is(err, runs.ErrNotTrained) {
				t.Errorf("FitOrLoad = %v, want ErrNotTrained: the planted run must not load", err)
			}
			if line := out.String(); !strings.Contains(line, "not loading runs from the fallback folder") || !strings.Contains(line, tc.reason) {
				t.Errorf("the refusal does not say why (%q):\n%s", tc.reason, line)
			}
		})
	}
}

// A save that falls back (the runs folder cannot take the run) creates the fallback folder with
// mode 0700; into a folder of the same name that someone else prepared (mode 0777), it saves
// nothing and says why.
func TestFallbackSaveMakesAPrivateFolder(t *testing.T) {
	x, y := blobs(2, 64)
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, fallback string)
		reason  string
	}{
		{"created by the save", func(*testing.T, string) {}, ""},
		{"prepared by another (0777)", func(t *testing.T, fb string) { mustMkdir(t, fb, 0o777) }, "has mode 0777"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runsDir := filepath.Join(t.TempDir(), "runs")
			mustMkdir(t, runsDir, 0o755)
			fallback := filepath.Join(t.TempDir(), "cifarlab-runs")
			tc.prepare(t, fallback)
			var out bytes.Buffer
			// The runs folder turns into a file during the training, so that the save fails there,
			// for root too (a read-only folder would not stop root).
			cfg := keras.FitConfig{Epochs: 1, BatchSize: 16, Verbose: 2, Output: &out,
				Callbacks: []keras.Callback{&probe{onEpochEnd: func(int) error {
					if err := os.RemoveAll(runsDir); err != nil {
						return err
					}
					return os.WriteFile(runsDir, []byte("not a folder"), 0o644)
				}}}}
			r, err := runs.FitOrLoad(t.Context(), smallModel(t, 4), x, y, cfg, runs.Options{Dir: runsDir, FallbackDir: fallback})
			if tc.reason == "" {
				if err != nil || r.Dir != filepath.Join(fallback, r.Key) {
					t.Fatalf("save to the fallback: %v (run in %v)\n%s", err, r, out.String())
				}
				info, err := os.Lstat(fallback)
				if err != nil || info.Mode().Perm() != 0o700 {
					t.Errorf("the fallback folder has mode %v (%v), want 0700", info.Mode().Perm(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("save into a folder prepared by another: %v, want an error saying %q", err, tc.reason)
			}
			if entries, _ := os.ReadDir(fallback); len(entries) != 0 {
				t.Errorf("%d entries saved into the foreign folder", len(entries))
			}
		})
	}
}

// mustMkdir makes dir with exactly mode perm (whatever the umask).
func mustMkdir(t *testing.T, dir string, perm os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
}
