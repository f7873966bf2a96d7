package cifar

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// loadDir loads dir without touching the user's cache.
func loadDir(t *testing.T, dir string, opts Options) (*Dataset, error) {
	t.Helper()
	opts.Dir = dir
	if opts.CacheDir == "" {
		opts.NoFlatCache = true
	}
	return Load(context.Background(), opts)
}

func assertSameSplit(t *testing.T, got, want *Split) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: %d images, want %d", got.Name, got.Len(), want.Len())
	}
	if !bytes.Equal(got.Labels, want.Labels) {
		t.Fatalf("%s: labels differ", got.Name)
	}
	if !bytes.Equal(got.Images, want.Images) {
		for i := range got.Images {
			if got.Images[i] != want.Images[i] {
				t.Fatalf("%s: first differing byte %d (image %d): got %d, want %d", got.Name, i, i/ImageSize, got.Images[i], want.Images[i])
			}
		}
	}
}

func TestLoadSynthetic(t *testing.T) {
	tests := []struct {
		name     string
		format   Format
		opts     SyntheticOptions
		subdir   bool // point Load at the batches folder itself
		wantKind string
	}{
		{"python root", Python, SyntheticOptions{Seed: 1}, false, "the folder holding cifar-10-batches-py"},
		{"python batches folder", Python, SyntheticOptions{Seed: 2, TrainPerBatch: 7, Test: 3}, true, "the batches folder itself"},
		{"python3 protocol-2 bytes", Python, SyntheticOptions{Seed: 3, Python3Bytes: true}, false, "the folder holding cifar-10-batches-py"},
		{"binary root", Binary, SyntheticOptions{Seed: 4}, false, "the folder holding cifar-10-batches-bin"},
		{"binary batches folder", Binary, SyntheticOptions{Seed: 5, TrainPerBatch: 1, Test: 1}, true, "the batches folder itself"},
		{"more than 1000 labels", Python, SyntheticOptions{Seed: 6, TrainPerBatch: 1100, Test: 5}, false, "the folder holding cifar-10-batches-py"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want, err := WriteSynthetic(dir, tc.format, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.subdir {
				dir = filepath.Join(dir, map[Format]string{Python: PythonFolder, Binary: BinaryFolder}[tc.format])
			}
			var progress bytes.Buffer
			got, err := loadDir(t, dir, Options{Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			assertSameSplit(t, got.Train, want.Train)
			assertSameSplit(t, got.Test, want.Test)
			if got.Train.Len() != 5*max(tc.opts.TrainPerBatch, 0) && tc.opts.TrainPerBatch != 0 {
				t.Errorf("train has %d images, want %d", got.Train.Len(), 5*tc.opts.TrainPerBatch)
			}
			if strings.Join(got.ClassNames, ",") != strings.Join(ClassNames[:], ",") {
				t.Errorf("class names %v", got.ClassNames)
			}
			if got.Source.Layout.Format != tc.format || got.Source.Layout.Kind != tc.wantKind || got.Source.Origin != "argument" {
				t.Errorf("source %+v, want format %v kind %q", got.Source, tc.format, tc.wantKind)
			}
			if !strings.Contains(progress.String(), tc.wantKind) {
				t.Errorf("progress does not say which layout was found: %q", progress.String())
			}
			for _, s := range []*Split{got.Train, got.Test} {
				if err := s.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestTransposeMatchesNumpy checks the layout conversion on a hand-made image: the planar value of
// channel c at (row, col) must land at [row][col][c], like reshape(-1,3,32,32).transpose(0,2,3,1).
func TestTransposeMatchesNumpy(t *testing.T) {
	planar := make([]uint8, 2*ImageSize)
	for i := range planar {
		img, rest := i/ImageSize, i%ImageSize
		c, p := rest/1024, rest%1024
		planar[i] = uint8((img*7 + c*50 + p) % 251)
	}
	hwc := make([]uint8, len(planar))
	rawBatch{count: 2, pixels: planar, stride: ImageSize}.transposeInto(hwc)
	s := &Split{Images: hwc, Labels: []uint8{0, 1}}
	for img := range 2 {
		for _, rc := range [][2]int{{0, 0}, {0, 31}, {31, 0}, {17, 5}, {31, 31}} {
			r, g, b := s.Pixel(img, rc[0], rc[1])
			p := rc[0]*32 + rc[1]
			want := func(c int) uint8 { return planar[img*ImageSize+c*1024+p] }
			if r != want(0) || g != want(1) || b != want(2) {
				t.Errorf("image %d pixel %v = (%d,%d,%d), want (%d,%d,%d)", img, rc, r, g, b, want(0), want(1), want(2))
			}
		}
	}
}

func TestLoadEnvAndCache(t *testing.T) {
	dir := t.TempDir()
	want, err := WriteSynthetic(dir, Python, SyntheticOptions{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDataDir, dir)
	cache := t.TempDir()

	first, err := Load(context.Background(), Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if first.Source.Origin != EnvDataDir || first.Source.FlatCache != "" || first.Source.Dir != dir {
		t.Fatalf("first load: source %+v, want origin %s, folder %s and no flat cache", first.Source, EnvDataDir, dir)
	}
	images := want.Train.Len() + want.Test.Len()
	line := regexp.MustCompile(`^CIFAR-10 from \$CIFAR10_DIR \(python version\), ` + thousands(images) + ` images, \d+\.\d ms$`)
	if got := first.Source.String(); !line.MatchString(got) {
		t.Errorf("first load: String() = %q, want it to match %s", got, line)
	}
	if details := first.Source.Details(); !strings.Contains(details, "folder: "+dir+" (from CIFAR10_DIR)") ||
		!strings.Contains(details, "decoded from the batch files") {
		t.Errorf("first load: Details() =\n%s", details)
	}
	flats, _ := filepath.Glob(filepath.Join(cache, "flat", "*.cifar"))
	if len(flats) != 1 {
		t.Fatalf("flat cache files %v, want one", flats)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(cache, "flat", ".tmp-*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}

	second, err := Load(context.Background(), Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if second.Source.FlatCache != flats[0] {
		t.Fatalf("second load did not use the flat cache: %+v", second.Source)
	}
	if got := second.Source.String(); !line.MatchString(got) || second.Source.Images != images {
		t.Errorf("second load: String() = %q, want it to match %s", got, line)
	}
	if details := second.Source.Details(); !strings.Contains(details, "read back from the flat cache "+flats[0]) {
		t.Errorf("second load: Details() does not name the flat cache %s:\n%s", flats[0], details)
	}
	assertSameSplit(t, second.Train, want.Train)
	assertSameSplit(t, second.Test, want.Test)
	// The mapping is copy-on-write: writing to the data must not change the cache file.
	second.Train.Images[0] ^= 0xff
	third, err := Load(context.Background(), Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	assertSameSplit(t, third.Train, want.Train)

	// A changed batch file gets a new cache entry instead of stale data.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, PythonFolder, "test_batch"), later, later); err != nil {
		t.Fatal(err)
	}
	fourth, err := Load(context.Background(), Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if fourth.Source.FlatCache != "" {
		t.Fatalf("load after a batch changed used the flat cache %s", fourth.Source.FlatCache)
	}

	// A corrupted cache file is reported and ignored, then rewritten.
	flats, _ = filepath.Glob(filepath.Join(cache, "flat", "*.cifar"))
	for _, f := range flats {
		if err := os.Truncate(f, 100); err != nil {
			t.Fatal(err)
		}
	}
	var progress bytes.Buffer
	fifth, err := Load(context.Background(), Options{CacheDir: cache, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if fifth.Source.FlatCache != "" || !strings.Contains(progress.String(), "Ignoring the flat cache") {
		t.Fatalf("corrupted cache: source %+v, progress %q", fifth.Source, progress.String())
	}
	found := "Found CIFAR-10 python batches in $CIFAR10_DIR" + string(filepath.Separator) + PythonFolder + " (the folder holding " + PythonFolder + ")\n"
	if !strings.Contains(progress.String(), found) || strings.Contains(progress.String(), dir) {
		t.Errorf("progress names the folder of CIFAR10_DIR, or not as %q:\n%s", found, progress.String())
	}
	assertSameSplit(t, fifth.Test, want.Test)
}

func TestLoadFromCacheFolderWithoutDownload(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	cache := t.TempDir()
	if _, err := WriteSynthetic(filepath.Join(cache, "cifar10"), Binary, SyntheticOptions{}); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(context.Background(), Options{CacheDir: cache, NoDownload: true, NoFlatCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Source.Origin != "cache" || ds.Source.Layout.Format != Binary {
		t.Fatalf("source %+v", ds.Source)
	}
	empty := t.TempDir()
	_, err = Load(context.Background(), Options{CacheDir: empty, NoDownload: true})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty cache with NoDownload: err %v, want ErrNotFound", err)
	}
}

func TestMissingFiles(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(dir string) string // returns the folder to load
		expect []string
	}{
		{"no such folder", func(dir string) string { return filepath.Join(dir, "nope") }, []string{"does not exist", "cifar-10-batches-py/{data_batch_1", "CIFAR10_DIR", "cifar-10-python.tar.gz"}},
		{"empty folder", func(dir string) string { return dir }, []string{"no CIFAR-10 data found", "test_batch.bin", "batches.meta"}},
		{"a file, not a folder", func(dir string) string {
			p := filepath.Join(dir, "file")
			os.WriteFile(p, []byte("x"), 0o644)
			return p
		}, []string{"is not a folder"}},
		{"test batch missing", func(dir string) string {
			WriteSynthetic(dir, Python, SyntheticOptions{})
			os.Remove(filepath.Join(dir, PythonFolder, "test_batch"))
			return dir
		}, []string{"test_batch is missing"}},
		{"two training batches missing", func(dir string) string {
			WriteSynthetic(dir, Binary, SyntheticOptions{})
			os.Remove(filepath.Join(dir, BinaryFolder, "data_batch_2.bin"))
			os.Remove(filepath.Join(dir, BinaryFolder, "data_batch_5.bin"))
			return dir
		}, []string{"data_batch_2.bin, data_batch_5.bin are missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t.TempDir())
			_, err := loadDir(t, dir, Options{})
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			for _, e := range tc.expect {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error does not mention %q:\n%v", e, err)
				}
			}
		})
	}
}

func TestBadBatches(t *testing.T) {
	planar := make([]uint8, 3*ImageSize)
	good := EncodePythonBatch("b", planar, []uint8{1, 2, 3}, false)
	dataAt := bytes.Index(good, []byte("data")) // the pixel payload comes after this
	replace := func(old, new []byte) []byte {
		i := bytes.Index(good, old)
		if i < 0 {
			t.Fatalf("%q not in the encoded batch", old)
		}
		return append(append(append([]byte{}, good[:i]...), new...), good[i+len(old):]...)
	}
	tests := []struct {
		name   string
		format Format
		data   []byte
		expect []string
	}{
		{"empty file", Python, nil, []string{"byte 0", "file ends before the STOP opcode"}},
		{"truncated in the pixels", Python, good[:len(good)-500], []string{"truncated", "BINSTRING payload", "corrupted or truncated pickle"}},
		{"truncated in the labels", Python, good[:dataAt-3], []string{"truncated"}},
		{"not a pickle", Python, []byte("\xffhello, world"), []string{"byte 0", "unsupported pickle opcode"}},
		{"wrong protocol", Python, append([]byte{0x80, 9}, good[2:]...), []string{"byte 0", "protocol 9"}},
		{"wrong row size", Python, replace([]byte("M\x00\x0c\x86"), []byte("M\xff\x0b\x86")), []string{"shape (3, 3071)", "want (N, 3072)"}},
		{"data shorter than shape", Python, EncodePythonBatch("b", planar[:2*ImageSize], []uint8{1, 2, 3}, false), []string{"holds 6144 bytes, want 9216"}},
		{"label out of range", Python, EncodePythonBatch("b", planar, []uint8{1, 12, 3}, false), []string{"label 12 of image 1 is outside 0..9"}},
		{"labels missing", Python, replace([]byte("labels"), []byte("lebals")), []string{"key 'labels' is missing", "batch_label, data, filenames, lebals"}},
		{"wrong dtype", Python, replace([]byte("U\x02u1"), []byte("U\x02f4")), []string{`dtype "f4"`}},
		{"dangerous global", Python, replace([]byte("cnumpy\nndarray\n"), []byte("cos\nsystem\n\n\n")), []string{"refusing to load global"}},
		{"trailing garbage after stop", Python, append(good[:len(good)-1:len(good)-1], 'N', '.'), []string{"STOP with 1 values left"}},
		{"binary partial record", Binary, make([]byte, 2*3073+100), []string{"byte 6146", "not a whole number of 3073-byte records"}},
		{"binary label out of range", Binary, append(make([]byte, 3073), append([]byte{10}, make([]byte, 3072)...)...), []string{"byte 3073", "label 10 of image 1"}},
		{"binary empty", Binary, nil, []string{"file size 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			decode := decodePythonBatch
			if tc.format == Binary {
				decode = decodeBinaryBatch
			}
			_, err := decode("/data/data_batch_3", tc.data)
			if err == nil {
				t.Fatal("no error")
			}
			var be *BatchError
			if !errors.As(err, &be) || be.File != "/data/data_batch_3" {
				t.Errorf("error %v is not a BatchError naming the file", err)
			}
			for _, e := range tc.expect {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error does not mention %q:\n%v", e, err)
				}
			}
		})
	}
}

// TestBadBatchThroughLoad checks that a corrupted file stops Load with the file's path, and that
// the other files do not hide it.
func TestBadBatchThroughLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteSynthetic(dir, Python, SyntheticOptions{}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, PythonFolder, "data_batch_4")
	data, _ := os.ReadFile(bad)
	if err := os.WriteFile(bad, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v, want a truncation error naming %s", err, bad)
	}
}

func TestLoadCancelled(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteSynthetic(dir, Python, SyntheticOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, Options{Dir: dir, NoFlatCache: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestLoadDownloads runs the whole first-use path: an empty cache, a download from a local server
// of an archive in the official layout (built from synthetic batches), extraction, then loading.
func TestLoadDownloads(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	home := t.TempDir()
	setHome(t, home)
	src := t.TempDir()
	want, err := WriteSynthetic(src, Python, SyntheticOptions{Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	entries := []dlEntry{{name: PythonFolder + "/", typ: tar.TypeDir}}
	files, _ := filepath.Glob(filepath.Join(src, PythonFolder, "*"))
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, dlEntry{name: PythonFolder + "/" + filepath.Base(f), body: body})
	}
	body := dlTarGz(t, entries)
	srv, requests := dlServer(t, dlServe(body))
	cache := filepath.Join(home, ".cache", "cifarlab")
	var progress bytes.Buffer
	opts := Options{CacheDir: cache, Archive: dlArchive(srv, body), Progress: &progress}
	before := time.Now()
	got, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if got.Source.Origin != "download" || got.Source.Layout.Dir != filepath.Join(cache, "cifar10", PythonFolder) {
		t.Fatalf("source %+v", got.Source)
	}
	if d := got.Source.Downloaded; d.Before(before.Truncate(time.Second)) || d.After(time.Now()) {
		t.Errorf("Source.Downloaded = %v, want the time of this download", d)
	}
	line := "CIFAR-10 from ~/.cache/cifarlab/cifar10 (downloaded " + got.Source.Downloaded.Format(time.DateOnly) + "), " +
		thousands(want.Train.Len()+want.Test.Len()) + " images, "
	if s := got.Source.String(); !strings.HasPrefix(s, line) || strings.Contains(s, home) {
		t.Errorf("String() = %q, want it to start with %q", s, line)
	}
	if strings.Contains(progress.String(), home) {
		t.Errorf("the progress of a download into the home folder names the home folder %s:\n%s", home, progress.String())
	}
	assertSameSplit(t, got.Train, want.Train)
	assertSameSplit(t, got.Test, want.Test)
	for _, line := range []string{"downloading it there", "SHA-256 verified", "Found CIFAR-10"} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}
	// The next load finds the data in the cache and does not download again.
	again, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Source.Origin != "cache" || requests.Load() != 1 {
		t.Fatalf("second load: origin %q, %d requests", again.Source.Origin, requests.Load())
	}
	if !again.Source.Downloaded.Equal(got.Source.Downloaded) || !strings.HasPrefix(again.Source.String(), line) {
		t.Errorf("second load: %q, downloaded %v; want the date of the first", again.Source, again.Source.Downloaded)
	}
}

// setHome makes home the user's home folder for the test.
func setHome(t *testing.T, home string) {
	t.Helper()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	if got, err := os.UserHomeDir(); err != nil || got != home {
		t.Skipf("cannot set the home folder on this system (got %q, %v)", got, err)
	}
}

// TestSourceString checks the short line a lab prints: the folder with the home folder as "~",
// $CIFAR10_DIR for a folder from CIFAR10_DIR, the version read, the day of the download.
func TestSourceString(t *testing.T) {
	home := filepath.FromSlash("/home/you")
	setHome(t, home)
	in := func(parts ...string) string { return filepath.Join(append([]string{home}, parts...)...) }
	cache := in(".cache", "cifarlab", "cifar10")
	python := Layout{Format: Python, Dir: filepath.Join(cache, PythonFolder)}
	day := time.Date(2026, 12, 7, 23, 30, 0, 0, time.FixedZone("", 3600))
	elapsed := 300 * time.Microsecond
	for _, tc := range []struct {
		name string
		s    Source
		want string
	}{
		{"cache", Source{Origin: "cache", Dir: cache, Layout: python, Downloaded: day, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from ~/.cache/cifarlab/cifar10 (downloaded 2026-12-07), 60,000 images, 0.3 ms"},
		{"download", Source{Origin: "download", Dir: cache, Layout: python, Downloaded: day, Images: 60000, Elapsed: 2500 * time.Millisecond},
			"CIFAR-10 from ~/.cache/cifarlab/cifar10 (downloaded 2026-12-07), 60,000 images, 2500.0 ms"},
		{"cache, no date known", Source{Origin: "cache", Dir: cache, Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from ~/.cache/cifarlab/cifar10, 60,000 images, 0.3 ms"},
		{"cache, binary version", Source{Origin: "cache", Dir: cache, Layout: Layout{Format: Binary}, Downloaded: day, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from ~/.cache/cifarlab/cifar10 (binary version, downloaded 2026-12-07), 60,000 images, 0.3 ms"},
		{"cache outside the home folder", Source{Origin: "cache", Dir: filepath.FromSlash("/var/cache/cifarlab/cifar10"), Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from " + filepath.FromSlash("/var/cache/cifarlab/cifar10") + ", 60,000 images, 0.3 ms"},
		{"CIFAR10_DIR", Source{Origin: EnvDataDir, Dir: filepath.FromSlash("/work/shared/cifar10"), Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from $CIFAR10_DIR (python version), 60,000 images, 0.3 ms"},
		{"CIFAR10_DIR in the home folder", Source{Origin: EnvDataDir, Dir: in("data"), Layout: Layout{Format: Binary}, Downloaded: day, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from $CIFAR10_DIR (binary version), 60,000 images, 0.3 ms"},
		{"argument in the home folder", Source{Origin: "argument", Dir: in("data", "cifar10"), Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from ~/data/cifar10 (python version), 60,000 images, 0.3 ms"},
		{"argument, the home folder itself", Source{Origin: "argument", Dir: home, Layout: Layout{Format: Binary}, Images: 110, Elapsed: elapsed},
			"CIFAR-10 from ~ (binary version), 110 images, 0.3 ms"},
		{"argument, home folder unclean", Source{Origin: "argument", Dir: home + string(filepath.Separator) + "." + string(filepath.Separator) + "cifar10", Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from ~/cifar10 (python version), 60,000 images, 0.3 ms"},
		{"argument outside the home folder", Source{Origin: "argument", Dir: filepath.FromSlash("/srv/cifar10"), Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from " + filepath.FromSlash("/srv/cifar10") + " (python version), 60,000 images, 0.3 ms"},
		{"argument beside the home folder", Source{Origin: "argument", Dir: filepath.FromSlash("/home/young/cifar10"), Layout: python, Images: 60000, Elapsed: elapsed},
			"CIFAR-10 from " + filepath.FromSlash("/home/young/cifar10") + " (python version), 60,000 images, 0.3 ms"},
		{"relative argument", Source{Origin: "argument", Dir: filepath.FromSlash("../shared/cifar10"), Layout: python, Images: 1234567, Elapsed: elapsed},
			"CIFAR-10 from " + filepath.FromSlash("../shared/cifar10") + " (python version), 1,234,567 images, 0.3 ms"},
		{"a date outside the cache is not shown", Source{Origin: "argument", Dir: in("cifar10"), Layout: python, Downloaded: day, Images: 999, Elapsed: elapsed},
			"CIFAR-10 from ~/cifar10 (python version), 999 images, 0.3 ms"},
		{"zero", Source{}, "CIFAR-10, 0 images, 0.0 ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.ReplaceAll(tc.want, "~/", "~"+string(filepath.Separator))
			if got := tc.s.String(); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
		})
	}
}

// TestSourceStringRootHome checks that a home folder that is the root folder (a container's root
// user, say) is not written "~": every path would start with it.
func TestSourceStringRootHome(t *testing.T) {
	root := filepath.VolumeName(os.TempDir()) + string(filepath.Separator)
	setHome(t, root)
	dir := filepath.Join(root, "data", "cifar10")
	s := Source{Origin: "argument", Dir: dir, Layout: Layout{Format: Python}, Images: 60000}
	if want := "CIFAR-10 from " + dir + " (python version), 60,000 images, 0.0 ms"; s.String() != want {
		t.Errorf("String() = %q, want %q", s.String(), want)
	}
}

// TestSourceDetails checks the long description, which names every folder and file in full.
func TestSourceDetails(t *testing.T) {
	setHome(t, filepath.FromSlash("/home/you"))
	dir := filepath.FromSlash("/home/you/.cache/cifarlab/cifar10")
	flat := filepath.FromSlash("/home/you/.cache/cifarlab/flat/33bb71f6db115919-ca6c81c9e4006946.cifar")
	s := Source{Origin: "cache", Dir: dir, FlatCache: flat, Images: 60000,
		Layout:     Layout{Format: Python, Dir: filepath.Join(dir, PythonFolder), Kind: "the folder holding " + PythonFolder},
		Downloaded: time.Date(2026, 12, 7, 14, 3, 11, 0, time.FixedZone("", 3600))}
	want := "  folder: " + dir + " (the per-user cache)\n" +
		"  batches: python batches in " + filepath.Join(dir, PythonFolder) + " (the folder holding cifar-10-batches-py)\n" +
		"  data: read back from the flat cache " + flat + "\n" +
		"  downloaded: 2026-12-07 14:03:11 +0100\n"
	if got := s.Details(); got != want {
		t.Errorf("Details() =\n%s\nwant\n%s", got, want)
	}
}
