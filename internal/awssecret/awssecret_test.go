package awssecret

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

func refresher(src auth.SecretSource) (*auth.SecretRefresher, *auth.Checker) {
	checker := &auth.Checker{}
	return &auth.SecretRefresher{Checker: checker, Source: src, Interval: time.Minute,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, checker
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// TestSecretFormats reads both value formats from Secrets Manager.
func TestSecretFormats(t *testing.T) {
	moto := mototest.Get(t)
	tests := []struct{ name, value, token string }{
		{"json", `{"header":"Authorization","scheme":"Bearer","token":"from-json"}`, "from-json"},
		{"header lines", "Authorization: Bearer from-lines", "from-lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn := moto.Secret(t, tt.value)
			r, checker := refresher(New(moto.SecretsManager(), arn))
			if err := r.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := checker.Authenticate(bearer(tt.token)); err != nil {
				t.Errorf("got %v, want the token accepted", err)
			}
			if err := checker.Authenticate(bearer("other")); !errors.Is(err, callback.ErrUnauthorized) {
				t.Errorf("got %v, want ErrUnauthorized", err)
			}
		})
	}
}

// TestSecretRotation rotates the secret in Secrets Manager, then deletes it:
// the new token takes effect after a refresh, and a failed refresh keeps it.
func TestSecretRotation(t *testing.T) {
	moto := mototest.Get(t)
	client := moto.SecretsManager()
	arn := moto.Secret(t, `{"header":"Authorization","scheme":"Bearer","token":"one"}`)
	r, checker := refresher(New(client, arn))
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: &arn, SecretString: ptr(`{"header":"Authorization","scheme":"Bearer","token":"two"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := checker.Authenticate(bearer("one")); err != nil {
		t.Errorf("before the refresh: got %v, want the old token accepted", err)
	}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := checker.Authenticate(bearer("two")); err != nil {
		t.Errorf("after the refresh: got %v, want the new token accepted", err)
	}
	if err := checker.Authenticate(bearer("one")); !errors.Is(err, callback.ErrUnauthorized) {
		t.Errorf("after the refresh: got %v, want the old token refused", err)
	}

	_, err = client.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: &arn, ForceDeleteWithoutRecovery: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("got %v, want the read to fail", err)
	}
	if err := checker.Authenticate(bearer("two")); err != nil {
		t.Errorf("after a failed refresh: got %v, want the last token still accepted", err)
	}
}

// TestSecretNeverRead answers 503 while the secret could never be read.
func TestSecretNeverRead(t *testing.T) {
	moto := mototest.Get(t)
	r, checker := refresher(New(moto.SecretsManager(), "no-such-secret"))
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("got nil, want an error")
	}
	svc := callbacktest.NewService(t, callback.Config{Auth: checker, Store: &callbacktest.Store{}, Queue: &callbacktest.Queue{},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	resp := svc.Handle(context.Background(), &callback.Request{
		Method: http.MethodPost, RawQuery: "id=a&status=success", Header: bearer("anything"),
	})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got %d %s, want 503", resp.StatusCode, resp.Body)
	}
}

func ptr[T any](v T) *T { return &v }
