package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livecheck/livecheck/models"
)

// Webhook is an admin-configured receiver of event notifications.
type Webhook struct {
	ID          int64
	URL         string
	Secret      string   // HMAC key; never log it
	Events      []string // event types, or "*" for all
	Description string
	Active      bool
	CreatedBy   *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const webhookColumns = `id, url, secret, events, description, active, created_by, created_at, updated_at`

func scanWebhook(row interface{ Scan(...any) error }) (*Webhook, error) {
	var w Webhook
	if err := row.Scan(&w.ID, &w.URL, &w.Secret, &w.Events, &w.Description, &w.Active, &w.CreatedBy, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return nil, err
	}
	return &w, nil
}

// CreateWebhook inserts w and sets its ID and timestamps.
func (s *Store) CreateWebhook(ctx context.Context, w *Webhook) error {
	if w.Events == nil {
		w.Events = []string{}
	}
	err := s.db.QueryRow(ctx, `INSERT INTO webhooks (url, secret, events, description, active, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at, updated_at`,
		w.URL, w.Secret, w.Events, w.Description, w.Active, w.CreatedBy).Scan(&w.ID, &w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: unable to create webhook: %w", interpretError(err))
	}
	return nil
}

// Webhook returns one webhook.
func (s *Store) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	w, err := scanWebhook(s.db.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch webhook: %w", interpretError(err))
	}
	return w, nil
}

// Webhooks lists every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]*Webhook, error) {
	rows, err := s.db.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list webhooks: %w", err)
	}
	defer rows.Close()
	var out []*Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to scan webhook: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UpdateWebhook saves w's URL, secret, events, description and active flag.
func (s *Store) UpdateWebhook(ctx context.Context, w *Webhook) error {
	if w.Events == nil {
		w.Events = []string{}
	}
	err := s.db.QueryRow(ctx, `UPDATE webhooks SET url = $2, secret = $3, events = $4, description = $5, active = $6,
		updated_at = now() WHERE id = $1 RETURNING updated_at`, w.ID, w.URL, w.Secret, w.Events, w.Description, w.Active).Scan(&w.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: unable to update webhook: %w", interpretError(err))
	}
	return nil
}

// DeleteWebhook removes a webhook with its deliveries and their log.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: unable to delete webhook: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: unable to delete webhook: %w", models.ErrNotFound)
	}
	return nil
}

// WebhookEvent is one event to deliver to every subscribed webhook.
type WebhookEvent struct {
	ID          string // unique event id, the receivers' idempotency key
	Type        string // e.g. "verdict.stored"
	InterviewID int64  // 0 when the event is about no interview
	Payload     []byte // the exact JSON body to sign and send
	At          time.Time
}

