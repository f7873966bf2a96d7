package cifar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cifarlab/cifarlab/internal/homedir"
	"github.com/cifarlab/cifarlab/internal/scratch"
)

// Dataset is CIFAR-10 as keras.datasets.cifar10.load_data() returns it: 50,000 training and
// 10,000 test images with their labels, plus the class names and where the data came from.
type Dataset struct {
	Train      *Split
	Test       *Split
	ClassNames []string // from batches.meta; the official order, as in ClassNames
	Source     Source
}

// Source tells where a Dataset was loaded from. Its String is the short line a lab prints, with
// no folder of the machine in it; Details gives the folders and files in full.
type Source struct {
	Origin     string        // "argument", "CIFAR10_DIR", "cache" or "download": how the folder was chosen
	Dir        string        // the data folder: Options.Dir, $CIFAR10_DIR, or the folder "cifar10" in the cache
	Layout     Layout        // the batch files that were found
	FlatCache  string        // the flat cache file the data was read back from, or "" if decoded from the batches
	Downloaded time.Time     // when Download installed the cache's copy; zero when unknown or not from the cache
	Images     int           // images loaded, training and test
	Elapsed    time.Duration // time spent loading
}

// String describes the source in one short line, for the first cell of a lab:
//
//	CIFAR-10 from ~/.cache/cifarlab/cifar10 (downloaded 2026-12-07), 60,000 images, 0.3 ms
//	CIFAR-10 from $CIFAR10_DIR (python version), 60,000 images, 0.3 ms
//
// The home folder is written "~", and a folder from CIFAR10_DIR "$CIFAR10_DIR", so that a saved
// notebook does not show the folders of the machine it ran on. The parenthesis gives the version
// read (python or binary), except for the cache's copy in the python version that the download
// brings, and the day of the download when the cache's copy has one.
func (s Source) String() string {
	var b strings.Builder
	b.WriteString("CIFAR-10")
	if where := s.where(); where != "" {
		b.WriteString(" from " + where)
	}
	var notes []string
	if s.Layout.Format != 0 && (!s.fromCache() || s.Layout.Format != Python) {
		notes = append(notes, s.Layout.Format.String()+" version")
	}
	if s.fromCache() && !s.Downloaded.IsZero() {
		notes = append(notes, "downloaded "+s.Downloaded.Format(time.DateOnly))
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
	}
	fmt.Fprintf(&b, ", %s images, %.1f ms", thousands(s.Images), float64(s.Elapsed.Microseconds())/1000)
	return b.String()
}

// Details describes the source in full, one indented line each (the data folder and how it was
// chosen, the batches found, whether the data was read back from the flat cache, the download's
// time), for example:
//
//	folder: /data/cifar10 (from CIFAR10_DIR)
//	batches: python batches in /data/cifar10/cifar-10-batches-py (the folder holding cifar-10-batches-py)
//	data: read back from the flat cache /home/you/.cache/cifarlab/flat/33bb71f6db115919-ca6c81c9e4006946.cifar
func (s Source) Details() string {
	var b strings.Builder
	if s.Dir != "" {
		fmt.Fprintf(&b, "  folder: %s (%s)\n", s.Dir, originWords(s.Origin))
	}
	if s.Layout.Dir != "" {
		fmt.Fprintf(&b, "  batches: %s\n", s.Layout)
	}
	if s.FlatCache != "" {
		fmt.Fprintf(&b, "  data: read back from the flat cache %s\n", s.FlatCache)
	} else {
		b.WriteString("  data: decoded from the batch files\n")
	}
	if !s.Downloaded.IsZero() {
		fmt.Fprintf(&b, "  downloaded: %s\n", s.Downloaded.Format(time.DateTime+" -0700"))
	}
	return b.String()
}

// originWords says how the data folder was chosen, for Details.
func originWords(origin string) string {
	switch origin {
	case "argument":
		return "given as an argument"
	case EnvDataDir:
		return "from " + EnvDataDir
	case "cache":
		return "the per-user cache"
	case "download":
		return "the per-user cache, downloaded by this load"
	}
	return origin
}

