package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/config"
)

// These tests read template.yaml and check what no linter can: that it and
// the code agree.

// template is the parsed template.yaml, with CloudFormation's short tags
// (!Ref, !Sub, …) turned into their long form ({"Ref": …}, {"Fn::Sub": …}).
func template(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(callbacktest.Root(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return fromYAML(t, doc.Content[0]).(map[string]any)
}

func fromYAML(t *testing.T, n *yaml.Node) any {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := "Fn::" + n.Tag[1:]
		if n.Tag == "!Ref" {
			name = "Ref"
		}
		inner := *n
		inner.Tag = ""
		return map[string]any{name: fromYAML(t, &inner)}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			m[n.Content[i].Value] = fromYAML(t, n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, fromYAML(t, c))
		}
		return l
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// get walks a path of keys and indexes through the template.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: %v is not a mapping", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: %v has no item %d", path, v, k)
			}
			v = l[k]
		}
	}
	return v
}

func function(t *testing.T) map[string]any {
	return get(t, template(t), "Resources", "CallbackFunction").(map[string]any)
}

func TestTemplateEnvironment(t *testing.T) {
	tmpl := template(t)
	vars := get(t, tmpl, "Resources", "CallbackFunction", "Properties", "Environment", "Variables").(map[string]any)

	// Every variable the template sets is one the code reads.
	read := map[string]bool{}
	config.Load(func(k string) string { read[k] = true; return "" })
	for name := range vars {
		if !read[name] {
			t.Errorf("the template sets %s, which the code never reads", name)
		}
	}

	// With the template's environment, the Lambda path starts: everything it
	// requires is set. References to parameters take their defaults; other
	// references stand for a resource's name.
	params := get(t, tmpl, "Parameters").(map[string]any)
	env := map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}
	for name, v := range vars {
		env[name] = "resolved-" + strings.ToLower(name)
		if ref, ok := v.(map[string]any)["Ref"].(string); ok {
			if p, ok := params[ref].(map[string]any); ok {
				env[name], _ = p["Default"].(string)
			}
		}
	}
	if _, err := config.Load(func(k string) string { return env[k] }); err != nil {
		t.Errorf("the template's environment does not start the Lambda path: %v", err)
	}
	for _, secretish := range []string{"AUTH_HEADERS", "AUTH_DISABLED"} {
		if _, ok := vars[secretish]; ok {
			t.Errorf("the template sets %s: the token belongs in Secrets Manager, and auth is never off", secretish)
		}
	}
}

func TestTemplateFunction(t *testing.T) {
	fn := function(t)
	props := fn["Properties"].(map[string]any)
	for key, want := range map[string]any{
		"Runtime": "provided.al2023", "Handler": "bootstrap", "CodeUri": ".",
		"Architectures": []any{"arm64"},
	} {
		if !reflect.DeepEqual(props[key], want) {
			t.Errorf("%s: got %v, want %v", key, props[key], want)
		}
	}
	if timeout, ok := props["Timeout"].(int); !ok || timeout >= 30 {
		t.Errorf("Timeout: got %v, want below the HTTP API's 30-second limit", props["Timeout"])
	}
	if got := get(t, fn, "Metadata", "BuildMethod"); got != "makefile" {
		t.Errorf("BuildMethod: got %v, want makefile", got)
	}
	if got := get(t, props, "LoggingConfig", "LogFormat"); got != "JSON" {
		t.Errorf("LogFormat: got %v, want JSON", got)
	}
}

func TestTemplateRoutes(t *testing.T) {
	events := get(t, function(t), "Properties", "Events").(map[string]any)
	var routes []string
	for name, ev := range events {
		if typ := get(t, ev, "Type"); typ != "HttpApi" {
			t.Errorf("event %s: got type %v, want HttpApi", name, typ)
			continue
		}
		if api := get(t, ev, "Properties", "ApiId"); !reflect.DeepEqual(api, map[string]any{"Ref": "CallbackApi"}) {
			t.Errorf("event %s: got ApiId %v, want the CallbackApi", name, api)
		}
		routes = append(routes, get(t, ev, "Properties", "Method").(string)+" "+get(t, ev, "Properties", "Path").(string))
	}
	sort.Strings(routes)
	if want := []string{"POST /callback", "PUT /callback"}; !reflect.DeepEqual(routes, want) {
		t.Errorf("got routes %v, want %v", routes, want)
	}
}

