package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/awssecret"
	"smcallbacks/internal/config"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sourceip"
	"smcallbacks/internal/sqsqueue"
)

// These tests check the media receiver of the template (MediaReceiver=
// fargate): server mode on ECS Fargate behind a load balancer. They read the
// template as template_test.go does, and evaluate its conditions and rules
// for a set of parameters as CloudFormation would.

// mediaParams are the parameters of a deploy with the media receiver: each
// one fargate needs, in the form each parameter's pattern takes.
var mediaParams = map[string]string{
	"MediaReceiver":       "fargate",
	"MediaImage":          "123456789012.dkr.ecr.eu-west-1.amazonaws.com/callbacks-mediarepository-x1y2z3@sha256:" + strings.Repeat("ab", 32),
	"MediaDomainName":     "media.callbacks.acme.io",
	"MediaCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab",
	"MediaVpcId":          "vpc-0123456789abcdef0",
	"MediaVpcCidr":        "10.0.0.0/16",
	"MediaPublicSubnets":  "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
	"MediaSubnets":        "subnet-0123456789abcdef2,subnet-0123456789abcdef3",
}

// mediaValues returns every parameter's value: its default, unless
// overridden by one of sets (later ones win).
func mediaValues(t *testing.T, tmpl map[string]any, sets ...map[string]string) map[string]string {
	t.Helper()
	values := map[string]string{}
	for name, p := range get(t, tmpl, "Parameters").(map[string]any) {
		if d, ok := p.(map[string]any)["Default"]; ok {
			values[name] = fmt.Sprint(d)
		}
	}
	for _, set := range sets {
		for name, v := range set {
			if _, ok := get(t, tmpl, "Parameters").(map[string]any)[name]; !ok {
				t.Fatalf("no parameter %s", name)
			}
			values[name] = v
		}
	}
	return values
}

// mediaEval evaluates a condition or a rule's expression as CloudFormation
// does: Ref of a parameter, Condition, Fn::Equals (of the values as
// strings), Fn::Not, Fn::And, Fn::Or, Fn::Contains, and Fn::Join and
// Fn::Split, with which a condition tells whether a parameter holds a
// substring.
func mediaEval(t *testing.T, tmpl map[string]any, v any, params map[string]string) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if len(x) != 1 {
			t.Fatalf("got %v, want one function", x)
		}
		for fn, arg := range x {
			args, _ := arg.([]any)
			switch fn {
			case "Ref":
				value, ok := params[arg.(string)]
				if !ok {
					t.Fatalf("Ref %v: no such parameter, or it has no value", arg)
				}
				return value
			case "Condition", "Fn::Condition": // !Condition in a condition, as the template helper reads it
				return mediaEval(t, tmpl, get(t, tmpl, "Conditions", arg.(string)), params)
			case "Fn::Equals":
				return mediaEval(t, tmpl, args[0], params) == mediaEval(t, tmpl, args[1], params)
			case "Fn::Not":
				return !mediaEval(t, tmpl, args[0], params).(bool)
			case "Fn::And", "Fn::Or":
				and := fn == "Fn::And"
				for _, a := range args {
					if mediaEval(t, tmpl, a, params).(bool) != and {
						return !and
					}
				}
				return and
			case "Fn::Contains":
				list := mediaEval(t, tmpl, args[0], params).([]any)
				return slices.Contains(list, mediaEval(t, tmpl, args[1], params))
			case "Fn::Split":
				var parts []any
				for _, p := range strings.Split(mediaEval(t, tmpl, args[1], params).(string), mediaEval(t, tmpl, args[0], params).(string)) {
					parts = append(parts, p)
				}
				return parts
			case "Fn::Join":
				var parts []string
				for _, p := range mediaEval(t, tmpl, args[1], params).([]any) {
					parts = append(parts, p.(string))
				}
				return strings.Join(parts, mediaEval(t, tmpl, args[0], params).(string))
			default:
				t.Fatalf("%s: a function this evaluator does not know", fn)
			}
		}
	case []any:
		var l []any
		for _, e := range x {
			l = append(l, mediaEval(t, tmpl, e, params))
		}
		return l
	case bool:
		return x
	}
	return fmt.Sprint(v)
}

// mediaNoValue stands for Ref AWS::NoValue while mediaResolve works.
var mediaNoValue = new(struct{})

// mediaResolve returns a resource's property as CloudFormation would deploy
// it for these parameters: each Fn::If replaced by the branch its condition
// takes, each Ref AWS::NoValue dropped from its list or mapping, and each
// Fn::FindInMap replaced by the mapping's value. Other functions stay.
func mediaResolve(t *testing.T, tmpl map[string]any, v any, params map[string]string) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if x["Ref"] == "AWS::NoValue" {
				return mediaNoValue
			}
			if args, ok := x["Fn::If"].([]any); ok {
				if mediaEval(t, tmpl, map[string]any{"Condition": args[0]}, params).(bool) {
					return mediaResolve(t, tmpl, args[1], params)
				}
				return mediaResolve(t, tmpl, args[2], params)
			}
			if args, ok := x["Fn::FindInMap"].([]any); ok {
				value := get(t, tmpl, "Mappings", args[0].(string), args[1].(string), args[2].(string))
				if value == nil {
					t.Fatalf("%v: no such value in the mappings", x)
				}
				return value
			}
		}
		m := map[string]any{}
		for k, e := range x {
			if r := mediaResolve(t, tmpl, e, params); r != mediaNoValue {
				m[k] = r
			}
		}
		return m
	case []any:
		l := []any{}
		for _, e := range x {
			if r := mediaResolve(t, tmpl, e, params); r != mediaNoValue {
				l = append(l, r)
			}
		}
		return l
	}
	return v
}

// mediaExists reports whether a resource or output, with its condition,
// exists for these parameters.
func mediaExists(t *testing.T, tmpl map[string]any, item any, params map[string]string) bool {
	t.Helper()
	c, ok := item.(map[string]any)["Condition"].(string)
	return !ok || mediaEval(t, tmpl, map[string]any{"Condition": c}, params).(bool)
}

