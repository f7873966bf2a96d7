// Command cellguard runs a GoNB cell program on the class hub and, when the program ends because
// the student's server reached its memory or process-count limit (the cgroup cifarlab-hub/USER the
// spawner made), says so in the cell in one line. The hub kernel's go shim (hub/setup.sh) puts a
// symlink to it where GoNB expects the compiled cell and the program beside it as NAME.cell.
//
// The program gets the same arguments, environment, standard streams and working folder; SIGINT,
// SIGTERM, SIGHUP and SIGQUIT are passed on (GoNB interrupts a cell by signalling the process it
// started); it dies with cellguard (Pdeathsig). Its oom_score_adj is raised to 500, so that when
// the memory limit is reached the kernel asks the cell program to give way before the kernel,
// gopls or the student's JupyterLab. cellguard exits with the program's status.
//
// Usage (by the go shim): NAME args... runs NAME.cell args...; cellguard -check STATUS prints the
// line for a build (or any command) that ended with STATUS, given the counters saved in
// $CIFARLAB_CELLGUARD_BEFORE (printed earlier by cellguard -counters).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// limits is what the student's cgroup says: its limits and how often each was hit.
type limits struct {
	memMax, pidsMax   int64 // 0: none
	oomKills, failcnt int64 // memory: processes killed, allocations refused
	pidsRefused       int64 // forks refused at pids.max
}

// cgroupDirs returns the student's memory and pids cgroup folders (v1 or v2), from /proc/self/cgroup.
func cgroupDirs() (mem, pids string) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	_, err = os.Stat("/sys/fs/cgroup/cgroup.controllers") // v2 only (a hybrid v1 system also has a "0::" line)
	unified := err == nil
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "" && unified:
			return filepath.Join("/sys/fs/cgroup", f[2]), filepath.Join("/sys/fs/cgroup", f[2])
		case containsWord(f[1], "memory"):
			mem = filepath.Join("/sys/fs/cgroup/memory", f[2])
		case containsWord(f[1], "pids"):
			pids = filepath.Join("/sys/fs/cgroup/pids", f[2])
		}
	}
	return mem, pids
}

func containsWord(list, w string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == w {
			return true
		}
	}
	return false
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// readKey returns the value of "key N" in a flat-keyed cgroup file (memory.events, pids.events).
func readKey(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func read() limits {
	mem, pids := cgroupDirs()
	var l limits
	if mem != "" {
		if _, err := os.Stat(filepath.Join(mem, "memory.max")); err == nil { // v2
			l.memMax = readInt(filepath.Join(mem, "memory.max"))
			l.oomKills = readKey(filepath.Join(mem, "memory.events"), "oom_kill")
			l.failcnt = readKey(filepath.Join(mem, "memory.events"), "max")
		} else {
			l.memMax = readInt(filepath.Join(mem, "memory.limit_in_bytes"))
			if l.memMax >= 1<<62 { // v1's "no limit"
				l.memMax = 0
			}
			l.oomKills = readKey(filepath.Join(mem, "memory.oom_control"), "oom_kill")
			l.failcnt = readInt(filepath.Join(mem, "memory.failcnt"))
		}
	}
	if pids != "" {
		l.pidsMax = readInt(filepath.Join(pids, "pids.max"))
		l.pidsRefused = readKey(filepath.Join(pids, "pids.events"), "max")
	}
	return l
}

func (l limits) String() string {
	return fmt.Sprintf("%d %d %d %d %d", l.memMax, l.pidsMax, l.oomKills, l.failcnt, l.pidsRefused)
}

func parse(s string) (l limits) {
	fmt.Sscanf(s, "%d %d %d %d %d", &l.memMax, &l.pidsMax, &l.oomKills, &l.failcnt, &l.pidsRefused)
	return l
}

// explain prints to stderr why a program that ended with status (a wait status's exit code, or
// 128+signal) was stopped, if a limit of the student's server was hit since before.
func explain(what string, before limits, killed bool, status int) {
	if status == 0 {
		return
	}
	now := read()
	switch {
	case now.oomKills > before.oomKills || (killed && now.memMax > 0 && now.failcnt > before.failcnt):
		fmt.Fprintf(os.Stderr, "cifarlab: %s was stopped: your server reached its memory limit of %.1f GiB "+
			"(all your kernels, cells, builds and terminals together). Shut down the kernels of notebooks you are not "+
			"using (Kernel > Shut Down Kernel), use less memory in this cell, or ask your teacher (CIFARLAB_HUB_MEM_LIMIT).\n",
			what, float64(now.memMax)/(1<<30))
	case now.pidsRefused > before.pidsRefused:
		fmt.Fprintf(os.Stderr, "cifarlab: %s could not start more processes or threads: your server reached its limit of %d "+
			"(all your kernels, cells, builds and terminals together; CIFARLAB_HUB_PIDS_LIMIT).\n", what, now.pidsMax)
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-counters" {
		fmt.Println(read())
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-check" {
		status, _ := strconv.Atoi(os.Args[2])
		explain("the build", parse(os.Getenv("CIFARLAB_CELLGUARD_BEFORE")), status == 128+int(syscall.SIGKILL), status)
		return
	}
	before := read()
	cmd := exec.Command(os.Args[0]+".cell", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cifarlab: the cell program did not start: %v\n", err)
		explain("the cell", before, false, 1)
		os.Exit(1)
	}
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid), []byte("500"), 0)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	status := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled():
			status = 128 + int(ws.Signal())
		default:
			status = ws.ExitStatus()
		}
		explain("the cell", before, ws.Signaled() && ws.Signal() == syscall.SIGKILL, status)
		if ws.Signaled() {
			// Die as the program did, so that GoNB reports the same signal.
			signal.Reset(ws.Signal())
			_ = syscall.Kill(os.Getpid(), ws.Signal())
		}
	} else if err != nil {
		fmt.Fprintf(os.Stderr, "cifarlab: %v\n", err)
		status = 1
	}
	os.Exit(status)
}