// TestTemplatePolicies checks least privilege: the function may put objects
// under the key prefix, send to the queue, read the secret, and write its
// log and its traces, nothing more.
func TestTemplatePolicies(t *testing.T) {
	tmpl := template(t)
	got := roleGrants(t, tmpl, "CallbackFunction", "CallbackRole")
	want := []grant{
		{"s3:PutObject", map[string]any{"Fn::Sub": "${Bucket.Arn}/${KeyPrefix}*"}},
		{"sqs:SendMessage", map[string]any{"Fn::GetAtt": "Queue.Arn"}},
		{"secretsmanager:GetSecretValue", map[string]any{"Ref": "AuthSecret"}},
		{[]any{"logs:CreateLogStream", "logs:PutLogEvents"}, map[string]any{"Fn::GetAtt": "CallbackLogGroup.Arn"}},
		{[]any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want %v", got, want)
	}
}

// grant is one statement of a role's policy: its actions on its resources.
type grant struct{ actions, resource any }

// roleGrants returns the grants of the role that function fn runs as, after
// checking that the role is its own and holds nothing but them: one inline
// policy of plain Allow statements, no managed policy, no Policies on the
// function beside it (which SAM would add to a role of its own making).
func roleGrants(t *testing.T, tmpl map[string]any, fn, role string) []grant {
	t.Helper()
	props := get(t, tmpl, "Resources", fn, "Properties").(map[string]any)
	if _, ok := props["Policies"]; ok || !reflect.DeepEqual(props["Role"], map[string]any{"Fn::GetAtt": role + ".Arn"}) {
		t.Fatalf("%s: got Role %v and Policies %v, want %s alone", fn, props["Role"], props["Policies"], role)
	}
	if policies := get(t, tmpl, "Resources", role, "Properties", "Policies").([]any); len(policies) != 1 {
		t.Fatalf("%s: got %d policies, want 1", role, len(policies))
	}
	return policyGrants(t, tmpl, role)
}

// policyGrants returns the grants of role's inline policies, after checking
// that it holds nothing else: plain Allow statements, no managed policy.
func policyGrants(t *testing.T, tmpl map[string]any, role string) []grant {
	t.Helper()
	r := get(t, tmpl, "Resources", role, "Properties").(map[string]any)
	if _, ok := r["ManagedPolicyArns"]; ok {
		t.Errorf("%s has managed policies", role)
	}
	var got []grant
	for _, p := range r["Policies"].([]any) {
		for i, s := range get(t, p, "PolicyDocument", "Statement").([]any) {
			st := s.(map[string]any)
			if st["Effect"] != "Allow" || st["Condition"] != nil || st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("%s statement %d: got %v, want a plain Allow", role, i, st)
			}
			got = append(got, grant{st["Action"], st["Resource"]})
		}
	}
	return got
}

func TestTemplateSecretIsGenerated(t *testing.T) {
	props := get(t, template(t), "Resources", "AuthSecret", "Properties").(map[string]any)
	if _, ok := props["SecretString"]; ok {
		t.Error("the template writes the secret's value")
	}
	gen := props["GenerateSecretString"].(map[string]any)
	if gen["GenerateStringKey"] != "token" || !strings.Contains(gen["SecretStringTemplate"].(string), `"header":"Authorization"`) {
		t.Errorf("got %v, want a generated token under the Authorization header", gen)
	}
}

