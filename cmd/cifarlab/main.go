// Command cifarlab runs the parts of the CIFAR-10 labs that need no notebook.
//
//	cifarlab data [-dir DIR]   load CIFAR-10 (downloading it if needed) and describe it
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/cifarlab/cifarlab/cifar"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "data":
		fs := flag.NewFlagSet("data", flag.ExitOnError)
		dir := fs.String("dir", "", "CIFAR-10 folder (default: $CIFAR10_DIR, else the per-user cache, downloading there if needed)")
		fs.Parse(os.Args[2:])
		if err := describeData(*dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cifarlab data [-dir DIR]")
	os.Exit(2)
}

func describeData(dir string) error {
	ds, err := cifar.Load(context.Background(), cifar.Options{Dir: dir, Progress: os.Stdout})
	if err != nil {
		return err
	}
	fmt.Println(ds.Source)
	fmt.Print(ds.Train.Describe())
	fmt.Print(ds.Test.Describe())
	return nil
}
