package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a grid of small RGB images, each with a title above it, such as CIFAR-10 samples or
// predictions. Images are upscaled with nearest-neighbour interpolation to a whole number of
// pixels per image pixel, so they stay sharp.
type Grid struct {
	Title       string        // figure title; "" for none
	Images      [][]uint8     // square RGB images in height, width, channel order (32x32x3 for CIFAR-10)
	Titles      []string      // one per image ("" or missing for none); "\n" starts a new line
	TitleColors []color.Color // optional, one per image; nil or missing entries are black
	Cols        int           // images per row; 0 means up to 5, fewer when titles would not fit
	Width       vg.Length     // print width; 0 means 16 cm
}

// ImageGrid returns a chart of images with titles and optional title colours (see Grid).
func ImageGrid(images [][]uint8, titles []string, titleColors []color.Color) *Chart {
	return Grid{Images: images, Titles: titles, TitleColors: titleColors}.Chart()
}

// ClassSamples returns a grid with the first image of each class (5 a row: 2x5 for 10 classes),
// titled with the class names: images[i] has class labels[i], and class c is named classNames[c].
func ClassSamples(images [][]uint8, labels []int, classNames []string) *Chart {
	title := "One sample per class"
	if len(images) != len(labels) {
		return errChart(title, errorf("ClassSamples: %d images for %d labels", len(images), len(labels)))
	}
	g := Grid{Title: title, Cols: 5}
	for c, name := range classNames {
		i := slices.Index(labels, c)
		if i < 0 {
			return errChart(title, errorf("ClassSamples: no image of class %d (%s)", c, name))
		}
		g.Images = append(g.Images, images[i])
		g.Titles = append(g.Titles, name)
	}
	return g.Chart()
}

// imageSide returns the side of a square RGB image of n bytes, or an error.
func imageSide(n int) (int, error) {
	side := int(math.Round(math.Sqrt(float64(n) / 3)))
	if side == 0 || side*side*3 != n {
		return 0, fmt.Errorf("%d bytes is not a square RGB image (32x32x3 = 3072 bytes)", n)
	}
	return side, nil
}

