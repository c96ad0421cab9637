// Package mototest runs a moto server, a local implementation of the AWS
// APIs, for tests that talk to S3, SQS and Secrets Manager over the real
// protocol.
//
// The server is the moto_server program named by MOTO_SERVER, which `make
// test` installs into the project's virtual environment. Without it a test is
// skipped with a note on how to get it, except under CI (CI set), where it
// fails: CI never skips these tests.
package mototest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Region is the region the server's resources live in.
const Region = "us-east-1"

// Server is a running moto server.
type Server struct {
	// Endpoint is the server's base URL, such as http://127.0.0.1:41234.
	Endpoint string
	cmd      *exec.Cmd
}

// ErrNotInstalled says that MOTO_SERVER names no program.
var ErrNotInstalled = errors.New("moto not found: run `make test`, which installs moto[server] into .venv and sets MOTO_SERVER, " +
	"or set MOTO_SERVER to a moto_server program")

// Start starts a moto server on a free port of 127.0.0.1 and waits until it
// answers. Stop it with Stop.
func Start() (*Server, error) {
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		return nil, ErrNotInstalled
	}
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotInstalled, err)
	}
	var lastErr error
	for range 3 { // a free port can be taken between finding and binding it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}
		s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		// Ends with the test process even when that dies without cleaning
		// up (a panic, a time-out): no server is left running.
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start moto: %w", err)
		}
		if lastErr = s.waitReady(30 * time.Second); lastErr == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, lastErr
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady(limit time.Duration) error {
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("moto exited before it answered: %v", err)
		default:
		}
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("moto did not answer within %s", limit)
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
}

// Main runs a test package's tests with a moto server started for them, for
// use in TestMain. Tests read the server with Get.
func Main(m *testing.M) int {
	var err error
	shared, err = Start()
	if err != nil {
		startErr = err
	} else {
		defer shared.Stop()
	}
	return m.Run()
}

var (
	shared   *Server
	startErr error
)

// Get returns the package's server started by Main. Without one it skips
// the test, or fails it under CI.
func Get(t testing.TB) *Server {
	t.Helper()
	if shared != nil {
		return shared
	}
	err := startErr
	if err == nil {
		err = errors.New("mototest.Main did not run: call it from TestMain")
	}
	if os.Getenv("CI") != "" || !errors.Is(err, ErrNotInstalled) {
		t.Fatal(err)
	}
	t.Skip(err)
	return nil
}

// Env is the environment that points the AWS SDK at the server.
func (s *Server) Env() []string {
	return []string{
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region, // for boto3
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
		"AWS_ENDPOINT_URL_SQS=" + s.Endpoint,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.Endpoint,
	}
}

// Config is an SDK configuration with test credentials for the server.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
}

// S3 returns an S3 client of the server, with path-style addressing.
func (s *Server) S3() *s3.Client {
	return s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

// SecretsManager returns a Secrets Manager client of the server.
func (s *Server) SecretsManager() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(s.Config())
}

// SQS returns an SQS client of the server.
func (s *Server) SQS() *sqs.Client {
	return sqs.NewFromConfig(s.Config())
}

var names atomic.Int64

// uniqueName is a bucket or queue name unused by any other test.
func uniqueName() string {
	return fmt.Sprintf("test-%d-%d", os.Getpid(), names.Add(1))
}

// Bucket creates a bucket with a name unique to the test.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := uniqueName()
	if _, err := s.S3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return name
}

// Queue creates a queue with a name unique to the test, a FIFO queue when
// fifo, and returns its URL.
func (s *Server) Queue(t testing.TB, fifo bool) string {
	t.Helper()
	name := uniqueName()
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs["FifoQueue"] = "true"
	}
	out, err := s.SQS().CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return *out.QueueUrl
}

// Secret creates a secret with value under a name unique to the test and
// returns its ARN.
func (s *Server) Secret(t testing.TB, value string) string {
	t.Helper()
	name := uniqueName()
	out, err := s.SecretsManager().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return *out.ARN
}

// Messages receives every message now in the queue, with all their
// attributes.
func (s *Server) Messages(t testing.TB, queueURL string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := s.SQS().ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:                    &queueURL,
			MaxNumberOfMessages:         10,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			VisibilityTimeout:           300,
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
	}
}
