//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// prSetChildSubreaper is prctl(2)'s PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// becomeSubreaper makes this process a child subreaper: descendants whose parent dies (the
// kernel's processes when nbconvert is killed, daemons that detach) are reparented to it instead
// of to init, so that they stay findable. Only the nbrun command does this, not tests that call
// RunNotebook: it then reaps every orphan it kills.
func becomeSubreaper() bool {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	return errno == 0
}

// prepareCommand starts cmd in a process group of its own (a terminal's ctrl-C reaches nbrun
// only, which then stops the command itself), killed if nbrun's thread dies, and makes a cancelled
// context send SIGINT to that group: nbconvert then shuts its kernel down; cmd.WaitDelay kills it
// if it has not ended after cancelGrace.
func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	}
	cmd.WaitDelay = cancelGrace
}

// proc is one entry of the process table.
type proc struct {
	pid, ppid int
	zombie    bool
	args      string
}

// processes reads the process table from /proc.
func processes() ([]proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("reading the process table: %w", err)
	}
	var ps []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		p := proc{pid: pid, ppid: ppid, zombie: f[0] == "Z" || f[0] == "X"}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil {
			p.args = strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// hasMarker reports whether the environment of process pid holds markerEnv=marker.
func hasMarker(pid int, marker string) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	want := []byte(markerEnv + "=" + marker)
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(kv, want) {
			return true
		}
	}
	return false
}

// members returns the living processes of the command started as root with marker: those that
// carry the marker, the descendants of root and, in a subreaper, all descendants of this process.
// In a subreaper it also reaps the zombies among its children.
func members(root int, marker string) ([]proc, error) {
	ps, err := processes()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	children := map[int][]int{}
	byPID := map[int]proc{}
	for _, p := range ps {
		children[p.ppid] = append(children[p.ppid], p.pid)
		byPID[p.pid] = p
	}
	in := map[int]bool{}
	var walk func(pid int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			if !in[c] {
				in[c] = true
				walk(c)
			}
		}
	}
	walk(root)
	if subreaper {
		walk(self)
	}
	for _, p := range ps {
		if !in[p.pid] && !p.zombie && hasMarker(p.pid, marker) {
			in[p.pid] = true
			walk(p.pid)
		}
	}
	var live []proc
	for pid := range in {
		p := byPID[pid]
		switch {
		case pid == self:
		case p.zombie:
			if subreaper && p.ppid == self {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
		default:
			live = append(live, p)
		}
	}
	return live, nil
}

// stopTree stops every process of the command started as root with marker, and returns once none
// is left: SIGTERM first, SIGKILL to those still there after killGrace. The error names the
// processes that survived stopTimeout.
func stopTree(root int, marker string) error {
	start := time.Now()
	sig := syscall.SIGTERM
	termed := map[int]bool{}
	for {
		live, err := members(root, marker)
		if err != nil {
			return err
		}
		if len(live) == 0 {
			return nil
		}
		elapsed := time.Since(start)
		if elapsed > stopTimeout {
			var names []string
			for _, p := range live {
				names = append(names, fmt.Sprintf("%d (%s)", p.pid, p.args))
			}
			return fmt.Errorf("processes still running after %v: %s", stopTimeout, strings.Join(names, ", "))
		}
		if elapsed > killGrace {
			sig = syscall.SIGKILL
		}
		for _, p := range live {
			if sig == syscall.SIGKILL || !termed[p.pid] {
				if err := syscall.Kill(p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
					continue
				}
				termed[p.pid] = true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
