// Package awssecret reads the auth secret from AWS Secrets Manager.
package awssecret

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"smcallbacks/internal/auth"
)

// GetSecretValueAPI is the part of the Secrets Manager client that a Source
// uses.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ GetSecretValueAPI = (*secretsmanager.Client)(nil)

// Source reads the current version of one secret.
type Source struct {
	client GetSecretValueAPI
	id     string
}

var _ auth.SecretSource = (*Source)(nil)

// New returns a Source of the secret with the given name or ARN.
func New(client GetSecretValueAPI, id string) *Source {
	return &Source{client: client, id: id}
}

// SecretValue returns the secret's string value.
func (s *Source) SecretValue(ctx context.Context) (string, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &s.id})
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", s.id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s: no string value", s.id)
	}
	return *out.SecretString, nil
}
