package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/config"
)

// makeIn runs make in the repository with args, in env (the test's own when
// nil), and returns its output and exit status.
func makeIn(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "--no-print-directory"}, args...)...)
	cmd.Dir = callbacktest.Root()
	if env == nil {
		env = cleanEnv()
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if e, ok := err.(*exec.ExitError); ok {
		return string(out), e.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestMakeTargets runs or dry-runs the targets a newcomer reaches for and
// checks that each says what it does, and fails with a message that says
// what to do.
func TestMakeTargets(t *testing.T) {
	noAWS := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "GOCACHE=" + goEnv(t, "GOCACHE"), "GOPATH=" + goEnv(t, "GOPATH")}
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantExit int
		want     []string
		notWant  []string
	}{
		// -B -n prints what a fresh machine would run.
		{"tools says what it installs and how long it takes", nil, []string{"-B", "-n", "tools"}, 0,
			[]string{"tools: installing moto, aws-sam-cli and cfn-lint", "about 3 minutes", "pip install", "--progress-bar on", "go install -v"},
			[]string{"--quiet"}},
		{"build-local counts packages", nil, []string{"-B", "-n", "build-local"}, 0,
			[]string{"the first build compiles the AWS SDK", "go build -v", "packages built"}, nil},
		{"invoke names a missing event file", nil, []string{"invoke", "EVENT=events/typo.json"}, 2,
			[]string{"no such file: events/typo.json"}, []string{"unsupported event", "JSON"}},
		{"invoke refuses an unknown function", nil, []string{"invoke", "FUNCTION=nope"}, 2,
			[]string{"FUNCTION=nope: want callback or assembler"}, nil},
		{"deploy without a region says how to give one", noAWS, []string{"deploy"}, 2,
			[]string{"make deploy needs an AWS region", "sam deploy --guided", "REGION=eu-west-1"}, []string{"sam build"}},
		{"logs tails the stack's functions", nil, []string{"-n", "logs", "REGION=eu-west-1"}, 0,
			[]string{"sam logs --config-env default --region eu-west-1 --tail"}, nil},
		{"delete says the bucket stays", nil, []string{"-n", "delete", "REGION=eu-west-1"}, 0,
			[]string{"bucket and every transcript in it stay", "sam delete --config-env default --region eu-west-1"}, nil},
		{"image-push pushes with the caller's credentials", nil, []string{"-n", "image-push", "REGION=eu-west-1", "REPOSITORY=123456789012.dkr.ecr.eu-west-1.amazonaws.com/cb"}, 0,
			[]string{"AWS_REGION=eu-west-1 go run ./scripts/image push -image bin/image.tar -repository 123456789012.dkr.ecr.eu-west-1.amazonaws.com/cb"}, nil},
		{"clean removes the project's own folders only", nil, []string{"-n", "clean", "LOCAL_DIR=/srv/callbacks"}, 0,
			[]string{"rm -rf bin .local .aws-sam"}, []string{"/srv/callbacks"}},
		{"a region from the environment", append(noAWS, "AWS_REGION=ap-southeast-2"), []string{"-n", "logs"}, 0,
			[]string{"--region ap-southeast-2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, exit := makeIn(t, tt.env, tt.args...)
			if exit != tt.wantExit {
				t.Errorf("make %s: got exit status %d, want %d\n%s", strings.Join(tt.args, " "), exit, tt.wantExit, out)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("make %s: got %s, want it to say %q", strings.Join(tt.args, " "), out, want)
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(out, bad) {
					t.Errorf("make %s: got %s, want no %q", strings.Join(tt.args, " "), out, bad)
				}
			}
		})
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestReadmeDocumentsTheInterface checks that README names every make
// target meant for people, every setting of the receiver, and what a
// newcomer must know before deploying.
func TestReadmeDocumentsTheInterface(t *testing.T) {
	root := callbacktest.Root()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	phony := regexp.MustCompile(`(?m)^\.PHONY: (.*)$`).FindSubmatch(makefile)
	if phony == nil {
		t.Fatal("the Makefile has no .PHONY line")
	}
	for _, target := range strings.Fields(string(phony[1])) {
		// Called by sam build, or by other targets: not for people.
		if strings.HasPrefix(target, "build-") && strings.HasSuffix(target, "Function") || target == "region" {
			continue
		}
		if !strings.Contains(string(readme), "make "+target) {
			t.Errorf("README does not show make %s", target)
		}
	}
	for _, v := range config.Variables {
		if !strings.Contains(string(readme), "`"+v.Name+"`") {
			t.Errorf("README does not document %s", v.Name)
		}
	}
	for _, want := range []string{
		"A region is needed", "sam local start-api", "Docker", "make invoke FUNCTION=assembler",
		"DomainName", "CertificateArn", "```mermaid",
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README does not say %q", want)
		}
	}
}
