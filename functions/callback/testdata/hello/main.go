// Command hello is the smallest Lambda function on the same runtime library
// as the callback receiver: the floor that BenchmarkColdStart compares the
// receiver's init with. It lives under testdata so that ./... patterns (go
// build, go vet, go test) leave it alone; the benchmark builds it by its
// path, with `make bootstrap` and so with the deployment's flags.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"message":"hello"}`,
		}, nil
	})
}