// mediaRefusals returns what the template's Rules refuse for these
// parameters: the AssertDescription of each failed assertion.
func mediaRefusals(t *testing.T, tmpl map[string]any, params map[string]string) []string {
	t.Helper()
	var refused []string
	for name, r := range get(t, tmpl, "Rules").(map[string]any) {
		rule := r.(map[string]any)
		if c, ok := rule["RuleCondition"]; ok && !mediaEval(t, tmpl, c, params).(bool) {
			continue
		}
		for i, a := range rule["Assertions"].([]any) {
			if !mediaEval(t, tmpl, get(t, a, "Assert"), params).(bool) {
				d, _ := get(t, a, "AssertDescription").(string)
				if d == "" {
					t.Errorf("rule %s, assertion %d: got no AssertDescription, want what to set", name, i)
				}
				refused = append(refused, d)
			}
		}
	}
	sort.Strings(refused)
	return refused
}

// TestMediaTemplateCondition checks that nothing of the media receiver
// exists with MediaReceiver=none (the default), that all of it exists with
// fargate, and that the rest of the stack, the Lambda path, neither changes
// nor names it.
func TestMediaTemplateCondition(t *testing.T) {
	tmpl := template(t)
	none := mediaValues(t, tmpl)
	fargate := mediaValues(t, tmpl, mediaParams)
	if none["MediaReceiver"] != "none" {
		t.Errorf("MediaReceiver: got default %v, want none", none["MediaReceiver"])
	}
	for _, section := range []string{"Resources", "Outputs"} {
		for name, item := range get(t, tmpl, section).(map[string]any) {
			media := strings.HasPrefix(name, "Media")
			if got := mediaExists(t, tmpl, item, none); media && got {
				t.Errorf("%s %s: got it with MediaReceiver=none, want it only with fargate", section, name)
			}
			if got := mediaExists(t, tmpl, item, fargate); media && !got {
				t.Errorf("%s %s: got it missing with fargate, want it there", section, name)
			}
			if !media {
				if a, b := mediaExists(t, tmpl, item, none), mediaExists(t, tmpl, item, fargate); a != b {
					t.Errorf("%s %s: got it there %v with none and %v with fargate, want the same", section, name, a, b)
				}
				if s := toJSON(t, item); strings.Contains(s, "Media") {
					t.Errorf("%s %s: got it naming the media receiver, want the Lambda path untouched: %s", section, name, s)
				}
			}
		}
	}

	// With MediaDesiredCount=0 (the first deploy) everything but the alarms
	// exists: nothing runs for them to watch.
	first := mediaValues(t, tmpl, mediaParams, map[string]string{"MediaDesiredCount": "0", "MediaImage": ""})
	for name, item := range get(t, tmpl, "Resources").(map[string]any) {
		if !strings.HasPrefix(name, "Media") {
			continue
		}
		alarm := get(t, item, "Type") == "AWS::CloudWatch::Alarm"
		if got := mediaExists(t, tmpl, item, first); got == alarm {
			t.Errorf("%s with MediaDesiredCount=0: got it there %v, want %v", name, got, !alarm)
		}
	}
}

