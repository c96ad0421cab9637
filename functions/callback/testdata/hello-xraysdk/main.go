// Command hello-xraysdk is testdata/hello-sdk with its AWS calls traced by
// aws-xray-sdk-go, the way its documentation shows: xray.Configure with the
// daemon's address, then the awsv2 instrumentor on the configuration before
// the client is built. It is a module of its own so that aws-xray-sdk-go
// (and the aws-sdk-go v1 it brings) stays out of the project's go.mod;
// BenchmarkTracingColdStart builds it with `go build` here and compares its
// init with hello-sdk's.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
)

func main() {
	// The init's own read has no trace to join: say nothing about it.
	err := xray.Configure(xray.Config{
		DaemonAddr:             os.Getenv("AWS_XRAY_DAEMON_ADDRESS"),
		ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy(),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
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