// TestSAMBuild checks what `sam build` produced (make test runs it and sets
// SAM_BUILD_DIR): the bootstrap alone, a linux/arm64 executable.
func TestSAMBuild(t *testing.T) {
	dir := os.Getenv("SAM_BUILD_DIR")
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SAM_BUILD_DIR is not set: run the tests with `make test`, which runs `sam build` first")
		}
		t.Skip("SAM_BUILD_DIR is not set: `make test` runs `sam build` and sets it")
	}
	for _, fn := range []string{"CallbackFunction", "AssemblerFunction", "ReconcilerFunction"} {
		t.Run(fn, func(t *testing.T) { checkArtifacts(t, filepath.Join(dir, fn)) })
	}
}

func checkArtifacts(t *testing.T, artifacts string) {
	entries, err := os.ReadDir(artifacts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"bootstrap"}) {
		t.Errorf("got artifacts %v, want only bootstrap", names)
	}
	f, err := elf.Open(filepath.Join(artifacts, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC || f.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("got machine %v, type %v, ABI %v, want an AArch64 Linux executable", f.Machine, f.Type, f.OSABI)
	}
	if info, _ := os.Stat(filepath.Join(artifacts, "bootstrap")); info.Mode()&0o111 == 0 {
		t.Error("bootstrap is not executable")
	}
}

