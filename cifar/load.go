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
	"strings"
	"sync"
	"time"

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

// Source tells where a Dataset was loaded from.
type Source struct {
	Origin    string        // "argument", "CIFAR10_DIR", "cache" or "download": how the folder was chosen
	Layout    Layout        // the batch files that were found
	FlatCache string        // the flat cache file the data was read from, or "" if decoded from the batches
	Elapsed   time.Duration // time spent loading
}

// String describes the source in one line, for the first cell of a lab.
func (s Source) String() string {
	from := ""
	if s.FlatCache != "" {
		from = fmt.Sprintf(", read back from the flat cache %s", s.FlatCache)
	}
	return fmt.Sprintf("CIFAR-10 %s (folder from %s)%s in %.1f ms", s.Layout, s.Origin, from, float64(s.Elapsed.Microseconds())/1000)
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

// LoadData is the counterpart of keras.datasets.cifar10.load_data(): it loads the training and
// test sets with the default Options, printing progress to standard output.
func LoadData() (train, test *Split, err error) {
	ds, err := Load(context.Background(), Options{Progress: os.Stdout})
	if err != nil {
		return nil, nil, err
	}
	return ds.Train, ds.Test, nil
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
	fmt.Fprintf(progress, "Found CIFAR-10 %s\n", layout)

	var flat flatCache
	if !noFlatCache {
		if flat, err = flatCacheFor(cacheDir, layout); err != nil {
			return nil, err
		}
		removeStale(progress, filepath.Dir(flat.path), ".tmp-*.cifar")
		if ds, err := readFlatCache(flat.path); err == nil {
			ds.Source = Source{Origin: origin, Layout: layout, FlatCache: flat.path, Elapsed: time.Since(start)}
			fmt.Fprintf(progress, "Read the decoded data back from the flat cache %s\n", flat.path)
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
	ds.Source = Source{Origin: origin, Layout: layout}
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
			fmt.Fprintf(progress, "Another process is downloading CIFAR-10 into %s: waiting for it to finish\n", dir)
		} else {
			fmt.Fprintf(progress, "Still waiting for the other download into %s (%v so far)\n", dir, waited.Round(time.Second))
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
			incomplete.Dir, strings.Join(incomplete.Missing, ", "))
		if err := os.Rename(final, aside); err != nil {
			return Layout{}, fmt.Errorf("cifar: moving the incomplete copy %s aside to %s before downloading it again: %w", final, aside, err)
		}
	} else {
		fmt.Fprintf(progress, "CIFAR-10 is not in %s yet: downloading it there\n", dir)
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
			fmt.Fprintf(progress, "Could not remove the incomplete copy %s, replaced by the download: %v\n", aside, err)
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
	fmt.Fprintf(progress, "Put back in %s the incomplete copy of CIFAR-10 that an interrupted download had moved aside\n", final)
	return nil
}

// removeStale removes the temporaries of dead processes in dir (scratch.RemoveStale), saying so.
func removeStale(progress io.Writer, dir string, patterns ...string) {
	removed, err := scratch.RemoveStale(dir, patterns...)
	if len(removed) > 0 {
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
