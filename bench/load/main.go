// Command load measures loading CIFAR-10 in a fresh process: the time to decode the python batches
// (or to read them back from the flat cache with -flat) and the peak resident memory, next to the
// size of the decoded data.
//
//	go run ./bench/load -dir ../shared/cifar10          # decode the pickles
//	go run ./bench/load -dir ../shared/cifar10 -flat    # read back from the flat cache (run it twice)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cifarlab/cifarlab/cifar"
)

func main() {
	dir := flag.String("dir", os.Getenv(cifar.EnvDataDir), "CIFAR-10 folder")
	flat := flag.Bool("flat", false, "read back from the flat cache (run twice: the first run writes it)")
	cache := flag.String("cache", os.TempDir()+"/cifarlab-bench-cache", "cache folder for -flat")
	flag.Parse()
	opts := cifar.Options{Dir: *dir, NoFlatCache: !*flat, CacheDir: *cache}
	start := time.Now()
	ds, err := cifar.Load(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	elapsed := time.Since(start)
	if *flat && ds.Source.FlatCache == "" {
		fmt.Println("flat cache written; run again to measure reading it back")
		return
	}
	var sum uint64 // touch every byte so a mapped cache is really read
	for _, s := range []*cifar.Split{ds.Train, ds.Test} {
		for _, v := range s.Images {
			sum += uint64(v)
		}
	}
	touched := time.Since(start)
	decoded := float64(len(ds.Train.Images)+len(ds.Test.Images)+ds.Train.Len()+ds.Test.Len()) / (1 << 20)
	fmt.Printf("go  %-12s load %7.1f ms  (with every byte read: %7.1f ms)  decoded %.1f MiB  peak RSS %.1f MiB (%.2fx decoded)  pixel sum %d\n",
		map[bool]string{false: "pickle", true: "flat cache"}[*flat], ms(elapsed), ms(touched), decoded, peakRSSMiB(), peakRSSMiB()/decoded, sum)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func peakRSSMiB() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
