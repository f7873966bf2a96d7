package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dlEntry is one entry of a test tar archive.
type dlEntry struct {
	name       string
	typ        byte // 0 means tar.TypeReg
	body       []byte
	link       string
	size       int64 // declared size of a headerOnly entry
	headerOnly bool  // write the header only and end the archive there, without its data
}

// dlDefaultEntries is a small archive in the layout of the official one.
func dlDefaultEntries() []dlEntry {
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]byte, 64<<10)
	for i := range batch {
		batch[i] = byte(rng.Uint32())
	}
	return []dlEntry{
		{name: "cifar-10-batches-py/", typ: tar.TypeDir},
		{name: "cifar-10-batches-py/data_batch_1", body: batch},
		{name: "cifar-10-batches-py/batches.meta", body: []byte("meta\x00\x01\x02")},
		{name: "cifar-10-batches-py/readme.html", body: []byte("<a href=\"http://www.cs.toronto.edu/~kriz/cifar.html\">CIFAR</a>\n")},
		{name: "cifar-10-batches-py/empty", body: nil},
	}
}

// dlTarGz builds a .tar.gz holding entries.
func dlTarGz(t *testing.T, entries []dlEntry) []byte {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	complete := true
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, ModTime: time.Unix(1_250_000_000, 0)}
		switch e.typ {
		case 0:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.body))
		case tar.TypeDir:
			hdr.Mode = 0o755
		case tar.TypeXGlobalHeader:
			hdr = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "test"}}
		}
		if e.headerOnly {
			hdr.Size = e.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if e.headerOnly {
			complete = false
			break
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatalf("tar data %q: %v", e.name, err)
		}
	}
	if complete {
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dlGzip(t, tarBuf.Bytes())
}

func dlGzip(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func dlSum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// dlServer starts a loopback server running handler and counts its requests.
func dlServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// dlServe sends body with its Content-Length.
func dlServe(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}
}

// dlServeChunked sends body without a Content-Length.
func dlServeChunked(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		w.Write(body)
	}
}

// dlServeStuck announces body, sends its first half, signals started and waits for the client to go.
func dlServeStuck(body []byte, started chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		if started != nil {
			close(started)
		}
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}
}

func dlArchive(srv *httptest.Server, body []byte) Archive {
	return Archive{URL: srv.URL + "/cifar-10-python.tar.gz", Size: int64(len(body)), SHA256: dlSum(body), Root: "cifar-10-batches-py"}
}

// dlAssertOnly fails unless dest holds exactly the entries named (none: dest is empty or absent).
func dlAssertOnly(t *testing.T, dest string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dest)
	if errors.Is(err, fs.ErrNotExist) && len(names) == 0 {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, "|") != strings.Join(names, "|") {
		t.Errorf("%s holds %q, want %q (leftovers?)", dest, got, names)
	}
}

// dlAssertNoFile fails if a file named name exists anywhere under dirs.
func dlAssertNoFile(t *testing.T, name string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == name {
				t.Errorf("%s was written", p)
			}
			return nil
		})
	}
}