// TestMediaTemplateRules checks what the Rules refuse: fargate without its
// network, name or certificate, tasks without an image, and CPU and memory
// that Fargate does not combine; and that MediaReceiver=none refuses nothing.
func TestMediaTemplateRules(t *testing.T) {
	tmpl := template(t)
	params := get(t, tmpl, "Parameters").(map[string]any)
	for name, v := range mediaParams {
		pattern, _ := get(t, params, name, "AllowedPattern").(string)
		allowed, _ := get(t, params, name, "AllowedValues").([]any)
		if pattern != "" && !regexp.MustCompile(pattern).MatchString(v) || allowed != nil && !slices.Contains(allowed, any(v)) {
			t.Errorf("%s: got %q refused by its pattern or allowed values, want it accepted", name, v)
		}
	}

	without := func(names ...string) map[string]string {
		m := map[string]string{}
		for _, n := range names {
			m[n] = ""
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		sets    []map[string]string
		refused int
	}{
		{"none, the default", nil, 0},
		{"none with odd media settings", []map[string]string{{"MediaCpu": "256", "MediaMemory": "16384"}}, 0},
		{"fargate", []map[string]string{mediaParams}, 0},
		{"fargate without anything", []map[string]string{{"MediaReceiver": "fargate"}}, 7},
		{"fargate without a domain", []map[string]string{mediaParams, without("MediaDomainName")}, 1},
		{"fargate without a certificate", []map[string]string{mediaParams, without("MediaCertificateArn")}, 1},
		{"fargate without a network", []map[string]string{mediaParams, without("MediaVpcId", "MediaVpcCidr", "MediaPublicSubnets", "MediaSubnets")}, 4},
		{"first deploy: no task, no image", []map[string]string{mediaParams, {"MediaDesiredCount": "0", "MediaImage": ""}}, 0},
		{"a task without an image", []map[string]string{mediaParams, {"MediaImage": ""}}, 1},
		{"two tasks without an image", []map[string]string{mediaParams, {"MediaDesiredCount": "2", "MediaImage": ""}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mediaRefusals(t, tmpl, mediaValues(t, tmpl, tc.sets...))
			if len(got) != tc.refused {
				t.Errorf("got %d refusals %q, want %d", len(got), got, tc.refused)
			}
		})
	}

	// Every CPU and memory the parameters allow: refused unless Fargate
	// offers the combination.
	fargateMemory := map[string][2]int{"256": {512, 2048}, "512": {1024, 4096}, "1024": {2048, 8192}, "2048": {4096, 16384}}
	for _, cpu := range get(t, params, "MediaCpu", "AllowedValues").([]any) {
		for _, mem := range get(t, params, "MediaMemory", "AllowedValues").([]any) {
			var mib int
			fmt.Sscan(mem.(string), &mib)
			r, ok := fargateMemory[cpu.(string)]
			if !ok {
				t.Fatalf("MediaCpu %v: a value this test does not know", cpu)
			}
			want := 1
			if mib >= r[0] && mib <= r[1] && (mib == 512 || mib%1024 == 0) {
				want = 0
			}
			got := mediaRefusals(t, tmpl, mediaValues(t, tmpl, mediaParams, map[string]string{"MediaCpu": cpu.(string), "MediaMemory": mem.(string)}))
			if len(got) != want {
				t.Errorf("MediaCpu %v, MediaMemory %v: got refusals %q, want %d", cpu, mem, got, want)
			}
		}
	}
	for name, want := range map[string]string{"MediaCpu": "256", "MediaMemory": "512", "MediaDesiredCount": "1", "MediaArchitecture": "ARM64"} {
		if got := fmt.Sprint(get(t, params, name, "Default")); got != want {
			t.Errorf("%s: got default %v, want %v", name, got, want)
		}
	}

	// The references make image-push prints, and what is no reference.
	image := regexp.MustCompile(get(t, params, "MediaImage", "AllowedPattern").(string))
	for ref, want := range map[string]bool{
		"":                        true,
		mediaParams["MediaImage"]: true,
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/callbacks-mediarepository-x1y2z3:latest": true,
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/callbacks-mediarepository-x1y2z3":        false,
		"latest": false,
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo@sha256:abc":   false,
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:latest image": false,
	} {
		if got := image.MatchString(ref); got != want {
			t.Errorf("MediaImage %q: got accepted %v, want %v", ref, got, want)
		}
	}
	public := regexp.MustCompile(get(t, params, "MediaPublicSubnets", "AllowedPattern").(string))
	if public.MatchString("subnet-0123456789abcdef0") {
		t.Errorf("MediaPublicSubnets: got one subnet accepted, want two or more: a balancer needs two zones")
	}
}

// TestMediaTemplateTaskRole checks least privilege: the server may do what
// the receiver function may, and what a multipart upload needs besides, no
// more; and the calls the code makes need exactly those rights.
func TestMediaTemplateTaskRole(t *testing.T) {
	tmpl := template(t)
	role := get(t, tmpl, "Resources", "MediaTaskRole", "Properties").(map[string]any)
	checkTrust(t, role, "ecs-tasks.amazonaws.com")
	if _, ok := role["ManagedPolicyArns"]; ok {
		t.Error("the task role has managed policies")
	}
	policies := role["Policies"].([]any)
	if len(policies) != 1 {
		t.Fatalf("got %d policies, want 1", len(policies))
	}
	type grant struct {
		actions  []string
		resource any
	}
	grants := func(statements []any) []grant {
		var gs []grant
		for i, s := range statements {
			st := s.(map[string]any)
			if st["Effect"] != "Allow" || st["Condition"] != nil || st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("statement %d: got %v, want a plain Allow", i, st)
			}
			var actions []string
			switch a := st["Action"].(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
			gs = append(gs, grant{actions, st["Resource"]})
		}
		return gs
	}
	got := grants(get(t, policies[0], "PolicyDocument", "Statement").([]any))
	// The function's, but for its log and traces, which the task's execution
	// role and no daemon have.
	var want []grant
	for _, g := range grants(get(t, tmpl, "Resources", "CallbackRole", "Properties", "Policies", 0, "PolicyDocument", "Statement").([]any)) {
		if strings.HasPrefix(g.actions[0], "logs:") || strings.HasPrefix(g.actions[0], "xray:") {
			continue
		}
		if slices.Contains(g.actions, "s3:PutObject") {
			g.actions = append(g.actions, "s3:AbortMultipartUpload")
		}
		want = append(want, g)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want the function's (but its log and traces) with s3:AbortMultipartUpload: %v", got, want)
	}

	// The rights each call of server mode's store, queue and secret needs
	// (CreateMultipartUpload, UploadPart and CompleteMultipartUpload are
	// s3:PutObject's).
	rights := map[string]string{
		"PutObject": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
		"CompleteMultipartUpload": "s3:PutObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
		"SendMessage": "sqs:SendMessage", "GetSecretValue": "secretsmanager:GetSecretValue",
	}
	needed := map[string]bool{}
	for _, api := range []reflect.Type{
		reflect.TypeFor[s3store.PutObjectAPI](), reflect.TypeFor[s3store.MultipartAPI](),
		reflect.TypeFor[sqsqueue.SendMessageAPI](), reflect.TypeFor[awssecret.GetSecretValueAPI](),
	} {
		for i := range api.NumMethod() {
			m := api.Method(i).Name
			if rights[m] == "" {
				t.Errorf("%v.%s: a call this test does not know the right of: add it here and to MediaTaskRole", api, m)
			}
			needed[rights[m]] = true
		}
	}
	granted := map[string]bool{}
	for _, g := range got {
		for _, a := range g.actions {
			granted[a] = true
		}
	}
	if !reflect.DeepEqual(granted, needed) {
		t.Errorf("got actions %v, want those the code's calls need: %v", granted, needed)
	}

	def := get(t, tmpl, "Resources", "MediaTaskDefinition", "Properties").(map[string]any)
	for key, want := range map[string]any{
		"TaskRoleArn":      map[string]any{"Fn::GetAtt": "MediaTaskRole.Arn"},
		"ExecutionRoleArn": map[string]any{"Fn::GetAtt": "MediaExecutionRole.Arn"},
	} {
		if !reflect.DeepEqual(def[key], want) {
			t.Errorf("task definition %s: got %v, want %v", key, def[key], want)
		}
	}
}

// checkTrust checks that only service may assume the role.
func checkTrust(t *testing.T, role map[string]any, service string) {
	t.Helper()
	statements := get(t, role, "AssumeRolePolicyDocument", "Statement").([]any)
	if len(statements) != 1 {
		t.Fatalf("got trust %v, want one statement", statements)
	}
	st := statements[0].(map[string]any)
	if st["Effect"] != "Allow" || st["Action"] != "sts:AssumeRole" || !reflect.DeepEqual(st["Principal"], map[string]any{"Service": service}) {
		t.Errorf("got trust %v, want %s alone to assume it", st, service)
	}
}

// TestMediaTemplateExecutionRole checks what ECS starts a task with: the
// registry's token, a pull from the stack's repository alone, and writes to
// the task's log group alone.
func TestMediaTemplateExecutionRole(t *testing.T) {
	tmpl := template(t)
	role := get(t, tmpl, "Resources", "MediaExecutionRole", "Properties").(map[string]any)
	checkTrust(t, role, "ecs-tasks.amazonaws.com")
	// No managed policy: AmazonECSTaskExecutionRolePolicy pulls from every
	// repository.
	got := policyGrants(t, tmpl, "MediaExecutionRole")
	want := []grant{
		{"ecr:GetAuthorizationToken", "*"},
		{[]any{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}, map[string]any{"Fn::GetAtt": "MediaRepository.Arn"}},
		{[]any{"logs:CreateLogStream", "logs:PutLogEvents"}, map[string]any{"Fn::GetAtt": "MediaLogGroup.Arn"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got grants %v, want %v", got, want)
	}
	log := get(t, tmpl, "Resources", "MediaTaskDefinition", "Properties", "ContainerDefinitions", 0, "LogConfiguration").(map[string]any)
	if log["LogDriver"] != "awslogs" || !reflect.DeepEqual(get(t, log, "Options", "awslogs-group"), ref("MediaLogGroup")) {
		t.Errorf("got log configuration %v, want awslogs into MediaLogGroup", log)
	}
	if got, want := get(t, tmpl, "Resources", "MediaLogGroup", "Properties", "RetentionInDays"), ref("LogRetentionDays"); !reflect.DeepEqual(got, want) {
		t.Errorf("MediaLogGroup retention: got %v, want %v", got, want)
	}
}

// TestMediaTemplateSecurityGroups checks who reaches what: the balancer
// takes 443 and 80 from anywhere (AllowedSourceIps empty, the default; see
// TestMediaTemplateBalancerSources for the rest) and reaches the tasks on
// 8080 alone; the tasks take 8080 from the balancer alone, and reach out on
// 443 alone.
func TestMediaTemplateSecurityGroups(t *testing.T) {
	tmpl := template(t)
	resources := mediaResolve(t, tmpl, get(t, tmpl, "Resources"), mediaValues(t, tmpl, mediaParams)).(map[string]any)
	balancerSG := map[string]any{"Fn::GetAtt": "MediaBalancerSecurityGroup.GroupId"}
	taskSG := map[string]any{"Fn::GetAtt": "MediaTaskSecurityGroup.GroupId"}
	type rule struct {
		port int
		peer any
	}
	rules := func(list any, peerKeys ...string) []rule {
		var rs []rule
		for _, r := range list.([]any) {
			r := r.(map[string]any)
			if r["IpProtocol"] != "tcp" || r["FromPort"] != r["ToPort"] {
				t.Errorf("got rule %v, want one TCP port", r)
			}
			var peer any
			for _, k := range peerKeys {
				if v, ok := r[k]; ok {
					if peer != nil {
						t.Errorf("got rule %v, want one peer", r)
					}
					peer = v
				}
			}
			port, _ := r["FromPort"].(int)
			rs = append(rs, rule{port, peer})
		}
		return rs
	}
	peers := []string{"CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId", "DestinationPrefixListId"}
	for _, tc := range []struct {
		path []any
		want []rule
	}{
		{[]any{"MediaBalancerSecurityGroup", "Properties", "SecurityGroupIngress"}, []rule{{443, "0.0.0.0/0"}, {80, "0.0.0.0/0"}}},
		{[]any{"MediaBalancerSecurityGroup", "Properties", "SecurityGroupEgress"}, []rule{{8080, taskSG}}},
		{[]any{"MediaTaskSecurityGroup", "Properties", "SecurityGroupEgress"}, []rule{{443, "0.0.0.0/0"}}},
	} {
		if got := rules(get(t, resources, tc.path...), peers...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.path, got, tc.want)
		}
	}
	if got := get(t, resources, "MediaTaskSecurityGroup", "Properties", "SecurityGroupIngress"); got != nil {
		t.Errorf("the tasks' group: got inline ingress %v, want only MediaTaskIngress", got)
	}
	var taskIngress []rule
	for name, r := range resources {
		typ := get(t, r, "Type")
		if typ != "AWS::EC2::SecurityGroupIngress" && typ != "AWS::EC2::SecurityGroupEgress" {
			continue
		}
		props := get(t, r, "Properties").(map[string]any)
		if typ == "AWS::EC2::SecurityGroupEgress" || !reflect.DeepEqual(props["GroupId"], taskSG) {
			t.Errorf("%s: got a %v rule of %v, want only the tasks' ingress from the balancer", name, typ, props["GroupId"])
			continue
		}
		taskIngress = append(taskIngress, rules([]any{props}, peers...)...)
	}
	if want := []rule{{8080, balancerSG}}; !reflect.DeepEqual(taskIngress, want) {
		t.Errorf("the tasks' ingress: got %v, want %v", taskIngress, want)
	}
	if got := get(t, resources, "MediaBalancer", "Properties", "SecurityGroups"); !reflect.DeepEqual(got, []any{balancerSG}) {
		t.Errorf("the balancer's groups: got %v, want %v", got, []any{balancerSG})
	}
	if got := get(t, resources, "MediaService", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"); !reflect.DeepEqual(got, []any{taskSG}) {
		t.Errorf("the tasks' groups: got %v, want %v", got, []any{taskSG})
	}
	for _, sg := range []string{"MediaBalancerSecurityGroup", "MediaTaskSecurityGroup"} {
		if got := get(t, resources, sg, "Properties", "VpcId"); !reflect.DeepEqual(got, ref("MediaVpcId")) {
			t.Errorf("%s VpcId: got %v, want %v", sg, got, ref("MediaVpcId"))
		}
	}
}

// TestMediaTemplateSpeechmaticsEgress checks that the template's
// SpeechmaticsEgress mapping is internal/sourceip's table: the same regions,
// each with the same addresses, in order, as /32s under Ip1 to Ip5.
func TestMediaTemplateSpeechmaticsEgress(t *testing.T) {
	tmpl := template(t)
	got := map[string][]string{}
	for region, keys := range get(t, tmpl, "Mappings", "SpeechmaticsEgress").(map[string]any) {
		for i := range len(keys.(map[string]any)) {
			cidr, _ := get(t, keys, fmt.Sprintf("Ip%d", i+1)).(string)
			got[region] = append(got[region], cidr)
		}
	}
	want := map[string][]string{}
	for region, addrs := range sourceip.Regions() {
		for _, a := range addrs {
			want[region] = append(want[region], a+"/32")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got SpeechmaticsEgress %v, want internal/sourceip's addresses %v", got, want)
	}
}

// TestMediaTemplateBalancerSources checks what the balancer takes on 443
// for each kind of AllowedSourceIps: region names alone (separated by
// commas or spaces, as the server reads them) give exactly those regions'
// addresses; anything the template cannot expand (empty, a CIDR or an IP,
// a name in capitals) leaves 443 open to all, and the server's own check
// answers others 403. Port 80, which only redirects, stays open.
func TestMediaTemplateBalancerSources(t *testing.T) {
	tmpl := template(t)
	regions := sourceip.Regions()
	sg := get(t, tmpl, "Resources", "MediaBalancerSecurityGroup").(map[string]any)
	for _, tc := range []struct {
		sources string
		regions []string // nil: 443 open to all
	}{
		{"", nil},
		{"eu1", []string{"eu1"}},
		{"eu1, us1", []string{"eu1", "us1"}},
		{"eu1,us1", []string{"eu1", "us1"}},
		{"us2 au1", []string{"us2", "au1"}},
		{"eu2", []string{"eu2"}},
		{" eu1,eu2, us1 us2,au1 ", []string{"eu1", "eu2", "us1", "us2", "au1"}},
		{"eu1,203.0.113.0/24", nil},
		{"eu1 192.0.2.7", nil},
		{"203.0.113.0/24", nil},
		{"EU1", nil},
		{" , ", nil},
	} {
		t.Run(fmt.Sprintf("%q", tc.sources), func(t *testing.T) {
			params := mediaValues(t, tmpl, mediaParams, map[string]string{"AllowedSourceIps": tc.sources})
			if _, err := sourceip.Parse(tc.sources, true); err != nil {
				t.Fatalf("the server refuses AllowedSourceIps %q: %v", tc.sources, err)
			}
			if !mediaExists(t, tmpl, sg, params) {
				t.Fatal("got no balancer security group, want one")
			}
			got := map[int][]string{}
			ingress := mediaResolve(t, tmpl, get(t, sg, "Properties", "SecurityGroupIngress"), params).([]any)
			for _, r := range ingress {
				port, _ := get(t, r, "FromPort").(int)
				if get(t, r, "ToPort") != port || get(t, r, "IpProtocol") != "tcp" {
					t.Errorf("got rule %v, want one TCP port", r)
				}
				cidr, _ := get(t, r, "CidrIp").(string)
				got[port] = append(got[port], cidr)
			}
			want := map[int][]string{80: {"0.0.0.0/0"}, 443: {"0.0.0.0/0"}}
			if tc.regions != nil {
				want[443] = nil
				for _, region := range tc.regions {
					for _, a := range regions[region] {
						want[443] = append(want[443], a+"/32")
					}
				}
			}
			sort.Strings(got[443])
			sort.Strings(want[443])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if len(ingress) > 60 {
				t.Errorf("got %d inbound rules, want at most a security group's 60", len(ingress))
			}
		})
	}

	// With MediaReceiver=none, neither the group nor any of its rules.
	for _, sources := range []string{"", "eu1", "eu1, us1"} {
		params := mediaValues(t, tmpl, map[string]string{"AllowedSourceIps": sources})
		if mediaExists(t, tmpl, sg, params) {
			t.Errorf("AllowedSourceIps %q, MediaReceiver=none: got the balancer's group, want none", sources)
		}
		for name := range get(t, tmpl, "Conditions").(map[string]any) {
			if strings.HasPrefix(name, "Media") && mediaEval(t, tmpl, map[string]any{"Condition": name}, params).(bool) {
				t.Errorf("AllowedSourceIps %q, MediaReceiver=none: got condition %s true, want every media condition false", sources, name)
			}
		}
	}
}

// TestMediaTemplateListeners checks the balancer's doors: HTTPS with the
// certificate, where POST and PUT /callback alone reach the server (not its
// /healthz or /metrics), and HTTP, which only redirects to HTTPS.
func TestMediaTemplateListeners(t *testing.T) {
	tmpl := template(t)
	resources := get(t, tmpl, "Resources").(map[string]any)
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"MediaHttpsListener", "Properties", "LoadBalancerArn"}, ref("MediaBalancer")},
		{[]any{"MediaHttpsListener", "Properties", "Protocol"}, "HTTPS"},
		{[]any{"MediaHttpsListener", "Properties", "Port"}, 443},
		{[]any{"MediaHttpsListener", "Properties", "Certificates"}, []any{map[string]any{"CertificateArn": ref("MediaCertificateArn")}}},
		{[]any{"MediaHttpsListener", "Properties", "DefaultActions"}, []any{map[string]any{"Type": "fixed-response",
			"FixedResponseConfig": map[string]any{"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "not found"}}}},
		{[]any{"MediaCallbackRule", "Properties", "ListenerArn"}, ref("MediaHttpsListener")},
		{[]any{"MediaCallbackRule", "Properties", "Conditions"}, []any{
			map[string]any{"Field": "path-pattern", "PathPatternConfig": map[string]any{"Values": []any{"/callback"}}},
			map[string]any{"Field": "http-request-method", "HttpRequestMethodConfig": map[string]any{"Values": []any{"POST", "PUT"}}},
		}},
		{[]any{"MediaCallbackRule", "Properties", "Actions"}, []any{map[string]any{"Type": "forward", "TargetGroupArn": ref("MediaTargetGroup")}}},
		{[]any{"MediaHttpListener", "Properties", "LoadBalancerArn"}, ref("MediaBalancer")},
		{[]any{"MediaHttpListener", "Properties", "Protocol"}, "HTTP"},
		{[]any{"MediaHttpListener", "Properties", "Port"}, 80},
		{[]any{"MediaHttpListener", "Properties", "DefaultActions"}, []any{map[string]any{"Type": "redirect",
			"RedirectConfig": map[string]any{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}}},
	}
	for _, c := range checks {
		if got := get(t, resources, c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.path, got, c.want)
		}
	}
	if p, _ := get(t, resources, "MediaHttpsListener", "Properties", "SslPolicy").(string); !strings.Contains(p, "TLS13") {
		t.Errorf("SslPolicy: got %q, want a TLS 1.3 policy", p)
	}
	var listeners, rules []string
	for name, r := range resources {
		switch get(t, r, "Type") {
		case "AWS::ElasticLoadBalancingV2::Listener":
			listeners = append(listeners, name)
		case "AWS::ElasticLoadBalancingV2::ListenerRule":
			rules = append(rules, name)
		}
	}
	sort.Strings(listeners)
	if want := []string{"MediaHttpListener", "MediaHttpsListener"}; !reflect.DeepEqual(listeners, want) {
		t.Errorf("got listeners %v, want %v", listeners, want)
	}
	if want := []string{"MediaCallbackRule"}; !reflect.DeepEqual(rules, want) {
		t.Errorf("got listener rules %v, want %v: HTTP only redirects", rules, want)
	}
}

// TestMediaTemplateBalancer checks the balancer, its target group and the
// service: the health check on the server's /healthz and port, the idle
// timeout from its parameter, the caller's address appended for
// TRUSTED_PROXIES, and a service that rolls back a failing deployment.
func TestMediaTemplateBalancer(t *testing.T) {
	tmpl := template(t)
	resources := get(t, tmpl, "Resources").(map[string]any)
	container := get(t, resources, "MediaTaskDefinition", "Properties", "ContainerDefinitions", 0).(map[string]any)
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"MediaBalancer", "Properties", "Type"}, "application"},
		{[]any{"MediaBalancer", "Properties", "Scheme"}, "internet-facing"},
		{[]any{"MediaBalancer", "Properties", "Subnets"}, map[string]any{"Fn::Split": []any{",", ref("MediaPublicSubnets")}}},
		{[]any{"MediaTargetGroup", "Properties", "TargetType"}, "ip"},
		{[]any{"MediaTargetGroup", "Properties", "Protocol"}, "HTTP"},
		{[]any{"MediaTargetGroup", "Properties", "Port"}, 8080},
		{[]any{"MediaTargetGroup", "Properties", "VpcId"}, ref("MediaVpcId")},
		{[]any{"MediaTargetGroup", "Properties", "HealthCheckPath"}, "/healthz"},
		{[]any{"MediaTargetGroup", "Properties", "HealthCheckPort"}, "traffic-port"},
		{[]any{"MediaTargetGroup", "Properties", "Matcher"}, map[string]any{"HttpCode": "200"}},
		{[]any{"MediaService", "Properties", "Cluster"}, ref("MediaCluster")},
		{[]any{"MediaService", "Properties", "TaskDefinition"}, ref("MediaTaskDefinition")},
		{[]any{"MediaService", "Properties", "LaunchType"}, "FARGATE"},
		{[]any{"MediaService", "Properties", "DesiredCount"}, ref("MediaDesiredCount")},
		{[]any{"MediaService", "Properties", "DeploymentConfiguration", "DeploymentCircuitBreaker"}, map[string]any{"Enable": true, "Rollback": true}},
		{[]any{"MediaService", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "Subnets"}, map[string]any{"Fn::Split": []any{",", ref("MediaSubnets")}}},
		{[]any{"MediaService", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp"}, ref("MediaAssignPublicIp")},
		{[]any{"MediaService", "Properties", "LoadBalancers"}, []any{map[string]any{
			"ContainerName": container["Name"], "ContainerPort": 8080, "TargetGroupArn": ref("MediaTargetGroup")}}},
		{[]any{"MediaService", "DependsOn"}, "MediaCallbackRule"},
		{[]any{"MediaTaskDefinition", "Properties", "ContainerDefinitions", 0, "PortMappings"}, []any{map[string]any{"ContainerPort": 8080, "Protocol": "tcp"}}},
	}
	for _, c := range checks {
		if got := get(t, resources, c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.path, got, c.want)
		}
	}
	if g, _ := get(t, resources, "MediaService", "Properties", "HealthCheckGracePeriodSeconds").(int); g <= 0 {
		t.Errorf("HealthCheckGracePeriodSeconds: got %v, want some", g)
	}

	attrs := map[string]any{}
	for _, a := range get(t, resources, "MediaBalancer", "Properties", "LoadBalancerAttributes").([]any) {
		attrs[get(t, a, "Key").(string)] = get(t, a, "Value")
	}
	for key, want := range map[string]any{
		"idle_timeout.timeout_seconds":                    ref("MediaIdleTimeout"),
		"routing.http.xff_header_processing.mode":         "append",
		"routing.http.drop_invalid_header_fields.enabled": "true",
	} {
		if !reflect.DeepEqual(attrs[key], want) {
			t.Errorf("balancer attribute %s: got %v, want %v", key, attrs[key], want)
		}
	}
	idle := get(t, tmpl, "Parameters", "MediaIdleTimeout").(map[string]any)
	if got, want := []any{idle["Type"], idle["Default"], idle["MinValue"], idle["MaxValue"]}, []any{"Number", 900, 1, 4000}; !reflect.DeepEqual(got, want) {
		t.Errorf("MediaIdleTimeout type, default, minimum, maximum: got %v, want %v", got, want)
	}
}

// TestMediaTemplateTaskDefinition checks the task: Fargate on arm64 by
// default, the size from its parameters, the image by reference, and a
// read-only root: server mode needs no disk.
func TestMediaTemplateTaskDefinition(t *testing.T) {
	tmpl := template(t)
	def := get(t, tmpl, "Resources", "MediaTaskDefinition", "Properties").(map[string]any)
	checks := []struct {
		key  []any
		want any
	}{
		{[]any{"RequiresCompatibilities"}, []any{"FARGATE"}},
		{[]any{"NetworkMode"}, "awsvpc"},
		{[]any{"Cpu"}, ref("MediaCpu")},
		{[]any{"Memory"}, ref("MediaMemory")},
		{[]any{"RuntimePlatform"}, map[string]any{"CpuArchitecture": ref("MediaArchitecture"), "OperatingSystemFamily": "LINUX"}},
		{[]any{"ContainerDefinitions", 0, "Image"}, map[string]any{"Fn::If": []any{"HasMediaImage", ref("MediaImage"),
			map[string]any{"Fn::Sub": "${MediaRepository.RepositoryUri}:latest"}}}},
		{[]any{"ContainerDefinitions", 0, "Essential"}, true},
		{[]any{"ContainerDefinitions", 0, "ReadonlyRootFilesystem"}, true},
		// Writable /tmp on the task's own storage, for the parts that spill.
		{[]any{"Volumes"}, []any{map[string]any{"Name": "tmp"}}},
		{[]any{"ContainerDefinitions", 0, "MountPoints"}, []any{map[string]any{"SourceVolume": "tmp", "ContainerPath": "/tmp"}}},
	}
	for _, c := range checks {
		if got := get(t, def, c.key...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.key, got, c.want)
		}
	}
	if got := get(t, def, "ContainerDefinitions").([]any); len(got) != 1 {
		t.Errorf("got %d containers, want 1", len(got))
	}
	// Long enough for the server to finish the callbacks in flight (25 s).
	if s, _ := get(t, def, "ContainerDefinitions", 0, "StopTimeout").(int); s <= 25 || s > 120 {
		t.Errorf("StopTimeout: got %v, want above 25 s and at most Fargate's 120", s)
	}
	if got, want := get(t, tmpl, "Parameters", "MediaArchitecture", "AllowedValues"), []any{"ARM64", "X86_64"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MediaArchitecture: got values %v, want %v", got, want)
	}

	repo := get(t, tmpl, "Resources", "MediaRepository").(map[string]any)
	if got := get(t, repo, "Properties", "ImageScanningConfiguration", "ScanOnPush"); got != true {
		t.Errorf("ScanOnPush: got %v, want true", got)
	}
	if got := []any{repo["DeletionPolicy"], get(t, repo, "Properties", "EmptyOnDelete")}; !reflect.DeepEqual(got, []any{"Delete", true}) {
		t.Errorf("DeletionPolicy, EmptyOnDelete: got %v, want the repository and its images deleted with the stack", got)
	}
	var lifecycle struct {
		Rules []struct {
			Selection struct {
				TagStatus, CountType string
				CountNumber          int
			}
			Action struct{ Type string }
		}
	}
	if err := json.Unmarshal([]byte(get(t, repo, "Properties", "LifecyclePolicy", "LifecyclePolicyText").(string)), &lifecycle); err != nil {
		t.Fatalf("the lifecycle policy is no JSON: %v", err)
	}
	if len(lifecycle.Rules) != 1 || lifecycle.Rules[0].Selection.CountType != "imageCountMoreThan" || lifecycle.Rules[0].Selection.CountNumber < 2 ||
		lifecycle.Rules[0].Action.Type != "expire" {
		t.Errorf("got lifecycle %+v, want a few newest images kept, the rest expired", lifecycle)
	}
}

// TestMediaTemplateEnvironment checks that the task's environment is the
// function's, plus where to listen and whose X-Forwarded-For to believe;
// that the code reads every variable of it; and that with it server mode
// starts, listening where the balancer reaches it and trusting the VPC.
func TestMediaTemplateEnvironment(t *testing.T) {
	tmpl := template(t)
	vars := map[string]any{}
	for _, e := range get(t, tmpl, "Resources", "MediaTaskDefinition", "Properties", "ContainerDefinitions", 0, "Environment").([]any) {
		name := get(t, e, "Name").(string)
		if _, ok := vars[name]; ok {
			t.Errorf("%s: got it twice", name)
		}
		vars[name] = get(t, e, "Value")
	}

	read := map[string]bool{}
	config.Load(func(k string) string { read[k] = true; return "" })
	for name := range vars {
		if !read[name] {
			t.Errorf("the task sets %s, which the code never reads", name)
		}
	}

	fn := get(t, tmpl, "Resources", "CallbackFunction", "Properties", "Environment", "Variables").(map[string]any)
	want := map[string]any{"LISTEN_ADDR": "0.0.0.0:8080", "TRUSTED_PROXIES": ref("MediaVpcCidr"),
		"KEEPALIVE_TIMEOUT": map[string]any{"Fn::Sub": "${MediaIdleTimeout}s5s"}}
	for name, v := range fn {
		want[name] = v
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("got environment %v, want the function's plus LISTEN_ADDR, TRUSTED_PROXIES and KEEPALIVE_TIMEOUT: %v", vars, want)
	}

	// References to parameters take their values in a deploy with the media
	// receiver; other references stand for a resource's name. No
	// AWS_LAMBDA_RUNTIME_API: server mode.
	params := mediaValues(t, tmpl, mediaParams)
	env := map[string]string{}
	for name, v := range vars {
		env[name] = "resolved-" + strings.ToLower(name)
		if s, ok := v.(string); ok {
			env[name] = s
		} else if r, ok := v.(map[string]any)["Ref"].(string); ok {
			if p, ok := params[r]; ok {
				env[name] = p
			}
		} else if sub, ok := v.(map[string]any)["Fn::Sub"].(string); ok {
			env[name] = strings.ReplaceAll(sub, "${MediaIdleTimeout}", params["MediaIdleTimeout"])
		}
	}
	for _, sources := range []string{env["ALLOWED_SOURCE_IPS"], "eu1,us1"} {
		env["ALLOWED_SOURCE_IPS"] = sources
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("ALLOWED_SOURCE_IPS %q: the task's environment does not start server mode: %v", sources, err)
		}
		if cfg.Lambda || cfg.Local() || cfg.AuthSecretID == "" {
			t.Errorf("got Lambda %v, local sinks %v, secret %q; want server mode on S3 and SQS with the auth secret", cfg.Lambda, cfg.Local(), cfg.AuthSecretID)
		}
		idle, err := strconv.Atoi(params["MediaIdleTimeout"])
		if err != nil {
			t.Fatal(err)
		}
		if balancer := time.Duration(idle) * time.Second; cfg.KeepAliveTimeout <= balancer {
			t.Errorf("KEEPALIVE_TIMEOUT: got %v, want longer than the balancer's idle timeout, %v", cfg.KeepAliveTimeout, balancer)
		}
		if cfg.ListenAddr != "0.0.0.0:8080" {
			t.Errorf("LISTEN_ADDR: got %v, want 0.0.0.0:8080, where the target group sends", cfg.ListenAddr)
		}
		if !cfg.TrustedProxies.Contains("10.0.3.17") || cfg.TrustedProxies.Contains("203.0.113.9") {
			t.Errorf("TRUSTED_PROXIES: got %v, want the VPC's addresses alone", cfg.TrustedProxies)
		}
	}
	for _, secretish := range []string{"AUTH_HEADERS", "AUTH_DISABLED"} {
		if _, ok := vars[secretish]; ok {
			t.Errorf("the task sets %s: the token belongs in Secrets Manager, and auth is never off", secretish)
		}
	}
}

