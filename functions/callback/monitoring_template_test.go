package main

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"smcallbacks/internal/config"
	"smcallbacks/internal/metrics"
)

// These tests keep the template's dashboard and alarms in step with the
// metrics the code records (package metrics), and check that every function
// is traced and told its metrics namespace.

// owners are the functions whose metrics package metrics lists: the value
// of each metric's FunctionName dimension.
var owners = []struct {
	function string
	metrics  []metrics.Metric
}{
	{"CallbackFunction", metrics.Receiver},
	{"AssemblerFunction", metrics.Assembler},
	{"ReconcilerFunction", metrics.Reconciler},
}

// productMetric finds a metric of the code by name, with the function that
// records it.
func productMetric(name string) (metrics.Metric, string, bool) {
	for _, o := range owners {
		for _, m := range o.metrics {
			if m.Name == name {
				return m, o.function, true
			}
		}
	}
	return metrics.Metric{}, "", false
}

// subVar is a variable of a Fn::Sub string: ${Name} or ${Name.Attribute}.
var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// substitute resolves a Fn::Sub string: the variables of vars by their
// values, any other (a parameter, a resource, a pseudo parameter) by its
// name in angle brackets, <CallbackFunction>.
func substitute(s string, vars map[string]string) string {
	return subVar.ReplaceAllStringFunc(s, func(v string) string {
		name := v[2 : len(v)-1]
		if value, ok := vars[name]; ok {
			return value
		}
		return "<" + name + ">"
	})
}

// dashboardBody returns the dashboard's body as CloudFormation resolves it
// when the HasReconciler condition is reconciler, with references in angle
// brackets.
func dashboardBody(t *testing.T, tmpl map[string]any, reconciler bool) string {
	t.Helper()
	sub, ok := get(t, tmpl, "Resources", "Dashboard", "Properties", "DashboardBody", "Fn::Sub").([]any)
	if !ok || len(sub) != 2 {
		t.Fatalf("got DashboardBody %v, want !Sub with a string and its variables", get(t, tmpl, "Resources", "Dashboard", "Properties", "DashboardBody"))
	}
	body, _ := sub[0].(string)
	vars := map[string]string{}
	for name, v := range sub[1].(map[string]any) {
		branches, ok := get(t, v, "Fn::If").([]any)
		if !ok || len(branches) != 3 || branches[0] != "HasReconciler" {
			t.Fatalf("variable %s: got %v, want !If [HasReconciler, ...]", name, v)
		}
		branch := branches[2]
		if reconciler {
			branch = branches[1]
		}
		if m, ok := branch.(map[string]any); ok {
			branch = m["Fn::Sub"]
		}
		s, ok := branch.(string)
		if !ok {
			t.Fatalf("variable %s: got %v, want a string or !Sub of one", name, branch)
		}
		vars[name] = substitute(s, nil)
	}
	return substitute(body, vars)
}

// dashMetric is one metric a dashboard graph shows. A SEARCH expression's
// dimensions without a value in the search have "" for value.
type dashMetric struct {
	widget          string
	namespace, name string
	dims            map[string]string
}

// search is a SEARCH expression over one metric's schema:
// SEARCH('{"<namespace>",Dim,Dim} MetricName="<name>" Dim="<value>"', ...).
var (
	search       = regexp.MustCompile(`^SEARCH\('\{"?([^",}]+)"?((?:,[A-Za-z]+)*)\} MetricName="([^"]+)"((?: [A-Za-z]+="[^"]*")*)',`)
	searchFilter = regexp.MustCompile(`([A-Za-z]+)="([^"]*)"`)
)

