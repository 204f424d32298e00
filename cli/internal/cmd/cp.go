package cmd

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client/podexec"
)

// podPath is one side of cp: a local path, or POD:PATH (NAMESPACE/POD:PATH).
type podPath struct {
	namespace, pod, path string
}

func parseCopyArg(s string) podPath {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return podPath{path: s}
	}
	ref, p, ok := strings.Cut(s, ":")
	if !ok || ref == "" || strings.Count(ref, "/") > 1 {
		return podPath{path: s}
	}
	ns, pod, ok := strings.Cut(ref, "/")
	if !ok {
		ns, pod = "", ref
	}
	return podPath{namespace: ns, pod: pod, path: p}
}

func newCpCommand(f *Factory) *cobra.Command {
	var container string
	c := &cobra.Command{
		Use:   "cp <file-spec-src> <file-spec-dest>",
		Short: "Copy files and directories to and from containers",
		Long: "Copy files and directories to and from containers. Like kubectl cp, it runs tar in the container\n" +
			"(through exec), so the container's image must have tar.",
		Example: `  # Copy /tmp/foo local file to /tmp/bar in a remote pod in namespace <some-namespace>
  gantry cp /tmp/foo <some-namespace>/<some-pod>:/tmp/bar

  # Copy /tmp/foo from a remote pod to /tmp/bar locally
  gantry cp <some-namespace>/<some-pod>:/tmp/foo /tmp/bar`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			src, dst := parseCopyArg(args[0]), parseCopyArg(args[1])
			if (src.pod == "") == (dst.pod == "") {
				return usage(c, "one of src or dest must be a local file specification, the other a remote one (POD:PATH)")
			}
			ctx := c.Context()
			cs, err := f.Client()
			if err != nil {
				return err
			}
			remote := src
			if dst.pod != "" {
				remote = dst
			}
			if remote.namespace == "" {
				if remote.namespace, _, err = f.DefaultNamespace(); err != nil {
					return err
				}
			}
			pod, err := cs.Pods(remote.namespace).Get(ctx, remote.pod)
			if err != nil {
				return err
			}
			ct := container
			if ct == "" {
				ct = defaultContainer(f, pod)
			}
			if remote.path == "" {
				return errors.New("remote path cannot be empty")
			}
			// run runs tar in the container. Images without a tar applet
			// often have busybox, whose tar does the job: it is tried when
			// tar cannot be run (exit code 126 or 127).
			run := func(args []string, stdin []byte, stdout *bytes.Buffer) error {
				for _, prefix := range [][]string{nil, {"busybox"}} {
					o := podexec.ExecOptions{Namespace: remote.namespace, Name: remote.pod, Container: ct,
						Command: append(append([]string{}, prefix...), args...)}
					if stdin != nil {
						o.Stdin = bytes.NewReader(stdin)
					}
					if stdout != nil {
						stdout.Reset()
						o.Stdout = stdout
					}
					var stderr strings.Builder
					o.Stderr = &stderr
					code, err := podexec.Exec(ctx, cs.Conn(), o)
					if err != nil {
						return err
					}
					if (code == 126 || code == 127) && prefix == nil {
						continue
					}
					if code != 0 {
						return fmt.Errorf("%s", firstNonEmpty(strings.TrimSpace(stderr.String()), fmt.Sprintf("tar exited with code %d", code)))
					}
					return nil
				}
				return errors.New("tar is not available in the container")
			}
			if src.pod != "" {
				// From the pod: tar there, untar here.
				base := path.Base(path.Clean(src.path))
				var out bytes.Buffer
				if err := run([]string{"tar", "cf", "-", "-C", path.Dir(path.Clean(src.path)), base}, nil, &out); err != nil {
					return err
				}
				return untar(&out, base, dst.path)
			}
			// To the pod: tar here, untar there.
			if _, err := os.Stat(src.path); err != nil {
				return fmt.Errorf("%s doesn't exist in local filesystem", src.path)
			}
			var archive bytes.Buffer
			if err := tarPath(&archive, src.path, path.Base(path.Clean(dst.path))); err != nil {
				return err
			}
			return run([]string{"tar", "xmf", "-", "-C", path.Dir(path.Clean(dst.path))}, archive.Bytes(), nil)
		},
	}
	c.Flags().StringVarP(&container, "container", "c", "", "Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen")
	return c
}

// tarPath writes the file or directory at local into a tar stream, its
// entries named under name.
func tarPath(w io.Writer, local, name string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = path.Join(name, filepath.ToSlash(rel))
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			fh, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, fh)
			fh.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// untar extracts a tar stream whose entries are under name into dest:
// name itself becomes dest. Entries that would land outside dest are
// refused, as kubectl refuses them.
func untar(r io.Reader, name, dest string) error {
	tr := tar.NewReader(r)
	dest = filepath.Clean(dest)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(path.Clean(hdr.Name), name)
		if rel != "" && !strings.HasPrefix(rel, "/") {
			continue // not under name
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		if target != dest && !strings.HasPrefix(target, dest+string(filepath.Separator)) {
			return fmt.Errorf("tar entry %q is outside the destination", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			fh, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fs.FileMode(hdr.Mode)&0o777)
			if err != nil {
				return err
			}
			if _, err := io.Copy(fh, tr); err != nil {
				fh.Close()
				return err
			}
			if err := fh.Close(); err != nil {
				return err
			}
		case tar.TypeSymlink:
			// Links could point anywhere: skipped, as kubectl warns and skips them.
		}
	}
}