func TestDownloadSuccess(t *testing.T) {
	t.Parallel()
	base := dlDefaultEntries()
	dotSlash := []dlEntry{{name: "./", typ: tar.TypeDir}}
	for _, e := range base {
		e.name = "./" + e.name
		dotSlash = append(dotSlash, e)
	}
	noDirs := []dlEntry{{typ: tar.TypeXGlobalHeader}}
	for _, e := range base {
		if e.typ != tar.TypeDir {
			noDirs = append(noDirs, e)
		}
	}
	tests := []struct {
		name       string
		entries    []dlEntry
		chunked    bool // no Content-Length
		sizeless   bool // Archive.Size 0
		noProgress bool
	}{
		{name: "official layout", entries: base},
		{name: "dot-slash names", entries: dotSlash},
		{name: "no folder entries and a pax global header", entries: noDirs},
		{name: "size unknown, no Content-Length", entries: base, chunked: true, sizeless: true},
		{name: "nil progress", entries: base, noProgress: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := dlTarGz(t, tt.entries)
			handler := dlServe(body)
			if tt.chunked {
				handler = dlServeChunked(body)
			}
			srv, requests := dlServer(t, handler)
			a := dlArchive(srv, body)
			if tt.sizeless {
				a.Size = 0
			}
			dest := filepath.Join(t.TempDir(), "cache", "cifar10") // created by Download
			var progress bytes.Buffer
			var out io.Writer = &progress
			if tt.noProgress {
				out = nil
			}

			before := time.Now()
			got, err := Download(context.Background(), a, dest, out)
			if err != nil {
				t.Fatalf("Download: %v", err)
			}
			after := time.Now()
			want := filepath.Join(dest, "cifar-10-batches-py")
			if got != want {
				t.Fatalf("Download returned %q, want %q", got, want)
			}
			files := 0
			for _, e := range tt.entries {
				if e.typ != 0 {
					continue
				}
				files++
				data, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(e.name)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, e.body) {
					t.Errorf("%s: %d bytes differ from the %d in the archive", e.name, len(data), len(e.body))
				}
			}
			if extracted, _ := os.ReadDir(want); len(extracted) != files+1 {
				t.Errorf("%s holds %d entries, want %d and the stamp", want, len(extracted), files)
			}
			var stamp downloadStamp
			if b, err := os.ReadFile(filepath.Join(want, downloadStampFile)); err != nil || json.Unmarshal(b, &stamp) != nil {
				t.Errorf("no readable download stamp in %s: %v %q", want, err, b)
			}
			if stamp.URL != a.URL || stamp.SHA256 != a.SHA256 || stamp.Downloaded.Before(before.Truncate(time.Second)) || stamp.Downloaded.After(after) {
				t.Errorf("download stamp %+v, want URL %s, SHA-256 %s, a time between %v and %v", stamp, a.URL, a.SHA256, before, after)
			}
			if got := readDownloadStamp(want); !got.Equal(stamp.Downloaded) {
				t.Errorf("readDownloadStamp = %v, want %v", got, stamp.Downloaded)
			}
			dlAssertOnly(t, dest, "cifar-10-batches-py")

			if !tt.noProgress {
				text := progress.String()
				lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
				if !strings.HasSuffix(text, "\n") || strings.Contains(text, "\r") {
					t.Errorf("progress is not plain newline-terminated lines:\n%q", text)
				}
				if len(lines) < 3 || !strings.HasPrefix(lines[0], "Downloading "+a.URL) {
					t.Errorf("progress does not start with the URL:\n%s", text)
				}
				if !strings.Contains(text, "done in") {
					t.Errorf("progress has no final transfer line:\n%s", text)
				}
				if last := lines[len(lines)-1]; !strings.HasPrefix(last, "CIFAR-10 ready in "+want) {
					t.Errorf("last progress line is %q, want the final line", last)
				}
			}

			// A second call finds the folder and does not download again.
			again, err := Download(context.Background(), a, dest, nil)
			if err != nil || again != want {
				t.Fatalf("second Download: %q, %v", again, err)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("server got %d requests, want 1", n)
			}
		})
	}
}

