// Command hello-xray is testdata/hello-sdk with its AWS calls traced by
// smcallbacks/internal/xray, as our functions trace theirs: one call,
// xray.Instrument, on the configuration before the client is built. The
// daemon is the one AWS_XRAY_DAEMON_ADDRESS names. BenchmarkTracingColdStart
// compares its init with hello-sdk's.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"smcallbacks/internal/xray"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	xray.Instrument(&cfg, xray.NewEmitter(os.Getenv("AWS_XRAY_DAEMON_ADDRESS")))
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
