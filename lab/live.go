package lab

import (
	"encoding/base64"
	"fmt"
	"html"
	"math"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/plots"
)

// LiveCurves is a keras.Callback that shows the training curves (loss and accuracy, training and
// validation) while Fit runs in a GoNB notebook: one output area, updated in place after every
// epoch, with the epoch counter and the time left. Done then puts the final chart (with the best
// epoch marked) in that same area as a plain PNG, which is what the saved notebook and its PDF
// keep. Fit's text lines are not touched.
//
//	live := lab.NewLiveCurves(true)
//	fit.Observers = append(fit.Observers, live)
//	h, err := m.Fit(ctx, x, y, fit)
//	err = live.Done(h) // also when the run was loaded from the memo: the final chart at once
//
// Fit does this for every training cell.
//
// Outside a notebook, or when show is false, it does nothing. It only watches the training, so
// it is added as an observer (keras.FitConfig.Observers), which a memoized run's key leaves out.
type LiveCurves struct {
	keras.BaseCallback // the hooks it does not use

	show   bool
	id     string // GoNB display id of the output area; "" until the first display
	epochs int
	start  time.Time
	logs   map[string][]float64
	epoch  int // epochs done
}

// NewLiveCurves returns the callback; show false makes it do nothing.
func NewLiveCurves(show bool) *LiveCurves { return &LiveCurves{show: show} }

func (l *LiveCurves) active() bool { return l.show && gonbui.IsNotebook }

// OnTrainBegin implements keras.Callback: it opens the output area.
func (l *LiveCurves) OnTrainBegin(run keras.Training) error {
	l.epochs, l.start, l.epoch = run.Epochs(), time.Now(), 0
	l.logs = map[string][]float64{}
	if !l.active() {
		return nil
	}
	if l.id == "" {
		l.id = "cifarlab-live-" + gonbui.UniqueID()
	}
	l.send(map[protocol.MIMEType]any{
		protocol.MIMETextHTML:  liveHTML("", fmt.Sprintf("Epoch 0/%d: training…", l.epochs)),
		protocol.MIMETextPlain: fmt.Sprintf("Epoch 0/%d: training…", l.epochs),
	})
	gonbui.Sync() // the area comes before Fit's first epoch line
	return nil
}

// OnEpochEnd implements keras.Callback: it redraws the curves with this epoch.
func (l *LiveCurves) OnEpochEnd(_ keras.Training, epoch int, logs keras.Logs) error {
	if l.logs == nil {
		l.logs = map[string][]float64{}
	}
	for _, k := range []string{"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} {
		if v, ok := logs[k]; ok {
			l.logs[k] = append(l.logs[k], v)
		}
	}
	l.epoch = epoch + 1
	if !l.active() || l.id == "" {
		return nil
	}
	status := l.Status(time.Since(l.start))
	ch := plots.TrainingCurves(plots.HistoryFromMap(l.logs, 0)).WithTitle(status)
	png, err := ch.PNG()
	if err != nil {
		// A chart that cannot be drawn (a NaN loss) must not stop the training: say so in place.
		l.send(map[protocol.MIMEType]any{protocol.MIMETextHTML: liveHTML("", status+" (chart: "+err.Error()+")")})
		return nil
	}
	l.send(map[protocol.MIMEType]any{
		protocol.MIMETextHTML:  liveHTML(base64.StdEncoding.EncodeToString(png), status),
		protocol.MIMETextPlain: status,
	})
	return nil
}

// Status is the line under the live chart after the epochs done so far, elapsed since training
// began: "Epoch 3/50 · 0.4 s per epoch · at most 19 s left".
func (l *LiveCurves) Status(elapsed time.Duration) string {
	if l.epoch == 0 {
		return fmt.Sprintf("Epoch 0/%d: training…", l.epochs)
	}
	per := elapsed.Seconds() / float64(l.epoch)
	left := per * float64(l.epochs-l.epoch)
	s := fmt.Sprintf("Epoch %d/%d · %s per epoch", l.epoch, l.epochs, seconds(per))
	if l.epoch < l.epochs {
		s += fmt.Sprintf(" · at most %s left", seconds(left))
	}
	return s
}

// seconds formats a duration in seconds for the status line.
func seconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.1f s", s)
	case s < 120:
		return fmt.Sprintf("%.0f s", s)
	default:
		return fmt.Sprintf("%.0f min", math.Round(s/60))
	}
}

// Done shows the final training curves of h (best epoch marked) in the live output area, replacing
// the last intermediate chart, or as a new output when nothing was shown live (the run was loaded
// from the memo). It waits until GoNB has the chart. It does nothing when show is false or
// outside a notebook.
func (l *LiveCurves) Done(h *keras.History) error {
	if !l.active() || h == nil || len(h.Epochs) == 0 {
		return nil
	}
	ch := plots.TrainingCurves(curves(h))
	png, err := ch.PNG()
	if err != nil {
		return err
	}
	data := map[protocol.MIMEType]any{protocol.MIMEImagePNG: png, protocol.MIMETextPlain: ch.String()}
	if l.id == "" {
		gonbui.SendData(&protocol.DisplayData{Data: data})
	} else {
		l.send(data)
	}
	gonbui.Sync()
	if err := gonbui.Error(); err != nil {
		return fmt.Errorf("lab: displaying the training curves: %w", err)
	}
	return nil
}

// Stopped ends the live output area of a training that was interrupted: the curves of the epochs
// that finished, as a plain PNG, or else the message alone, so that the cell (and the saved
// notebook) no longer shows the time left of a training that ended. It does nothing when nothing
// was shown live.
func (l *LiveCurves) Stopped(h *keras.History, message string) {
	if !l.active() || l.id == "" {
		return
	}
	if h != nil && len(h.Epochs) > 0 {
		_ = l.Done(h) // best effort: the cell is ending with the interrupt's message anyway
		return
	}
	l.send(map[protocol.MIMEType]any{protocol.MIMETextHTML: liveHTML("", message), protocol.MIMETextPlain: message})
	gonbui.Sync()
}

// send replaces the content of the output area.
func (l *LiveCurves) send(data map[protocol.MIMEType]any) {
	gonbui.SendData(&protocol.DisplayData{Data: data, DisplayID: l.id})
}

// liveHTML is the output area while training: the chart (base64 PNG, may be empty) and the status.
func liveHTML(pngBase64, status string) string {
	img := ""
	if pngBase64 != "" {
		img = `<img class="cifarlab-live-chart" alt="training curves" style="max-width:100%" src="data:image/png;base64,` + pngBase64 + `">`
	}
	return `<div class="cifarlab-live">` + img +
		`<div class="cifarlab-live-status" style="font-family:monospace">` + html.EscapeString(status) + `</div></div>`
}
