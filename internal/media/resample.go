package media

// Resample converts mono samples from one rate to another by linear interpolation.
//
// Linear interpolation is cheap and good enough for level, VAD and pitch features, but it is not
// a band-limited resampler: downsampling aliases content above the new Nyquist frequency and
// upsampling leaves faint images of the old spectrum above the old Nyquist frequency. Do not use
// it for spectral features above about a quarter of the lower rate (e.g. band-limit detection).
// Equal rates return a copy.
func Resample(in []int16, fromRate, toRate int) []int16 {
	if fromRate <= 0 || toRate <= 0 || len(in) == 0 {
		return nil
	}
	if fromRate == toRate {
		return append([]int16(nil), in...)
	}
	n := int(int64(len(in)) * int64(toRate) / int64(fromRate))
	out := make([]int16, n)
	last := len(in) - 1
	for i := range out {
		// Source position i*from/to as integer part and fraction in 1/toRate units.
		num := int64(i) * int64(fromRate)
		j := int(num / int64(toRate))
		frac := num % int64(toRate)
		if j >= last {
			out[i] = in[last]
			continue
		}
		a, b := int64(in[j]), int64(in[j+1])
		out[i] = int16(a + (b-a)*frac/int64(toRate))
	}
	return out
}

// To48kMono returns p as 48 kHz mono (channels averaged, then linear Resample; see its caveats).
func (p *PCM) To48kMono() []int16 {
	return Resample(p.Mono(), p.Rate, OpusSampleRate)
}