// fromCache reports whether the data came from the per-user cache.
func (s Source) fromCache() bool { return s.Origin == "cache" || s.Origin == "download" }

// where names the data folder for String: "$CIFAR10_DIR", or the folder with the home folder as
// "~"; "" when the source names none.
func (s Source) where() string {
	if s.Origin == EnvDataDir {
		return "$" + EnvDataDir
	}
	dir := s.Dir
	if dir == "" {
		dir = s.Layout.Dir
	}
	return tildeHome(dir)
}

// shortPath writes path, a file or folder of the source, for a progress line: inside a folder
// from CIFAR10_DIR as "$CIFAR10_DIR/...", elsewhere with the home folder as "~".
func (s Source) shortPath(path string) string {
	if s.Origin == EnvDataDir && s.Dir != "" {
		rel, err := filepath.Rel(s.Dir, path)
		switch {
		case err != nil:
		case rel == ".":
			return "$" + EnvDataDir
		case filepath.IsLocal(rel):
			return "$" + EnvDataDir + string(filepath.Separator) + rel
		}
	}
	return tildeHome(path)
}

// tildeHome writes path with the user's home folder as "~" (~/.cache/cifarlab), so that a line
// saved in a notebook does not show the home folder of the machine it ran on.
func tildeHome(path string) string { return homedir.Abbrev(path) }

// thousands writes n with a comma between groups of three digits: 60,000.
func thousands(n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Options configure Load. The zero value loads from CIFAR10_DIR or the per-user cache,
// downloading the official archive there if needed, and uses the flat cache.
type Options struct {
	// Dir is the data folder. If empty, the environment variable CIFAR10_DIR is used, and if that is
	// empty too, the folder "cifar10" in CacheDir, where the official archive is downloaded when
	// it is missing. An explicitly given folder is never downloaded into.
	Dir string
	// CacheDir is the per-user cache folder for the download and the flat cache.
	// If empty, DefaultCacheDir() is used.
	CacheDir string
	// NoDownload makes Load fail instead of downloading when the cache holds no data.
	NoDownload bool
	// Archive is what to download when the cache holds no data; the zero value means
	// OfficialPython. Set it to use a mirror (with the official checksum).
	Archive Archive
	// NoFlatCache disables reading and writing the flat cache file.
	NoFlatCache bool
	// Progress receives progress lines (download, which layout was found, flat cache use).
	// nil means silent.
	Progress io.Writer
}

// EnvDataDir is the environment variable that points at a folder holding CIFAR-10.
const EnvDataDir = "CIFAR10_DIR"

// EnvCacheDir is the environment variable that overrides the per-user cache folder.
const EnvCacheDir = "CIFARLAB_CACHE_DIR"

// DefaultCacheDir returns the per-user cache folder of cifarlab: $CIFARLAB_CACHE_DIR if set, else
// "cifarlab" inside the user cache folder (~/.cache/cifarlab on Linux).
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cifar: no per-user cache folder (set %s): %w", EnvCacheDir, err)
	}
	return filepath.Join(base, "cifarlab"), nil
}