func TestDownloadFailures(t *testing.T) {
	t.Parallel()
	outside := t.TempDir() // where escaping entries would land
	absolute := filepath.ToSlash(filepath.Join(outside, "evil"))
	withDefault := func(extra ...dlEntry) []dlEntry { return append(dlDefaultEntries(), extra...) }
	flipped := func(body []byte) []byte {
		bad := bytes.Clone(body)
		bad[len(bad)/2] ^= 0x40
		return bad
	}
	tests := []struct {
		name    string
		entries []dlEntry                             // archive entries (nil: dlDefaultEntries)
		raw     []byte                                // archive bytes instead of entries
		serve   func(body []byte) http.HandlerFunc    // nil: dlServe
		edit    func(a *Archive)                      // changes the expected archive
		want    func(a Archive, body []byte) []string // substrings of the error
		is      error                                 // error the result must wrap
	}{
		{
			name:  "corrupted byte",
			serve: func(body []byte) http.HandlerFunc { return dlServe(flipped(body)) },
			want: func(a Archive, body []byte) []string {
				return []string{"cifar: ", a.URL, "corrupt", "expected " + a.SHA256, "SHA-256 is " + dlSum(flipped(body))}
			},
		},
		{
			name: "connection closed before Content-Length",
			serve: func(body []byte) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					w.Write(body[:len(body)/2])
				}
			},
			want: func(a Archive, body []byte) []string { return []string{a.URL, "interrupted after"} },
			is:   io.ErrUnexpectedEOF,
		},
		{
			name:  "fewer bytes without Content-Length",
			serve: func(body []byte) http.HandlerFunc { return dlServeChunked(body[:len(body)-100]) },
			want: func(a Archive, body []byte) []string {
				return []string{fmt.Sprintf("download of %s truncated: got %d bytes, expected %d", a.URL, len(body)-100, len(body))}
			},
		},
		{
			name:  "more bytes without Content-Length",
			serve: func(body []byte) http.HandlerFunc { return dlServeChunked(append(bytes.Clone(body), 1, 2, 3)) },
			want: func(a Archive, body []byte) []string {
				return []string{fmt.Sprintf("download of %s oversized: got more than %d bytes, expected %d", a.URL, len(body), len(body))}
			},
		},
		{
			name: "wrong expected size, announced",
			edit: func(a *Archive) { a.Size += 10 },
			want: func(a Archive, body []byte) []string {
				return []string{fmt.Sprintf("download of %s truncated: server announces %d bytes, expected %d", a.URL, len(body), len(body)+10)}
			},
		},
		{
			name:  "wrong expected size, not announced",
			serve: dlServeChunked,
			edit:  func(a *Archive) { a.Size -= 10 },
			want: func(a Archive, body []byte) []string {
				return []string{fmt.Sprintf("download of %s oversized: got more than %d bytes, expected %d", a.URL, len(body)-10, len(body)-10)}
			},
		},
		{
			name:  "HTTP 404",
			serve: func([]byte) http.HandlerFunc { return http.NotFound },
			want:  func(a Archive, body []byte) []string { return []string{a.URL, "404 Not Found"} },
		},
		{
			name:    "dot-dot entry",
			entries: withDefault(dlEntry{name: "../evil", body: []byte("x")}),
			want:    func(Archive, []byte) []string { return []string{`entry "../evil"`, `".." in path`} },
		},
		{
			name:    "dot-dot inside the root folder",
			entries: withDefault(dlEntry{name: "cifar-10-batches-py/../../evil", body: []byte("x")}),
			want:    func(Archive, []byte) []string { return []string{`entry "cifar-10-batches-py/../../evil"`} },
		},
		{
			name:    "absolute path",
			entries: withDefault(dlEntry{name: absolute, body: []byte("x")}),
			want:    func(Archive, []byte) []string { return []string{fmt.Sprintf("entry %q", absolute), "absolute path"} },
		},
		{
			name:    "symlink",
			entries: withDefault(dlEntry{name: "cifar-10-batches-py/evil", typ: tar.TypeSymlink, link: outside}),
			want: func(Archive, []byte) []string {
				return []string{`entry "cifar-10-batches-py/evil"`, "symbolic link", "only regular files and folders"}
			},
		},
		{
			name:    "hard link",
			entries: withDefault(dlEntry{name: "cifar-10-batches-py/evil", typ: tar.TypeLink, link: "cifar-10-batches-py/data_batch_1"}),
			want:    func(Archive, []byte) []string { return []string{`entry "cifar-10-batches-py/evil"`, "hard link"} },
		},
		{
			name:    "character device",
			entries: withDefault(dlEntry{name: "cifar-10-batches-py/evil", typ: tar.TypeChar}),
			want: func(Archive, []byte) []string {
				return []string{`entry "cifar-10-batches-py/evil"`, "character device"}
			},
		},
		{
			name:    "named pipe",
			entries: withDefault(dlEntry{name: "cifar-10-batches-py/evil", typ: tar.TypeFifo}),
			want:    func(Archive, []byte) []string { return []string{`entry "cifar-10-batches-py/evil"`, "named pipe"} },
		},
		{
			name:    "entry over 1 GiB",
			entries: withDefault(dlEntry{name: "cifar-10-batches-py/huge", headerOnly: true, size: 2 << 30}),
			want:    func(Archive, []byte) []string { return []string{`entry "cifar-10-batches-py/huge"`, "over the limit"} },
		},
		{
			name:    "no root folder",
			entries: []dlEntry{{name: "cifar-10-batches-bin/data_batch_1.bin", body: []byte("x")}},
			want: func(a Archive, _ []byte) []string {
				return []string{a.URL, `no top-level folder "cifar-10-batches-py"`, `"cifar-10-batches-bin"`}
			},
		},
		{
			name:    "root is a file",
			entries: []dlEntry{{name: "cifar-10-batches-py", body: []byte("x")}},
			want:    func(Archive, []byte) []string { return []string{`"cifar-10-batches-py" is a file, not a folder`} },
		},
		{
			name: "not gzip",
			raw:  []byte("<html>Service unavailable</html>"),
			want: func(Archive, []byte) []string { return []string{"not a gzip file"} },
		},
		{
			name: "gzip but not tar",
			raw:  dlGzip(t, bytes.Repeat([]byte("not a tar header "), 60)),
			want: func(Archive, []byte) []string { return []string{"extracting", "tar"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.raw
			if body == nil {
				entries := tt.entries
				if entries == nil {
					entries = dlDefaultEntries()
				}
				body = dlTarGz(t, entries)
			}
			serve := dlServe
			if tt.serve != nil {
				serve = tt.serve
			}
			srv, _ := dlServer(t, serve(body))
			a := dlArchive(srv, body)
			if tt.edit != nil {
				tt.edit(&a)
			}
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			var progress bytes.Buffer

			got, err := Download(context.Background(), a, dest, &progress)
			if err == nil {
				t.Fatalf("Download succeeded (%s), want an error", got)
			}
			if got != "" {
				t.Errorf("Download returned path %q with its error", got)
			}
			for _, s := range tt.want(a, body) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "cifar: ") {
				t.Errorf("error %q lacks the cifar: prefix", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			dlAssertOnly(t, dest) // no Root folder and no temporary leftovers
			dlAssertNoFile(t, "evil", parent, outside)
		})
	}
}

