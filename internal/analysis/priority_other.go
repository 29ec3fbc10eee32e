//go:build !linux

package analysis

// lowerThreadPriority does nothing outside Linux (per-thread nice values are
// Linux's).
func lowerThreadPriority(int) error { return nil }

func threadNice() (int, error) { return 0, nil }
