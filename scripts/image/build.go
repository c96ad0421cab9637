package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed settings.
const (
	entrypoint = "/callback"
	// user is the conventional "nonroot" user and group of distroless
	// images: any non-zero ID works on an empty base, which has no
	// /etc/passwd to name it.
	user       = "65532:65532"
	port       = "8080/tcp"
	listenAddr = "LISTEN_ADDR=0.0.0.0:8080"
	// refName names the image in the layout's index.
	refName = "speechmatics-callbacks"
)

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	binary := fs.String("binary", "", "the static linux binary of server mode")
	arch := fs.String("arch", "arm64", "the binary's GOARCH")
	out := fs.String("o", "bin/image.tar", "the OCI image layout tar to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" {
		return fmt.Errorf("build: -binary is required")
	}
	img, err := image(*binary, *arch)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if err := writeLayoutTar(img, *out); err != nil {
		return err
	}
	fmt.Printf("image: %s (linux/%s, %s)\n", *out, *arch, digest)
	return nil
}

// image is the binary as /callback on an empty base, with the settings
// above. Every time in it is zero, so that the same binary gives the same
// digest.
func image(binary, arch string) (v1.Image, error) {
	b, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := tarOf(entrypoint, b)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Config.Entrypoint = []string{entrypoint}
	cfg.Config.User = user
	cfg.Config.Env = []string{listenAddr}
	cfg.Config.ExposedPorts = map[string]struct{}{port: {}}
	// A volume: ECS on Fargate mounts a task's storage there (the root file
	// system being read-only) with the image's /tmp permissions, 1777,
	// rather than root's 0755, which the server's user could not write to.
	cfg.Config.Volumes = map[string]struct{}{"/tmp": {}}
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.title": "Speechmatics callback receiver (server mode)"}
	return mutate.ConfigFile(img, cfg)
}

// tarOf is a tar of one executable file at path, owned by root and
// executable by anyone, and of /tmp, writable by anyone as it is on any
// system, both dated at the epoch. The server spills to /tmp the parts of a
// callback that outgrow its memory budget, rare as those are; a read-only
// container mounts a volume there.
func tarOf(path string, b []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tmp := &tar.Header{Name: "tmp/", Mode: 0o1777, ModTime: time.Unix(0, 0), Typeflag: tar.TypeDir, Format: tar.FormatPAX}
	if err := tw.WriteHeader(tmp); err != nil {
		return nil, err
	}
	hdr := &tar.Header{Name: path[1:], Mode: 0o755, Size: int64(len(b)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(b); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeLayoutTar writes img as an OCI image layout, then tars the layout
// into out.
func writeLayoutTar(img v1.Image, out string) error {
	dir, err := os.MkdirTemp("", "image-layout")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName})); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return tarDir(dir, out)
}

// tarDir writes the files below dir into the tar file out, with paths
// relative to dir.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime = filepath.ToSlash(rel), time.Unix(0, 0)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