// Load finds, downloads if needed, and loads CIFAR-10 according to opts.
//
// What Load writes (the download, the flat cache) is written under temporary names and renamed
// into place when complete. When ctx is cancelled Load stops and removes its temporaries; those of
// a process that was killed are removed by the next Load (see scratch.RemoveStale). A flat cache
// whose checksum does not match is reported, removed and replaced by decoding the batches again.
func Load(ctx context.Context, opts Options) (*Dataset, error) {
	start := time.Now()
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	dir, origin := opts.Dir, "argument"
	if dir == "" {
		dir, origin = os.Getenv(EnvDataDir), EnvDataDir
	}
	cacheDir, noFlatCache := opts.CacheDir, opts.NoFlatCache
	if cacheDir == "" && (!noFlatCache || dir == "") {
		var err error
		if cacheDir, err = DefaultCacheDir(); err != nil {
			if dir == "" {
				return nil, err
			}
			// The data folder is known: load without the flat cache rather than fail.
			fmt.Fprintf(progress, "Not using the flat cache: %v\n", err)
			noFlatCache = true
		}
	}
	if dir == "" {
		dir, origin = filepath.Join(cacheDir, "cifar10"), "cache"
		// Leftovers of an interrupted download into the cache, this version's and older ones'.
		removeStale(progress, dir, ".download-*.tar.gz", ".extract-*", ".tmp-*", ".damaged-*")
	}
	layout, err := FindLayout(dir)
	if err != nil && origin == "cache" {
		layout, err = downloadIntoCache(ctx, dir, err, opts, progress)
		if err == nil {
			origin = "download"
		}
	}
	if err != nil {
		return nil, err
	}
	source := Source{Origin: origin, Dir: dir, Layout: layout}
	if source.fromCache() {
		source.Downloaded = readDownloadStamp(layout.Dir)
	}
	fmt.Fprintf(progress, "Found CIFAR-10 %s batches in %s (%s)\n", layout.Format, source.shortPath(layout.Dir), layout.Kind)

	var flat flatCache
	if !noFlatCache {
		if flat, err = flatCacheFor(cacheDir, layout); err != nil {
			return nil, err
		}
		removeStale(progress, filepath.Dir(flat.path), ".tmp-*.cifar")
		if ds, err := readFlatCache(flat.path); err == nil {
			ds.Source = source
			ds.Source.FlatCache = flat.path
			ds.Source.Images = ds.Train.Len() + ds.Test.Len()
			ds.Source.Elapsed = time.Since(start)
			fmt.Fprintf(progress, "Read the decoded data back from the flat cache %s\n", tildeHome(flat.path))
			return ds, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(progress, "Ignoring the flat cache, decoding the batches again: %v\n", err)
			removeFlatCache(flat.path)
		}
	}

	ds, err := LoadLayout(ctx, layout)
	if err != nil {
		return nil, err
	}
	ds.Source = source
	ds.Source.Images = ds.Train.Len() + ds.Test.Len()
	if flat.path != "" {
		if err := writeFlatCache(ctx, flat, ds); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			fmt.Fprintf(progress, "Could not write the flat cache (loading still works, just slower): %v\n", err)
		} else if n, size := pruneFlatCaches(flat.path, flat.prefix); n > 0 {
			fmt.Fprintf(progress, "Removed %d outdated flat cache file%s (%.1f MB)\n", n, plural(n, "", "s"), float64(size)/megabyte)
		}
	}
	ds.Source.Elapsed = time.Since(start)
	return ds, nil
}

// downloadLockFile is the lock file, in the cache's data folder, that one process at a time holds
// while it downloads into that folder (see downloadIntoCache).
const downloadLockFile = ".download.lock"

// asidePrefix starts the name of the folder, in the cache's data folder, that holds an incomplete
// copy moved aside while it is downloaded again: asidePrefix + the archive's Root.
const asidePrefix = ".incomplete-"

