package analysis

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// lowerThreadPriority locks the calling goroutine to its OS thread and
// raises that thread's nice value by n (at most to 19), so that the cgo work
// it runs (libvpx) yields the cores to the frames' analysis when both want
// them. The goroutine must not unlock: when it ends the runtime ends the
// thread with it, so that no lowered thread runs other goroutines.
func lowerThreadPriority(n int) error {
	runtime.LockOSThread()
	tid := unix.Gettid()
	// Getpriority returns 20 − nice on Linux (the raw system call).
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("analysis: thread priority: %w", err)
	}
	nice := min(19, 20-raw+n)
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil {
		return fmt.Errorf("analysis: thread priority: %w", err)
	}
	return nil
}

// threadNice is the calling thread's nice value (tests).
func threadNice() (int, error) {
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	return 20 - raw, err
}
