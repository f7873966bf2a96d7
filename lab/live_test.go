//go:build unix

package lab

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/cifarlab/cifarlab/internal/gonbtest"
	"github.com/cifarlab/cifarlab/keras"
)

type fakeRun struct{ epochs int }

func (r fakeRun) Epochs() int                          { return r.epochs }
func (fakeRun) LearningRate() float64                  { return 1e-3 }
func (fakeRun) SetLearningRate(float64) error          { return nil }
func (fakeRun) StopTraining()                          {}
func (fakeRun) Weights() ([]keras.LayerWeights, error) { return nil, nil }
func (fakeRun) SetWeights([]keras.LayerWeights) error  { return nil }
func (fakeRun) Printf(string, ...any)                  {}

func epochLogs(i int) keras.Logs {
	f := float64(i)
	return keras.Logs{"loss": 2 - 0.1*f, "accuracy": 0.2 + 0.05*f, "val_loss": 2.1 - 0.08*f, "val_accuracy": 0.18 + 0.04*f, "learning_rate": 1e-3}
}

func receive(t *testing.T, msgs <-chan protocol.DisplayData) protocol.DisplayData {
	t.Helper()
	select {
	case d := <-msgs:
		return d
	case <-time.After(20 * time.Second):
		t.Fatal("no display message")
	}
	return protocol.DisplayData{}
}

var imgSrc = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

// TestLiveCurves runs both cases on one fake kernel (gonbui keeps its pipes open for the process).
func TestLiveCurves(t *testing.T) {
	msgs := gonbtest.FakeKernel(t)
	t.Run("UpdateInPlace", func(t *testing.T) { testLiveCurvesUpdateInPlace(t, msgs) })
	t.Run("LoadedRun", func(t *testing.T) { testLiveCurvesLoadedRun(t, msgs) })
}

// testLiveCurvesUpdateInPlace checks that the curves are shown in one output area (one display
// id), redrawn after every epoch with the counter, and replaced by the final PNG chart.
func testLiveCurvesUpdateInPlace(t *testing.T, msgs <-chan protocol.DisplayData) {
	live := NewLiveCurves(true)
	run := fakeRun{epochs: 4}
	if err := live.OnTrainBegin(run); err != nil {
		t.Fatal(err)
	}
	first := receive(t, msgs)
	if first.DisplayID == "" || !strings.Contains(first.Data[protocol.MIMETextHTML].(string), "Epoch 0/4") {
		t.Fatalf("first display: id %q, %v", first.DisplayID, first.Data)
	}
	var pngs []string
	for e := range 3 {
		if err := live.OnEpochEnd(run, e, epochLogs(e)); err != nil {
			t.Fatal(err)
		}
		d := receive(t, msgs)
		if d.DisplayID != first.DisplayID {
			t.Fatalf("epoch %d: display id %q, want %q (one output area)", e+1, d.DisplayID, first.DisplayID)
		}
		h := d.Data[protocol.MIMETextHTML].(string)
		if want := "Epoch " + string(rune('1'+e)) + "/4"; !strings.Contains(h, want) {
			t.Errorf("epoch %d: status without %q: %.200s", e+1, want, h)
		}
		if e < 3 && !strings.Contains(h, "left") {
			t.Errorf("epoch %d: no time left in the status", e+1)
		}
		m := imgSrc.FindStringSubmatch(h)
		if m == nil {
			t.Fatalf("epoch %d: no chart in %.200s", e+1, h)
		}
		b, _ := base64.StdEncoding.DecodeString(m[1])
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("epoch %d: chart is no PNG: %v", e+1, err)
		}
		pngs = append(pngs, m[1])
	}
	if pngs[0] == pngs[1] || pngs[1] == pngs[2] {
		t.Error("the chart did not change from one epoch to the next")
	}
	h := &keras.History{BestEpoch: 2}
	for e := range 3 {
		l := epochLogs(e)
		h.Epochs = append(h.Epochs, keras.EpochLog{Epoch: e + 1, Loss: l["loss"], Accuracy: l["accuracy"], ValLoss: l["val_loss"], ValAccuracy: l["val_accuracy"], LearningRate: 1e-3})
	}
	if err := live.Done(h); err != nil {
		t.Fatal(err)
	}
	final := receive(t, msgs)
	if final.DisplayID != first.DisplayID {
		t.Errorf("final chart in display %q, want the live one %q", final.DisplayID, first.DisplayID)
	}
	if _, ok := final.Data[protocol.MIMEImagePNG].([]byte); !ok {
		t.Errorf("final chart is not a PNG output: %v", final.Data)
	}
	if _, ok := final.Data[protocol.MIMETextHTML]; ok {
		t.Error("final output still holds the live HTML")
	}
}

// testLiveCurvesLoadedRun: a run loaded from the memo shows its final chart at once, as a new
// output; show=false and the memo key are unaffected.
func testLiveCurvesLoadedRun(t *testing.T, msgs <-chan protocol.DisplayData) {
	h := &keras.History{BestEpoch: 1, Epochs: []keras.EpochLog{{Epoch: 1, Loss: 2, Accuracy: .2, ValLoss: 2, ValAccuracy: .2}, {Epoch: 2, Loss: 1.9, Accuracy: .25, ValLoss: 2.05, ValAccuracy: .21}}}
	if err := NewLiveCurves(false).Done(h); err != nil {
		t.Fatal(err)
	}
	if err := NewLiveCurves(true).Done(h); err != nil {
		t.Fatal(err)
	}
	d := receive(t, msgs)
	if d.DisplayID != "" {
		t.Errorf("loaded run: display id %q, want a plain output", d.DisplayID)
	}
	if _, ok := d.Data[protocol.MIMEImagePNG].([]byte); !ok {
		t.Errorf("loaded run: no PNG: %v", d.Data)
	}
	select {
	case d := <-msgs:
		t.Errorf("show=false displayed %v", d.Data)
	default:
	}
	a, _ := json.Marshal(NewLiveCurves(true))
	b, _ := json.Marshal(NewLiveCurves(false))
	if string(a) != "{}" || string(b) != "{}" {
		t.Errorf("memo key material %s / %s, want {}", a, b)
	}
}

func TestLiveCurvesStatus(t *testing.T) {
	l := &LiveCurves{epochs: 50, epoch: 3}
	if got, want := l.Status(1200*time.Millisecond), "Epoch 3/50 · 0.4 s per epoch · at most 19 s left"; got != want {
		t.Errorf("Status = %q, want %q", got, want)
	}
	l.epoch = 50
	if got := l.Status(20 * time.Second); strings.Contains(got, "left") {
		t.Errorf("last epoch: %q", got)
	}
}
