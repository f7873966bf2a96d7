package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Every process that nbrun starts (nbconvert, Chromium) runs with markerEnv set to a value of its
// own, which its descendants inherit: the Jupyter kernel that nbconvert starts in a session of its
// own, the kernel's gopls and cell programs, and whatever they leave running. When the command
// ends, however it ends, stopTree finds them all by that value (and, where nbrun is a child
// subreaper, as its descendants), stops them (SIGTERM, then SIGKILL after killGrace) and returns
// once none is left.
const markerEnv = "NBRUN_PROCESS_TREE"

// Times of the shutdown of a command's processes; tests shorten them.
var (
	// cancelGrace is how long a cancelled command (time-out, interrupt) has to end after SIGINT
	// (nbconvert then shuts its kernel down) before it is killed.
	cancelGrace = 10 * time.Second
	// killGrace is how long the command's remaining processes have to end after SIGTERM before
	// they get SIGKILL.
	killGrace = 3 * time.Second
	// stopTimeout is how long stopTree tries in all before it reports the survivors.
	stopTimeout = 30 * time.Second
)

// subreaper tells that this process is a child subreaper (see becomeSubreaper): orphaned
// descendants are reparented to it, so all its descendants belong to the commands it ran.
var subreaper bool

// newMarker returns a value for markerEnv that no other process has.
func newMarker() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}
