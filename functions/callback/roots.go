//go:build fallbackroots

package main

// The container image (make image) runs on an empty base, with no system
// certificate authorities: the binary carries Go's copy of the Mozilla
// roots, used only when the system has none. The Lambda build leaves it out:
// Lambda's runtime has the system's, and the roots cost init time.
import _ "golang.org/x/crypto/x509roots/fallback"