// toRGBA converts an HWC RGB image to an image.RGBA.
func toRGBA(pix []uint8, side int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for i := range side * side {
		copy(img.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return img
}

const (
	gridMaxCols  = 5
	gridMaxImage = vg.Length(2.9 * float64(vg.Centimeter)) // largest image side
	gridGap      = vg.Length(8)                            // between cells
	gridTitleGap = vg.Length(2)                            // between a title and its image
)

func (g Grid) titleStyle() text.Style {
	return textStyle(sansFont, annotationSize, black, draw.XCenter, draw.YTop)
}

func (g Grid) title(i int) string {
	if i < len(g.Titles) {
		return g.Titles[i]
	}
	return ""
}

// layout returns the number of columns and rows and the height of the title block of each row.
func (g Grid) layout(width vg.Length) (cols, rows int, titleH []vg.Length) {
	n := len(g.Images)
	sty := g.titleStyle()
	cols = g.Cols
	if cols <= 0 {
		cols = min(n, gridMaxCols)
		widest := vg.Length(0)
		for i := range n {
			widest = max(widest, sty.Width(g.title(i)))
		}
		for cols > 1 && widest+gridGap > width/vg.Length(cols) {
			cols--
		}
	}
	cols = max(1, min(cols, n))
	rows = (n + cols - 1) / cols
	titleH = make([]vg.Length, rows)
	for i := range n {
		if t := g.title(i); t != "" {
			titleH[i/cols] = max(titleH[i/cols], sty.Height(t)+gridTitleGap)
		}
	}
	return cols, rows, titleH
}

// Chart returns the grid as a chart.
func (g Grid) Chart() *Chart {
	if len(g.Images) == 0 {
		return errChart(g.Title, errorf("image grid: no images"))
	}
	side := 0
	for i, img := range g.Images {
		s, err := imageSide(len(img))
		if err != nil {
			return errChart(g.Title, errorf("image grid: image %d: %w", i, err))
		}
		if i > 0 && s != side {
			return errChart(g.Title, errorf("image grid: image %d is %dx%d, image 0 is %dx%d", i, s, s, side, side))
		}
		side = s
	}
	if len(g.Titles) > len(g.Images) || len(g.TitleColors) > len(g.Images) {
		return errChart(g.Title, errorf("image grid: %d titles and %d title colours for %d images", len(g.Titles), len(g.TitleColors), len(g.Images)))
	}
	width := g.Width
	if width <= 0 {
		width = 16 * vg.Centimeter
	}
	cols, _, titleH := g.layout(width)
	imgSide := min(gridMaxImage, width/vg.Length(cols)-gridGap)
	height := 2 * gridGap
	if g.Title != "" {
		height += titleHeight(g.Title)
	}
	for _, th := range titleH {
		height += th + imgSide + gridGap
	}
	ch := newChart(g.Title, 0, 0, func(ch *Chart, c draw.Canvas) error { return g.draw(ch, c, side) })
	ch.Width, ch.Height = width, height
	var b strings.Builder
	fmt.Fprintf(&b, "%d images of %dx%d pixels:", len(g.Images), side, side)
	for i := range g.Images {
		if t := g.title(i); t != "" {
			fmt.Fprintf(&b, "\n  %d: %s", i, strings.ReplaceAll(t, "\n", ", "))
		}
	}
	ch.Text = b.String()
	return ch
}

// titleHeight returns the height drawFigureTitle takes.
func titleHeight(title string) vg.Length {
	return textStyle(boldFont, figureTitleSize, black, draw.XCenter, draw.YTop).Height(title) + 8
}

func (g Grid) draw(ch *Chart, c draw.Canvas, side int) error {
	c = drawFigureTitle(c, ch.Title)
	width := c.Max.X - c.Min.X
	cols, rows, titleH := g.layout(width)
	totalTitles := vg.Length(0)
	for _, th := range titleH {
		totalTitles += th
	}
	cellW := width / vg.Length(cols)
	avail := min(cellW-gridGap, (c.Max.Y-c.Min.Y-gridGap*vg.Length(rows)-totalTitles)/vg.Length(rows), gridMaxImage)
	if avail <= 0 {
		return errorf("image grid: %dx%d images do not fit a %v x %v chart", rows, cols, ch.Width, ch.Height)
	}
	// Snap the image to a whole number of pixels per image pixel, and its corner to the pixel
	// grid, so that nearest-neighbour upscaling gives every image pixel the same size.
	dpi := float64(ch.dpi())
	toPx := func(l vg.Length) float64 { return float64(l) * dpi / 72 }
	fromPx := func(px float64) vg.Length { return vg.Length(px * 72 / dpi) }
	scale := math.Floor(toPx(avail) / float64(side))
	imgSide := avail
	if scale >= 1 {
		imgSide = fromPx(scale * float64(side))
	}
	// Centre the block of cells vertically in what is left.
	used := totalTitles + vg.Length(rows)*(imgSide+gridGap)
	y := c.Max.Y - (c.Max.Y-c.Min.Y-used)/2
	sty := g.titleStyle()
	for r := range rows {
		y -= gridGap / 2
		for k := range cols {
			i := r*cols + k
			if i >= len(g.Images) {
				break
			}
			cx := c.Min.X + cellW*(vg.Length(k)+0.5)
			if t := g.title(i); t != "" {
				s := sty
				if i < len(g.TitleColors) && g.TitleColors[i] != nil {
					s.Color = g.TitleColors[i]
				}
				c.FillText(s, vg.Point{X: cx, Y: y}, t)
			}
			x0 := fromPx(math.Round(toPx(cx - imgSide/2)))
			y0 := fromPx(math.Round(toPx(y - titleH[r] - imgSide)))
			c.DrawImage(vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + imgSide, Y: y0 + imgSide}}, toRGBA(g.Images[i], side))
		}
		y -= titleH[r] + imgSide + gridGap/2
	}
	return nil
}
