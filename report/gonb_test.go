//go:build unix

package report

import (
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/cifarlab/cifarlab/internal/gonbtest"
)

// TestDisplayInNotebook checks that Display sends the Markdown with the plain text as alternative
// through gonbui and returns only after GoNB acknowledged it (gonbui.Sync).
func TestDisplayInNotebook(t *testing.T) {
	msgs := gonbtest.FakeKernel(t)
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
