package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
)

// fileOptions are -f and -R.
type fileOptions struct {
	filenames []string
	recursive bool
}

func (o *fileOptions) addFlags(c *cobra.Command, what string) {
	c.Flags().StringSliceVarP(&o.filenames, "filename", "f", nil, "The files that contain the configurations to "+what+" (a file, a directory or - for standard input).")
	c.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "Process the directory used in -f, --filename recursively.")
	_ = c.MarkFlagFilename("filename", "json", "yaml", "yml")
}

// manifest is one object read from a file.
type manifest struct {
	source string
	obj    scheme.Object
	res    *scheme.Resource
}

// sourceFile is one file (or stdin) named by -f.
type sourceFile struct {
	name string
	data []byte
}

// readSources expands -f into files: a directory gives its .yaml, .yml and
// .json files (recursively with -R), sorted by name.
func (o *fileOptions) readSources(stdin io.Reader) ([]sourceFile, error) {
	if len(o.filenames) == 0 {
		return nil, fmt.Errorf("must specify one of -f and -k")
	}
	var out []sourceFile
	for _, name := range o.filenames {
		if strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
			data, err := fetchURL(name)
			if err != nil {
				return nil, err
			}
			out = append(out, sourceFile{name: name, data: data})
			continue
		}
		if name == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			out = append(out, sourceFile{name: "STDIN", data: data})
			continue
		}
		st, err := os.Stat(name)
		if err != nil {
			if os.IsNotExist(err) {
				return nil, fmt.Errorf("the path %q does not exist", name)
			}
			return nil, err
		}
		if !st.IsDir() {
			data, err := os.ReadFile(name)
			if err != nil {
				return nil, err
			}
			out = append(out, sourceFile{name: name, data: data})
			continue
		}
		var files []string
		err = filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != name && !o.recursive {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sourceFile{name: p, data: data})
		}
	}
	return out, nil
}

// decode reads the objects of one file. A file that does not decode is an
// error naming the file; nothing of it is applied.
func decodeSource(src sourceFile) ([]manifest, error) {
	msgs, err := codec.DecodeManifests(bytes.NewReader(src.data))
	if err != nil {
		return nil, fmt.Errorf("error parsing %s: %w", src.name, err)
	}
	out := make([]manifest, 0, len(msgs))
	for _, m := range msgs {
		obj, ok := m.(scheme.Object)
		if !ok {
			return nil, fmt.Errorf("error parsing %s: %T is not an object", src.name, m)
		}
		res, ok := scheme.ForMessage(obj)
		if !ok {
			return nil, fmt.Errorf("error parsing %s: %T is not a kind", src.name, m)
		}
		out = append(out, manifest{source: src.name, obj: obj, res: res})
	}
	return out, nil
}

// setNamespace gives m's object the namespace it goes to: its own, else
// ns. An object whose namespace differs from an explicit -n is an error, as
// in kubectl.
func setNamespace(m *manifest, ns string, explicit bool) error {
	md := scheme.Meta(m.obj)
	if !m.res.Namespaced {
		md.Namespace = ""
		return nil
	}
	if md.Namespace == "" {
		md.Namespace = ns
		return nil
	}
	if explicit && md.Namespace != ns {
		return fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation.", md.Namespace, ns, md.Namespace)
	}
	return nil
}

func cloneObject(o scheme.Object) scheme.Object { return proto.Clone(o).(scheme.Object) }

// fetchURL reads a manifest from an http(s) URL, as kubectl apply -f URL
// does.
func fetchURL(u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unable to read URL %q, server reported %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unable to read URL %q, server reported %s, status code=%d", u, resp.Status, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// eachManifest reads the -f sources, decodes every document, gives it the
// namespace it belongs in and hands it to do, which returns the object to
// print and how it went ("created", "configured", ...). As kubectl does, a
// document's error is printed and the others go on; the command then fails
// with errReported.
func (o *fileOptions) eachManifest(ctx context.Context, f *Factory, output string, dry dryRun,
	do func(cs *client.Clientset, m *manifest) (scheme.Object, string, error)) error {
	srcs, err := o.readSources(f.In)
	if err != nil {
		return err
	}
	cs, ns, explicit, err := f.ClientIn()
	if err != nil {
		return err
	}
	failed := false
	for _, src := range srcs {
		ms, err := decodeSource(src)
		if err != nil {
			fmt.Fprintln(f.ErrOut, FormatError(err))
			failed = true
			continue
		}
		for i := range ms {
			m := &ms[i]
			if err := setNamespace(m, ns, explicit); err != nil {
				fmt.Fprintln(f.ErrOut, FormatError(err))
				failed = true
				continue
			}
			obj, result, err := do(cs, m)
			if err != nil {
				fmt.Fprintln(f.ErrOut, FormatError(err))
				failed = true
				continue
			}
			if err := printResult(f, output, m.res, obj, result+dry.suffix()); err != nil {
				return err
			}
		}
	}
	if failed {
		return errReported
	}
	return nil
}
