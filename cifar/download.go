package cifar

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cifarlab/cifarlab/internal/scratch"
)

// Archive describes a downloadable CIFAR-10 archive.
type Archive struct {
	URL    string // where to fetch it
	Size   int64  // expected size in bytes (0 = unknown, then not checked)
	SHA256 string // expected lowercase hex SHA-256 of the whole archive
	Root   string // top-level folder inside the archive, e.g. "cifar-10-batches-py"
}

// OfficialPython is the official python-format archive.
var OfficialPython = Archive{
	URL:    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
	Size:   170498071,
	SHA256: "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
	Root:   "cifar-10-batches-py",
}

// Limits that protect Download against a hostile or broken server or archive.
const (
	maxArchiveSize = 4 << 30 // download size refused when Archive.Size is unknown, before the transfer when announced
	maxEntrySize   = 1 << 30 // largest file accepted inside the archive
	maxTotalSize   = 4 << 30 // largest total of the extracted files
	maxEntries     = 10_000  // most entries accepted in the archive
	megabyte       = 1e6     // unit of the progress lines
	progressStep   = 5       // percent between two progress lines
	progressEvery  = 2 * time.Second
	heartbeatEvery = 30 * time.Second // a line even without progressStep, on slow links
)

// downloader holds what Download needs besides its arguments; tests change it.
type downloader struct {
	client       *http.Client
	stallTimeout time.Duration    // give up when no byte arrives for this long
	deadline     time.Duration    // give up when the transfer takes longer than this in all
	now          func() time.Time // clock of the progress lines
}

var defaultDownloader = downloader{
	client:       http.DefaultClient,
	stallTimeout: time.Minute,
	// 170 MB in two hours is 24 kB/s: a link slower than that fails instead of trickling on.
	deadline: 2 * time.Hour,
	now:      time.Now,
}

// Download fetches a into dest (a folder; created if missing) so that afterwards dest/<a.Root>/ holds the
// extracted files, and returns that path. If dest/<a.Root> already exists it returns it without downloading.
// In dest/<a.Root>, beside the extracted files, it leaves a stamp (.cifarlab-download.json) with the URL, the SHA-256
// and the time of the download (the date that Source.String shows for the cache's copy).
//
// The archive is streamed into a temporary file inside dest, its size and SHA-256 are verified before
// anything is extracted, and it is extracted into a temporary folder inside dest that is renamed to
// dest/<a.Root> at the end, so dest/<a.Root> never holds a partial download. Only regular files and
// folders are extracted: links, devices, absolute paths and ".." components make Download fail.
// Temporary files are removed whether Download succeeds or fails (or is cancelled); those of a
// process that was killed while downloading are removed by the next Download into dest. If another
// process creates dest/<a.Root> in the meantime, Download keeps that one and returns its path.
//
// Progress lines (newline-terminated, readable in a terminal and in a notebook cell) are written to
// progress unless it is nil. Download gives up when ctx is cancelled, when no data arrives for a
// minute, when the transfer takes more than two hours in all, and, for an archive of unknown
// size, when the server announces more than 4 GiB.
func Download(ctx context.Context, a Archive, dest string, progress io.Writer) (string, error) {
	return defaultDownloader.download(ctx, a, dest, progress)
}

func (d downloader) download(ctx context.Context, a Archive, dest string, progress io.Writer) (string, error) {
	if err := a.validate(); err != nil {
		return "", err
	}
	if dest == "" {
		return "", errors.New("cifar: Download needs a destination folder")
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("cifar: download of %s: %w", a.URL, err)
	}
	if progress == nil {
		progress = io.Discard
	}
	final := filepath.Join(dest, a.Root)
	if ok, err := isDir(final); err != nil {
		return "", err
	} else if ok {
		return final, nil
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", fmt.Errorf("cifar: creating the download folder: %w", err)
	}
	removeStale(progress, dest, ".download-*.tar.gz", ".extract-*")

	tmp, lock, err := scratch.CreateTemp(dest, ".download-*.tar.gz")
	if err != nil {
		return "", fmt.Errorf("cifar: creating the temporary download file: %w", err)
	}
	// Cleaning up is best effort: a leftover hidden file must not fail a finished download.
	defer func() {
		tmp.Close() // already closed after the transfer
		os.Remove(tmp.Name())
		lock.Release()
	}()
	if err := d.fetch(ctx, a, tmp, progress); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("cifar: writing the temporary download file: %w", err)
	}

	fmt.Fprintf(progress, "SHA-256 verified, extracting %s\n", a.Root)
	extractDir, extractLock, err := scratch.MkdirTemp(dest, ".extract-")
	if err != nil {
		return "", fmt.Errorf("cifar: creating the temporary extraction folder: %w", err)
	}
	defer func() {
		os.RemoveAll(extractDir)
		extractLock.Release()
	}()
	files, size, err := extractArchive(ctx, tmp.Name(), extractDir)
	if err != nil {
		return "", fmt.Errorf("cifar: extracting %s: %w", a.URL, err)
	}
	extracted := filepath.Join(extractDir, a.Root)
	if info, err := os.Lstat(extracted); err != nil {
		return "", fmt.Errorf("cifar: archive %s has no top-level folder %q (it holds %s)", a.URL, a.Root, listFolder(extractDir))
	} else if !info.IsDir() {
		return "", fmt.Errorf("cifar: archive %s is not the expected one: its %q is a file, not a folder", a.URL, a.Root)
	}
	writeDownloadStamp(extracted, a, d.now())
	if err := moveIntoPlace(extracted, final); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "CIFAR-10 ready in %s (%d files, %.1f MB)\n", tildeHome(final), files, float64(size)/megabyte)
	return final, nil
}

