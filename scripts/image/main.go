// Command image builds server mode's container image without Docker, and
// pushes it to ECR: what `make image` and `make image-push` run.
//
//	go run ./scripts/image build -binary BIN -arch ARCH -o bin/image.tar
//	go run ./scripts/image push -image bin/image.tar -repository URI [-tag TAG]
//
// build writes an OCI image layout, as one tar file, of a single layer
// holding BIN as /callback on an empty base: no shell, run as user 65532,
// LISTEN_ADDR=0.0.0.0:8080, port 8080 exposed. push reads that file and
// writes the image to an ECR repository, authenticated with an ECR token
// that the caller's AWS credentials get, and prints the reference by digest.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: image build -binary BIN -arch ARCH -o OUT.tar | image push -image OUT.tar -repository URI")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want build or push", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}
