package cifar

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/internal/testutil"
)

// The tests of this file inject faults into real files and real processes: damaged and stale flat
// caches, processes killed while they write, unreadable folders, caches deleted in part.

// helperEnv makes the test binary act as a helper process (see runHelper) instead of running tests.
const helperEnv = "CIFAR_TEST_HELPER"

func TestMain(m *testing.M) {
	if what := os.Getenv(helperEnv); what != "" {
		os.Exit(runHelper(what))
	}
	os.Exit(m.Run())
}

// runHelper is the body of a helper process, working in $CIFAR_TEST_CACHE.
func runHelper(what string) int {
	cache := os.Getenv("CIFAR_TEST_CACHE")
	switch what {
	case "download": // Load into an empty cache from $CIFAR_TEST_URL
		size, _ := strconv.ParseInt(os.Getenv("CIFAR_TEST_SIZE"), 10, 64)
		a := Archive{URL: os.Getenv("CIFAR_TEST_URL"), Size: size, SHA256: os.Getenv("CIFAR_TEST_SHA256"), Root: PythonFolder}
		_, err := Load(context.Background(), Options{CacheDir: cache, Archive: a, Progress: os.Stdout})
		fmt.Println("load:", err)
	case "flat-write": // write a flat cache and stop half-way, as if the machine stalled there
		want, err := WriteSynthetic(filepath.Join(cache, "data"), Python, SyntheticOptions{TrainPerBatch: 2000, Test: 2000})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		c := flatCache{path: filepath.Join(cache, "flat", "0123456789abcdef-0123456789abcdef.cifar"), source: cache, prefix: "0123456789abcdef-"}
		err = writeFlatCache(&pausingContext{Context: context.Background(), pauseAt: 3}, c, want)
		fmt.Println("write:", err)
	default:
		fmt.Println("unknown helper", what)
		return 2
	}
	return 0
}

// pausingContext blocks forever in its pauseAt-th call of Err, after printing "paused": a
// deterministic point in the middle of writeFlatCache's loop.
type pausingContext struct {
	context.Context
	calls   atomic.Int32
	pauseAt int32
}

func (c *pausingContext) Err() error {
	if c.calls.Add(1) == c.pauseAt {
		fmt.Println("paused")
		select {}
	}
	return c.Context.Err()
}

// startHelper starts a helper process; its output lines arrive on the returned channel.
func startHelper(t *testing.T, what string, env ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+what), env...)
	return cmd, testutil.StartLines(t, cmd)
}

// startStuckDownload starts a helper process that downloads body into the cache from a local
// server that sends part of it and then stalls, and returns once the download has started, with
// the archive it downloads.
func startStuckDownload(t *testing.T, cache string, body []byte) (*exec.Cmd, Archive) {
	t.Helper()
	started := make(chan struct{})
	stuck, _ := dlServer(t, dlServeStuck(body, started))
	a := dlArchive(stuck, body)
	dl, _ := startHelper(t, "download", "CIFAR_TEST_CACHE="+cache, "CIFAR_TEST_URL="+a.URL,
		"CIFAR_TEST_SIZE="+fmt.Sprint(a.Size), "CIFAR_TEST_SHA256="+a.SHA256)
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the helper never started downloading")
	}
	return dl, a
}

// waitFor waits until cond holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// archiveOf builds a .tar.gz in the official layout from the synthetic batches in src.
func archiveOf(t *testing.T, src string) []byte {
	t.Helper()
	entries := []dlEntry{{name: PythonFolder + "/", typ: tar.TypeDir}}
	for _, f := range glob(t, filepath.Join(src, PythonFolder, "*")) {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, dlEntry{name: PythonFolder + "/" + filepath.Base(f), body: body})
	}
	return dlTarGz(t, entries)
}