// downloadStampFile is the stamp that Download leaves in the extracted folder, beside the batch
// files: a downloadStamp in JSON. In the folder, it comes and goes with the copy it describes.
const downloadStampFile = ".cifarlab-download.json"

// downloadStamp records what Download installed, and when.
type downloadStamp struct {
	URL        string    `json:"url"`
	SHA256     string    `json:"sha256"`
	Downloaded time.Time `json:"downloaded"`
}

// writeDownloadStamp writes the stamp of the archive a, downloaded at now, into dir. It is best
// effort: without a stamp, only the date of the download is unknown.
func writeDownloadStamp(dir string, a Archive, now time.Time) {
	b, err := json.Marshal(downloadStamp{URL: a.URL, SHA256: strings.ToLower(a.SHA256), Downloaded: now.Round(0).Truncate(time.Second)})
	if err == nil {
		_ = os.WriteFile(filepath.Join(dir, downloadStampFile), append(b, '\n'), 0o644)
	}
}

// readDownloadStamp returns when Download installed the copy in dir (from its stamp); the zero
// time when dir has no readable stamp (a copy put there by hand or by an older version).
func readDownloadStamp(dir string) time.Time {
	b, err := os.ReadFile(filepath.Join(dir, downloadStampFile))
	if err != nil {
		return time.Time{}
	}
	var stamp downloadStamp
	if err := json.Unmarshal(b, &stamp); err != nil {
		return time.Time{}
	}
	return stamp.Downloaded
}

