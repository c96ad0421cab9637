package config

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
)

// Variable is one setting of the receiver, for its usage text.
type Variable struct {
	Name, Default, Meaning string
}

// Variables lists every environment variable the receiver reads (Load), in
// the order its usage text shows them; a test keeps the list and Load in
// step.
var Variables = []Variable{
	{"BUCKET_NAME", "", "S3 bucket for the attachments; with QUEUE_URL. Both unset (not under Lambda): the local sinks"},
	{"QUEUE_URL", "", "SQS queue for the events; with BUCKET_NAME"},
	{"LOCAL_DIR", ".local", "local sinks: objects in LOCAL_DIR/objects/<key>, events in LOCAL_DIR/events.jsonl"},
	{"KEY_PREFIX", "", "put in front of every key, such as transcripts/"},
	{"AUTH_HEADERS", "", "accepted header lines, newline-separated, as in notification_config's auth_headers"},
	{"AUTH_SECRET_ID", "", "Secrets Manager secret holding the accepted header lines or token"},
	{"AUTH_SECRET_REFRESH", "5m", "how often the secret is read again"},
	{"AUTH_DISABLED", "false", "true accepts every caller (never where the internet reaches it)"},
	{"LISTEN_ADDR", "127.0.0.1:8080", "server mode's address, host:port"},
	{"MAX_BODY_BYTES", "10737418240", "server mode: the largest body accepted (larger: 413)"},
	{"ALLOWED_SOURCE_IPS", "", "accept only these senders: CIDRs, IPs, Speechmatics regions eu1 eu2 us1 us2 au1"},
	{"TRUSTED_PROXIES", "", "server mode: proxies whose X-Forwarded-For is believed"},
	{"BODY_IDLE_TIMEOUT", "1m", "server mode: cut off an upload that sends nothing for this long"},
	{"KEEPALIVE_TIMEOUT", "10s", "server mode: close a connection idle between requests after this long (behind a load balancer, longer than its idle timeout)"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"METRICS_NAMESPACE", DefaultMetricsNamespace, "under Lambda: the CloudWatch namespace of the metric records"},
	{"AWS_LAMBDA_RUNTIME_API", "", "set by Lambda: selects Lambda mode"},
	{"AWS_LAMBDA_FUNCTION_NAME", "", "set by Lambda: the metrics' FunctionName"},
	{"AWS_LAMBDA_FUNCTION_VERSION", "", "set by Lambda: the logs' function_version"},
	{"AWS_XRAY_DAEMON_ADDRESS", "", "set by Lambda when tracing is on: where X-Ray subsegments go"},
}

// Usage writes what the receiver is and every variable it reads, with its
// default.
func Usage(w io.Writer) {
	fmt.Fprint(w, `callback receives Speechmatics batch-job callbacks: it checks the caller's auth header,
stores every attachment under a key built from the job ID, and queues one event per callback.
Under the Lambda runtime it serves API Gateway and Function URL events; elsewhere it is an HTTP
server (POST or PUT to any path; GET /healthz and GET /metrics).

Settings, all from the environment:

`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  variable\tdefault\tmeaning")
	for _, v := range Variables {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Meaning)
	}
	tw.Flush()
	fmt.Fprint(w, `
The AWS SDK's own settings apply too (AWS_REGION, credentials, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS).
`)
}

// ErrHelp is returned by LoadCommand when the arguments asked for the
// usage text, which it wrote.
var ErrHelp = errors.New("help requested")

// LoadCommand is Load for the receiver's command: -h or --help in args (the
// program's, without its name) writes the usage text to stdout and returns
// ErrHelp; any other argument is an error, as every setting comes from the
// environment.
func LoadCommand(args []string, getenv func(string) string, stdout io.Writer) (*Config, error) {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			Usage(stdout)
			return nil, ErrHelp
		}
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("unexpected argument %q: the settings come from the environment (see --help)", args[0])
	}
	return Load(getenv)
}
