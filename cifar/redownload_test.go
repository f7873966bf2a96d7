package cifar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/internal/testutil"
)

// The tests of this file check that downloading an incomplete cache copy again never loses the
// files the user still had: a download that fails (offline, a server error, a corrupt archive, a
// cancelled cell) puts the old copy back, and so does the next Load after a process killed while
// downloading.

// partlyDeletedCache loads the synthetic archive body from a loopback server into a new cache,
// deletes two of its batch files as a user might, and returns the cache, the archive and what
// is left of the copy (file name to content).
func partlyDeletedCache(t *testing.T, body []byte) (cache string, a Archive, left map[string]string) {
	t.Helper()
	srv, _ := dlServer(t, dlServe(body))
	cache, a = t.TempDir(), dlArchive(srv, body)
	if _, err := Load(context.Background(), Options{CacheDir: cache, Archive: a, NoFlatCache: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"data_batch_3", "test_batch"} {
		if err := os.Remove(filepath.Join(cache, "cifar10", PythonFolder, name)); err != nil {
			t.Fatal(err)
		}
	}
	return cache, a, folderContent(t, filepath.Join(cache, "cifar10", PythonFolder))
}

// folderContent maps the names of the files in dir to their content.
func folderContent(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("the copy is gone: %v", err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// assertCopyBack fails unless the cache's copy holds exactly the files left, and the cache's data
// folder holds nothing else (no copy aside, no lock file, no temporary).
func assertCopyBack(t *testing.T, cache string, left map[string]string) {
	t.Helper()
	got := folderContent(t, filepath.Join(cache, "cifar10", PythonFolder))
	if !maps.Equal(got, left) {
		t.Errorf("the copy holds %v, want the files left before the download: %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(left)))
	}
	if names := mustEntries(t, filepath.Join(cache, "cifar10")); strings.Join(names, ",") != PythonFolder {
		t.Errorf("the cache's data folder holds %v, want only %s", names, PythonFolder)
	}
}

// TestFailedRedownloadKeepsIncompleteCopy downloads a partly deleted cache copy again from
// servers that fail in different ways: each time the download fails, saying where the old copy
// is, and the old copy is back in place, file for file; a working server then replaces it.
func TestFailedRedownloadKeepsIncompleteCopy(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	src := t.TempDir()
	want, err := WriteSynthetic(src, Python, SyntheticOptions{Seed: 53})
	if err != nil {
		t.Fatal(err)
	}
	body := archiveOf(t, src)
	corrupt := bytes.Clone(body)
	corrupt[len(corrupt)/2] ^= 0xff

	offline, _ := dlServer(t, dlServe(body))
	offline.Close() // connection refused, as without a network

	for _, tc := range []struct {
		name    string
		archive func(a Archive) Archive // the archive to download, from the one that filled the cache
		cancel  bool                    // cancel the context once the download started
		want    string
	}{
		{name: "offline", archive: func(a Archive) Archive {
			a.URL = offline.URL + "/cifar-10-python.tar.gz"
			return a
		}, want: "connection refused"},
		{name: "server error", archive: func(a Archive) Archive {
			srv, _ := dlServer(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
			a.URL = srv.URL + "/cifar-10-python.tar.gz"
			return a
		}, want: "503"},
		{name: "corrupt archive", archive: func(a Archive) Archive {
			srv, _ := dlServer(t, dlServe(corrupt))
			a.URL = srv.URL + "/cifar-10-python.tar.gz"
			return a
		}, want: "is corrupt"},
		{name: "cancelled", archive: func(a Archive) Archive {
			srv, _ := dlServer(t, dlServeStuck(body, nil))
			a.URL = srv.URL + "/cifar-10-python.tar.gz"
			return a
		}, cancel: true, want: "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache, a, left := partlyDeletedCache(t, body)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var progress testutil.SyncBuffer
			if tc.cancel {
				go func() {
					for !strings.Contains(progress.String(), "Downloading") {
						time.Sleep(5 * time.Millisecond)
					}
					cancel()
				}()
			}
			_, err := Load(ctx, Options{CacheDir: cache, Archive: tc.archive(a), NoFlatCache: true, Progress: &progress})
			if err == nil {
				t.Fatalf("Load succeeded\n%s", progress.String())
			}
			assertCopyBack(t, cache, left)
			back := fmt.Sprintf("(the incomplete copy is back in %s)", filepath.Join(cache, "cifar10", PythonFolder))
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), back) {
				t.Errorf("Load: %v; want an error containing %q and %q", err, tc.want, back)
			}
			if !strings.Contains(progress.String(), "moving it aside and downloading it again") {
				t.Errorf("progress does not say the copy is moved aside:\n%s", progress.String())
			}

			// Back online: the download replaces the copy, and nothing is left aside.
			got, err := Load(context.Background(), Options{CacheDir: cache, Archive: a, NoFlatCache: true})
			if err != nil {
				t.Fatal(err)
			}
			assertSameSplit(t, got.Test, want.Test)
			if names := mustEntries(t, filepath.Join(cache, "cifar10")); strings.Join(names, ",") != PythonFolder {
				t.Errorf("after the download the cache's data folder holds %v", names)
			}
		})
	}
}

// TestKilledRedownloadRestoresIncompleteCopy kills (SIGKILL: no clean-up) a process while it
// downloads a partly deleted cache copy again: the old copy is aside then, and the next Load puts
// it back, even without downloading, and says so.
func TestKilledRedownloadRestoresIncompleteCopy(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	src := t.TempDir()
	if _, err := WriteSynthetic(src, Python, SyntheticOptions{Seed: 59}); err != nil {
		t.Fatal(err)
	}
	body := archiveOf(t, src)
	cache, _, left := partlyDeletedCache(t, body)

	dl, a := startStuckDownload(t, cache, body)
	dl.Process.Signal(syscall.SIGKILL)
	dl.Wait()
	final := filepath.Join(cache, "cifar10", PythonFolder)
	if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("while the killed process downloaded, the old copy was still in place (%v): the test does not kill where it should", err)
	}

	var progress bytes.Buffer
	_, err := Load(context.Background(), Options{CacheDir: cache, Archive: a, NoFlatCache: true, NoDownload: true, Progress: &progress})
	// The copy is back; the killed download's partial archive and lock file are gone.
	assertCopyBack(t, cache, left)
	var incomplete *IncompleteError
	if !errors.As(err, &incomplete) || incomplete.Dir != final {
		t.Errorf("Load without download: %v; want the incomplete copy's error", err)
	}
	if !strings.Contains(progress.String(), "Put back in "+final) {
		t.Errorf("progress does not say the copy was put back:\n%s", progress.String())
	}
}
