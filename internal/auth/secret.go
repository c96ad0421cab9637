package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"strings"
	"time"
)

// secretJSON is the JSON form of the auth secret, as the deployment
// generates it: the accepted line is "<header>: <scheme> <token>". During a
// rotation the previous token is accepted too.
type secretJSON struct {
	Header        string `json:"header"`
	Scheme        string `json:"scheme"`
	Token         string `json:"token"`
	PreviousToken string `json:"previous_token"`
}

// ParseSecret reads a secret's value: either the JSON object
// {"header":"Authorization","scheme":"Bearer","token":"…"} with an optional
// "previous_token", or header lines as ParseLines takes them. Errors never
// quote the value.
func ParseSecret(value string) ([]Credential, error) {
	if !strings.HasPrefix(strings.TrimSpace(value), "{") {
		creds, err := ParseLines(value)
		if err == nil && len(creds) == 0 {
			err = errors.New("no header lines")
		}
		return creds, err
	}
	var s secretJSON
	if err := json.Unmarshal([]byte(value), &s); err != nil {
		return nil, errors.New("not a valid JSON object")
	}
	if !isToken(s.Header) {
		return nil, errors.New(`"header" is missing or not a valid header name`)
	}
	if s.Token == "" {
		return nil, errors.New(`"token" is missing`)
	}
	name := textproto.CanonicalMIMEHeaderKey(s.Header)
	creds := []Credential{{Name: name, Value: withScheme(s.Scheme, s.Token)}}
	if s.PreviousToken != "" {
		creds = append(creds, Credential{Name: name, Value: withScheme(s.Scheme, s.PreviousToken)})
	}
	return creds, nil
}

func withScheme(scheme, token string) string {
	if scheme == "" {
		return token
	}
	return scheme + " " + token
}

// SecretSource reads the current value of a secret.
type SecretSource interface {
	SecretValue(ctx context.Context) (string, error)
}

// SecretRefresher keeps a Checker's credentials equal to the fixed ones plus
// those of a secret, so that a rotated secret takes effect without a deploy.
// Until the secret is first read the Checker refuses every request as
// unavailable; after that, a failed read leaves the last good credentials in
// force.
type SecretRefresher struct {
	Checker  *Checker
	Source   SecretSource
	Static   []Credential // from AUTH_HEADERS, accepted alongside the secret's
	Interval time.Duration
	Logger   *slog.Logger
}

// Refresh reads the secret once and puts its credentials in force.
func (r *SecretRefresher) Refresh(ctx context.Context) error {
	value, err := r.Source.SecretValue(ctx)
	if err != nil {
		return fmt.Errorf("read auth secret: %w", err)
	}
	creds, err := ParseSecret(value)
	if err != nil {
		return fmt.Errorf("parse auth secret: %w", err)
	}
	r.Checker.Set(append(append([]Credential(nil), r.Static...), creds...))
	return nil
}

// retryInterval is how soon a failed read is tried again while the secret
// was never read: until then every callback is refused.
const retryInterval = 10 * time.Second

// Run refreshes every Interval until ctx is done, sooner while the secret
// was never read. It logs failures, never the secret.
func (r *SecretRefresher) Run(ctx context.Context) {
	for {
		wait := r.Interval
		if !r.Checker.loaded() {
			wait = min(wait, retryInterval)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Error("auth secret refresh failed; the last credentials read stay in force", "error", err.Error())
		}
	}
}