// EnqueueWebhookEvent creates one pending delivery per active webhook
// subscribed to ev.Type (or to "*") and returns their ids. Call it inside the
// transaction that stores what the event announces, together with the jobs
// that send them (webhook.Publish does both): the event is then delivered if
// and only if the change is committed. Enqueuing the same event id twice
// does not duplicate deliveries (the second call returns no ids).
func (s *Store) EnqueueWebhookEvent(ctx context.Context, ev WebhookEvent) ([]int64, error) {
	var iid *int64
	if ev.InterviewID != 0 {
		iid = &ev.InterviewID
	}
	rows, err := s.db.Query(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event, interview_id, payload, next_attempt_at, created_at)
		SELECT id, $1, $2, $3, $4, $5, $5 FROM webhooks WHERE active AND ($2 = ANY (events) OR '*' = ANY (events))
		ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`, ev.ID, ev.Type, iid, string(ev.Payload), ev.At)
	if err != nil {
		return nil, fmt.Errorf("store: unable to enqueue webhook event: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: unable to enqueue webhook event: %w", err)
	}
	return ids, nil
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// ErrWebhookInactive is returned by BeginWebhookAttempt when the delivery's
// webhook is disabled: its deliveries wait until it is enabled again.
var ErrWebhookInactive = errors.New("store: webhook disabled")

// WebhookDelivery is one event for one webhook, with its retry state.
type WebhookDelivery struct {
	ID            int64
	WebhookID     int64
	EventID       string
	Event         string
	InterviewID   *int64
	Payload       string
	State         string
	Attempts      int       // attempts started so far, including one in flight
	NextAttemptAt time.Time // when the next attempt is planned (pending) or the last one was made
	LastStatus    *int
	LastError     string
	CreatedAt     time.Time
	CompletedAt   *time.Time
	// Filled by BeginWebhookAttempt from the webhook.
	URL    string
	Secret string
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, d.event, d.interview_id, d.payload, d.state, d.attempts, d.next_attempt_at,
	d.last_status, d.last_error, d.created_at, d.completed_at`

func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (*WebhookDelivery, error) {
	var d WebhookDelivery
	dest := append([]any{&d.ID, &d.WebhookID, &d.EventID, &d.Event, &d.InterviewID, &d.Payload, &d.State, &d.Attempts,
		&d.NextAttemptAt, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.CompletedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &d, nil
}

// BeginWebhookAttempt counts a new attempt of a pending delivery and returns
// it with its webhook's URL and secret. The background job that owns the
// delivery calls it (River runs that job on one node at a time). It returns
// models.ErrNotFound when the delivery no longer exists or is no longer
// pending, and ErrWebhookInactive (counting nothing) when its webhook is
// disabled.
func (s *Store) BeginWebhookAttempt(ctx context.Context, deliveryID int64) (*WebhookDelivery, error) {
	var url, secret string
	var active bool
	d, err := scanDelivery(s.db.QueryRow(ctx, `UPDATE webhook_deliveries d SET attempts = d.attempts + CASE WHEN w.active THEN 1 ELSE 0 END
		FROM webhooks w WHERE d.id = $1 AND w.id = d.webhook_id AND d.state = 'pending'
		RETURNING `+deliveryColumns+`, w.url, w.secret, w.active`, deliveryID), &url, &secret, &active)
	if err != nil {
		return nil, fmt.Errorf("store: unable to begin webhook attempt: %w", interpretError(err))
	}
	if !active {
		return nil, ErrWebhookInactive
	}
	d.URL, d.Secret = url, secret
	return d, nil
}

// WebhookAttempt is one logged HTTP attempt of a delivery.
type WebhookAttempt struct {
	ID         int64
	DeliveryID int64
	Attempt    int
	At         time.Time
	StatusCode *int   // nil when no response arrived
	Error      string // transport error or non-2xx summary
	Duration   time.Duration
	Response   string // the first bytes of the response body
}

// DeliveryOutcome is the state a delivery moves to after an attempt.
type DeliveryOutcome struct {
	State       string    // DeliveryPending (retry), DeliverySucceeded or DeliveryFailed
	NextAttempt time.Time // for DeliveryPending
}

// RecordWebhookAttempt logs an attempt and moves its delivery to outcome, in
// one transaction. When another attempt began meanwhile (the job was rescued
// from a node that looked dead, or an admin redelivered it), the attempt is
// still logged but the state is left to the newer attempt; stale reports
// whether that happened.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, outcome DeliveryOutcome) (stale bool, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms, response)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.DeliveryID, a.Attempt, a.At, a.StatusCode, a.Error,
			a.Duration.Milliseconds(), a.Response); err != nil {
			return fmt.Errorf("store: unable to log webhook attempt: %w", err)
		}
		var completed *time.Time
		next := a.At
		if outcome.State == DeliveryPending {
			next = outcome.NextAttempt
		} else {
			completed = &a.At
		}
		tag, err := tx.db.Exec(ctx, `UPDATE webhook_deliveries SET state = $3, next_attempt_at = $4,
			last_status = $5, last_error = $6, completed_at = $7 WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
			a.DeliveryID, a.Attempt, outcome.State, next, a.StatusCode, a.Error, completed)
		if err != nil {
			return fmt.Errorf("store: unable to update webhook delivery: %w", err)
		}
		stale = tag.RowsAffected() == 0
		return nil
	})
	return stale, err
}

// WebhookDeliveries lists a webhook's deliveries, newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]*WebhookDelivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.webhook_id = $1
		ORDER BY d.id DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []*WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to scan webhook delivery: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// WebhookDelivery returns one delivery.
func (s *Store) WebhookDelivery(ctx context.Context, id int64) (*WebhookDelivery, error) {
	d, err := scanDelivery(s.db.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch webhook delivery: %w", interpretError(err))
	}
	return d, nil
}

// WebhookAttempts returns a delivery's attempt log, oldest first.
func (s *Store) WebhookAttempts(ctx context.Context, deliveryID int64) ([]WebhookAttempt, error) {
	rows, err := s.db.Query(ctx, `SELECT id, delivery_id, attempt, at, status_code, error, duration_ms, response
		FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt, id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []WebhookAttempt
	for rows.Next() {
		var a WebhookAttempt
		var ms int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &a.At, &a.StatusCode, &a.Error, &ms, &a.Response); err != nil {
			return nil, fmt.Errorf("store: unable to scan webhook attempt: %w", err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}

// RedeliverWebhook makes a finished delivery pending again for one more
// attempt at now (an admin's "retry" button; webhook.Redeliver also queues
// the job that sends it). A pending delivery is left alone (ErrConflict).
func (s *Store) RedeliverWebhook(ctx context.Context, deliveryID int64, now time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $2,
		completed_at = NULL WHERE id = $1 AND state <> 'pending'`, deliveryID, now)
	if err != nil {
		return fmt.Errorf("store: unable to redeliver webhook: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.WebhookDelivery(ctx, deliveryID); err != nil {
			return err
		}
		return fmt.Errorf("store: unable to redeliver webhook: %w", models.ErrConflict)
	}
	return nil
}
