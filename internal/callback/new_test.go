package callback_test

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strings"
	"testing"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

func TestNewRefusesMissingDependencies(t *testing.T) {
	store, queue, checker := &callbacktest.Store{}, &callbacktest.Queue{}, auth.Disabled{}
	tests := []struct {
		name    string
		cfg     callback.Config
		missing []string
	}{
		{"none missing", callback.Config{Auth: checker, Store: store, Queue: queue}, nil},
		{"no authenticator", callback.Config{Store: store, Queue: queue}, []string{"Authenticator"}},
		{"nothing", callback.Config{}, []string{"Authenticator", "ObjectStore", "EventQueue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := callback.New(tt.cfg)
			if (err == nil) != (tt.missing == nil) || (err == nil) != (svc != nil) {
				t.Fatalf("got %v, %v, want missing %v", svc, err, tt.missing)
			}
			for _, m := range tt.missing {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("got %q, want it to name %s", err, m)
				}
			}
		})
	}
}

// TestFunctionsAreShort keeps every function of the package under 50
// lines, so that each reads at once.
func TestFunctionsAreShort(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n >= 50 {
					t.Errorf("%s: %s has %d lines, want under 50", name, fd.Name.Name, n)
				}
			}
		}
	}
}
