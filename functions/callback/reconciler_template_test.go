package main

import (
	"reflect"
	"strings"
	"testing"

	"smcallbacks/internal/config"
)

// TestTemplateReconciler checks that the template deploys the reconciler
// as the code expects: an environment that starts it under Lambda without
// the receiver's auth settings, the callback URL of the API, a schedule, a
// secret to fill, its own least-privilege role, and a switch to leave it
// all out.
func TestTemplateReconciler(t *testing.T) {
	tmpl := template(t)
	props := get(t, tmpl, "Resources", "ReconcilerFunction", "Properties").(map[string]any)
	vars := get(t, props, "Environment", "Variables").(map[string]any)
	read := map[string]bool{}
	config.LoadReconciler(func(k string) string { read[k] = true; return "" })
	params := get(t, tmpl, "Parameters").(map[string]any)
	env := map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}
	for name, v := range vars {
		if !read[name] {
			t.Errorf("the template sets %s, which the reconciler never reads", name)
		}
		if strings.HasPrefix(name, "AUTH_") || name == "SPEECHMATICS_API_KEY" {
			t.Errorf("the template sets %s: the reconciler needs no callback auth, and the key belongs in the secret", name)
		}
		env[name] = "https://resolved.example.com/" + strings.ToLower(name)
		if s, ok := v.(string); ok {
			env[name] = s
		} else if ref, ok := v.(map[string]any)["Ref"].(string); ok {
			if p, ok := params[ref].(map[string]any); ok {
				env[name], _ = p["Default"].(string)
			}
		}
	}
	if _, err := config.LoadReconciler(func(k string) string { return env[k] }); err != nil {
		t.Errorf("the template's environment does not start the reconciler: %v", err)
	}
	if got, want := vars["RECONCILE_CALLBACK_URL"], get(t, tmpl, "Outputs", "CallbackUrl", "Value"); !reflect.DeepEqual(got, want) {
		t.Errorf("RECONCILE_CALLBACK_URL: got %v, want the CallbackUrl output %v", got, want)
	}
	if vars["RECONCILE_SETTLED_BY"] != "manifest" {
		t.Errorf("RECONCILE_SETTLED_BY: got %v, want manifest: the stack deploys the assembler", vars["RECONCILE_SETTLED_BY"])
	}
	sched := get(t, props, "Events", "Schedule").(map[string]any)
	if sched["Type"] != "Schedule" || !reflect.DeepEqual(get(t, sched, "Properties", "Schedule"), map[string]any{"Ref": "ReconcileSchedule"}) ||
		get(t, params, "ReconcileSchedule", "Default") != "rate(15 minutes)" {
		t.Errorf("got schedule %v, want ReconcileSchedule, rate(15 minutes) by default", sched)
	}
	// Reserving concurrency fails the deploy in accounts with a small
	// quota; overlapping runs are safe by the state's conditional writes.
	if v, ok := props["ReservedConcurrentExecutions"]; ok {
		t.Errorf("ReservedConcurrentExecutions: got %v, want none", v)
	}
	// Not retried by Lambda: a run that failed on a busy Jobs API would ask
	// again within minutes; the schedule's next run resumes.
	if got, want := props["EventInvokeConfig"], map[string]any{"MaximumRetryAttempts": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("EventInvokeConfig: got %v, want %v", got, want)
	}
	secret := get(t, tmpl, "Resources", "SpeechmaticsApiKeySecret", "Properties", "SecretString")
	if secret != `{"api_key":""}` {
		t.Errorf("got secret %v, want a placeholder without a key", secret)
	}
	for _, name := range []string{"ReconcilerFunction", "ReconcilerRole", "ReconcilerLogGroup", "SpeechmaticsApiKeySecret", "ReconcilerErrorsAlarm"} {
		if c := get(t, tmpl, "Resources", name, "Condition"); c != "HasReconciler" {
			t.Errorf("%s: got condition %v, want HasReconciler", name, c)
		}
	}
	if c := get(t, tmpl, "Conditions", "HasReconciler"); !reflect.DeepEqual(c, map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "DeployReconciler"}, "true"}}) {
		t.Errorf("got HasReconciler %v, want DeployReconciler = true", c)
	}
	checkReconcilerRole(t, tmpl)
}

// checkReconcilerRole: get and put below the key prefix, list the bucket
// (without which S3 answers a missing object 403, not 404), send on the
// callback queue, read its secret, write its log and its traces.
func checkReconcilerRole(t *testing.T, tmpl map[string]any) {
	t.Helper()
	got := roleGrants(t, tmpl, "ReconcilerFunction", "ReconcilerRole")
	want := []grant{
		{[]any{"s3:GetObject", "s3:PutObject"}, map[string]any{"Fn::Sub": "${Bucket.Arn}/${KeyPrefix}*"}},
		{"s3:ListBucket", map[string]any{"Fn::GetAtt": "Bucket.Arn"}},
		{"sqs:SendMessage", map[string]any{"Fn::GetAtt": "Queue.Arn"}},
		{"secretsmanager:GetSecretValue", map[string]any{"Ref": "SpeechmaticsApiKeySecret"}},
		{[]any{"logs:CreateLogStream", "logs:PutLogEvents"}, map[string]any{"Fn::GetAtt": "ReconcilerLogGroup.Arn"}},
		{[]any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want %v", got, want)
	}
}