// TestMediaTemplateAlarms checks the media receiver's alarms: what each
// watches and when it fires; they page the alarm topic, exist only while
// tasks run, and say what to do.
func TestMediaTemplateAlarms(t *testing.T) {
	tmpl := template(t)
	tg := map[string]any{"Name": "TargetGroup", "Value": map[string]any{"Fn::GetAtt": "MediaTargetGroup.TargetGroupFullName"}}
	lb := map[string]any{"Name": "LoadBalancer", "Value": map[string]any{"Fn::GetAtt": "MediaBalancer.LoadBalancerFullName"}}
	tests := []struct {
		alarm, metric, stat string
		dims                []any
		threshold           int
		comparison          string
	}{
		{"MediaNoHealthyTaskAlarm", "HealthyHostCount", "Minimum", []any{tg, lb}, 1, "LessThanThreshold"},
		{"MediaUnhealthyTasksAlarm", "UnHealthyHostCount", "Maximum", []any{tg, lb}, 0, "GreaterThanThreshold"},
		{"MediaBalancerErrorsAlarm", "HTTPCode_ELB_5XX_Count", "Sum", []any{lb}, 1, "GreaterThanOrEqualToThreshold"},
		{"MediaServerErrorsAlarm", "HTTPCode_Target_5XX_Count", "Sum", []any{tg, lb}, 1, "GreaterThanOrEqualToThreshold"},
	}
	checked := map[string]bool{}
	for _, tc := range tests {
		checked[tc.alarm] = true
		t.Run(tc.alarm, func(t *testing.T) {
			alarm := get(t, tmpl, "Resources", tc.alarm).(map[string]any)
			if got := alarm["Condition"]; got != "HasMediaTasks" {
				t.Errorf("Condition: got %v, want HasMediaTasks", got)
			}
			props := alarm["Properties"].(map[string]any)
			for _, f := range []struct {
				key  string
				want any
			}{
				{"Namespace", "AWS/ApplicationELB"}, {"MetricName", tc.metric}, {"Statistic", tc.stat}, {"Period", 300},
				{"EvaluationPeriods", 1}, {"Threshold", tc.threshold}, {"ComparisonOperator", tc.comparison},
				{"Dimensions", tc.dims}, {"AlarmActions", []any{ref("AlarmTopic")}}, {"TreatMissingData", "notBreaching"},
			} {
				if got := props[f.key]; !reflect.DeepEqual(got, f.want) {
					t.Errorf("%s: got %v, want %v", f.key, got, f.want)
				}
			}
			if d, _ := props["AlarmDescription"].(string); len(d) < 100 {
				t.Errorf("AlarmDescription: got %q, want what it means and what to do", d)
			}
		})
	}
	for name, r := range get(t, tmpl, "Resources").(map[string]any) {
		if strings.HasPrefix(name, "Media") && get(t, r, "Type") == "AWS::CloudWatch::Alarm" && !checked[name] {
			t.Errorf("%s: got an alarm this test does not check, want it in the table", name)
		}
	}
}

