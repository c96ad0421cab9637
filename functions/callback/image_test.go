package main

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// TestImage builds server mode's image with `make image`, for this
// machine's architecture, as a fresh clone would (no Docker), unpacks it,
// checks its configuration and contents, and runs the binary it holds
// against S3 and SQS in moto with a large media callback.
func TestImage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "image.tar")
	cmd := exec.Command("make", "-s", "--no-print-directory", "image", "GOARCH="+runtime.GOARCH, "IMAGE="+file)
	cmd.Dir = callbacktest.Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	unpacked := filepath.Join(dir, "layout")
	if out, err := exec.Command("tar", "-xf", file, "-C", mkdir(t, unpacked)).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	idx, err := layout.ImageIndexFromPath(unpacked)
	if err != nil {
		t.Fatalf("not an OCI image layout: %v", err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("got %v (%v), want one image", m, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"os", cfg.OS, "linux"},
		{"architecture", cfg.Architecture, runtime.GOARCH},
		{"entrypoint", cfg.Config.Entrypoint, []string{"/callback"}},
		{"user", cfg.Config.User, "65532:65532"},
		{"exposed ports", cfg.Config.ExposedPorts, map[string]struct{}{"8080/tcp": {}}},
		{"environment", cfg.Config.Env, []string{"LISTEN_ADDR=0.0.0.0:8080"}},
		{"volumes", cfg.Config.Volumes, map[string]struct{}{"/tmp": {}}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}

	// One layer: the binary and /tmp (where parts beyond the memory budget
	// spill), and no shell or anything else.
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("got %d layers (%v), want 1", len(layers), err)
	}
	bin := filepath.Join(dir, "callback")
	files := extract(t, layers[0], "callback", bin)
	if !reflect.DeepEqual(files, []string{"tmp/", "callback"}) {
		t.Errorf("got files %v, want only tmp/ and callback", files)
	}
	// The binary brings its TLS roots: the base has none.
	if out, err := exec.Command("go", "version", "-m", bin).Output(); err != nil || !strings.Contains(string(out), "golang.org/x/crypto/x509roots/fallback") {
		t.Errorf("the binary does not carry golang.org/x/crypto/x509roots/fallback (%v):\n%s", err, out)
	}

	// The binary serves: a media part larger than memory takes streams to S3.
	moto := mototest.Get(t)
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	s := startBinary(t, bin, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL)...)
	streamMedia(t, moto, s, bucket, queueURL, 40<<20)
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// extract lists the files of layer and writes the one named name to to, as
// an executable.
func extract(t *testing.T, layer interface{ Uncompressed() (io.ReadCloser, error) }, name, to string) []string {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var files []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, hdr.Name)
		if hdr.Name == "tmp/" && (hdr.Typeflag != tar.TypeDir || hdr.Mode&0o7777 != 0o1777) {
			t.Errorf("tmp/: type %c, mode %o, want a directory anyone may write to, 1777", hdr.Typeflag, hdr.Mode)
		}
		if hdr.Name != name {
			continue
		}
		if hdr.Mode&0o111 == 0 {
			t.Errorf("%s: mode %o, want executable", name, hdr.Mode)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDockerfileMatchesImage keeps the Dockerfile, for those who build with
// Docker, in step with `make image`: the same build and settings.
func TestDockerfileMatchesImage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(callbacktest.Root(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"FROM scratch", "-tags fallbackroots", "CGO_ENABLED=0", "USER 65532:65532",
		"ENV LISTEN_ADDR=0.0.0.0:8080", "EXPOSE 8080", `ENTRYPOINT ["/callback"]`, "./functions/callback",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the Dockerfile does not say %q", want)
		}
	}
}
