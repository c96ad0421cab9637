package readme

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"smcallbacks/internal/callback/callbacktest"
)

// block is one marked shell block of README.md.
type block struct {
	line   int    // of its opening fence
	mode   string // run or serve
	arg    string // run: the text to expect, if any; serve: the address
	script string
}

var marker = regexp.MustCompile(`^<!-- readme-test: (run|serve)(?: (.*?))? -->$`)

// blocks returns README's marked blocks, in order.
func blocks(t *testing.T, readme []byte) []block {
	t.Helper()
	var (
		out     []block
		pending *block
		in      *strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case in != nil && strings.HasPrefix(line, "```"):
			pending.script = in.String()
			out = append(out, *pending)
			pending, in = nil, nil
		case in != nil:
			in.WriteString(line + "\n")
		case pending != nil && strings.HasPrefix(line, "```sh"):
			pending.line, in = n, &strings.Builder{}
		case pending != nil:
			t.Fatalf("README.md:%d: a readme-test marker must be followed by a ```sh block", n)
		default:
			if m := marker.FindStringSubmatch(line); m != nil {
				arg := m[2]
				if m[1] == "run" && arg != "" {
					quoted, ok := strings.CutPrefix(arg, "expect ")
					var err error
					if arg, err = strconv.Unquote(quoted); !ok || err != nil {
						t.Fatalf("README.md:%d: want run or run expect \"TEXT\", got %q", n, line)
					}
				}
				pending = &block{mode: m[1], arg: arg}
			}
		}
	}
	return out
}

// TestReadmeBlocks runs README's marked blocks, in order, in a copy of the
// repository (the project's tool folders linked in), so that every command
// they show keeps working as written.
func TestReadmeBlocks(t *testing.T) {
	root := callbacktest.Root()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bs := blocks(t, readme)
	// The walk-throughs a newcomer follows are all marked.
	var scripts strings.Builder
	for _, b := range bs {
		scripts.WriteString(b.script)
	}
	for _, want := range []string{"make run", "moto_server", "make invoke FUNCTION=assembler", "--help"} {
		if !strings.Contains(scripts.String(), want) {
			t.Errorf("no marked block runs %q", want)
		}
	}
	needTools(t, root)
	dir := copyRepository(t, root)
	env := cleanEnv()
	for _, b := range bs {
		name := fmt.Sprintf("README.md:%d", b.line)
		if b.mode == "serve" {
			serve(t, dir, env, name, b)
			continue
		}
		out := run(t, dir, env, name, b.script)
		if b.arg != "" && !strings.Contains(out, b.arg) {
			t.Errorf("%s: the output does not say %q:\n%s", name, b.arg, out)
		}
	}
}

// blockTimeout bounds one block: the first `make run` of a fresh copy
// builds the receiver.
const blockTimeout = 5 * time.Minute

// run runs script with bash, as a user pasting it would, and returns its
// output; the block fails the test unless it exits 0. Whatever it leaves
// running is stopped.
func run(t *testing.T, dir string, env []string, name, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	cmd := shell(ctx, dir, env, script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what the block left in the background
	if err != nil {
		t.Errorf("%s: %v\n%s\n%s", name, err, script, out.String())
	}
	return out.String()
}

// serve starts script and waits until something listens on the block's
// address; it runs until the test ends.
func serve(t *testing.T, dir string, env []string, name string, b block) {
	t.Helper()
	if c, err := net.Dial("tcp", b.arg); err == nil {
		c.Close()
		t.Fatalf("%s: something already listens on %s: stop it, and run the test again", name, b.arg)
	}
	cmd := shell(context.Background(), dir, env, b.script)
	out := &callbacktest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	for deadline := time.Now().Add(blockTimeout); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", b.arg); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("%s: exited (%v) before it listened on %s:\n%s", name, err, b.arg, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing listens on %s after %s:\n%s", name, b.arg, blockTimeout, out.String())
		}
	}
}

// shell is bash running script in dir, in a process group of its own so
// that everything it starts can be stopped with it.
func shell(ctx context.Context, dir string, env []string, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// cleanEnv is the test's environment without what would make a block run
// differently than in a user's shell: make's own variables (the tests run
// under make test) and AWS settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "MAKEFLAGS", name == "MFLAGS", name == "MAKELEVEL", name == "MAKE_TERMOUT", name == "MAKE_TERMERR",
			strings.HasPrefix(name, "AWS_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// needTools skips the test, or fails it under CI, without the project's
// tool folders, which make test builds: the blocks would spend minutes
// installing them into the copy.
func needTools(t *testing.T, root string) {
	t.Helper()
	for _, dir := range []string{".venv", ".tools"} {
		if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
			msg := "README's blocks need the project's tools: run `make test`, which installs them"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// copyRepository copies the files git knows or would add (tracked, and
// untracked but not ignored) into a temporary folder, with their times, so
// that make sees what is up to date as in the repository; the tool folders
// are linked in.
func copyRepository(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if err := copyFile(filepath.Join(root, name), filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for _, tools := range []string{".venv", ".tools"} {
		if err := os.Symlink(filepath.Join(root, tools), filepath.Join(dir, tools)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(to, fi.ModTime(), fi.ModTime())
}