// TestMediaTemplateDashboard checks the media receiver's dashboard: JSON
// once resolved, and every graph of the balancer's, the target group's or
// the service's figures, among them what the alarms watch.
func TestMediaTemplateDashboard(t *testing.T) {
	tmpl := template(t)
	dash := get(t, tmpl, "Resources", "MediaDashboard").(map[string]any)
	if !strings.Contains(toJSON(t, get(t, dash, "Properties", "DashboardName")), "AWS::StackName") {
		t.Errorf("DashboardName: got %v, want one derived from the stack name", get(t, dash, "Properties", "DashboardName"))
	}
	body, ok := get(t, dash, "Properties", "DashboardBody", "Fn::Sub").(string)
	if !ok {
		t.Fatalf("got DashboardBody %v, want !Sub of a string", get(t, dash, "Properties", "DashboardBody"))
	}
	ours := map[string]bool{
		"<MediaTargetGroup.TargetGroupFullName>": true, "<MediaBalancer.LoadBalancerFullName>": true,
		"<MediaCluster>": true, "<MediaService.Name>": true,
	}
	shown := map[string]bool{}
	for _, m := range dashboardMetrics(t, substitute(body, nil)) {
		if m.namespace != "AWS/ApplicationELB" && m.namespace != "AWS/ECS" {
			t.Errorf("widget %q, %s: got namespace %s, want the balancer's or ECS's", m.widget, m.name, m.namespace)
		}
		if len(m.dims) == 0 {
			t.Errorf("widget %q, %s: got no dimensions", m.widget, m.name)
		}
		for d, v := range m.dims {
			if !ours[v] {
				t.Errorf("widget %q, %s: got %s %s, want one of the media receiver's", m.widget, m.name, d, v)
			}
		}
		shown[m.name] = true
	}
	for name, r := range get(t, tmpl, "Resources").(map[string]any) {
		if strings.HasPrefix(name, "Media") && get(t, r, "Type") == "AWS::CloudWatch::Alarm" {
			if metric := get(t, r, "Properties", "MetricName").(string); !shown[metric] {
				t.Errorf("%s watches %s: got it on no graph, want it shown", name, metric)
			}
		}
	}
}