// dashboardMetrics parses a dashboard body and returns what its graphs
// show.
func dashboardMetrics(t *testing.T, body string) []dashMetric {
	t.Helper()
	var dash struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("the dashboard body is no JSON: %v\n%s", err, body)
	}
	var got []dashMetric
	for _, w := range dash.Widgets {
		title := w.Properties.Title
		if w.Type == "metric" && len(w.Properties.Metrics) == 0 {
			t.Errorf("widget %q: got no metrics, want some", title)
		}
		for _, line := range w.Properties.Metrics {
			if expr, ok := line[0].(map[string]any); ok {
				m := search.FindStringSubmatch(expr["expression"].(string))
				if m == nil {
					t.Errorf("widget %q: got expression %v, want a SEARCH of one metric's schema", title, expr["expression"])
					continue
				}
				dm := dashMetric{widget: title, namespace: m[1], name: m[3], dims: map[string]string{}}
				for _, d := range strings.Split(strings.TrimPrefix(m[2], ","), ",") {
					dm.dims[d] = ""
				}
				for _, f := range searchFilter.FindAllStringSubmatch(m[4], -1) {
					if _, ok := dm.dims[f[1]]; !ok {
						t.Errorf("widget %q: got a filter on %s, want one of the schema's dimensions", title, f[1])
					}
					dm.dims[f[1]] = f[2]
				}
				got = append(got, dm)
				continue
			}
			var strs []string
			for _, v := range line {
				if s, ok := v.(string); ok {
					strs = append(strs, s)
				}
			}
			if len(strs) < 2 || len(strs)%2 != 0 {
				t.Errorf("widget %q: got metric %v, want namespace, name and dimension pairs, each in full", title, line)
				continue
			}
			dm := dashMetric{widget: title, namespace: strs[0], name: strs[1], dims: map[string]string{}}
			for i := 2; i < len(strs); i += 2 {
				dm.dims[strs[i]] = strs[i+1]
			}
			got = append(got, dm)
		}
	}
	return got
}

