package atomicdir_test

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cifarlab/cifarlab/internal/atomicdir"
	"github.com/cifarlab/cifarlab/internal/scratch"
)

// checked are the files that the folders of these tests list in their SumsFile.
var checked = []string{"model.json", "weights.bin"}

// fillWith returns a fill that writes the checked files with content derived from tag, and their
// sums.
func fillWith(tag string) func(tmp string) error {
	return func(tmp string) error {
		if err := atomicdir.WriteJSON(filepath.Join(tmp, "model.json"), map[string]string{"tag": tag}); err != nil {
			return err
		}
		if err := atomicdir.WriteFile(filepath.Join(tmp, "weights.bin"), func(w io.Writer) error {
			_, err := io.WriteString(w, strings.Repeat(tag, 1000))
			return err
		}); err != nil {
			return err
		}
		return atomicdir.WriteSums(tmp, checked)
	}
}

// tagOf returns the tag of a folder written by fillWith, checking that its files agree.
func tagOf(t *testing.T, dir string) string {
	t.Helper()
	var m map[string]string
	if err := atomicdir.ReadJSON(filepath.Join(dir, "model.json"), &m); err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(filepath.Join(dir, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if string(w) != strings.Repeat(m["tag"], 1000) {
		t.Fatalf("%s: weights.bin is not model.json's (%q): the folder mixes two writes", dir, m["tag"])
	}
	return m["tag"]
}

// names returns the sorted names in dir (nil when dir is missing).
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name     string
		previous string // tag of a folder already in place, "" for none
		sub      string // path of the folder below the test's folder
	}{
		{name: "new folder", sub: "model"},
		{name: "missing parents are created", sub: "a/b/model"},
		{name: "replaces an existing folder", previous: "old", sub: "model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.sub)
			parent, base := filepath.Split(dir)
			if tc.previous != "" {
				if err := atomicdir.Write(dir, fillWith(tc.previous)); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("only in the old folder"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fill := fillWith("new")
			calls := 0
			err := atomicdir.Write(dir, func(tmp string) error {
				calls++
				// The files go into a temporary sibling, which is not complete yet; the folder
				// itself is untouched until the end.
				if filepath.Dir(tmp) != filepath.Clean(parent) || !matches(filepath.Base(tmp), atomicdir.StalePatterns(base)) {
					t.Errorf("temporary folder %s: want a sibling of %s matching %v", tmp, dir, atomicdir.StalePatterns(base))
				}
				if names(t, tmp) != nil {
					t.Errorf("the temporary folder starts with %v, want it empty", names(t, tmp))
				}
				if err := fill(tmp); err != nil {
					return err
				}
				if atomicdir.IsComplete(tmp) {
					t.Error("the complete marker is there before fill returned")
				}
				if tc.previous == "" {
					if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("%s exists before Write ends: %v", dir, err)
					}
				} else if !atomicdir.IsComplete(dir) || tagOf(t, dir) != tc.previous {
					t.Error("the previous folder was changed before Write ends")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("fill called %d times, want once", calls)
			}
			if !atomicdir.IsComplete(dir) {
				t.Error("not complete")
			}
			if got := tagOf(t, dir); got != "new" {
				t.Errorf("the folder holds %q's files, want the new ones", got)
			}
			if err := atomicdir.CheckSums(dir, checked); err != nil {
				t.Error(err)
			}
			want := []string{atomicdir.SumsFile, atomicdir.CompleteFile, "model.json", "weights.bin"}
			if got := names(t, dir); !slices.Equal(got, want) {
				t.Errorf("the folder holds %v, want %v (nothing of the old folder)", got, want)
			}
			if got := names(t, parent); !slices.Equal(got, []string{base}) {
				t.Errorf("beside the folder: %v, want only %q (no temporaries)", got, base)
			}
		})
	}
}

func TestWriteFailing(t *testing.T) {
	errFill := errors.New("fill failed")
	for _, tc := range []struct {
		name     string
		previous bool  // a folder is already in place
		wantErr  error // errors.Is target; errFill unless set
		fill     func(tmp string) error
	}{
		{name: "fill fails, no previous folder", fill: func(tmp string) error {
			if err := fillWith("half")(tmp); err != nil {
				return err
			}
			return errFill
		}},
		{name: "fill fails, previous folder kept", previous: true, fill: func(tmp string) error {
			if err := fillWith("half")(tmp); err != nil {
				return err
			}
			return errFill
		}},
		{name: "fill fails at once", previous: true, fill: func(string) error { return errFill }},
		{name: "file error inside fill", previous: true, wantErr: fs.ErrNotExist, fill: func(tmp string) error {
			return atomicdir.WriteFile(filepath.Join(tmp, "no/such/folder"), func(io.Writer) error { return nil })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "model")
			if tc.previous {
				if err := atomicdir.Write(dir, fillWith("old")); err != nil {
					t.Fatal(err)
				}
			}
			err := atomicdir.Write(dir, tc.fill)
			if err == nil {
				t.Fatal("no error")
			}
			if want := cmp.Or(tc.wantErr, errFill); !errors.Is(err, want) {
				t.Errorf("error %v, want fill's (%v)", err, want)
			}
			var want []string
			if tc.previous {
				want = []string{"model"}
				if !atomicdir.IsComplete(dir) || tagOf(t, dir) != "old" || atomicdir.CheckSums(dir, checked) != nil {
					t.Error("the previous folder was not kept intact")
				}
			}
			if got := names(t, parent); !slices.Equal(got, want) {
				t.Errorf("left %v, want %v (no temporaries, no partial folder)", got, want)
			}
		})
	}
}

// TestWriteFillPanics checks that a fill that panics leaves no temporary behind either.
func TestWriteFillPanics(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	if err := atomicdir.Write(dir, fillWith("old")); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "fill panicked" {
				t.Errorf("recovered %v, want fill's panic", r)
			}
		}()
		_ = atomicdir.Write(dir, func(tmp string) error {
			if err := fillWith("half")(tmp); err != nil {
				return err
			}
			panic("fill panicked")
		})
	}()
	if got := names(t, parent); !slices.Equal(got, []string{"model"}) || tagOf(t, dir) != "old" {
		t.Errorf("left %v, want only the previous folder, intact", got)
	}
}

func TestWriteParentIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	called := false
	err := atomicdir.Write(filepath.Join(file, "model"), func(string) error { called = true; return nil })
	if err == nil || called {
		t.Errorf("Write under a file: error %v, fill called %v; want an error and no call", err, called)
	}
}

// TestWriteConcurrent writes one folder from several goroutines at once, first where there is
// none, then over one: all succeed, and the folder is one write's, whole. The fills wait for each
// other, so that the writes race to put their folders in place.
func TestWriteConcurrent(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	const n = 6 // Write tries 6 times; each failed try is another writer's success
	for round := range 2 {
		var ready, done sync.WaitGroup
		ready.Add(n)
		errs := make([]error, n)
		for i := range n {
			done.Add(1)
			go func() {
				defer done.Done()
				errs[i] = atomicdir.Write(dir, func(tmp string) error {
					err := fillWith(fmt.Sprint("writer", i))(tmp)
					ready.Done()
					ready.Wait()
					return err
				})
			}()
		}
		done.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !atomicdir.IsComplete(dir) || atomicdir.CheckSums(dir, checked) != nil {
			t.Errorf("round %d: the folder is not complete and intact", round)
		}
		if tag := tagOf(t, dir); !strings.HasPrefix(tag, "writer") {
			t.Errorf("round %d: tag %q", round, tag)
		}
		if got := names(t, parent); !slices.Equal(got, []string{"model"}) {
			t.Errorf("round %d: left %v, want only the folder", round, got)
		}
	}
}

func matches(name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, err := filepath.Match(p, name); err == nil && ok {
			return true
		}
	}
	return false
}

func TestStalePatterns(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{".tmp-model-123456789", true}, // os.MkdirTemp's name for Write's temporary folder
		{".old-model-42", true},        // an older version's moved-aside folder
		{"model", false},               // the folder itself
		{".tmp-model", false},
		{"model.json", false},
		{".tmp-other-123", false},
		{"tmp-model-1", false},
	} {
		if got := matches(tc.name, atomicdir.StalePatterns("model")); got != tc.want {
			t.Errorf("%q matches %v: %v, want %v", tc.name, atomicdir.StalePatterns("model"), got, tc.want)
		}
	}
}

