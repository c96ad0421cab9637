package auth

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"smcallbacks/internal/callback"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Credential
		wantErr string
	}{
		{"one line", "Authorization: Bearer abc123", []Credential{{"Authorization", "Bearer abc123"}}, ""},
		{"name made canonical", "x-api-key: k", []Credential{{"X-Api-Key", "k"}}, ""},
		{"several, blank lines and CRLF ignored", "\nAuthorization: Bearer a\r\n\n  \nX-Token: b\n", []Credential{{"Authorization", "Bearer a"}, {"X-Token", "b"}}, ""},
		{"value keeps inner colons", "Authorization: Basic a:b: c", []Credential{{"Authorization", "Basic a:b: c"}}, ""},
		{"value trimmed", "X-Token:   b  ", []Credential{{"X-Token", "b"}}, ""},
		{"empty", "", nil, ""},
		{"no colon-space", "Authorization:Bearer hunter2", nil, "line 1: want \"Name: value\""},
		{"bad name", "Auth orization: hunter2", nil, "line 1: invalid header name"},
		{"empty value", "X-Token: ", nil, "line 1: empty header value"},
		{"every bad line named", "X: a\nbad hunter2\nY: b\nalso bad", nil, "line 2: want \"Name: value\"\nline 4: want \"Name: value\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLines(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error quotes the secret: %v", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, %v, want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestCheckerAuthenticate(t *testing.T) {
	c := NewChecker([]Credential{{"Authorization", "Bearer abc123"}, {"X-Api-Key", "k2"}})
	tests := []struct {
		name   string
		header http.Header
		want   error
	}{
		{"match", http.Header{"Authorization": {"Bearer abc123"}}, nil},
		{"second credential", http.Header{"X-Api-Key": {"k2"}}, nil},
		{"name is case-insensitive", header("authorization", "Bearer abc123"), nil},
		{"value is case-sensitive", http.Header{"Authorization": {"bearer abc123"}}, callback.ErrUnauthorized},
		{"wrong value", http.Header{"Authorization": {"Bearer abc124"}}, callback.ErrUnauthorized},
		{"prefix of the value", http.Header{"Authorization": {"Bearer abc"}}, callback.ErrUnauthorized},
		{"value with more", http.Header{"Authorization": {"Bearer abc123 "}}, callback.ErrUnauthorized},
		{"header twice", http.Header{"Authorization": {"Bearer abc123", "Bearer abc123"}}, callback.ErrUnauthorized},
		{"joined with a comma", http.Header{"Authorization": {"Bearer abc123, Bearer abc123"}}, callback.ErrUnauthorized},
		{"value under another name", http.Header{"X-Api-Key": {"Bearer abc123"}}, callback.ErrUnauthorized},
		{"no headers", http.Header{}, callback.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Authenticate(tt.header); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func header(name, value string) http.Header {
	h := http.Header{}
	h.Add(name, value)
	return h
}

func TestCheckerUnset(t *testing.T) {
	var c Checker
	if err := c.Authenticate(http.Header{"Authorization": {"x"}}); !errors.Is(err, callback.ErrAuthUnavailable) {
		t.Errorf("got %v, want ErrAuthUnavailable", err)
	}
	c.Set([]Credential{{"Authorization", "x"}})
	if err := c.Authenticate(http.Header{"Authorization": {"x"}}); err != nil {
		t.Errorf("after Set: got %v, want nil", err)
	}
}

// TestCheckerSetWhileServing replaces the credentials while requests are
// checked; run with -race.
func TestCheckerSetWhileServing(t *testing.T) {
	c := NewChecker([]Credential{{"Authorization", "old"}})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				err := c.Authenticate(http.Header{"Authorization": {"old"}})
				if err != nil && err != callback.ErrUnauthorized {
					t.Errorf("got %v", err)
				}
			}
		})
	}
	c.Set([]Credential{{"Authorization", "new"}})
	wg.Wait()
	if err := c.Authenticate(http.Header{"Authorization": {"new"}}); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}

func TestDisabled(t *testing.T) {
	if err := (Disabled{}).Authenticate(http.Header{}); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}
