package cifar

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
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

// flatCacheForBench writes the flat cache of the real data (CIFAR10_DIR) into a temporary folder
// and returns the data folder and the cache folder.
func flatCacheForBench(b *testing.B) (dir, cache string) {
	dir = os.Getenv(EnvDataDir)
	if dir == "" {
		b.Skipf("%s is not set", EnvDataDir)
	}
	cache = b.TempDir()
	if _, err := Load(context.Background(), Options{Dir: dir, CacheDir: cache}); err != nil {
		b.Fatal(err)
	}
	return dir, cache
}

// readBack reads the data set back from the flat cache and touches every page of it (so the
// figure includes getting the bytes into memory).
func readBack(b *testing.B, dir, cache string) string {
	ds, err := Load(context.Background(), Options{Dir: dir, CacheDir: cache})
	if err != nil || ds.Source.FlatCache == "" {
		b.Fatalf("flat cache not used: %v", err)
	}
	var sum byte
	for i := 0; i < len(ds.Train.Images); i += 4096 {
		sum += ds.Train.Images[i]
	}
	_ = sum
	return ds.Source.FlatCache
}

// BenchmarkFlatCacheRead reads the data set back from the flat cache, as a later GoNB cell does:
// the cache's CRC was checked by an earlier read, whose stamp the reads trust (see flatcache.go).
func BenchmarkFlatCacheRead(b *testing.B) {
	dir, cache := flatCacheForBench(b)
	time.Sleep(flatSettle) // a later cell: the file's last change is in the past
	path := readBack(b, dir, cache)
	if _, err := os.Stat(path + flatStampSuffix); err != nil {
		b.Fatalf("no stamp after the first read: %v", err)
	}
	for b.Loop() {
		readBack(b, dir, cache)
	}
}

// BenchmarkFlatCacheVerify reads the data set back from the flat cache checking its CRC each time,
// as the first read after the cache was written (or changed) does.
func BenchmarkFlatCacheVerify(b *testing.B) {
	dir, cache := flatCacheForBench(b)
	path := readBack(b, dir, cache)
	for b.Loop() {
		b.StopTimer()
		os.Remove(path + flatStampSuffix)
		b.StartTimer()
		readBack(b, dir, cache)
	}
}
