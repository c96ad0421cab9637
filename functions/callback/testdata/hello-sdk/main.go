// Command hello-sdk is testdata/hello plus what each of our functions does
// with the AWS SDK before its first event: load the SDK's configuration,
// build a client, and read one secret (AUTH_SECRET_ID) from Secrets Manager.
// Each invocation reads it again, with the invocation's context. It is the
// floor from which BenchmarkTracingColdStart measures what tracing adds to
// the init: hello-xray and hello-xraysdk differ from it by their tracing
// alone.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	read := secretReader(secretsmanager.NewFromConfig(cfg), os.Getenv("AUTH_SECRET_ID"))
	if err := read(ctx); err != nil {
		log.Fatal(err)
	}
	lambda.Start(func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if err := read(ctx); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"message":"hello"}`,
		}, nil
	})
}

// secretReader returns a function that reads the secret id.
func secretReader(client *secretsmanager.Client, id string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
		return err
	}
}
