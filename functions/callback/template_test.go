package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

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
// under the key prefix, send to the queue and read the secret, and nothing
// more.
func TestTemplatePolicies(t *testing.T) {
	props := function(t)["Properties"].(map[string]any)
	policies, ok := props["Policies"].([]any)
	if !ok || len(policies) != 1 {
		t.Fatalf("got Policies %v, want one inline policy document", props["Policies"])
	}
	if _, ok := props["Role"]; ok {
		t.Error("the function has a Role of its own: its rights would escape this check")
	}
	type grant struct {
		action   string
		resource any
	}
	var got []grant
	for i, s := range get(t, policies[0], "Statement").([]any) {
		st := s.(map[string]any)
		if st["Effect"] != "Allow" || st["Condition"] != nil || st["NotAction"] != nil || st["NotResource"] != nil {
			t.Errorf("statement %d: got %v, want a plain Allow", i, st)
		}
		got = append(got, grant{st["Action"].(string), st["Resource"]})
	}
	want := []grant{
		{"s3:PutObject", map[string]any{"Fn::Sub": "${Bucket.Arn}/${KeyPrefix}*"}},
		{"sqs:SendMessage", map[string]any{"Fn::GetAtt": "Queue.Arn"}},
		{"secretsmanager:GetSecretValue", map[string]any{"Ref": "AuthSecret"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want %v", got, want)
	}
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

	// Least privilege: its own role, with these grants and no others.
	if _, ok := props["Policies"]; ok {
		t.Error("the assembler has Policies besides its role")
	}
	if !reflect.DeepEqual(props["Role"], map[string]any{"Fn::GetAtt": "AssemblerRole.Arn"}) {
		t.Fatalf("got Role %v, want AssemblerRole", props["Role"])
	}
	role := get(t, tmpl, "Resources", "AssemblerRole", "Properties").(map[string]any)
	if _, ok := role["ManagedPolicyArns"]; ok {
		t.Error("the assembler's role has managed policies")
	}
	policies := role["Policies"].([]any)
	if len(policies) != 1 {
		t.Fatalf("got %d policies, want 1", len(policies))
	}
	type grant struct {
		actions  any
		resource any
	}
	var got []grant
	for _, s := range get(t, policies[0], "PolicyDocument", "Statement").([]any) {
		st := s.(map[string]any)
		if st["Effect"] != "Allow" || st["Condition"] != nil || st["NotAction"] != nil || st["NotResource"] != nil {
			t.Errorf("got %v, want a plain Allow", st)
		}
		got = append(got, grant{st["Action"], st["Resource"]})
	}
	want := []grant{
		{[]any{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, map[string]any{"Fn::GetAtt": "Queue.Arn"}},
		{[]any{"s3:GetObject", "s3:PutObject"}, map[string]any{"Fn::Sub": "${Bucket.Arn}/${KeyPrefix}*/manifest.json"}},
		{"sqs:SendMessage", map[string]any{"Fn::GetAtt": "OutputQueue.Arn"}},
		{[]any{"logs:CreateLogStream", "logs:PutLogEvents"}, map[string]any{"Fn::GetAtt": "AssemblerLogGroup.Arn"}},
		{[]any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want %v", got, want)
	}
}
