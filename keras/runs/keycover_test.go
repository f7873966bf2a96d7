package runs_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

// fitFieldsOutsideTheKey are the FitConfig fields that cannot change what the training computes;
// every other field must change the run key. ValidationData is in the key through its
// fingerprint (TestKey).
var fitFieldsOutsideTheKey = map[string]bool{
	"Verbose": true, "Output": true, "ProgressInterval": true, "Log": true, "Observers": true,
}

// vary returns a value of v's type that differs from v, for the kinds of field the settings have,
// and false for a kind it does not know (then the test must be taught, so that no field is
// silently left untested).
func vary(t *testing.T, name string, v reflect.Value) (reflect.Value, bool) {
	out := reflect.New(v.Type()).Elem()
	out.Set(v)
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeOf(time.Duration(0)) {
			out.SetInt(v.Int() + int64(time.Second))
		} else {
			out.SetInt(v.Int() + 1)
		}
	case reflect.Float64:
		out.SetFloat(v.Float()*0.5 + 0.01)
	case reflect.Bool:
		out.SetBool(!v.Bool())
	case reflect.String:
		alternatives := map[string]string{"Optimizer.Name": string(keras.OptimizerSGD)}
		alt, ok := alternatives[name]
		if !ok {
			return out, false
		}
		out.SetString(alt)
	case reflect.Slice:
		switch v.Type() {
		case reflect.TypeOf([]keras.Callback(nil)):
			out.Set(reflect.Append(v, reflect.ValueOf(keras.Callback(&keras.TerminateOnNaN{}))))
		case reflect.TypeOf([]keras.Metric(nil)):
			out.Set(reflect.Zero(v.Type()))
			if v.Len() == 0 {
				out.Set(reflect.ValueOf([]keras.Metric{keras.MetricAccuracy}))
			}
		default:
			return out, false
		}
	case reflect.Interface:
		if v.Type() == reflect.TypeOf((*keras.LearningRateSchedule)(nil)).Elem() {
			out.Set(reflect.ValueOf(keras.ExponentialDecay{InitialLearningRate: 0.01, DecaySteps: 10, DecayRate: 0.9}))
			break
		}
		out.Set(reflect.ValueOf(&bytes.Buffer{}))
	case reflect.Pointer:
		if v.Type() != reflect.TypeOf((*keras.Dataset)(nil)) {
			return out, false
		}
		x, y := blobs(23, 16)
		out.Set(reflect.ValueOf(&keras.Dataset{X: x, Y: y}))
	default:
		return out, false
	}
	return out, true
}

// The run key covers every field of the fit and compile settings by construction: changing any
// FitConfig field changes the key, except the output settings and observers, which do not; a
// field added later is covered unless it is tagged out of FitConfig's JSON, and then this test
// fails until it is listed above with a reason. The same for every field of the optimizer.
func TestKeyCoversEverySetting(t *testing.T) {
	x, y := blobs(21, 64)
	base := baseConfig()
	m := smallModel(t, 11)
	baseKey, err := runs.Key(m, x, y, base)
	if err != nil {
		t.Fatal(err)
	}
	ft := reflect.TypeOf(base)
	for i := range ft.NumField() {
		field := ft.Field(i)
		t.Run("FitConfig."+field.Name, func(t *testing.T) {
			cfg := base
			v := reflect.ValueOf(&cfg).Elem().Field(i)
			changed, ok := vary(t, field.Name, v)
			if !ok {
				t.Fatalf("FitConfig.%s (%s): the test does not know how to change it; teach vary", field.Name, field.Type)
			}
			v.Set(changed)
			key, err := runs.Key(m, x, y, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if outside := fitFieldsOutsideTheKey[field.Name]; (key == baseKey) != outside {
				if outside {
					t.Errorf("changing FitConfig.%s changed the run key: it changes no training", field.Name)
				} else {
					t.Errorf("changing FitConfig.%s left the run key as it was: a run of other settings would be loaded", field.Name)
				}
			}
		})
	}

	compile, _ := m.CompileConfig()
	ot := reflect.TypeOf(compile.Optimizer)
	for i := range ot.NumField() {
		field := ot.Field(i)
		t.Run("Optimizer."+field.Name, func(t *testing.T) {
			cc := compile
			if field.Name != "Name" {
				cc.Optimizer.Name = keras.OptimizerSGD // the one that takes every hyperparameter
			}
			if field.Name == "ScheduleDecay" {
				cc.Optimizer.Name = keras.OptimizerNadam
			}
			before := smallModel(t, 11)
			if err := before.Compile(cc); err != nil {
				t.Fatal(err)
			}
			v := reflect.ValueOf(&cc.Optimizer).Elem().Field(i)
			changed, ok := vary(t, "Optimizer."+field.Name, v)
			if !ok {
				t.Fatalf("Optimizer.%s (%s): the test does not know how to change it; teach vary", field.Name, field.Type)
			}
			v.Set(changed)
			if field.Name == "Schedule" {
				cc.Optimizer.LearningRate = 0 // the schedule gives it
			}
			after := smallModel(t, 11)
			if err := after.Compile(cc); err != nil {
				t.Fatalf("compile with Optimizer.%s changed: %v", field.Name, err)
			}
			k1, err1 := runs.Key(before, x, y, base)
			k2, err2 := runs.Key(after, x, y, base)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if k1 == k2 {
				t.Errorf("changing Optimizer.%s left the run key as it was", field.Name)
			}
		})
	}
}

// Observers (a live chart) attach to a fit without changing which run it is: the same key with
// or without them, and a Fit with an observer loads the run trained without it.
func TestObserversLeaveTheKey(t *testing.T) {
	f := newFitter(t)
	_, first, _ := f.fit(baseConfig(), runs.Options{})
	cfg := baseConfig()
	epochs := 0
	cfg.Observers = []keras.Callback{&probe{onEpochEnd: func(int) error { epochs++; return nil }}}
	_, again, _ := f.fit(cfg, runs.Options{})
	if again.Key != first.Key || !again.Loaded {
		t.Errorf("with an observer: key %s (loaded %v), want the run %s loaded", again.Key, again.Loaded, first.Key)
	}
	_, retrained, _ := f.fit(cfg, runs.Options{Retrain: true})
	if retrained.Loaded || epochs != 2 {
		t.Errorf("retrained with an observer: loaded %v, the observer saw %d epochs, want 2", retrained.Loaded, epochs)
	}
}
