package sqsannounce

import (
	"os"
	"testing"

	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }
