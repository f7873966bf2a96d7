// Command cifarlab runs the parts of the CIFAR-10 labs that need no notebook.
//
//	cifarlab data [-dir DIR]   load CIFAR-10 (downloading it if needed) and describe it: the
//	                           short line a lab prints, where the files are, both splits
//
// An interrupt (SIGINT, SIGTERM or SIGHUP) stops it after it removed what it was writing (a
// partial download, a flat cache being written); the signal then ends it as usual.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/scratch"
)

// archive is what to download into an empty cache; the zero value is the official archive.
// Tests point it at a local server.
var archive cifar.Archive

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		return usage(stderr)
	}
	switch args[0] {
	case "data":
		fs := flag.NewFlagSet("data", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("dir", "", "CIFAR-10 folder (default: $CIFAR10_DIR, else the per-user cache, downloading there if needed)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		err := scratch.Interruptible(context.Background(), func(ctx context.Context) error {
			return describeData(ctx, *dir, stdout)
		})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	default:
		return usage(stderr)
	}
}

func usage(stderr io.Writer) int {
	fmt.Fprintln(stderr, "usage: cifarlab data [-dir DIR]")
	return 2
}

func describeData(ctx context.Context, dir string, stdout io.Writer) error {
	ds, err := cifar.Load(ctx, cifar.Options{Dir: dir, Progress: stdout, Archive: archive})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, ds.Source)
	fmt.Fprint(stdout, ds.Source.Details())
	fmt.Fprint(stdout, ds.Train.Describe())
	fmt.Fprint(stdout, ds.Test.Describe())
	return nil
}