// TestDashboardMetrics checks that the dashboard shows every metric of the
// code, under the names and dimensions the code records them with, and
// never names the reconciler when it is not deployed.
func TestDashboardMetrics(t *testing.T) {
	tmpl := template(t)
	if got := get(t, tmpl, "Resources", "Dashboard", "Condition"); got != nil {
		t.Errorf("Dashboard: got condition %v, want none", got)
	}
	if got := get(t, tmpl, "Resources", "Dashboard", "Properties", "DashboardName"); !strings.Contains(toJSON(t, got), "AWS::StackName") {
		t.Errorf("DashboardName: got %v, want one derived from the stack name", got)
	}
	for _, tc := range []struct {
		name       string
		reconciler bool
		want       []metrics.Metric
	}{
		{"with reconciler", true, slices.Concat(metrics.Receiver, metrics.Assembler, metrics.Reconciler)},
		{"without reconciler", false, slices.Concat(metrics.Receiver, metrics.Assembler)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := dashboardBody(t, tmpl, tc.reconciler)
			if strings.Contains(body, "${") {
				t.Errorf("got an unresolved ${ in the body, want every variable resolved")
			}
			if got := strings.Contains(body, "ReconcilerFunction"); got != tc.reconciler {
				t.Errorf("body names ReconcilerFunction: got %v, want %v", got, tc.reconciler)
			}
			shown := map[string]bool{}
			outcomes := map[string]bool{}
			dlq := false
			for _, dm := range dashboardMetrics(t, body) {
				if strings.HasPrefix(dm.namespace, "AWS/") {
					if dm.namespace == "AWS/SQS" && dm.name == "ApproximateNumberOfMessagesVisible" &&
						reflect.DeepEqual(dm.dims, map[string]string{"QueueName": "<DeadLetterQueue.QueueName>"}) {
						dlq = true
					}
					continue
				}
				if dm.namespace != "<MetricsNamespace>" {
					t.Errorf("widget %q, %s: got namespace %s, want <MetricsNamespace>", dm.widget, dm.name, dm.namespace)
				}
				m, owner, ok := productMetric(dm.name)
				if !ok {
					t.Errorf("widget %q: got metric %s, want one of package metrics", dm.widget, dm.name)
					continue
				}
				shown[m.Name] = true
				wantDims := []string{metrics.FunctionDimension}
				if m.Dimension != "" {
					wantDims = append(wantDims, m.Dimension)
				}
				var gotDims []string
				for d := range dm.dims {
					gotDims = append(gotDims, d)
				}
				sort.Strings(gotDims)
				sort.Strings(wantDims)
				if !reflect.DeepEqual(gotDims, wantDims) {
					t.Errorf("widget %q, %s: got dimensions %v, want %v", dm.widget, dm.name, gotDims, wantDims)
				}
				if got, want := dm.dims[metrics.FunctionDimension], "<"+owner+">"; got != want {
					t.Errorf("widget %q, %s: got FunctionName %v, want %v", dm.widget, dm.name, got, want)
				}
				if v := dm.dims[m.Dimension]; m.Dimension != "" && v != "" && m.Values != nil && !slices.Contains(m.Values, v) {
					t.Errorf("widget %q, %s: got %s %v, want one of %v", dm.widget, dm.name, m.Dimension, v, m.Values)
				}
				if m.Name == metrics.Callbacks.Name {
					outcomes[dm.dims[m.Dimension]] = true
				}
			}
			for _, m := range tc.want {
				if !shown[m.Name] {
					t.Errorf("%s: got it on no graph, want it shown", m.Name)
				}
			}
			var gotOutcomes []string
			for o := range outcomes {
				gotOutcomes = append(gotOutcomes, o)
			}
			sort.Strings(gotOutcomes)
			wantOutcomes := slices.Sorted(slices.Values(metrics.Outcomes))
			if !reflect.DeepEqual(gotOutcomes, wantOutcomes) {
				t.Errorf("Callbacks: got outcomes %v, want one line per outcome %v", gotOutcomes, wantOutcomes)
			}
			if !dlq {
				t.Errorf("dead-letter queue depth: got %v, want it shown", dlq)
			}
		})
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

// TestAlarms checks what each alarm watches and when it fires, and that
// every one pages the alarm topic with a description. A new alarm must be
// added here.
func TestAlarms(t *testing.T) {
	tmpl := template(t)
	type dim struct {
		name  string
		value any
	}
	tests := []struct {
		alarm             string
		namespace, metric any
		dims              []dim
		stat              string
		period            int
		threshold         any
		comparison        string
		condition         any
	}{
		{"FunctionErrorsAlarm", "AWS/Lambda", "Errors", []dim{{"FunctionName", ref("CallbackFunction")}}, "Sum", 300, 1, "GreaterThanOrEqualToThreshold", nil},
		{"ServerErrorsAlarm", "AWS/ApiGateway", "5xx", []dim{{"ApiId", ref("CallbackApi")}}, "Sum", 300, 1, "GreaterThanOrEqualToThreshold", nil},
		{"DeadLetterAlarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible", []dim{{"QueueName", map[string]any{"Fn::GetAtt": "DeadLetterQueue.QueueName"}}}, "Maximum", 300, 0, "GreaterThanThreshold", nil},
		{"ReconcilerErrorsAlarm", "AWS/Lambda", "Errors", []dim{{"FunctionName", ref("ReconcilerFunction")}}, "Sum", 3600, 1, "GreaterThanOrEqualToThreshold", "HasReconciler"},
		{"JobsFailedAlarm", ref("MetricsNamespace"), metrics.JobsFailed.Name, []dim{{"FunctionName", ref("AssemblerFunction")}}, "Sum", 900, 1, "GreaterThanOrEqualToThreshold", nil},
		// A finished job unsettled for over an hour, as any run of the last hour saw it.
		{"OldestUnsettledAgeAlarm", ref("MetricsNamespace"), metrics.OldestUnsettledAge.Name, []dim{{"FunctionName", ref("ReconcilerFunction")}}, "Maximum", 3600, 3600, "GreaterThanThreshold", "HasReconciler"},
		{"ContentsUnrecoverableAlarm", ref("MetricsNamespace"), metrics.ContentsUnrecoverable.Name, []dim{{"FunctionName", ref("ReconcilerFunction")}}, "Sum", 3600, 0, "GreaterThanThreshold", "HasReconciler"},
	}
	checked := map[string]bool{"RefusedCallbacksAlarm": true} // TestRefusedCallbacksAlarm
	for _, tc := range tests {
		checked[tc.alarm] = true
		t.Run(tc.alarm, func(t *testing.T) {
			alarm := get(t, tmpl, "Resources", tc.alarm).(map[string]any)
			props := alarm["Properties"].(map[string]any)
			if got := alarm["Condition"]; got != tc.condition {
				t.Errorf("Condition: got %v, want %v", got, tc.condition)
			}
			for _, f := range []struct {
				key  string
				want any
			}{
				{"Namespace", tc.namespace}, {"MetricName", tc.metric}, {"Statistic", tc.stat}, {"Period", tc.period},
				{"EvaluationPeriods", 1}, {"Threshold", tc.threshold}, {"ComparisonOperator", tc.comparison},
			} {
				if got := props[f.key]; !reflect.DeepEqual(got, f.want) {
					t.Errorf("%s: got %v, want %v", f.key, got, f.want)
				}
			}
			var want []any
			for _, d := range tc.dims {
				want = append(want, map[string]any{"Name": d.name, "Value": d.value})
			}
			if got := props["Dimensions"]; !reflect.DeepEqual(got, want) {
				t.Errorf("Dimensions: got %v, want %v", got, want)
			}
			if reflect.DeepEqual(tc.namespace, ref("MetricsNamespace")) {
				_, owner, ok := productMetric(tc.metric.(string))
				if !ok || !reflect.DeepEqual(tc.dims[0].value, ref(owner)) {
					t.Errorf("%v: got it recorded by %v, want a metric of package metrics recorded by %v", tc.metric, owner, tc.dims[0].value)
				}
			}
		})
	}

	for name, r := range get(t, tmpl, "Resources").(map[string]any) {
		if get(t, r, "Type") != "AWS::CloudWatch::Alarm" {
			continue
		}
		t.Run(name+" pages", func(t *testing.T) {
			// The media receiver's alarms have their own test
			// (TestMediaTemplateAlarms).
			if !checked[name] && !strings.HasPrefix(name, "Media") {
				t.Errorf("got an alarm this test does not check, want it in the table")
			}
			props := get(t, r, "Properties").(map[string]any)
			if got, want := props["AlarmActions"], []any{ref("AlarmTopic")}; !reflect.DeepEqual(got, want) {
				t.Errorf("AlarmActions: got %v, want %v", got, want)
			}
			if got := props["TreatMissingData"]; got != "notBreaching" {
				t.Errorf("TreatMissingData: got %v, want notBreaching", got)
			}
			if d, _ := props["AlarmDescription"].(string); len(d) < 60 {
				t.Errorf("AlarmDescription: got %q, want what it means and what to do", d)
			}
			if strings.Contains(toJSON(t, props), `"4xx"`) {
				t.Errorf("got an alarm on API Gateway's 4xx, want none: scanners on other paths would page")
			}
		})
	}
}

// TestRefusedCallbacksAlarm checks that refused callbacks page only when
// they reach the function: the sum of its unauthorized and forbidden
// callbacks over 15 minutes, against RefusedCallbacksThreshold.
func TestRefusedCallbacksAlarm(t *testing.T) {
	tmpl := template(t)
	props := get(t, tmpl, "Resources", "RefusedCallbacksAlarm", "Properties").(map[string]any)
	for _, f := range []struct {
		key  string
		want any
	}{
		{"Threshold", ref("RefusedCallbacksThreshold")}, {"ComparisonOperator", "GreaterThanOrEqualToThreshold"},
		{"EvaluationPeriods", 1}, {"TreatMissingData", "notBreaching"}, {"MetricName", nil}, {"Namespace", nil},
	} {
		if got := props[f.key]; !reflect.DeepEqual(got, f.want) {
			t.Errorf("%s: got %v, want %v", f.key, got, f.want)
		}
	}
	param := get(t, tmpl, "Parameters", "RefusedCallbacksThreshold").(map[string]any)
	if got, want := []any{param["Type"], param["Default"], param["MinValue"]}, []any{"Number", 5, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("RefusedCallbacksThreshold type, default, minimum: got %v, want %v", got, want)
	}

	var expressions []string
	outcomes := map[string]string{} // outcome → id
	for i, q := range get(t, props, "Metrics").([]any) {
		q := q.(map[string]any)
		if e, ok := q["Expression"].(string); ok {
			if q["ReturnData"] != true {
				t.Errorf("query %d: got ReturnData %v, want true for the expression", i, q["ReturnData"])
			}
			expressions = append(expressions, e)
			continue
		}
		if q["ReturnData"] != false {
			t.Errorf("query %d: got ReturnData %v, want false for an input", i, q["ReturnData"])
		}
		stat := get(t, q, "MetricStat").(map[string]any)
		m := stat["Metric"].(map[string]any)
		for _, f := range []struct {
			key  string
			got  any
			want any
		}{
			{"Namespace", m["Namespace"], ref("MetricsNamespace")}, {"MetricName", m["MetricName"], metrics.Callbacks.Name},
			{"Stat", stat["Stat"], "Sum"}, {"Period", stat["Period"], 900},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("query %d, %s: got %v, want %v", i, f.key, f.got, f.want)
			}
		}
		dims := m["Dimensions"].([]any)
		if len(dims) != 2 || !reflect.DeepEqual(dims[0], map[string]any{"Name": metrics.FunctionDimension, "Value": ref("CallbackFunction")}) ||
			get(t, dims[1], "Name") != metrics.Callbacks.Dimension {
			t.Errorf("query %d: got dimensions %v, want FunctionName of the CallbackFunction and Outcome", i, dims)
			continue
		}
		outcome, _ := get(t, dims[1], "Value").(string)
		if !slices.Contains(metrics.Outcomes, outcome) {
			t.Errorf("query %d: got outcome %q, want one of %v", i, outcome, metrics.Outcomes)
		}
		outcomes[outcome], _ = q["Id"].(string)
	}
	var got []string
	for o := range outcomes {
		got = append(got, o)
	}
	sort.Strings(got)
	if want := []string{"forbidden", "unauthorized"}; !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes: got %v, want %v", got, want)
	}
	if len(expressions) != 1 {
		t.Fatalf("got expressions %v, want one", expressions)
	}
	for outcome, id := range outcomes {
		if !regexp.MustCompile(`\b`+regexp.QuoteMeta(id)+`\b`).MatchString(expressions[0]) || !strings.Contains(expressions[0], "+") {
			t.Errorf("expression: got %q, want the sum of %s (%s) and the other outcome", expressions[0], id, outcome)
		}
	}
}

