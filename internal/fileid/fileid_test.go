//go:build linux

package fileid

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Every write, a rewrite with the same bytes and a replacement change a file's identity; a
// read or nothing does not.
func TestOfChangesWithTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := func() string {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		s, _, ok := Of(info)
		if !ok {
			t.Fatal("no identity on linux")
		}
		return s
	}
	first := id()
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if again := id(); again != first {
		t.Errorf("a read changed the identity: %s then %s", first, again)
	}
	for _, change := range []struct {
		name string
		do   func() error
	}{
		{"same bytes written again", func() error { return os.WriteFile(path, []byte("abc"), 0o644) }},
		{"one byte changed, times set back", func() error {
			info, _ := os.Stat(path)
			if err := os.WriteFile(path, []byte("abd"), 0o644); err != nil {
				return err
			}
			return os.Chtimes(path, info.ModTime(), info.ModTime())
		}},
		{"replaced by another file", func() error {
			other := path + ".new"
			if err := os.WriteFile(other, []byte("abd"), 0o644); err != nil {
				return err
			}
			return os.Rename(other, path)
		}},
	} {
		before := id()
		time.Sleep(10 * time.Millisecond) // a later change time on coarse clocks
		if err := change.do(); err != nil {
			t.Fatal(err)
		}
		if after := id(); after == before {
			t.Errorf("%s: the identity stayed %s", change.name, after)
		}
	}
}