// validate checks that a can be downloaded safely.
func (a Archive) validate() error {
	if a.URL == "" {
		return errors.New("cifar: archive has no URL")
	}
	if a.Size < 0 {
		return fmt.Errorf("cifar: archive %s has a negative size %d", a.URL, a.Size)
	}
	if sum, err := hex.DecodeString(a.SHA256); err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("cifar: archive %s needs a SHA256 of 64 hex digits, not %q", a.URL, a.SHA256)
	}
	if a.Root == "" || a.Root == "." || a.Root == ".." || strings.ContainsAny(a.Root, `/\`) || !filepath.IsLocal(a.Root) {
		return fmt.Errorf("cifar: archive %s: Root %q must be a single folder name", a.URL, a.Root)
	}
	return nil
}

// fetch streams a.URL into w, checking its size and SHA-256.
func (d downloader) fetch(ctx context.Context, a Archive, w io.Writer, progress io.Writer) error {
	if d.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d.deadline, fmt.Errorf("did not finish within %v", d.deadline))
		defer cancel()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no data received for %v", d.stallTimeout)
	watchdog := time.AfterFunc(d.stallTimeout, func() { cancel(stalled) })
	defer watchdog.Stop()
	// failed describes err, preferring the reason ctx was cancelled (the caller's or the watchdog's).
	failed := func(what string, err error) error {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return fmt.Errorf("cifar: download of %s %s: %w", a.URL, what, err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return fmt.Errorf("cifar: download of %s: %w", a.URL, err)
	}
	// Ask for the bytes as stored: a transparently decompressed body would not match the checksum.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := d.client.Do(req)
	if err != nil {
		return failed("failed", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cifar: download of %s failed: HTTP status %s", a.URL, resp.Status)
	}
	if a.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != a.Size {
		return fmt.Errorf("cifar: download of %s %s: server announces %d bytes, expected %d",
			a.URL, sizeWord(resp.ContentLength, a.Size), resp.ContentLength, a.Size)
	}

	if a.Size == 0 && resp.ContentLength > maxArchiveSize {
		return fmt.Errorf("cifar: download of %s refused: server announces %d bytes, more than the limit of %d for an archive of unknown size",
			a.URL, resp.ContentLength, int64(maxArchiveSize))
	}

	total, limit := a.Size, a.Size
	if total == 0 && resp.ContentLength > 0 {
		total = resp.ContentLength
	}
	if limit == 0 {
		limit = maxArchiveSize
	}
	fmt.Fprintf(progress, "Downloading %s (%s)\n", a.URL, sizeString(total))
	sum := sha256.New()
	report := &progressReporter{out: progress, total: total, now: d.now}
	report.start()
	body := &watchedReader{r: resp.Body, watchdog: watchdog, timeout: d.stallTimeout}
	// One byte past limit tells an oversized download from an exact one.
	n, err := io.Copy(io.MultiWriter(w, sum, report), io.LimitReader(body, limit+1))
	if err != nil {
		if body.err == nil { // the error is the file's, not the network's
			return fmt.Errorf("cifar: writing the download of %s: %w", a.URL, err)
		}
		return failed(fmt.Sprintf("interrupted after %d bytes", n), err)
	}
	report.finish()
	if n > limit && a.Size > 0 {
		return fmt.Errorf("cifar: download of %s oversized: got more than %d bytes, expected %d", a.URL, limit, a.Size)
	}
	if n > limit {
		return fmt.Errorf("cifar: download of %s oversized: more than %d bytes, the limit for an archive of unknown size", a.URL, limit)
	}
	if a.Size > 0 && n != a.Size {
		return fmt.Errorf("cifar: download of %s truncated: got %d bytes, expected %d", a.URL, n, a.Size)
	}
	if got, want := hex.EncodeToString(sum.Sum(nil)), strings.ToLower(a.SHA256); got != want {
		return fmt.Errorf("cifar: download of %s is corrupt: SHA-256 is %s, expected %s", a.URL, got, want)
	}
	return nil
}

// sizeWord says whether got bytes are too few or too many.
func sizeWord(got, want int64) string {
	if got < want {
		return "truncated"
	}
	return "oversized"
}

// sizeString formats a byte count in MB, or "size unknown" for 0.
func sizeString(n int64) string {
	if n <= 0 {
		return "size unknown"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/megabyte)
}

// watchedReader resets the stall watchdog whenever data arrives and remembers the read error.
type watchedReader struct {
	r        io.Reader
	watchdog *time.Timer
	timeout  time.Duration
	err      error
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.watchdog.Reset(w.timeout)
	}
	if err != nil && err != io.EOF {
		w.err = err
	}
	return n, err
}

// progressReporter counts the bytes written to it and prints a progress line when at least
// progressStep percent and progressEvery have passed since the previous line (or heartbeatEvery,
// or progressEvery when the total is unknown), and a final line from finish.
type progressReporter struct {
	out       io.Writer
	total     int64 // 0 when unknown
	now       func() time.Time
	done      int64
	began     time.Time
	lastTime  time.Time
	lastBytes int64
}

func (p *progressReporter) start() {
	p.began = p.now()
	p.lastTime = p.began
}

func (p *progressReporter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	now := p.now()
	since := now.Sub(p.lastTime)
	due := since >= heartbeatEvery
	if p.total > 0 {
		due = due || since >= progressEvery && (p.done-p.lastBytes)*100 >= progressStep*p.total
	} else {
		due = due || since >= progressEvery*5
	}
	if due && p.done != p.total {
		p.line(now, "")
		p.lastTime, p.lastBytes = now, p.done
	}
	return len(b), nil
}

func (p *progressReporter) finish() {
	now := p.now()
	elapsed := now.Sub(p.began)
	if elapsed < time.Second {
		elapsed = elapsed.Round(time.Millisecond)
	} else {
		elapsed = elapsed.Round(100 * time.Millisecond)
	}
	p.line(now, fmt.Sprintf(", done in %v", elapsed))
}

// line prints "  12.3 / 170.5 MB  7%  4.2 MB/s" followed by suffix.
func (p *progressReporter) line(now time.Time, suffix string) {
	rate := 0.0
	if elapsed := now.Sub(p.began).Seconds(); elapsed > 0 {
		rate = float64(p.done) / megabyte / elapsed
	}
	if p.total > 0 {
		fmt.Fprintf(p.out, "  %.1f / %.1f MB (%d%%), %.1f MB/s%s\n",
			float64(p.done)/megabyte, float64(p.total)/megabyte, p.done*100/p.total, rate, suffix)
	} else {
		fmt.Fprintf(p.out, "  %.1f MB, %.1f MB/s%s\n", float64(p.done)/megabyte, rate, suffix)
	}
}

// ctxReader fails reads once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// extractArchive extracts the regular files and folders of the .tar.gz file archive into dir,
// refusing any entry that is not one or whose name would leave dir. It returns the number and
// total size of the files.
func extractArchive(ctx context.Context, archive, dir string) (files int, total int64, err error) {
	f, err := os.Open(archive)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(ctxReader{ctx, f})
	if err != nil {
		return 0, 0, fmt.Errorf("not a gzip file: %w", err)
	}
	defer zr.Close()
	// os.Root refuses to leave dir even if a check below had a hole.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, 0, err
	}
	defer root.Close()

	tr := tar.NewReader(zr)
	for entries := 1; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, total, nil
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return files, total, fmt.Errorf("reading the tar stream: %w", err)
		}
		if entries > maxEntries {
			return files, total, fmt.Errorf("more than %d entries", maxEntries)
		}
		name, err := entryPath(hdr.Name)
		if err != nil {
			return files, total, fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader:
			// Metadata only (e.g. from git archive).
		case tar.TypeDir:
			if name == "." {
				continue
			}
			if err := root.MkdirAll(name, 0o755); err != nil {
				return files, total, fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		case tar.TypeReg:
			if name == "." {
				return files, total, fmt.Errorf("entry %q: a file without a name", hdr.Name)
			}
			if hdr.Size < 0 || hdr.Size > maxEntrySize {
				return files, total, fmt.Errorf("entry %q: size %d bytes is over the limit of %d", hdr.Name, hdr.Size, maxEntrySize)
			}
			if total += hdr.Size; total > maxTotalSize {
				return files, total, fmt.Errorf("entry %q: files add up to more than %d bytes", hdr.Name, int64(maxTotalSize))
			}
			if err := writeEntry(root, name, tr, hdr.Size); err != nil {
				return files, total, fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
			files++
		default:
			return files, total, fmt.Errorf("entry %q: %s not allowed, only regular files and folders", hdr.Name, typeName(hdr))
		}
	}
}

// entryPath checks that a tar entry name stays inside the extraction folder and returns it cleaned
// and in the local separator ("." for the folder itself).
func entryPath(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return "", errors.New("absolute path not allowed")
	case strings.Contains(name, `\`):
		return "", errors.New("backslash in name not allowed")
	case strings.ContainsRune(name, 0):
		return "", errors.New("NUL in name not allowed")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errors.New(`".." in path not allowed`)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return clean, nil
	}
	local := filepath.FromSlash(clean)
	if !filepath.IsLocal(local) {
		return "", errors.New("name not allowed on this system")
	}
	return local, nil
}

// typeName describes the kind of a refused tar entry.
func typeName(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		return fmt.Sprintf("symbolic link (to %q)", hdr.Linkname)
	case tar.TypeLink:
		return fmt.Sprintf("hard link (to %q)", hdr.Linkname)
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	case tar.TypeGNUSparse:
		return "sparse file"
	default:
		return fmt.Sprintf("entry type %q", hdr.Typeflag)
	}
}

// writeEntry writes size bytes of r to the file name in root, creating its folder.
func writeEntry(root *os.Root, name string, r io.Reader, size int64) error {
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = f.Sync() // so that the final rename never exposes empty files after a crash
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// moveIntoPlace renames the extracted folder to final, unless final appeared in the meantime
// (another process downloading too): then the extracted folder is left to be removed.
func moveIntoPlace(extracted, final string) error {
	if ok, err := isDir(final); err != nil || ok {
		return err
	}
	rerr := os.Rename(extracted, final)
	if rerr == nil {
		return nil
	}
	if ok, err := isDir(final); err == nil && ok {
		return nil
	}
	return fmt.Errorf("cifar: moving the extracted files into place: %w", rerr)
}

// isDir reports whether path is a folder; it is an error if path exists but is something else.
func isDir(path string) (bool, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("cifar: %w", err)
	case !info.IsDir():
		return false, fmt.Errorf("cifar: %s exists but is not a folder", path)
	}
	return true, nil
}

// listFolder names the entries of dir for an error message.
func listFolder(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return "nothing"
	}
	var names []string
	for i, e := range entries {
		if i == 5 {
			names = append(names, "...")
			break
		}
		names = append(names, fmt.Sprintf("%q", e.Name()))
	}
	return strings.Join(names, ", ")
}
