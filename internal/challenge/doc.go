// Package challenge issues randomized liveness challenges during a live interview and verifies
// the candidate's response on the server from the decoded video (models.Observation) and the
// audio envelope (AudioSample).
//
// Flow: NewPlan draws a secret per-session plan from crypto/rand (kinds, parameters, start
// offsets). A Runner holds the plan, hands out one Prompt at a time (Due, IssueNow), records
// the candidate's display acknowledgement (Shown), buffers a bounded window of observations and
// audio (Observe, Audio) and, once a challenge's response window has ended, verifies it (Poll).
// The browser only ever learns the Prompt of the challenge being issued; plans, thresholds and
// results stay on the server.
//
// Time: every time is on the server clock (DESIGN.md "Server time is truth"). The reference for
// a response is the arrival of the candidate's {"t":"shown"} ack; the deadline is counted from
// that ack, capped at Thresholds.MaxAckDelay after the issue so a client cannot buy time by
// acknowledging late. Observations from Thresholds.Baseline before the issue form the baseline.
//
// Sign conventions follow models.Observation: Yaw > 0 means the candidate turned to THEIR left
// (image right), Pitch > 0 means looking up. A "turn_head" challenge with dir "left" therefore
// passes only on positive yaw, never on either direction.
//
// Outcomes: passed, failed (with a reason such as "no response", "late response", "response
// before prompt") or inconclusive when the video could not show the response ("face lost", "too
// dark", "no display ack"). An inconclusive challenge is reissued once (ShouldReissue).
package challenge
