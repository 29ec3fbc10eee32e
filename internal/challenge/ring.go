package challenge

// ring is a fixed-capacity FIFO that overwrites its oldest entry when full.
type ring[T any] struct {
	buf  []T
	head int // index of the oldest entry
	n    int
}

func newRing[T any](capacity int) *ring[T] {
	return &ring[T]{buf: make([]T, capacity)}
}

func (r *ring[T]) push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.head] = v
	r.head = (r.head + 1) % len(r.buf)
}

// len returns the number of entries held.
func (r *ring[T]) len() int { return r.n }

// last returns the newest entry.
func (r *ring[T]) last() (T, bool) {
	if r.n == 0 {
		var zero T
		return zero, false
	}
	return r.buf[(r.head+r.n-1)%len(r.buf)], true
}

// each calls f on every entry, oldest first.
func (r *ring[T]) each(f func(T)) {
	for i := range r.n {
		f(r.buf[(r.head+i)%len(r.buf)])
	}
}