// TestWriteRemovesStale simulates what killed writes leave beside a folder: Write removes those
// that no process holds, and leaves alone a live writer's temporary and unrelated files.
func TestWriteRemovesStale(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	// The name a killed Write leaves: learn it from a real Write.
	var killedName string
	if err := atomicdir.Write(dir, func(tmp string) error { killedName = filepath.Base(tmp); return errors.New("stop") }); err == nil {
		t.Fatal("no error")
	}
	if err := atomicdir.Write(dir, fillWith("old")); err != nil {
		t.Fatal(err)
	}
	stale := []string{killedName, ".old-model-7"}
	for _, name := range stale {
		if err := os.MkdirAll(filepath.Join(parent, name, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(parent, name, "weights.bin"), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	live, lock, err := scratch.MkdirTemp(parent, ".tmp-model-")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	for _, name := range []string{".tmp-other-1", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(parent, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := atomicdir.Write(dir, fillWith("new")); err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Base(live), ".tmp-other-1", "model", "notes.txt"}
	slices.Sort(want)
	if got := names(t, parent); !slices.Equal(got, want) {
		t.Errorf("left %v, want %v: the stale %v removed, the live temporary and the other files kept", got, want, stale)
	}
	if tagOf(t, dir) != "new" {
		t.Error("the folder is not the new one")
	}
}

func TestIsComplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  bool
	}{
		{"missing", func(*testing.T, string) {}, false},
		{"partial: files but no marker", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "model.json"), "{}")
		}, false},
		{"marker is a folder", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, atomicdir.CompleteFile), 0o755); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a file instead of a folder", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, []byte("complete\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"written by Write", func(t *testing.T, dir string) {
			if err := atomicdir.Write(dir, fillWith("x")); err != nil {
				t.Fatal(err)
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "model")
			tc.setup(t, dir)
			if got := atomicdir.IsComplete(dir); got != tc.want {
				t.Errorf("IsComplete = %v, want %v", got, tc.want)
			}
		})
	}
}

// mustWrite writes content to path, creating its folder.
func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestWriteSums(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "a"), "alpha")
	mustWrite(t, filepath.Join(dir, "b b"), "")
	// Listed in the order of names, sha256sum's format; a missing name is left out.
	if err := atomicdir.WriteSums(dir, []string{"b b", "missing", "a"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, atomicdir.SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256Hex("") + "  b b\n" + sha256Hex("alpha") + "  a\n"
	if string(got) != want {
		t.Errorf("%s:\n%s\nwant\n%s", atomicdir.SumsFile, got, want)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicdir.WriteSums(dir, []string{"sub"}); err == nil {
		t.Error("a folder named as a file: no error")
	}
}

func TestCheckSums(t *testing.T) {
	names := []string{"model.json", "weights.bin", "optional.bin"}
	for _, tc := range []struct {
		name     string
		change   func(t *testing.T, dir string)
		wantErr  string // "" for none
		notExist bool   // the error satisfies errors.Is(err, fs.ErrNotExist)
	}{
		{name: "intact", change: func(*testing.T, string) {}},
		{name: "a changed byte", change: func(t *testing.T, dir string) {
			path := filepath.Join(dir, "weights.bin")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			mustWrite(t, path, string(b))
		}, wantErr: "weights.bin: checksum mismatch"},
		{name: "a listed file missing", change: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "model.json")); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "model.json", notExist: true},
		{name: "an unlisted file added", change: func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "optional.bin"), "added later")
		}, wantErr: "optional.bin is not listed"},
		{name: "no sums file", change: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, atomicdir.SumsFile)); err != nil {
				t.Fatal(err)
			}
		}, wantErr: atomicdir.SumsFile, notExist: true},
		{name: "a malformed line", change: func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, atomicdir.SumsFile), "not a sum\n")
		}, wantErr: "line 3 is malformed"},
		{name: "a short sum", change: func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, atomicdir.SumsFile), "abc  optional.bin\n")
		}, wantErr: "line 3 is malformed"},
		{name: "a file that is not checked", change: func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, atomicdir.SumsFile), sha256Hex("")+"  other.bin\n")
		}, wantErr: "line 3 is malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "model")
			if err := atomicdir.Write(dir, func(tmp string) error {
				if err := fillWith("x")(tmp); err != nil {
					return err
				}
				return atomicdir.WriteSums(tmp, names) // optional.bin is not there: not listed
			}); err != nil {
				t.Fatal(err)
			}
			tc.change(t, dir)
			err := atomicdir.CheckSums(dir, names)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("CheckSums: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, fs.ErrNotExist) != tc.notExist {
				t.Errorf("CheckSums: %v; want an error containing %q (not exist: %v)", err, tc.wantErr, tc.notExist)
			}
		})
	}
}