// TestMediaTemplateOutputs checks the outputs a user needs: the URL for the
// media's notification entry, the name its CNAME points at, and the
// repository make image-push pushes to.
func TestMediaTemplateOutputs(t *testing.T) {
	tmpl := template(t)
	for name, want := range map[string]any{
		"MediaCallbackUrl":     map[string]any{"Fn::Sub": "https://${MediaDomainName}/callback"},
		"MediaBalancerDnsName": map[string]any{"Fn::GetAtt": "MediaBalancer.DNSName"},
		"MediaRepositoryUri":   map[string]any{"Fn::GetAtt": "MediaRepository.RepositoryUri"},
	} {
		out := get(t, tmpl, "Outputs", name).(map[string]any)
		if !reflect.DeepEqual(out["Value"], want) {
			t.Errorf("%s: got %v, want %v", name, out["Value"], want)
		}
		if out["Condition"] != "HasMediaReceiver" {
			t.Errorf("%s: got condition %v, want HasMediaReceiver", name, out["Condition"])
		}
	}
	// The media receiver serves the same path as the function.
	if got := get(t, tmpl, "Outputs", "CallbackUrl", "Value", "Fn::If", 1, "Fn::Sub").(string); !strings.HasSuffix(got, "/callback") {
		t.Errorf("CallbackUrl: got %v, want it on /callback like MediaCallbackUrl", got)
	}
}