func TestTemplateAssembler(t *testing.T) {
	tmpl := template(t)
	fn := get(t, tmpl, "Resources", "AssemblerFunction").(map[string]any)
	props := fn["Properties"].(map[string]any)
	if get(t, fn, "Metadata", "BuildMethod") != "makefile" || props["Runtime"] != "provided.al2023" || !reflect.DeepEqual(props["Architectures"], []any{"arm64"}) {
		t.Errorf("got %v, want a makefile-built provided.al2023 arm64 function", fn)
	}

	vars := get(t, props, "Environment", "Variables").(map[string]any)
	read := map[string]bool{}
	config.LoadAssembler(func(k string) string { read[k] = true; return "" })
	params := get(t, tmpl, "Parameters").(map[string]any)
	env := map[string]string{}
	for name, v := range vars {
		if !read[name] {
			t.Errorf("the template sets %s, which the assembler never reads", name)
		}
		env[name] = "resolved"
		if ref, ok := v.(map[string]any)["Ref"].(string); ok {
			if p, ok := params[ref].(map[string]any); ok {
				env[name], _ = p["Default"].(string)
			}
		}
	}
	if _, err := config.LoadAssembler(func(k string) string { return env[k] }); err != nil {
		t.Errorf("the template's environment does not start the assembler: %v", err)
	}

	src := get(t, props, "Events", "Callbacks").(map[string]any)
	if src["Type"] != "SQS" || !reflect.DeepEqual(get(t, src, "Properties", "Queue"), map[string]any{"Fn::GetAtt": "Queue.Arn"}) ||
		!reflect.DeepEqual(get(t, src, "Properties", "FunctionResponseTypes"), []any{"ReportBatchItemFailures"}) {
		t.Errorf("got event source %v, want the callback queue with ReportBatchItemFailures", src)
	}

	// Least privilege: its own role, with these grants and no others. Listing
	// the bucket makes S3 answer a missing manifest 404, not 403.
	got := roleGrants(t, tmpl, "AssemblerFunction", "AssemblerRole")
	want := []grant{
		{[]any{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, map[string]any{"Fn::GetAtt": "Queue.Arn"}},
		{[]any{"s3:GetObject", "s3:PutObject"}, map[string]any{"Fn::Sub": "${Bucket.Arn}/${KeyPrefix}*/manifest.json"}},
		{"s3:ListBucket", map[string]any{"Fn::GetAtt": "Bucket.Arn"}},
		{"sqs:SendMessage", map[string]any{"Fn::GetAtt": "OutputQueue.Arn"}},
		{[]any{"logs:CreateLogStream", "logs:PutLogEvents"}, map[string]any{"Fn::GetAtt": "AssemblerLogGroup.Arn"}},
		{[]any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want %v", got, want)
	}
}

// TestTemplateBucketLifecycle checks that what a killed upload leaves is
// removed, and that stored callbacks expire, if at all, only after the
// reconciler has stopped looking for their jobs: otherwise it would fetch
// them again and announce them twice.
func TestTemplateBucketLifecycle(t *testing.T) {
	tmpl := template(t)
	rules := get(t, tmpl, "Resources", "Bucket", "Properties", "LifecycleConfiguration", "Rules").([]any)
	abort := map[string]any{"Id": "AbortIncompleteUploads", "Status": "Enabled",
		"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1}}
	if len(rules) != 2 || !reflect.DeepEqual(rules[0], abort) {
		t.Fatalf("got rules %v, want %v first, always", rules, abort)
	}
	expire := get(t, rules[1], "Fn::If").([]any)
	if expire[0] != "HasLifecycle" || !reflect.DeepEqual(get(t, expire[1], "ExpirationInDays"), map[string]any{"Ref": "LifecycleDays"}) ||
		!reflect.DeepEqual(expire[2], map[string]any{"Ref": "AWS::NoValue"}) {
		t.Errorf("got %v, want an expiry after LifecycleDays when HasLifecycle", expire)
	}

	pattern := regexp.MustCompile(get(t, tmpl, "Parameters", "LifecycleDays", "AllowedPattern").(string))
	for _, tc := range []struct {
		days string
		want bool
	}{{"0", true}, {"7", true}, {"30", true}, {"365", true}, {"1", false}, {"6", false}, {"07", false}, {"-1", false}, {"", false}} {
		t.Run(tc.days, func(t *testing.T) {
			if got := pattern.MatchString(tc.days); got != tc.want {
				t.Errorf("LifecycleDays=%q allowed: got %v, want %v", tc.days, got, tc.want)
			}
		})
	}
	// The reconciler looks for a job over RECONCILE_LOOKBACK, which the
	// template leaves at its default: shorter than the shortest expiry.
	if _, ok := get(t, tmpl, "Resources", "ReconcilerFunction", "Properties", "Environment", "Variables").(map[string]any)["RECONCILE_LOOKBACK"]; ok {
		t.Fatal("the template sets RECONCILE_LOOKBACK: check it against LifecycleDays here")
	}
	c, err := config.LoadReconciler(func(k string) string {
		return map[string]string{"SPEECHMATICS_API_KEY": "k", "RECONCILE_CALLBACK_URL": "https://example.org/callback"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	least := 1
	for !pattern.MatchString(strconv.Itoa(least)) {
		least++
	}
	if expiry := time.Duration(least) * 24 * time.Hour; c.Lookback >= expiry {
		t.Errorf("the reconciler looks back %v, and objects may expire after %v: it would fetch expired jobs again", c.Lookback, expiry)
	}
}

// TestTemplateApiKeyCommand runs the command that stores the Speechmatics
// API key, in sh, with a stand-in for the AWS CLI: it asks for the key and
// passes it on standard input, never on a command line (the shell's
// history, the process list), and stores nothing when given none.
func TestTemplateApiKeyCommand(t *testing.T) {
	v := get(t, template(t), "Outputs", "ApiKeyCommand", "Value", "Fn::Sub").(string)
	cmd := strings.NewReplacer("${AWS::Region}", "eu-west-1", "${SpeechmaticsApiKeySecret}", "arn:secret").Replace(v)
	bin := t.TempDir()
	aws := "#!/bin/sh\necho \"args: $*\"\necho \"stdin: $(cat)\"\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(aws), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typed, want string }{
		{"sm-key-0123\n", `stdin: {"api_key":"sm-key-0123"}`},
		{"\n", ""},
	} {
		sh := exec.Command("sh", "-c", cmd)
		sh.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		sh.Stdin = strings.NewReader(tc.typed)
		out, err := sh.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		stored := strings.Contains(string(out), "stdin: ")
		if tc.want == "" && stored || tc.want != "" && !strings.Contains(string(out), tc.want) {
			t.Errorf("typed %q: got %s, want %q", tc.typed, out, tc.want)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "args: ") && strings.Contains(line, "sm-key") {
				t.Errorf("typed %q: the key is on the command line: %s", tc.typed, line)
			}
		}
	}
}