// appendTo appends s to the file at path.
func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFile(t *testing.T) {
	errWrite := errors.New("write failed")
	big := strings.Repeat("0123456789abcdef", 1<<17) // 2 MiB: more than the buffer
	for _, tc := range []struct {
		name    string
		path    string // below the test's folder
		write   func(w io.Writer) error
		want    string // the file's content after a success
		wantErr error  // errors.Is target; nil for success
	}{
		{name: "small", path: "f", write: func(w io.Writer) error { _, err := io.WriteString(w, "hello"); return err }, want: "hello"},
		{name: "larger than the buffer", path: "f", write: func(w io.Writer) error { _, err := io.WriteString(w, big); return err }, want: big},
		{name: "empty", path: "f", write: func(io.Writer) error { return nil }, want: ""},
		{name: "write fails", path: "f", write: func(io.Writer) error { return errWrite }, wantErr: errWrite},
		{name: "missing folder", path: "no/f", write: func(io.Writer) error { return nil }, wantErr: fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.path)
			err := atomicdir.WriteFile(path, tc.write)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.want {
				t.Errorf("the file holds %d bytes (%v), want %d", len(got), err, len(tc.want))
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	type record struct {
		Name   string             `json:"name"`
		Epochs int                `json:"epochs"`
		Loss   []float64          `json:"loss"`
		Extra  map[string]float64 `json:"extra,omitempty"`
	}
	for _, v := range []record{
		{Name: "exercise2", Epochs: 11, Loss: []float64{2.5, 1.25}},
		{Name: "ünïcode \"quoted\"", Loss: []float64{}, Extra: map[string]float64{"lr": 1e-3}},
	} {
		path := filepath.Join(t.TempDir(), "v.json")
		if err := atomicdir.WriteJSON(path, v); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(raw), "}\n") || !strings.Contains(string(raw), "\n  \"name\": ") {
			t.Errorf("not indented JSON ending with a newline:\n%s", raw)
		}
		var got record
		if err := atomicdir.ReadJSON(path, &got); err != nil {
			t.Fatal(err)
		}
		if got.Name != v.Name || got.Epochs != v.Epochs || !slices.Equal(got.Loss, v.Loss) || len(got.Extra) != len(v.Extra) || got.Extra["lr"] != v.Extra["lr"] {
			t.Errorf("read back %+v, wrote %+v", got, v)
		}
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
		prefix  string  // the error starts with it: the file's name for a decoding error
		is      func(error) bool
	}{
		{name: "missing", is: func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		{name: "truncated", content: ptr(`{"epochs": `), prefix: "v.json: ", is: func(err error) bool {
			var e *json.SyntaxError
			return errors.As(err, &e)
		}},
		{name: "wrong type", content: ptr(`{"epochs": "eleven"}`), prefix: "v.json: ", is: func(err error) bool {
			var e *json.UnmarshalTypeError
			return errors.As(err, &e)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "v.json")
			if tc.content != nil {
				mustWrite(t, path, *tc.content)
			}
			var v struct {
				Epochs int `json:"epochs"`
			}
			err := atomicdir.ReadJSON(path, &v)
			if err == nil || !strings.HasPrefix(err.Error(), tc.prefix) || !tc.is(err) {
				t.Errorf("ReadJSON: %v; want an error starting with %q, of the right kind", err, tc.prefix)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestWriteJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		sub  string
	}{
		{name: "not encodable", v: map[string]any{"loss": make(chan int)}, sub: "v.json"},
		{name: "missing folder", v: 1, sub: "no/v.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := atomicdir.WriteJSON(filepath.Join(dir, tc.sub), tc.v); err == nil {
				t.Error("no error")
			}
			if got := names(t, dir); got != nil {
				t.Errorf("left %v, want nothing", got)
			}
		})
	}
}