// A process killed (SIGKILL: no chance to clean up) while it downloads into the cache or writes
// the flat cache leaves its temporaries; the next Load removes them, and a successful download
// leaves none of its own.
func TestLoadRemovesTemporariesOfKilledProcesses(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	src := t.TempDir()
	want, err := WriteSynthetic(src, Python, SyntheticOptions{Seed: 31})
	if err != nil {
		t.Fatal(err)
	}
	body := archiveOf(t, src)
	cache := t.TempDir()

	// Killed during the download.
	dl, _ := startStuckDownload(t, cache, body)
	partial := filepath.Join(cache, "cifar10", ".download-*.tar.gz")
	waitFor(t, "the partial download", func() bool {
		m, _ := filepath.Glob(partial)
		if len(m) != 1 {
			return false
		}
		info, err := os.Stat(m[0])
		return err == nil && info.Size() > 0
	})
	dl.Process.Signal(syscall.SIGKILL)
	dl.Wait()

	// Killed while writing the flat cache.
	fw, lines := startHelper(t, "flat-write", "CIFAR_TEST_CACHE="+cache)
	if line := <-lines; line != "paused" {
		t.Fatalf("flat-write helper: %q", line)
	}
	fw.Process.Signal(syscall.SIGKILL)
	fw.Wait()

	leftovers := append(glob(t, partial), glob(t, filepath.Join(cache, "flat", ".tmp-*.cifar"))...)
	if len(leftovers) != 2 {
		t.Fatalf("leftovers of the killed processes: %v, want the partial download and the flat cache's temporary", leftovers)
	}

	// The next Load removes them and downloads; nothing hidden stays.
	good, _ := dlServer(t, dlServe(body))
	var progress bytes.Buffer
	got, err := Load(context.Background(), Options{CacheDir: cache, Archive: dlArchive(good, body), Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	assertSameSplit(t, got.Train, want.Train)
	for _, p := range leftovers {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there", p)
		}
	}
	if !strings.Contains(progress.String(), "left by an interrupted run") {
		t.Errorf("progress does not mention the removed leftovers:\n%s", progress.String())
	}
	for _, dir := range []string{filepath.Join(cache, "cifar10"), filepath.Join(cache, "flat")} {
		for _, e := range mustEntries(t, dir) {
			if strings.HasPrefix(e, ".") {
				t.Errorf("hidden file %s left in %s", e, dir)
			}
		}
	}
}

func mustEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// setFlatSettle shortens the time after which a cache file gets its stamp.
func setFlatSettle(t *testing.T, d time.Duration) {
	old := flatSettle
	flatSettle = d
	t.Cleanup(func() { flatSettle = old })
}

// A flat cache changed after it was written and checked (a byte overwritten in place, as by
// dd conv=notrunc) is detected by its checksum, although the stamp of its last check exists:
// Load decodes the batches again, serves the right data and replaces the cache.
func TestFlatCacheDetectsDamage(t *testing.T) {
	setFlatSettle(t, 20*time.Millisecond)
	tests := []struct {
		name   string
		offset func(h flatHeader, headerEnd int, raw []byte) int // where to write
		value  func(old byte) byte
	}{
		{"a pixel", func(h flatHeader, end int, _ []byte) int { return end + 1234 }, func(b byte) byte { return b ^ 0x40 }},
		{"a label, to another valid class", func(h flatHeader, end int, _ []byte) int { return end + h.Train*ImageSize + 7 },
			func(b byte) byte { return (b + 3) % NumClasses }},
		{"a test label", func(h flatHeader, end int, _ []byte) int { return end + (h.Train+h.Test)*ImageSize + h.Train + 1 },
			func(b byte) byte { return (b + 1) % NumClasses }},
		{"a class name", func(h flatHeader, _ int, raw []byte) int { return bytes.Index(raw, []byte(`"airplane"`)) + 1 },
			func(byte) byte { return 'b' }},
		{"the checksum", func(h flatHeader, _ int, raw []byte) int { return len(raw) - 2 }, func(b byte) byte { return ^b }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, cache := t.TempDir(), t.TempDir()
			want, err := WriteSynthetic(dir, Python, SyntheticOptions{Seed: 41})
			if err != nil {
				t.Fatal(err)
			}
			load := func() (*Dataset, string) {
				t.Helper()
				var progress bytes.Buffer
				ds, err := Load(context.Background(), Options{Dir: dir, CacheDir: cache, Progress: &progress})
				if err != nil {
					t.Fatal(err)
				}
				assertSameSplit(t, ds.Train, want.Train)
				assertSameSplit(t, ds.Test, want.Test)
				if strings.Join(ds.ClassNames, ",") != strings.Join(ClassNames[:], ",") {
					t.Errorf("class names %v", ds.ClassNames)
				}
				return ds, progress.String()
			}
			load() // decodes and writes the cache
			time.Sleep(2 * flatSettle)
			ds, _ := load() // checks the CRC and writes the stamp
			path := ds.Source.FlatCache
			if path == "" {
				t.Fatal("the second load did not use the flat cache")
			}
			if _, err := os.Stat(path + flatStampSuffix); err != nil {
				t.Fatalf("no stamp after a successful check: %v", err)
			}
			if ds, _ := load(); ds.Source.FlatCache != path { // trusts the stamp
				t.Fatal("the third load did not use the flat cache")
			}

			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h, rest, err := parseFlatHeader(raw)
			if err != nil {
				t.Fatal(err)
			}
			at := tc.offset(h, len(raw)-len(rest), raw)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte{tc.value(raw[at])}, int64(at)); err != nil {
				t.Fatal(err)
			}
			f.Close()

			ds, progress := load()
			if ds.Source.FlatCache != "" || !strings.Contains(progress, "checksum mismatch") {
				t.Fatalf("damaged cache: source %+v, progress:\n%s", ds.Source, progress)
			}
			if ds, _ := load(); ds.Source.FlatCache != path {
				t.Errorf("the damaged cache was not replaced: %+v", ds.Source)
			}
		})
	}
}

