package room

// TrackCount is the number of published tracks the room relays (for tests
// that must wait until the server has them all).
func TrackCount(r *Room) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tracks)
}
