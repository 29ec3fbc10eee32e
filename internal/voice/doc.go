// Package voice analyses the candidate's audio track for signs of synthetic
// speech (text-to-speech, vocoders, formant synthesisers) and measures
// audio/video synchronisation.
//
// Input is mono PCM at 48 kHz (what Opus decodes to), as float32 in [-1, 1] or
// int16. Other rates go through Resample first (windowed-sinc, anti-aliased);
// ReadWAV decodes files for the offline path and tests.
//
// # Streaming (per 20 ms frame)
//
// An Analyzer cuts the stream into 20 ms frames (960 samples) and reports for
// each a Frame: RMS level in dBFS, zero-crossing rate, the adaptive noise
// floor and the VAD decision. The VAD calls a frame speech when it is at least
// −60 dBFS and 10 dB above the noise floor (20 dB when the zero-crossing rate
// says it is broadband noise); the noise floor is the minimum frame level of
// the last 3 s (minimum statistics), so stationary noise and steady tones
// become background within 3 s and speech pauses keep it low.
//
// # Session features
//
// Speech frames are analysed further and accumulate into Features:
//
//   - band limit: energy fractions above 8, 11 and 12 kHz and the cut-off of the
//     long-term average spectrum (speech frames);
//   - spectral flatness (150 Hz–4 kHz) and 95 % roll-off (speech frames);
//   - pitch by YIN on a 3 kHz low-passed 16 kHz copy (voiced frames);
//   - jitter and shimmer: cycle-to-cycle period and amplitude perturbation from
//     waveform-matched glottal cycles, as local and five-point (PQ5) quotients;
//   - harmonics-to-noise ratio from the cycle correlations;
//   - a periodic-artefact measure: the prominence of the sharpest line in the
//     averaged modulation spectrum of the 1 ms energy envelope.
//
// Pitch-domain features run below 3 kHz, so they do not change when a headset
// or codec cuts the band; only the band-limit feature sees the band.
//
// Each feature reports how many frames it used. Memory grows by at most 16
// bytes per speech frame (per-frame values are kept for medians and
// percentiles), about 3 MB per hour of continuous speech.
//
// # Detection
//
// Detector turns Features into a models.Signal of kind "synthetic_voice" (see
// Detector for each cue, its thresholds and how they combine). Its scores are
// meant to be honest: little speech gives low confidence, band limitation alone
// gives no score, and non-speech makes it abstain.
//
// # A/V sync
//
// AVOffset cross-correlates a mouth-opening series from the vision pipeline
// with the audio Envelope and returns the lag; positive means the audio lags
// the video.
package voice