func TestDownloadInvalidArchive(t *testing.T) {
	t.Parallel()
	srv, requests := dlServer(t, http.NotFound)
	good := Archive{URL: srv.URL + "/x.tar.gz", SHA256: strings.Repeat("ab", 32), Root: "cifar-10-batches-py"}
	tests := []struct {
		name string
		edit func(a *Archive, dest *string)
		want string
	}{
		{"no URL", func(a *Archive, _ *string) { a.URL = "" }, "no URL"},
		{"no checksum", func(a *Archive, _ *string) { a.SHA256 = "" }, "needs a SHA256"},
		{"short checksum", func(a *Archive, _ *string) { a.SHA256 = "abcd" }, "needs a SHA256"},
		{"checksum not hex", func(a *Archive, _ *string) { a.SHA256 = strings.Repeat("zz", 32) }, "needs a SHA256"},
		{"negative size", func(a *Archive, _ *string) { a.Size = -1 }, "negative size"},
		{"no root", func(a *Archive, _ *string) { a.Root = "" }, "single folder name"},
		{"root with slash", func(a *Archive, _ *string) { a.Root = "a/b" }, "single folder name"},
		{"root dot-dot", func(a *Archive, _ *string) { a.Root = ".." }, "single folder name"},
		{"no destination", func(_ *Archive, dest *string) { *dest = "" }, "destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, dest := good, t.TempDir()
			tt.edit(&a, &dest)
			_, err := Download(context.Background(), a, dest, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "cifar: ") {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestDownloadRootIsAFile(t *testing.T) {
	t.Parallel()
	srv, requests := dlServer(t, http.NotFound)
	dest := t.TempDir()
	if err := os.WriteFile(filepath.Join(dest, "cifar-10-batches-py"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := Archive{URL: srv.URL, SHA256: strings.Repeat("00", 32), Root: "cifar-10-batches-py"}
	if _, err := Download(context.Background(), a, dest, nil); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("error %v, want one saying the root is not a folder", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestDownloadConcurrentCreate(t *testing.T) {
	t.Parallel()
	body := dlTarGz(t, dlDefaultEntries())
	dest := t.TempDir()
	root := filepath.Join(dest, "cifar-10-batches-py")
	marker := filepath.Join(root, "made-by-the-other-process")
	serve := dlServe(body)
	// Another process finishes its download while the server is sending ours.
	srv, _ := dlServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			t.Error(err)
		}
		serve(w, r)
	})
	got, err := Download(context.Background(), dlArchive(srv, body), dest, nil)
	if err != nil || got != root {
		t.Fatalf("Download: %q, %v; want %q, nil", got, err, root)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the other process's folder was replaced: %v", err)
	}
	dlAssertOnly(t, root, "made-by-the-other-process")
	dlAssertOnly(t, dest, "cifar-10-batches-py")
}

func TestDownloadTwiceAtOnce(t *testing.T) {
	t.Parallel()
	body := dlTarGz(t, dlDefaultEntries())
	serve := dlServe(body)
	var arrived sync.WaitGroup
	arrived.Add(2)
	// Answer neither request before both have arrived, so that the two downloads overlap.
	srv, requests := dlServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait()
		serve(w, r)
	})
	a, dest := dlArchive(srv, body), t.TempDir()
	var paths [2]string
	var errs [2]error
	var done sync.WaitGroup
	for i := range paths {
		done.Go(func() { paths[i], errs[i] = Download(context.Background(), a, dest, nil) })
	}
	done.Wait()
	want := filepath.Join(dest, "cifar-10-batches-py")
	for i := range paths {
		if errs[i] != nil || paths[i] != want {
			t.Errorf("Download %d: %q, %v; want %q, nil", i, paths[i], errs[i], want)
		}
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("server got %d requests, want 2", n)
	}
	dlAssertOnly(t, dest, "cifar-10-batches-py")
	dlAssertOnly(t, want, downloadStampFile, "batches.meta", "data_batch_1", "empty", "readme.html")
}

func TestDownloadCancelled(t *testing.T) {
	t.Parallel()
	body := dlTarGz(t, dlDefaultEntries())

	t.Run("before", func(t *testing.T) {
		t.Parallel()
		srv, requests := dlServer(t, dlServe(body))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dest := filepath.Join(t.TempDir(), "dest")
		if _, err := Download(ctx, dlArchive(srv, body), dest, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if n := requests.Load(); n != 0 {
			t.Errorf("server got %d requests, want none", n)
		}
		dlAssertOnly(t, dest)
	})

	t.Run("during the transfer", func(t *testing.T) {
		t.Parallel()
		started := make(chan struct{})
		srv, _ := dlServer(t, dlServeStuck(body, started))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-started
			cancel()
		}()
		dest := filepath.Join(t.TempDir(), "dest")
		_, err := Download(ctx, dlArchive(srv, body), dest, nil)
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "cifar: ") {
			t.Errorf("error %v, want a cifar error wrapping context.Canceled", err)
		}
		dlAssertOnly(t, dest)
	})
}

func TestDownloadStalled(t *testing.T) {
	t.Parallel()
	body := dlTarGz(t, dlDefaultEntries())
	srv, _ := dlServer(t, dlServeStuck(body, nil))
	d := downloader{client: srv.Client(), stallTimeout: 200 * time.Millisecond, now: time.Now}
	dest := t.TempDir()
	_, err := d.download(context.Background(), dlArchive(srv, body), dest, nil)
	if err == nil || !strings.Contains(err.Error(), "no data received for 200ms") {
		t.Errorf("error %v, want one about the stalled transfer", err)
	}
	dlAssertOnly(t, dest)
}

func TestDownloadProgressLines(t *testing.T) {
	t.Parallel()
	type step struct {
		at time.Duration // since the start
		n  int           // bytes written
	}
	tests := []struct {
		name  string
		total int64
		steps []step
		want  []string
	}{
		{
			name:  "fast: final line only",
			total: 10e6,
			steps: []step{{100 * time.Millisecond, 10e6}},
			want:  []string{"  10.0 / 10.0 MB (100%), 100.0 MB/s, done in 100ms"},
		},
		{
			name:  "every 5% but not within 2 s, heartbeat after 30 s",
			total: 10e6,
			steps: []step{
				{500 * time.Millisecond, 1e6}, // too early
				{2500 * time.Millisecond, 1e6},
				{3 * time.Second, 1e6},   // too early
				{5 * time.Second, 1e5},   // 11% since the last line
				{6 * time.Second, 1e4},   // 2 s but under 5%
				{40 * time.Second, 9e4},  // heartbeat
				{41 * time.Second, 68e5}, // complete: left to the final line
			},
			want: []string{
				"  2.0 / 10.0 MB (20%), 0.8 MB/s",
				"  3.1 / 10.0 MB (31%), 0.6 MB/s",
				"  3.2 / 10.0 MB (32%), 0.1 MB/s",
				"  10.0 / 10.0 MB (100%), 0.2 MB/s, done in 41s",
			},
		},
		{
			name:  "unknown total",
			total: 0,
			steps: []step{{time.Second, 1e6}, {9 * time.Second, 1e6}, {11 * time.Second, 1e6}},
			want:  []string{"  3.0 MB, 0.3 MB/s", "  3.0 MB, 0.3 MB/s, done in 11s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			now := start
			var out bytes.Buffer
			p := &progressReporter{out: &out, total: tt.total, now: func() time.Time { return now }}
			p.start()
			for _, s := range tt.steps {
				now = start.Add(s.at)
				p.Write(make([]byte, s.n))
			}
			p.finish()
			if got, want := out.String(), strings.Join(tt.want, "\n")+"\n"; got != want {
				t.Errorf("progress:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestExtractEntryPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		want    string // slash-separated; "" means an error
		wantErr string
	}{
		{name: "cifar-10-batches-py/data_batch_1", want: "cifar-10-batches-py/data_batch_1"},
		{name: "./cifar-10-batches-py/data_batch_1", want: "cifar-10-batches-py/data_batch_1"},
		{name: "cifar-10-batches-py/", want: "cifar-10-batches-py"},
		{name: "./", want: "."},
		{name: "", wantErr: "empty"},
		{name: "/etc/passwd", wantErr: "absolute"},
		{name: "../evil", wantErr: `".."`},
		{name: "a/../b", wantErr: `".."`},
		{name: "a/..", wantErr: `".."`},
		{name: `a\..\..\evil`, wantErr: "backslash"},
		{name: "a\x00b", wantErr: "NUL"},
	}
	for _, tt := range tests {
		got, err := entryPath(tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("entryPath(%q) = %q, %v; want an error containing %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || filepath.ToSlash(got) != tt.want {
			t.Errorf("entryPath(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// A server that sends a byte now and then, never stalling long enough for the stall timeout,
// still fails the download at the overall deadline, leaving nothing behind.
func TestDownloadDeadline(t *testing.T) {
	t.Parallel()
	body := dlTarGz(t, dlDefaultEntries())
	srv, _ := dlServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		for _, b := range body {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	d := downloader{client: srv.Client(), stallTimeout: time.Second, deadline: 300 * time.Millisecond, now: time.Now}
	dest := t.TempDir()
	start := time.Now()
	_, err := d.download(context.Background(), dlArchive(srv, body), dest, nil)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Errorf("error %v, want one about the deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("gave up after %v", elapsed)
	}
	dlAssertOnly(t, dest)
}

// For an archive of unknown size, a server announcing more than the limit is refused before the
// transfer: the body is not read.
func TestDownloadRefusesHugeAnnouncedSize(t *testing.T) {
	t.Parallel()
	var sent atomic.Int64
	srv, _ := dlServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000000000000") // 10 TB
		chunk := make([]byte, 64<<10)
		for range 1 << 10 { // up to 64 MiB, unless the client hangs up
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	a := Archive{URL: srv.URL + "/big.tar.gz", SHA256: strings.Repeat("ab", 32), Root: "cifar-10-batches-py"}
	dest := t.TempDir()
	_, err := Download(context.Background(), a, dest, nil)
	if err == nil || !strings.Contains(err.Error(), "announces 10000000000000 bytes") {
		t.Errorf("error %v, want the announced size refused", err)
	}
	dlAssertOnly(t, dest)
	srv.CloseClientConnections()
	if n := sent.Load(); n >= 64<<20 {
		t.Errorf("the server sent all %d bytes: the body was read", n)
	}
}
