package config

import (
	"errors"
	"fmt"
	"strings"

	"smcallbacks/internal/callback"
)

// Assembler is every setting of the assembler function.
type Assembler struct {
	BucketName     string
	KeyPrefix      string
	OutputQueueURL string
	// ExpectedContents complete a job, as callback events name them.
	ExpectedContents []string
	Observability
}

// LoadAssembler reads the assembler's configuration through getenv. Its
// error names every missing or invalid variable at once.
func LoadAssembler(getenv func(string) string) (*Assembler, error) {
	c := &Assembler{
		BucketName:     getenv("BUCKET_NAME"),
		KeyPrefix:      getenv("KEY_PREFIX"),
		OutputQueueURL: getenv("OUTPUT_QUEUE_URL"),
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.BucketName == "" {
		bad("BUCKET_NAME: required")
	}
	if c.OutputQueueURL == "" {
		bad("OUTPUT_QUEUE_URL: required")
	}
	if err := checkKeyPrefix(c.KeyPrefix); err != nil {
		bad("KEY_PREFIX: %v", err)
	}
	for _, name := range strings.Split(getenv("EXPECTED_CONTENTS"), ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !callback.IsContent(name) {
			bad("EXPECTED_CONTENTS: unknown content %q: want one of %s", name, strings.Join(callback.Contents(), ", "))
			continue
		}
		c.ExpectedContents = append(c.ExpectedContents, name)
	}
	if len(c.ExpectedContents) == 0 {
		bad("EXPECTED_CONTENTS: required: the contents that complete a job, such as transcript.json-v2,jobinfo")
	}
	c.Observability = loadObservability(getenv, bad)
	if len(problems) > 0 {
		return nil, errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}
