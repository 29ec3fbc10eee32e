package challenge

import (
	"encoding/json"
	"time"
)

// Prompt is everything the browser learns about a challenge, at the moment it is issued.
// It marshals to the control-channel messages of DESIGN.md:
//
//	{"t":"challenge","id":…,"kind":…,"params":{…},"deadline_ms":…}   motion kinds
//	{"t":"flash","id":…,"colors":[…],"step_ms":…}                      flash
//	{"t":"digits","id":…,"digits":"4 9 1 7"}                           read_digits
//
// Additive fields: every message carries "text" and "sr_text" (instruction and screen-reader
// text) so the browser needs no copy of the catalog; "digits" also carries "deadline_ms";
// "flash" carries "fade":true for the photosensitive variant, in which the page cross-fades
// linearly from colour i to colour i+1 over step i (the first colour is shown at once).
type Prompt struct {
	ID           string
	Kind         Kind
	Params       Params
	Deadline     time.Duration
	Text         string // instruction for the candidate
	ScreenReader string // short text for screen readers (aria-live)
}

// Prompt returns the browser-facing prompt of c.
func (c Challenge) Prompt() Prompt {
	text, sr := Instruction(c.Kind, c.Params)
	return Prompt{ID: c.ID, Kind: c.Kind, Params: c.Params, Deadline: c.Deadline, Text: text, ScreenReader: sr}
}

type challengeMsg struct {
	T          string `json:"t"`
	ID         string `json:"id"`
	Kind       Kind   `json:"kind"`
	Params     Params `json:"params"`
	DeadlineMS int64  `json:"deadline_ms"`
	Text       string `json:"text"`
	SRText     string `json:"sr_text"`
}

type flashMsg struct {
	T      string   `json:"t"`
	ID     string   `json:"id"`
	Colors []string `json:"colors"`
	StepMS int      `json:"step_ms"`
	Fade   bool     `json:"fade,omitempty"`
	Text   string   `json:"text"`
	SRText string   `json:"sr_text"`
}

type digitsMsg struct {
	T          string `json:"t"`
	ID         string `json:"id"`
	Digits     string `json:"digits"`
	DeadlineMS int64  `json:"deadline_ms"`
	Text       string `json:"text"`
	SRText     string `json:"sr_text"`
}

// MarshalJSON encodes p as its control-channel message.
func (p Prompt) MarshalJSON() ([]byte, error) {
	switch p.Kind {
	case KindFlash:
		return json.Marshal(flashMsg{T: "flash", ID: p.ID, Colors: p.Params.Colors, StepMS: p.Params.StepMS,
			Fade: p.Params.Fade, Text: p.Text, SRText: p.ScreenReader})
	case KindReadDigits:
		return json.Marshal(digitsMsg{T: "digits", ID: p.ID, Digits: p.Params.Digits,
			DeadlineMS: p.Deadline.Milliseconds(), Text: p.Text, SRText: p.ScreenReader})
	}
	return json.Marshal(challengeMsg{T: "challenge", ID: p.ID, Kind: p.Kind, Params: p.Params,
		DeadlineMS: p.Deadline.Milliseconds(), Text: p.Text, SRText: p.ScreenReader})
}

// ResultMessage is the optional {"t":"result","id":…,"ok":…} control message. Whether to send
// it is the caller's choice: telling a forger which attempts failed helps them tune.
type ResultMessage struct {
	T  string `json:"t"`
	ID string `json:"id"`
	OK bool   `json:"ok"`
}

// Message returns the control message reporting r to the browser.
func (r Result) Message() ResultMessage {
	return ResultMessage{T: "result", ID: r.ID, OK: r.Outcome == OutcomePassed}
}