// TestMonitoringFunctions checks that every function is traced as the
// Tracing parameter says, may write its traces, and writes its metrics to
// the MetricsNamespace parameter's namespace.
func TestMonitoringFunctions(t *testing.T) {
	tmpl := template(t)
	for _, tc := range []struct {
		function string
		role     string // its own: SAM grants X-Ray only to a role it makes
	}{
		{"CallbackFunction", "CallbackRole"},
		{"AssemblerFunction", "AssemblerRole"},
		{"ReconcilerFunction", "ReconcilerRole"},
	} {
		t.Run(tc.function, func(t *testing.T) {
			props := get(t, tmpl, "Resources", tc.function, "Properties").(map[string]any)
			if got, want := props["Tracing"], ref("Tracing"); !reflect.DeepEqual(got, want) {
				t.Errorf("Tracing: got %v, want %v", got, want)
			}
			if got, want := get(t, props, "Environment", "Variables", "METRICS_NAMESPACE"), ref("MetricsNamespace"); !reflect.DeepEqual(got, want) {
				t.Errorf("METRICS_NAMESPACE: got %v, want %v", got, want)
			}
			if got, want := props["Role"], map[string]any{"Fn::GetAtt": tc.role + ".Arn"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Role: got %v, want %v", got, want)
			}
			allowed := map[string]bool{}
			for _, p := range get(t, tmpl, "Resources", tc.role, "Properties", "Policies").([]any) {
				for _, s := range get(t, p, "PolicyDocument", "Statement").([]any) {
					st := s.(map[string]any)
					if st["Effect"] != "Allow" || st["Resource"] != "*" || st["Condition"] != nil {
						continue
					}
					actions, ok := st["Action"].([]any)
					if !ok {
						actions = []any{st["Action"]}
					}
					for _, a := range actions {
						allowed[a.(string)] = true
					}
				}
			}
			for _, action := range []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"} {
				if !allowed[action] {
					t.Errorf("%s: got %v, want %s allowed on *", tc.role, allowed[action], action)
				}
			}
		})
	}
}

