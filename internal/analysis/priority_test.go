package analysis

import (
	"runtime"
	"testing"
)

// TestLowerThreadPriority: the calling goroutine's own thread is lowered by
// n (to 19 at most), and only it: the test's thread keeps its priority.
func TestLowerThreadPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-thread nice values are Linux's")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mine, err := threadNice()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 25} {
		got := make(chan [2]int, 1)
		errs := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // the base is read on the thread that is lowered
			base, err := threadNice()
			if err == nil {
				err = lowerThreadPriority(n)
			}
			after, err2 := threadNice()
			if err == nil {
				err = err2
			}
			errs <- err
			got <- [2]int{base, after}
		}()
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		g := <-got
		if want := min(19, g[0]+n); g[1] != want {
			t.Errorf("lowered by %d from nice %d: nice %d, want %d", n, g[0], g[1], want)
		}
	}
	if now, _ := threadNice(); now != mine {
		t.Errorf("the calling test's thread went from nice %d to %d", mine, now)
	}
}
