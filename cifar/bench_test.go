package cifar

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// peakRSSMiB returns the process's peak resident set size (VmHWM) in MiB, or 0 where unknown.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkLoadPython decodes all six real python batches (CIFAR10_DIR) without the flat cache.
// It reports the decoded size and the process's peak RSS; bench/load gives the peak of a fresh
// process.
func BenchmarkLoadPython(b *testing.B) {
	dir := os.Getenv(EnvDataDir)
	if dir == "" {
		b.Skipf("%s is not set", EnvDataDir)
	}
	var ds *Dataset
	for b.Loop() {
		var err error
		if ds, err = Load(context.Background(), Options{Dir: dir, NoFlatCache: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ds.Train.Images)+len(ds.Test.Images))/(1<<20), "decoded-MiB")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// BenchmarkFlatCacheRead reads the data set back from the flat cache, as a later GoNB cell does,
// and touches every page of it (so the figure includes getting the bytes into memory).
func BenchmarkFlatCacheRead(b *testing.B) {
	dir := os.Getenv(EnvDataDir)
	if dir == "" {
		b.Skipf("%s is not set", EnvDataDir)
	}
	cache := b.TempDir()
	if _, err := Load(context.Background(), Options{Dir: dir, CacheDir: cache}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ds, err := Load(context.Background(), Options{Dir: dir, CacheDir: cache})
		if err != nil || ds.Source.FlatCache == "" {
			b.Fatalf("flat cache not used: %v", err)
		}
		var sum byte
		for i := 0; i < len(ds.Train.Images); i += 4096 {
			sum += ds.Train.Images[i]
		}
		_ = sum
	}
}
