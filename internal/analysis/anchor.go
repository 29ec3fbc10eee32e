package analysis

import "time"

// anchor makes capture times independent of the candidate's clock. RTCP sender
// reports map RTP time to the sender's wall clock, which the candidate controls:
// a clock set early would make every response look faster than it was and hide
// a face swap's latency. The sender-report mapping is kept for what it is good at
// (precise spacing between frames), and its offset is re-anchored so that the
// least delay between capture and arrival seen in the last few seconds is zero:
//
//	capture = srCapture + min(arrival − srCapture over the window)
//
// For an honest sender this adds the smallest one-way delay (encode + network,
// typically 10–30 ms); for a sender whose clock is off by X it removes X.
type anchor struct {
	buckets [anchorBuckets]anchorBucket
}

const (
	anchorBuckets = 5
	anchorStep    = time.Second
)

type anchorBucket struct {
	sec int64 // arrival second of this bucket
	min time.Duration
	set bool
}

// capture returns the anchored capture time of a frame whose sender-report
// capture time is sr and which arrived at arrival.
func (a *anchor) capture(sr, arrival time.Time) time.Time {
	d := arrival.Sub(sr)
	sec := arrival.UnixNano() / int64(anchorStep)
	b := &a.buckets[sec%anchorBuckets]
	if !b.set || b.sec != sec {
		*b = anchorBucket{sec: sec, min: d, set: true}
	} else if d < b.min {
		b.min = d
	}
	best := d
	for i := range a.buckets {
		x := &a.buckets[i]
		if x.set && sec-x.sec < anchorBuckets && x.min < best {
			best = x.min
		}
	}
	return sr.Add(best)
}
