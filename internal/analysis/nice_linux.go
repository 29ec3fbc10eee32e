package analysis

import "syscall"

// lowerThreadPriority raises the calling OS thread's nice value by delta
// (at most 19); the goroutine must have locked its thread. Best effort: on
// failure the thread keeps the process's priority.
func lowerThreadPriority(delta int) {
	if delta <= 0 {
		return
	}
	tid := syscall.Gettid()
	// The system call returns 20 − nice (1..40); a thread's nice value is its own.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(19, 20-prio+delta))
}
