package plots

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"git.sr.ht/~sbinet/gg"
	"github.com/cifarlab/cifarlab/internal/display"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	xdraw "golang.org/x/image/draw"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DefaultDPI is the resolution of new charts: 150 dots per inch keeps text sharp on an A4 PDF
// page while a 16 cm wide chart stays under 1000 pixels.
const DefaultDPI = 150

// Chart is a figure ready to be rendered: PNG returns it encoded, Save writes it to a file and
// Display shows it in a GoNB cell. The chart constructors of this package return a *Chart that
// holds any problem with their input; it is returned as an error by Err, Image, PNG, Save and
// Display, so that a notebook cell can write
//
//	if err := plots.ClassDistribution(classNames, counts).Display(); err != nil { ... }
//
// The fields may be changed before rendering (or with the With methods).
type Chart struct {
	Title  string    // figure title drawn at the top; "" for none
	Width  vg.Length // width at print size (vg.Centimeter, vg.Inch, ...)
	Height vg.Length // height at print size
	DPI    int       // pixels per inch of the PNG; 0 means DefaultDPI
	Text   string    // plain-text description, shown outside notebooks and as text/plain

	draw func(ch *Chart, c draw.Canvas) error
	err  error
}

// newChart returns a chart of the given print size in centimetres drawn by fn.
func newChart(title string, wcm, hcm float64, fn func(ch *Chart, c draw.Canvas) error) *Chart {
	return &Chart{Title: title, Width: vg.Length(wcm) * vg.Centimeter, Height: vg.Length(hcm) * vg.Centimeter, DPI: DefaultDPI, draw: fn}
}

// errChart returns a chart that only reports err.
func errChart(title string, err error) *Chart {
	return &Chart{Title: title, Width: 16 * vg.Centimeter, Height: 6 * vg.Centimeter, DPI: DefaultDPI, err: err}
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("plots: "+format, args...)
}

// Err returns the problem found in the chart's input, if any.
func (ch *Chart) Err() error {
	if ch == nil {
		return errors.New("plots: nil chart")
	}
	return ch.err
}

// WithTitle sets the figure title and returns the chart.
func (ch *Chart) WithTitle(title string) *Chart { ch.Title = title; return ch }

// WithSize sets the print size (for example 16*vg.Centimeter, 6*vg.Centimeter) and returns the chart.
func (ch *Chart) WithSize(w, h vg.Length) *Chart { ch.Width, ch.Height = w, h; return ch }

// WithDPI sets the resolution of the PNG and returns the chart.
func (ch *Chart) WithDPI(dpi int) *Chart { ch.DPI = dpi; return ch }

// PixelSize returns the width and height of the PNG in pixels.
func (ch *Chart) PixelSize() (w, h int) {
	dpi := ch.dpi()
	return int(float64(ch.Width/vg.Inch)*float64(dpi) + 0.5), int(float64(ch.Height/vg.Inch)*float64(dpi) + 0.5)
}

func (ch *Chart) dpi() int {
	if ch.DPI > 0 {
		return ch.DPI
	}
	return DefaultDPI
}

// Image renders the chart.
func (ch *Chart) Image() (img *image.RGBA, err error) {
	if err := ch.Err(); err != nil {
		return nil, err
	}
	w, h := ch.PixelSize()
	if w <= 0 || h <= 0 || w > 20000 || h > 20000 {
		return nil, errorf("chart size %dx%d pixels is out of range", w, h)
	}
	// The canvas draws images with nearest-neighbour interpolation, so that upscaled 32x32
	// pictures keep their pixels sharp.
	ctx := gg.NewContextForRGBA(image.NewRGBA(image.Rect(0, 0, w, h)))
	ctx.SetLineCapButt()
	ctx.InvertY()
	ctx.SetInterpolator(xdraw.NearestNeighbor)
	rgba := ctx.Image().(*image.RGBA)
	c := vgimg.NewWith(vgimg.UseImageWithContext(rgba, ctx), vgimg.UseDPI(ch.dpi()))
	defer func() {
		// gonum/plot panics on some inputs; report them as errors.
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("plots: rendering %q: %v", ch.name(), r)
		}
	}()
	if err := ch.draw(ch, draw.New(c)); err != nil {
		return nil, err
	}
	return rgba, nil
}

// name returns a name for error messages.
func (ch *Chart) name() string {
	if ch.Title != "" {
		return ch.Title
	}
	if line, _, _ := strings.Cut(ch.Text, "\n"); line != "" {
		return line
	}
	return "chart"
}

// PNG renders the chart as a PNG image that records its resolution (a pHYs chunk), so that
// LaTeX and other tools place it at its print size.
func (ch *Chart) PNG() ([]byte, error) {
	img, err := ch.Image()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return withPHYs(buf.Bytes(), ch.dpi()), nil
}

// withPHYs inserts a pHYs chunk with the given resolution after the IHDR chunk of a PNG.
func withPHYs(data []byte, dpi int) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4 // signature, IHDR length, type, data, CRC
	if len(data) < ihdrEnd || string(data[12:16]) != "IHDR" {
		return data
	}
	ppm := uint32(math.Round(float64(dpi) / 0.0254))
	chunk := make([]byte, 4+4+9+4)
	binary.BigEndian.PutUint32(chunk[0:], 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], ppm)
	binary.BigEndian.PutUint32(chunk[12:], ppm)
	chunk[16] = 1 // unit: metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(data)+len(chunk))
	out = append(out, data[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, data[ihdrEnd:]...)
}

// WriteTo writes the chart as PNG to w.
func (ch *Chart) WriteTo(w io.Writer) (int64, error) {
	data, err := ch.PNG()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(data)
	return int64(n), err
}

// Save writes the chart as a PNG file; path must end in ".png". Missing folders are created.
func (ch *Chart) Save(path string) error {
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".png" {
		return errorf("saving %s: only .png files are supported", path)
	}
	data, err := ch.PNG()
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// String returns the plain-text description of the chart.
func (ch *Chart) String() string {
	if ch == nil {
		return "<nil chart>"
	}
	w, h := ch.PixelSize()
	head := fmt.Sprintf("[chart %q, %dx%d PNG at %d dpi; Save(path) writes it]", ch.Title, w, h, ch.dpi())
	if ch.Title == "" {
		head = fmt.Sprintf("[chart, %dx%d PNG at %d dpi; Save(path) writes it]", w, h, ch.dpi())
	}
	if ch.err != nil {
		head = fmt.Sprintf("[chart %q not drawn: %v]", ch.Title, ch.err)
	}
	if ch.Text == "" {
		return head + "\n"
	}
	return head + "\n" + strings.TrimRight(ch.Text, "\n") + "\n"
}

// Display shows the chart inline in the running GoNB cell as PNG (with its text description as
// the text/plain alternative) and waits until GoNB has received it. Outside a notebook it prints
// the text description to standard output; use Save to get the image.
func (ch *Chart) Display() error {
	if err := ch.Err(); err != nil {
		return err
	}
	err := display.Show(protocol.MIMEImagePNG, func() (any, error) { return ch.PNG() }, ch.String())
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
