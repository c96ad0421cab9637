package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestAuthenticateIsConstantTime guards the comparison of secrets: it fails
// if Checker.Authenticate stops calling subtle.ConstantTimeCompare, or
// compares anything but a count with == or !=, or calls a comparison that
// returns early (bytes.Equal, strings.EqualFold, …).
func TestAuthenticateIsConstantTime(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "auth.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fn *ast.FuncDecl
	for _, d := range file.Decls {
		if f, ok := d.(*ast.FuncDecl); ok && f.Name.Name == "Authenticate" && f.Recv != nil {
			if star, ok := f.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "Checker" {
				fn = f
			}
		}
	}
	if fn == nil {
		t.Fatal("(*Checker).Authenticate not found in auth.go")
	}
	usesSubtle := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				pkg, _ := sel.X.(*ast.Ident)
				if pkg != nil && pkg.Name == "subtle" && sel.Sel.Name == "ConstantTimeCompare" {
					usesSubtle = true
				}
				if pkg != nil && (pkg.Name == "bytes" || pkg.Name == "strings" || pkg.Name == "reflect" || pkg.Name == "slices") {
					t.Errorf("Authenticate calls %s.%s: compare secrets with subtle.ConstantTimeCompare", pkg.Name, sel.Sel.Name)
				}
			}
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				if !isCountOrConst(n.X) && !isCountOrConst(n.Y) {
					t.Errorf("Authenticate compares with %s: compare secrets with subtle.ConstantTimeCompare", n.Op)
				}
			}
		}
		return true
	})
	if !usesSubtle {
		t.Error("Authenticate does not call subtle.ConstantTimeCompare")
	}
}

// isCountOrConst reports whether e is a literal, nil, or a call to len.
func isCountOrConst(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil"
	case *ast.CallExpr:
		id, ok := e.Fun.(*ast.Ident)
		return ok && id.Name == "len"
	}
	return false
}
