package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/cifarlab/cifarlab/lab"
)

// TestMain runs the benchmarks on the labs' backend (lab.UseBackend: XLA on the CPU when its plugin
// is installed, else pure Go; GOMLX_BACKEND chooses), saying which on stderr.
func TestMain(m *testing.M) {
	info, err := lab.UseBackend()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, info)
	os.Exit(m.Run())
}

// benchmarkStep reports ms/step of a reference model's training step (30 steps per iteration).
func benchmarkStep(b *testing.B, name string) {
	const steps = 30
	var total float64
	for b.Loop() {
		runs, _, err := StepTimes(name, steps, 1)
		if err != nil {
			b.Fatal(err)
		}
		total += runs[0]
	}
	b.ReportMetric(total/float64(b.N), "ms/step")
}

// BenchmarkLab3Step is one Adam step of lab 3's MLP (3072-512-256-128-10, ReLU, dropout), batch 32.
func BenchmarkLab3Step(b *testing.B) { benchmarkStep(b, "lab3") }

// BenchmarkExercise2Step is one Nadam step of exercise 2's MLP (3072-4x256 ELU-10), batch 128.
func BenchmarkExercise2Step(b *testing.B) { benchmarkStep(b, "exercise2") }

// BenchmarkLab3Epoch is one full lab 3 epoch: 40k training samples at batch 32 and 10k validation
// samples, compilation included. Run it with -benchtime 1x.
func BenchmarkLab3Epoch(b *testing.B) {
	var total float64
	for b.Loop() {
		sec, err := Lab3EpochTime(50000, 0.2)
		if err != nil {
			b.Fatal(err)
		}
		total += sec
	}
	b.ReportMetric(total/float64(b.N), "s/epoch")
	b.ReportMetric(peakRSSMiB(), "peakRSS-MiB")
}

func TestStepRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, name := range []string{"lab3", "exercise2"} {
		runs, _, err := StepTimes(name, 2, 1)
		if err != nil || len(runs) != 1 || runs[0] <= 0 {
			t.Fatalf("%s: %v %v", name, runs, err)
		}
	}
}
