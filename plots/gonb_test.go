//go:build unix

package plots

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/cifarlab/cifarlab/internal/gonbtest"
)

// TestDisplayInNotebook checks that Display sends the PNG with its text alternative through
// gonbui and returns only after GoNB acknowledged it (gonbui.Sync).
func TestDisplayInNotebook(t *testing.T) {
	msgs := gonbtest.FakeKernel(t)
	ch := Bars("Class distribution", "Number of images", []string{"a", "b", "c"}, []int{1, 2, 3})
	done := make(chan error, 1)
	go func() { done <- ch.Display() }()
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
		data, ok := d.Data[protocol.MIMEImagePNG].([]byte)
		if !ok {
			t.Fatalf("display data without a PNG: %v", d.Data)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if w, h := ch.PixelSize(); img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Errorf("displayed PNG is %v, want %dx%d", img.Bounds(), w, h)
		}
		if txt, _ := d.Data[protocol.MIMETextPlain].(string); txt != ch.String() {
			t.Errorf("text/plain = %q, want %q", txt, ch.String())
		}
	default:
		t.Fatal("Display returned before GoNB received the image")
	}
	// An invalid chart displays nothing and returns its error.
	if err := ImageGrid(nil, nil, nil).Display(); err == nil {
		t.Error("invalid chart: no error")
	}
}
