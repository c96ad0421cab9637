package main

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	file := fs.String("image", "bin/image.tar", "the image that build wrote")
	repository := fs.String("repository", "", "the ECR repository URI, such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/name")
	tag := fs.String("tag", "latest", "the tag to push besides the digest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *repository == "" {
		return errors.New("push: -repository is required (the stack's MediaRepositoryUri output)")
	}
	ctx := context.Background()
	img, err := readLayoutTar(*file)
	if err != nil {
		return fmt.Errorf("read %s: %w", *file, err)
	}
	ref, err := name.NewTag(*repository + ":" + *tag)
	if err != nil {
		return fmt.Errorf("repository %q: %w", *repository, err)
	}
	auth, err := ecrAuth(ctx)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push to %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s\ndeploy it with: MediaImage=%s@%s\n", ref, *repository, digest)
	return nil
}

// ecrAuth gets an ECR token with the caller's AWS credentials and region
// (the SDK's usual settings): what `aws ecr get-login-password` does.
func ecrAuth(ctx context.Context) (authn.Authenticator, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("get an ECR token: %w", err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return nil, errors.New("get an ECR token: the answer holds none")
	}
	userPass, err := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		return nil, fmt.Errorf("ECR token: %w", err)
	}
	user, pass, _ := strings.Cut(string(userPass), ":")
	return &authn.Basic{Username: user, Password: pass}, nil
}

// readLayoutTar unpacks the OCI layout tar that build wrote and returns its
// one image.
func readLayoutTar(file string) (v1.Image, error) {
	dir, err := os.MkdirTemp("", "image-layout")
	if err != nil {
		return nil, err
	}
	// The image's blobs are read lazily, while pushing: the folder stays
	// until the process ends.
	if err := untar(file, dir); err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("got %d images in the layout, want 1", len(m.Manifests))
	}
	return idx.Image(m.Manifests[0].Digest)
}

func untar(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("%s: outside the layout", hdr.Name)
		}
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		out, err := os.Create(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}
