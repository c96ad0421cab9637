package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/callback"
)

func TestParseSecret(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    []Credential
		wantErr string
	}{
		{"json", `{"header":"Authorization","scheme":"Bearer","token":"t0k"}`, []Credential{{"Authorization", "Bearer t0k"}}, ""},
		{"json with previous token", `{"header":"authorization","scheme":"Bearer","token":"new","previous_token":"old"}`,
			[]Credential{{"Authorization", "Bearer new"}, {"Authorization", "Bearer old"}}, ""},
		{"json without scheme", `{"header":"X-Api-Key","token":"k"}`, []Credential{{"X-Api-Key", "k"}}, ""},
		{"header lines", "Authorization: Bearer a\nX-Api-Key: b\n", []Credential{{"Authorization", "Bearer a"}, {"X-Api-Key", "b"}}, ""},
		{"json without token", `{"header":"Authorization","scheme":"Bearer"}`, nil, `"token" is missing`},
		{"json without header", `{"token":"hunter2"}`, nil, `"header" is missing`},
		{"broken json", `{"header":"Authorization","token":"hunter2"`, nil, "not a valid JSON object"},
		{"empty", "", nil, "no header lines"},
		{"bad line", "Authorization hunter2", nil, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("got %v, want an error saying %q that does not quote the secret", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

// fakeSource returns value, or err when set.
type fakeSource struct {
	value string
	err   error
}

func (f *fakeSource) SecretValue(context.Context) (string, error) { return f.value, f.err }

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestSecretRefresher(t *testing.T) {
	src := &fakeSource{err: errors.New("secrets manager down")}
	checker := &Checker{}
	r := &SecretRefresher{Checker: checker, Source: src, Static: []Credential{{"X-Static", "s"}},
		Interval: time.Hour, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}

	// Never read: refused as unavailable, whatever the request carries.
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("got nil, want the source's error")
	}
	for _, h := range []http.Header{bearer("a"), {"X-Static": {"s"}}} {
		if err := checker.Authenticate(h); !errors.Is(err, callback.ErrAuthUnavailable) {
			t.Errorf("never read: got %v, want ErrAuthUnavailable", err)
		}
	}

	steps := []struct {
		name   string
		value  string
		err    error
		accept []http.Header
		refuse []http.Header
	}{
		{"first read", `{"header":"Authorization","scheme":"Bearer","token":"a"}`, nil,
			[]http.Header{bearer("a"), {"X-Static": {"s"}}}, []http.Header{bearer("b")}},
		{"rotated, previous kept", `{"header":"Authorization","scheme":"Bearer","token":"b","previous_token":"a"}`, nil,
			[]http.Header{bearer("a"), bearer("b")}, []http.Header{bearer("c")}},
		{"rotation done", `{"header":"Authorization","scheme":"Bearer","token":"b"}`, nil,
			[]http.Header{bearer("b"), {"X-Static": {"s"}}}, []http.Header{bearer("a")}},
		{"failed read keeps the last", "", errors.New("throttled"),
			[]http.Header{bearer("b")}, []http.Header{bearer("a")}},
		{"unparsable value keeps the last", "{not json", nil,
			[]http.Header{bearer("b")}, []http.Header{bearer("a")}},
		{"header lines", "Authorization: Bearer lines", nil,
			[]http.Header{bearer("lines")}, []http.Header{bearer("b")}},
	}
	for _, s := range steps {
		src.value, src.err = s.value, s.err
		err := r.Refresh(context.Background())
		if (err != nil) != (s.err != nil || strings.HasPrefix(s.value, "{not")) {
			t.Errorf("%s: Refresh got %v", s.name, err)
		}
		for _, h := range s.accept {
			if err := checker.Authenticate(h); err != nil {
				t.Errorf("%s: %v got %v, want nil", s.name, h, err)
			}
		}
		for _, h := range s.refuse {
			if err := checker.Authenticate(h); !errors.Is(err, callback.ErrUnauthorized) {
				t.Errorf("%s: %v got %v, want ErrUnauthorized", s.name, h, err)
			}
		}
	}
}

// TestSecretRefresherRun checks that the background loop picks up a value
// that was not there at start.
func TestSecretRefresherRun(t *testing.T) {
	checker := &Checker{}
	src := &lockedSource{values: make(chan string, 1)}
	r := &SecretRefresher{Checker: checker, Source: src, Interval: time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	src.values <- "Authorization: Bearer later"
	deadline := time.After(30 * time.Second)
	for checker.Authenticate(bearer("later")) != nil {
		select {
		case <-deadline:
			t.Fatal("the refreshed secret never took effect")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	<-done
}

// lockedSource fails until a value arrives on values, then returns it.
type lockedSource struct {
	values chan string
	value  string
}

func (s *lockedSource) SecretValue(context.Context) (string, error) {
	select {
	case v := <-s.values:
		s.value = v
	default:
	}
	if s.value == "" {
		return "", errors.New("not yet")
	}
	return s.value, nil
}
