// Command gocacheprog is the class hub's Go build cache (GOCACHEPROG): a student's builds read
// the cache that hub/setup.sh filled once for everyone (-shared, root's, read-only) and their own
// (-dir), and write only their own. So every student's first cell builds against the packages
// compiled at set-up (cifarlab, GoMLX and the rest) instead of compiling them again.
//
// On disk (both folders): a/XX/ACTIONID holds "OUTPUTID SIZE UNIXNANO", o/XX/OUTPUTID the body.
// An output already in the shared folder is not copied into the student's.
//
// Usage: gocacheprog [-shared DIR] -dir DIR (set-up: -dir only, to fill the shared folder);
// gocacheprog -dir DIR -export GOCACHE writes DIR's entries as a plain Go build cache.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type request struct {
	ID       int64
	Command  string
	ActionID []byte `json:",omitempty"`
	OutputID []byte `json:",omitempty"`
	BodySize int64  `json:",omitempty"`
}

type response struct {
	ID            int64
	Err           string     `json:",omitempty"`
	KnownCommands []string   `json:",omitempty"`
	Miss          bool       `json:",omitempty"`
	OutputID      []byte     `json:",omitempty"`
	Size          int64      `json:",omitempty"`
	Time          *time.Time `json:",omitempty"`
	DiskPath      string     `json:",omitempty"`
}

type cache struct{ shared, own string }

func entry(dir, kind string, id []byte) string {
	h := hex.EncodeToString(id)
	if len(h) < 2 {
		h = "00" + h
	}
	return filepath.Join(dir, kind, h[:2], h)
}

// lookup reads an action entry of dir and returns its output's path, if both are there.
func lookup(dir string, action []byte) (*response, bool) {
	b, err := os.ReadFile(entry(dir, "a", action))
	if err != nil {
		return nil, false
	}
	var out string
	var size, nanos int64
	if _, err := fmt.Sscanf(string(b), "%s %d %d", &out, &size, &nanos); err != nil {
		return nil, false
	}
	oid, err := hex.DecodeString(out)
	if err != nil {
		return nil, false
	}
	path := entry(dir, "o", oid)
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		return nil, false
	}
	t := time.Unix(0, nanos)
	return &response{OutputID: oid, Size: size, Time: &t, DiskPath: path}, true
}

func (c *cache) get(action []byte) *response {
	if r, ok := lookup(c.own, action); ok {
		return r
	}
	if c.shared != "" {
		if r, ok := lookup(c.shared, action); ok {
			return r
		}
	}
	return &response{Miss: true}
}

// writeFile writes data to path through a temporary file and a rename (readers never see half).
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func (c *cache) put(req request, body []byte) *response {
	path := ""
	if c.shared != "" {
		if p := entry(c.shared, "o", req.OutputID); fileSize(p) == int64(len(body)) {
			path = p
		}
	}
	if path == "" {
		path = entry(c.own, "o", req.OutputID)
		if fileSize(path) != int64(len(body)) {
			if err := writeFile(path, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
				return &response{Err: err.Error()}
			}
		}
	}
	now := time.Now()
	line := fmt.Sprintf("%x %d %d\n", req.OutputID, len(body), now.UnixNano())
	if err := writeFile(entry(c.own, "a", req.ActionID), func(w io.Writer) error { _, err := io.WriteString(w, line); return err }); err != nil {
		return &response{Err: err.Error()}
	}
	return &response{DiskPath: path}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

func main() {
	shared := flag.String("shared", "", "the read-only cache shared by every student (filled by hub/setup.sh)")
	own := flag.String("dir", "", "this user's cache (written)")
	export := flag.String("export", "", "write -dir's entries into this folder as a plain GOCACHE, then exit")
	flag.Parse()
	if *own == "" {
		fmt.Fprintln(os.Stderr, "gocacheprog: -dir is required (the user's own cache folder)")
		os.Exit(2)
	}
	if *export != "" {
		n, err := exportPlain(*own, *export)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gocacheprog: -export %s: %v\n", *export, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "gocacheprog: %d entries of %s in %s\n", n, *own, *export)
		return
	}
	c := &cache{shared: *shared, own: *own}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	send := func(r *response) {
		_ = enc.Encode(r)
		_ = out.Flush()
	}
	send(&response{KnownCommands: []string{"get", "put", "close"}})
	dec := json.NewDecoder(in)
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintf(os.Stderr, "gocacheprog: reading a request: %v\n", err)
				os.Exit(1)
			}
			return
		}
		var r *response
		switch req.Command {
		case "get":
			r = c.get(req.ActionID)
		case "put":
			var body []byte
			if req.BodySize > 0 {
				var b64 string
				if err := dec.Decode(&b64); err != nil {
					fmt.Fprintf(os.Stderr, "gocacheprog: reading the body of put %d: %v\n", req.ID, err)
					os.Exit(1)
				}
				var err error
				if body, err = base64.StdEncoding.DecodeString(b64); err != nil {
					r = &response{Err: "put: body: " + err.Error()}
				}
			}
			if r == nil {
				r = c.put(req, body)
			}
		case "close":
			send(&response{ID: req.ID})
			return
		default:
			r = &response{Err: "unknown command " + strings.TrimSpace(req.Command)}
		}
		r.ID = req.ID
		send(r)
	}
}

// exportPlain writes every entry of dir into plain as the go command's own cache stores it
// (XX/ACTIONID-a: "v1 ACTIONID OUTPUTID SIZE UNIXNANO", XX/OUTPUTID-d: the body), skipping
// outputs already there.
func exportPlain(dir, plain string) (int, error) {
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "a"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		action, err := hex.DecodeString(d.Name())
		if err != nil {
			return nil
		}
		r, ok := lookup(dir, action)
		if !ok {
			return nil
		}
		out, act := hex.EncodeToString(r.OutputID), hex.EncodeToString(action)
		body := filepath.Join(plain, out[:2], out+"-d")
		if fileSize(body) != r.Size {
			if err := writeFile(body, func(w io.Writer) error {
				f, err := os.Open(r.DiskPath)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = io.Copy(w, f)
				return err
			}); err != nil {
				return err
			}
		}
		line := fmt.Sprintf("v1 %x %x %20d %20d\n", action, r.OutputID, r.Size, r.Time.UnixNano())
		name := filepath.Join(plain, act[:2], act+"-a")
		if err := writeFile(name, func(w io.Writer) error { _, err := io.WriteString(w, line); return err }); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