// TestMonitoringParameters checks the Tracing and MetricsNamespace
// parameters: tracing on by default, and a namespace the code accepts.
func TestMonitoringParameters(t *testing.T) {
	params := get(t, template(t), "Parameters").(map[string]any)
	tracing := params["Tracing"].(map[string]any)
	if got, want := []any{tracing["Default"], tracing["AllowedValues"]}, []any{"Active", []any{"Active", "PassThrough"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tracing default and values: got %v, want %v", got, want)
	}
	ns := params["MetricsNamespace"].(map[string]any)
	if got, want := ns["Default"], config.DefaultMetricsNamespace; got != want {
		t.Errorf("MetricsNamespace default: got %v, want %v", got, want)
	}
	pattern := regexp.MustCompile(ns["AllowedPattern"].(string))
	for _, tc := range []struct {
		name, namespace string
		want            bool
	}{
		{"default", config.DefaultMetricsNamespace, true},
		{"path", "Team/Speechmatics-Callbacks_2", true},
		{"punctuation", "prod.callbacks#1:eu", true},
		{"255 characters", strings.Repeat("a", 255), true},
		{"256 characters", strings.Repeat("a", 256), false},
		{"empty", "", false},
		{"leading colon", ":callbacks", false},
		{"newline", "call\nbacks", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pattern.MatchString(tc.namespace); got != tc.want {
				t.Errorf("AllowedPattern matches %q: got %v, want %v", tc.namespace, got, tc.want)
			}
			if !tc.want {
				return
			}
			// What the template takes, the code must take too.
			if _, err := config.LoadAssembler(func(k string) string {
				return map[string]string{"BUCKET_NAME": "b", "OUTPUT_QUEUE_URL": "q", "EXPECTED_CONTENTS": "jobinfo", "METRICS_NAMESPACE": tc.namespace}[k]
			}); err != nil {
				t.Errorf("got %v, want the code to accept %q", err, tc.namespace)
			}
		})
	}
}

// TestAlarmTopicReachable keeps the alarm topic one that CloudWatch can
// publish to: encrypted with a key whose policy lets CloudWatch use it, not
// the AWS managed key, whose policy cannot.
func TestAlarmTopicReachable(t *testing.T) {
	tmpl := template(t)
	if got, want := get(t, tmpl, "Resources", "AlarmTopic", "Properties", "KmsMasterKeyId"), any(map[string]any{"Ref": "AlarmTopicKey"}); !reflect.DeepEqual(got, want) {
		t.Errorf("AlarmTopic's key: got %v, want %v", got, want)
	}
	granted := false
	for _, st := range get(t, tmpl, "Resources", "AlarmTopicKey", "Properties", "KeyPolicy", "Statement").([]any) {
		s := st.(map[string]any)
		p, _ := s["Principal"].(map[string]any)
		if p["Service"] == "cloudwatch.amazonaws.com" && s["Effect"] == "Allow" &&
			reflect.DeepEqual(s["Action"], []any{"kms:Decrypt", "kms:GenerateDataKey*"}) {
			granted = true
		}
	}
	if !granted {
		t.Error("the alarm topic's key does not let CloudWatch alarms encrypt for it")
	}
}
