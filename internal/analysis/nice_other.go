//go:build !linux

package analysis

// lowerThreadPriority does nothing where thread priorities are not set.
func lowerThreadPriority(int) {}
