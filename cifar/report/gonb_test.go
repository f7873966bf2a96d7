//go:build unix

package report

import (
	"encoding/gob"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// fakeGoNB plays GoNB's side of the named pipes gonbui talks to: it collects the displayed data
// and acknowledges gonbui.Sync requests, as the kernel does. It returns a channel receiving
// every display message.
func fakeGoNB(t *testing.T) <-chan protocol.DisplayData {
	t.Helper()
	dir := t.TempDir()
	toKernel, fromKernel := filepath.Join(dir, "pipe"), filepath.Join(dir, "pipe_back")
	for _, p := range []string{toKernel, fromKernel} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("no named pipes: %v", err)
		}
	}
	t.Setenv(protocol.GONB_PIPE_ENV, toKernel)
	t.Setenv(protocol.GONB_PIPE_BACK_ENV, fromKernel)
	gonbui.IsNotebook = true
	t.Cleanup(func() { gonbui.IsNotebook = false })
	out := make(chan protocol.DisplayData, 16)
	go func() {
		r, err := os.Open(toKernel)
		if err != nil {
			return
		}
		w, err := os.OpenFile(fromKernel, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		dec, enc := gob.NewDecoder(r), gob.NewEncoder(w)
		for {
			var d protocol.DisplayData
			if err := dec.Decode(&d); err != nil {
				return
			}
			if v, ok := d.Data[protocol.MIMECommValue].(protocol.CommValue); ok && v.Address == protocol.GonbuiSyncAddress {
				_ = enc.Encode(&protocol.CommValue{Address: protocol.GonbuiSyncAckAddress, Value: v.Value})
				continue
			}
			out <- d
		}
	}()
	return out
}

// TestDisplayInNotebook checks that Display sends the Markdown with the plain text as alternative
// through gonbui and returns only after GoNB acknowledged it (gonbui.Sync).
func TestDisplayInNotebook(t *testing.T) {
	msgs := fakeGoNB(t)
	r, err := NewClassificationReport(exTrue, exPred, exNames, 4)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Display() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Display did not return: gonbui.Sync was not acknowledged")
	}
	select {
	case d := <-msgs:
		if md, _ := d.Data[protocol.MIMETextMarkdown].(string); md != r.Markdown() {
			t.Errorf("text/markdown = %q, want %q", md, r.Markdown())
		}
		if txt, _ := d.Data[protocol.MIMETextPlain].(string); txt != r.String() {
			t.Errorf("text/plain = %q, want %q", txt, r.String())
		}
	default:
		t.Fatal("Display returned before GoNB received the report")
	}
}
