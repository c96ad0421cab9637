package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoOtherFunction keeps the receiver's binary free of the other
// functions' packages, so that each can be removed by deleting its folders
// and template resources.
func TestLinksNoOtherFunction(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, other := range []string{"assembler", "s3manifest", "sqsannounce", "sqsbatch", "reconcile", "jobsapi"} {
			if strings.HasPrefix(pkg, "smcallbacks/") && strings.Contains(pkg, other) {
				t.Errorf("the receiver links %s", pkg)
			}
		}
	}
}