// downloadIntoCache downloads the archive into the cache folder dir, where FindLayout failed with
// findErr, and returns the layout found afterwards.
//
// A copy that is there but incomplete (files deleted by hand, say) is moved aside, not deleted:
// it goes back in place when the download fails (offline, cancelled), and is removed only once
// the new copy is in place, so that a failed download never loses files the user had. One
// process at a time downloads into dir (a lock file, released when the process dies): another
// waits, saying so, and then uses the copy the first one downloaded. A copy left aside by a
// process killed during the download is put back in place first.
func downloadIntoCache(ctx context.Context, dir string, findErr error, opts Options, progress io.Writer) (Layout, error) {
	archive := opts.Archive
	if archive == (Archive{}) {
		archive = OfficialPython
	}
	final := filepath.Join(dir, archive.Root)
	aside := filepath.Join(dir, asidePrefix+archive.Root)
	if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) && !downloadable(findErr, final, opts) {
		return Layout{}, findErr
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Layout{}, fmt.Errorf("cifar: creating the cache folder for the download: %w", err)
	}
	lock, err := scratch.LockPath(ctx, filepath.Join(dir, downloadLockFile), func(waited time.Duration) {
		if waited == 0 {
			fmt.Fprintf(progress, "Another process is downloading CIFAR-10 into %s: waiting for it to finish\n", tildeHome(dir))
		} else {
			fmt.Fprintf(progress, "Still waiting for the other download into %s (%v so far)\n", tildeHome(dir), waited.Round(time.Second))
		}
	})
	if err != nil {
		return Layout{}, fmt.Errorf("cifar: downloading into the cache: %w", err)
	}
	defer lock.Release()

	// What another process did meanwhile, or left when it was killed.
	if err := restoreAside(aside, final, progress); err != nil {
		return Layout{}, err
	}
	layout, findErr := FindLayout(dir)
	if findErr == nil || !downloadable(findErr, final, opts) {
		return layout, findErr
	}
	var incomplete *IncompleteError
	if errors.As(findErr, &incomplete) {
		fmt.Fprintf(progress, "CIFAR-10 in %s is incomplete (%s missing): moving it aside and downloading it again\n",
			tildeHome(incomplete.Dir), strings.Join(incomplete.Missing, ", "))
		if err := os.Rename(final, aside); err != nil {
			return Layout{}, fmt.Errorf("cifar: moving the incomplete copy %s aside to %s before downloading it again: %w", final, aside, err)
		}
	} else {
		fmt.Fprintf(progress, "CIFAR-10 is not in %s yet: downloading it there\n", tildeHome(dir))
	}
	if _, err := Download(ctx, archive, dir, progress); err != nil {
		if incomplete == nil {
			return Layout{}, err
		}
		if rerr := restoreAside(aside, final, io.Discard); rerr != nil {
			return Layout{}, errors.Join(err, rerr)
		}
		return Layout{}, fmt.Errorf("%w (the incomplete copy is back in %s)", err, final)
	}
	if incomplete != nil {
		if err := os.RemoveAll(aside); err != nil {
			fmt.Fprintf(progress, "Could not remove the incomplete copy %s, replaced by the download: %v\n", tildeHome(aside), err)
		}
	}
	return FindLayout(dir)
}

// downloadable reports whether downloading the archive into the cache, whose copy of it is the
// folder final, can cure findErr, the error of FindLayout there.
func downloadable(findErr error, final string, opts Options) bool {
	if !errors.Is(findErr, ErrNotFound) || opts.NoDownload {
		return false
	}
	var incomplete *IncompleteError
	return !errors.As(findErr, &incomplete) || incomplete.Dir == final // another folder: the user's, left alone
}

// restoreAside puts the incomplete copy moved aside to the folder aside back to final, where a
// download failed to put a new one or was killed before it could. When final exists (the download
// finished), the copy aside is removed instead.
func restoreAside(aside, final string, progress io.Writer) error {
	if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("cifar: looking for an incomplete copy moved aside: %w", err)
	}
	if ok, err := isDir(final); err != nil {
		return err
	} else if ok {
		if err := os.RemoveAll(aside); err != nil {
			return fmt.Errorf("cifar: removing the incomplete copy %s, replaced by a download: %w", aside, err)
		}
		return nil
	}
	if err := os.Rename(aside, final); err != nil {
		return fmt.Errorf("cifar: putting the incomplete copy %s back in place as %s: %w", aside, final, err)
	}
	fmt.Fprintf(progress, "Put back in %s the incomplete copy of CIFAR-10 that an interrupted download had moved aside\n", tildeHome(final))
	return nil
}