// The flat cache belongs to the data, not to the path used to reach it: a symbolic link to the
// data folder shares its cache. Writing a cache removes older versions of the same folder's
// cache, caches of folders that no longer exist and files of the previous format.
func TestFlatCacheSharedThroughSymlinksAndPruned(t *testing.T) {
	base, cache := t.TempDir(), t.TempDir()
	dir := filepath.Join(base, "data")
	if _, err := WriteSynthetic(dir, Python, SyntheticOptions{Seed: 43}); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	load := func(d string) *Dataset {
		t.Helper()
		ds, err := Load(context.Background(), Options{Dir: d, CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	caches := func() []string { return glob(t, filepath.Join(cache, "flat", "*.cifar")) }

	load(dir)
	if ds := load(link); ds.Source.FlatCache == "" || len(caches()) != 1 {
		t.Fatalf("through the link: source %+v, caches %v; want the one cache of the target", ds.Source, caches())
	}
	if ds := load(filepath.Join(link, PythonFolder)); ds.Source.FlatCache == "" || len(caches()) != 1 {
		t.Fatalf("the batches folder through the link: source %+v, caches %v", ds.Source, caches())
	}

	// A copy elsewhere gets its own cache; an older-format file lies around.
	other := filepath.Join(base, "other")
	if _, err := WriteSynthetic(other, Python, SyntheticOptions{Seed: 44}); err != nil {
		t.Fatal(err)
	}
	load(other)
	oldFormat := filepath.Join(cache, "flat", "432044eacd00e9485ca962e6.cifar")
	if err := os.WriteFile(oldFormat, []byte("CIFARLAB-FLAT-1\n\x02\x00\x00\x00\x00\x00\x00\x00{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := len(caches()); n != 3 {
		t.Fatalf("%d caches, want 3", n)
	}

	// The copy goes away, and the data changes: the new version's cache is the only one left.
	if err := os.RemoveAll(other); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, PythonFolder, "data_batch_2"), later, later); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	ds, err := Load(context.Background(), Options{Dir: link, CacheDir: cache, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Source.FlatCache != "" {
		t.Fatal("the changed data was served from the old cache")
	}
	if got := caches(); len(got) != 1 || !strings.Contains(progress.String(), "Removed 3 outdated flat cache files") {
		t.Errorf("caches after the change: %v, progress:\n%s", got, progress.String())
	}
	for _, e := range mustEntries(t, filepath.Join(cache, "flat")) {
		if strings.HasSuffix(e, flatStampSuffix) && !strings.HasPrefix(e, filepath.Base(caches()[0])) {
			t.Errorf("stamp %s of a removed cache left", e)
		}
	}
}

// A batches folder that cannot be entered is reported as such, not as missing data.
func TestFindLayoutUnreadableFolder(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	dir := t.TempDir()
	if _, err := WriteSynthetic(dir, Python, SyntheticOptions{}); err != nil {
		t.Fatal(err)
	}
	batches := filepath.Join(dir, PythonFolder)
	if err := os.Chmod(batches, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(batches, 0o755) })
	for _, d := range []string{dir, batches} {
		_, err := FindLayout(d)
		if err == nil || errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "permission") {
			t.Errorf("FindLayout(%s): %v; want a permission error, not ErrNotFound", d, err)
		}
	}
	_, err := Load(context.Background(), Options{Dir: dir, NoFlatCache: true})
	if err == nil || strings.Contains(err.Error(), "no CIFAR-10 data found") {
		t.Errorf("Load: %v", err)
	}
}

// A cache copy whose files were partly deleted is downloaded again, saying so; with NoDownload
// the error names the missing files and nothing claims a download.
func TestLoadRepairsPartlyDeletedCache(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	src := t.TempDir()
	want, err := WriteSynthetic(src, Python, SyntheticOptions{Seed: 47})
	if err != nil {
		t.Fatal(err)
	}
	body := archiveOf(t, src)
	srv, requests := dlServer(t, dlServe(body))
	cache := t.TempDir()
	opts := Options{CacheDir: cache, Archive: dlArchive(srv, body), NoFlatCache: true}
	if _, err := Load(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"data_batch_3", "test_batch"} {
		if err := os.Remove(filepath.Join(cache, "cifar10", PythonFolder, name)); err != nil {
			t.Fatal(err)
		}
	}

	var progress bytes.Buffer
	noDownload := opts
	noDownload.NoDownload, noDownload.Progress = true, &progress
	_, err = Load(context.Background(), noDownload)
	var incomplete *IncompleteError
	if !errors.As(err, &incomplete) || strings.Join(incomplete.Missing, ",") != "data_batch_3,test_batch" || strings.Contains(progress.String(), "download") {
		t.Fatalf("NoDownload: %v, progress %q", err, progress.String())
	}

	progress.Reset()
	opts.Progress = &progress
	got, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if requests.Load() != 2 || got.Source.Origin != "download" || !strings.Contains(progress.String(), "incomplete (data_batch_3, test_batch missing): moving it aside and downloading it again") {
		t.Fatalf("%d requests, origin %q, progress:\n%s", requests.Load(), got.Source.Origin, progress.String())
	}
	assertSameSplit(t, got.Test, want.Test)
	if names := mustEntries(t, filepath.Join(cache, "cifar10")); strings.Join(names, ",") != PythonFolder {
		t.Errorf("cache folder holds %v", names)
	}
}

// Without HOME (no per-user cache folder), data given by CIFAR10_DIR or an argument still loads,
// without the flat cache; only the cache's own copy needs the folder.
func TestLoadWithoutHome(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteSynthetic(dir, Binary, SyntheticOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv(EnvCacheDir, "")
	if _, err := DefaultCacheDir(); err == nil {
		t.Skip("this platform has a cache folder without HOME")
	}
	t.Setenv(EnvDataDir, dir)
	var progress bytes.Buffer
	ds, err := Load(context.Background(), Options{Progress: &progress})
	if err != nil || ds.Source.Origin != EnvDataDir || !strings.Contains(progress.String(), "Not using the flat cache") {
		t.Fatalf("with %s: %v, progress %q", EnvDataDir, err, progress.String())
	}
	if _, err := Load(context.Background(), Options{Dir: dir}); err != nil {
		t.Fatalf("with a folder argument: %v", err)
	}
	t.Setenv(EnvDataDir, "")
	if _, err := Load(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), EnvCacheDir) {
		t.Errorf("neither data nor cache folder: %v", err)
	}
}

// The header length field and the trailer are where the format says.
func TestFlatCacheLayout(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	if _, err := WriteSynthetic(dir, Python, SyntheticOptions{TrainPerBatch: 1, Test: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), Options{Dir: dir, CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	files := glob(t, filepath.Join(cache, "flat", "*.cifar"))
	if len(files) != 1 {
		t.Fatalf("caches %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw[len(flatMagic):])
	if want := flatPrefixLen + int(n) + 6*(ImageSize+1) + flatTrailerLen; len(raw) != want {
		t.Errorf("file of %d bytes, want %d", len(raw), want)
	}
}
