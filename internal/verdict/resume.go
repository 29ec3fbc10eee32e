package verdict

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/store"
)

// SaveCheckpoint stores one part of a live session's checkpoint
// (analysis.Store.Checkpoint) for node.
func SaveCheckpoint(ctx context.Context, st *store.Store, node string, cp *analysis.Checkpoint) error {
	rec := store.Checkpoint{InterviewID: cp.InterviewID, SessionStarted: cp.SessionStarted.Truncate(time.Microsecond), NodeID: node,
		At: cp.At}
	var err error
	if cp.Challenges != nil {
		if rec.Challenges, err = json.Marshal(cp.Challenges); err != nil {
			return fmt.Errorf("verdict: checkpoint: %w", err)
		}
	}
	if cp.Identity != nil {
		if rec.Identity, err = json.Marshal(cp.Identity); err != nil {
			return fmt.Errorf("verdict: checkpoint: %w", err)
		}
	}
	if cp.Measures != nil {
		if rec.Part, err = json.Marshal(cp.Measures); err != nil {
			return fmt.Errorf("verdict: checkpoint: %w", err)
		}
		rec.PartSeq = cp.Measures.Seq
	}
	return st.SaveCheckpoint(ctx, rec)
}

// Resume reads the checkpoint of an interview's unfinished session with the
// challenge results it stored (analysis.Store.Resume); nil when there is
// none.
func Resume(ctx context.Context, st *store.Store, interviewID int64) (*analysis.Checkpoint, error) {
	rec, err := st.UnfinishedCheckpoint(ctx, interviewID)
	if err != nil || rec == nil {
		return nil, err
	}
	cp := &analysis.Checkpoint{InterviewID: interviewID, SessionStarted: rec.SessionStarted, At: rec.At}
	if rec.Challenges != nil {
		var p challenge.Progress
		if err := json.Unmarshal(rec.Challenges, &p); err != nil {
			return nil, fmt.Errorf("verdict: checkpoint of interview %d: challenges: %w", interviewID, err)
		}
		cp.Challenges = &p
	}
	if rec.Identity != nil {
		var s faceid.Snapshot
		if err := json.Unmarshal(rec.Identity, &s); err != nil {
			return nil, fmt.Errorf("verdict: checkpoint of interview %d: identity: %w", interviewID, err)
		}
		cp.Identity = &s
	}
	cp.Measures, cp.MeasuresErr = measures(rec)
	cp.NextPart = rec.NextPart
	recs, err := st.Challenges(ctx, interviewID)
	if err != nil {
		return nil, err
	}
	for _, c := range recs {
		if !c.IssuedAt.Before(rec.SessionStarted) { // this session's (an earlier session's stay with it)
			cp.Results = append(cp.Results, ResultOf(c))
		}
	}
	return cp, nil
}

// ResultOf is the challenge result a stored challenge row holds (the
// inverse of Judge.ChallengeResult's mapping).
func ResultOf(c store.ChallengeRecord) challenge.Result {
	r := challenge.Result{ID: c.ChallengeID, Kind: challenge.Kind(c.Kind), Attempt: c.Attempt, Replaces: c.Replaces,
		Issued: c.IssuedAt, Deadline: c.Deadline, Outcome: challenge.Outcome(c.Outcome), Reason: c.Reason,
		Peak: c.Peak, Unit: c.Unit, Metrics: c.Metrics, Drift: c.Drift}
	_ = json.Unmarshal(c.Params, &r.Params)
	if c.ShownAt != nil {
		r.Shown = *c.ShownAt
	}
	if c.OnsetAt != nil {
		r.Onset = *c.OnsetAt
	}
	if c.OnsetLatencyMs != nil {
		r.OnsetLatency = time.Duration(*c.OnsetLatencyMs * float64(time.Millisecond))
	}
	if c.PeakAt != nil {
		r.PeakAt = *c.PeakAt
	}
	return r
}

// measures decodes and joins the measurement parts of a checkpoint
// (analysis.JoinMeasures). A part that does not decode or is of another
// version is left out (its stretch is a gap) and reported in the error with
// the joined rest; an error names the part, never a value in it.
func measures(rec *store.Checkpoint) (*analysis.Measures, error) {
	if rec.PartsErr != nil {
		return nil, fmt.Errorf("%w: %w", analysis.ErrMeasures, rec.PartsErr)
	}
	var parts []*analysis.Measures
	var skipped error
	for i, b := range rec.Parts {
		p := &analysis.Measures{}
		err := jsonProblem(json.Unmarshal(b, p))
		if err == nil && p.V != analysis.MeasuresVersion {
			err = fmt.Errorf("version %d, this server reads %d", p.V, analysis.MeasuresVersion)
		}
		if err != nil {
			if skipped == nil {
				skipped = fmt.Errorf("%w: part %d of %d of interview %d left out: %w", analysis.ErrMeasures, i+1, len(rec.Parts), rec.InterviewID, err)
			}
			continue
		}
		parts = append(parts, p)
	}
	m, err := analysis.JoinMeasures(parts)
	if err != nil {
		return nil, err
	}
	return m, skipped
}

// jsonProblem describes why a stored part's JSON did not decode without quoting it: the
// decoder's own messages can carry a value from the part ("cannot unmarshal number 31.5"),
// and the parts hold landmarks and face series, which never go to logs.
func jsonProblem(err error) error {
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q is not a %s", te.Field, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d", se.Offset)
	}
	return errors.New("unreadable JSON")
}
