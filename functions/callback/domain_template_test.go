package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"smcallbacks/internal/callback/callbacktest"
)

// TestTemplateCustomDomain checks the optional custom domain: it exists
// only with both DomainName and CertificateArn, it maps the HTTP API's
// stage, and the URL that jobs are given and the one the reconciler looks
// for are the same, on the domain when there is one.
func TestTemplateCustomDomain(t *testing.T) {
	tmpl := template(t)
	ref := func(name string) any { return map[string]any{"Ref": name} }
	notEmpty := func(name string) any {
		return map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref(name), ""}}}}
	}
	if got, want := get(t, tmpl, "Conditions", "HasCustomDomain"), map[string]any{"Fn::And": []any{notEmpty("DomainName"), notEmpty("CertificateArn")}}; !reflect.DeepEqual(got, want) {
		t.Errorf("HasCustomDomain: got %v, want %v", got, want)
	}
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"Resources", "CallbackDomain", "Condition"}, "HasCustomDomain"},
		{[]any{"Resources", "CallbackDomain", "Properties", "DomainName"}, ref("DomainName")},
		{[]any{"Resources", "CallbackDomain", "Properties", "DomainNameConfigurations", 0, "CertificateArn"}, ref("CertificateArn")},
		{[]any{"Resources", "CallbackDomain", "Properties", "DomainNameConfigurations", 0, "EndpointType"}, "REGIONAL"},
		{[]any{"Resources", "CallbackDomainMapping", "Condition"}, "HasCustomDomain"},
		{[]any{"Resources", "CallbackDomainMapping", "Properties", "ApiId"}, ref("CallbackApi")},
		{[]any{"Resources", "CallbackDomainMapping", "Properties", "DomainName"}, ref("CallbackDomain")},
		{[]any{"Resources", "CallbackDomainMapping", "Properties", "Stage"}, "$default"},
		{[]any{"Outputs", "CustomDomainTarget", "Condition"}, "HasCustomDomain"},
		{[]any{"Outputs", "CallbackUrl", "Value"}, map[string]any{"Fn::If": []any{"HasCustomDomain",
			map[string]any{"Fn::Sub": "https://${DomainName}/callback"},
			map[string]any{"Fn::Sub": "https://${CallbackApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/callback"}}}},
		// The reconciler recognises our jobs by the URL they were given.
		{[]any{"Resources", "ReconcilerFunction", "Properties", "Environment", "Variables", "RECONCILE_CALLBACK_URL"},
			get(t, tmpl, "Outputs", "CallbackUrl", "Value")},
	}
	for _, c := range checks {
		if got := get(t, tmpl, c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.path, got, c.want)
		}
	}
	for _, p := range []string{"DomainName", "CertificateArn"} {
		if d := get(t, tmpl, "Parameters", p, "Default"); d != "" {
			t.Errorf("%s: got default %v, want empty: the domain is optional", p, d)
		}
	}
}

// TestNoPlaceholderAlarmEmail keeps a placeholder address out of the
// shipped settings, and has the template refuse one: a deploy would
// subscribe it, and nobody would get the alarms.
func TestNoPlaceholderAlarmEmail(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(callbacktest.Root(), "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, "AlarmEmail=") {
			t.Errorf("samconfig.toml sets AlarmEmail: %s; the guided deploy asks for it", line)
		}
	}
	// CloudFormation's patterns are Java's, with look-ahead: Python's re
	// reads this one alike.
	pattern := get(t, template(t), "Parameters", "AlarmEmail", "AllowedPattern").(string)
	for email, want := range map[string]bool{
		"": true, "oncall@acme.io": true, "ops@mail.example.org.uk": true,
		"oncall@example.com": false, "x@example.org": false, "not-an-address": false, "a@b@c.d": false,
	} {
		err := exec.Command("python3", "-c", "import re, sys; sys.exit(0 if re.fullmatch(sys.argv[1], sys.argv[2]) else 1)", pattern, email).Run()
		if got := err == nil; got != want {
			t.Errorf("AlarmEmail %q: got accepted %v, want %v", email, got, want)
		}
	}
}