// removeStale removes the temporaries of dead processes in dir (scratch.RemoveStale), saying so.
func removeStale(progress io.Writer, dir string, patterns ...string) {
	removed, err := scratch.RemoveStale(dir, patterns...)
	if len(removed) > 0 {
		for i, path := range removed {
			removed[i] = tildeHome(path)
		}
		fmt.Fprintf(progress, "Removed %d temporar%s left by an interrupted run: %s\n", len(removed), plural(len(removed), "y", "ies"), strings.Join(removed, ", "))
	}
	if err != nil {
		fmt.Fprintf(progress, "Could not remove temporaries left by an interrupted run: %v\n", err)
	}
}

// LoadLayout decodes the batch files of a layout found by FindLayout. It reads the files with a
// few reusable buffers and converts them to [N,32,32,3] on all cores, so that peak memory stays
// close to the size of the decoded data.
func LoadLayout(ctx context.Context, l Layout) (*Dataset, error) {
	meta, err := os.ReadFile(l.MetaFile)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	decode, decodeMeta := decodePythonBatch, decodePythonMeta
	if l.Format == Binary {
		decode, decodeMeta = decodeBinaryBatch, decodeBinaryMeta
	}
	names, err := decodeMeta(l.MetaFile, meta)
	if err != nil {
		return nil, err
	}
	train, err := loadSplit(ctx, "train", l.TrainFiles, decode)
	if err != nil {
		return nil, err
	}
	test, err := loadSplit(ctx, "test", []string{l.TestFile}, decode)
	if err != nil {
		return nil, err
	}
	return &Dataset{Train: train, Test: test, ClassNames: names}, nil
}

// loadSplit reads files in order and transposes them into one contiguous split.
//
// Files are read and parsed one after the other (parsing only locates the pixel bytes, so it is
// quick, and it tells how many images each file holds, hence where they go); the transposition,
// which is most of the work, runs on GOMAXPROCS workers. Each file buffer is reused once its
// images are converted, so at most workers+1 files are in memory next to the output.
func loadSplit(ctx context.Context, name string, files []string, decode func(string, []byte) (rawBatch, error)) (*Split, error) {
	// Upper bound of the image count from the file sizes, to allocate the output once.
	capacity := 0
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		capacity += int(info.Size()) / ImageSize
	}
	images := make([]uint8, 0, capacity*ImageSize)
	labels := make([]uint8, 0, capacity)

	workers := max(1, min(runtime.GOMAXPROCS(0), len(files)))
	free := make(chan []byte, workers+1)
	for range workers + 1 {
		free <- nil
	}
	type job struct {
		buf   []byte
		batch rawBatch
		dst   []uint8
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				j.batch.transposeInto(j.dst)
				free <- j.buf
			}
		})
	}
	finish := func(err error) (*Split, error) {
		close(jobs)
		wg.Wait()
		if err != nil {
			return nil, err
		}
		return &Split{Name: name, Images: images, Labels: labels}, nil
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return finish(fmt.Errorf("cifar: loading %s: %w", f, err))
		}
		buf, err := readInto(<-free, f)
		if err != nil {
			free <- buf
			return finish(err)
		}
		b, err := decode(f, buf)
		if err != nil {
			free <- buf
			return finish(err)
		}
		if len(labels)+b.count > capacity {
			free <- buf
			return finish(batchErrorf(f, -1, "holds more images (%d) than its size allows", b.count))
		}
		at := len(labels)
		images = images[:(at+b.count)*ImageSize]
		labels = append(labels, b.labels...)
		jobs <- job{buf: buf, batch: b, dst: images[at*ImageSize:]}
	}
	return finish(nil)
}

// readInto reads a whole file into buf, growing it if needed.
func readInto(buf []byte, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return buf, fmt.Errorf("cifar: %w", err)
	}
	size := int(info.Size())
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(f, buf); err != nil {
		return buf, fmt.Errorf("cifar: reading %s (%d bytes): %w", path, size, err)
	}
	return buf, nil
}
