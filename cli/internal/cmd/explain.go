package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client/scheme"
)

func newExplainCommand(f *Factory) *cobra.Command {
	var recursive bool
	c := &cobra.Command{
		Use:   "explain TYPE[.FIELD...]",
		Short: "Get the fields of a resource",
		Long: "List the fields of a resource or of one of its fields, with their types, as Gantry's API\n" +
			"(its protobuf contracts in proto/) defines them. Fields are named as in manifests.",
		Example: `  # Get the fields of the resource and their types
  gantry explain pods

  # Get the fields of a specific field of a resource
  gantry explain pods.spec.containers`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeResources(f),
		RunE: func(c *cobra.Command, args []string) error {
			parts := strings.Split(args[0], ".")
			res, err := scheme.Lookup(parts[0])
			if err != nil {
				return err
			}
			md := res.New().ProtoReflect().Descriptor()
			var field protoreflect.FieldDescriptor
			for i, name := range parts[1:] {
				fd := fieldByJSONName(md, name)
				if fd == nil {
					return fmt.Errorf("field %q does not exist", strings.Join(parts[1:i+2], "."))
				}
				field = fd
				if fd.Message() == nil || isValueType(fd) {
					if i != len(parts)-2 {
						return fmt.Errorf("field %q does not exist", strings.Join(parts[1:i+3], "."))
					}
					md = nil
					break
				}
				md = fd.Message()
				if fd.IsMap() {
					md = fd.MapValue().Message()
				}
			}
			w := printers.NewTabWriter(f.Out)
			fmt.Fprintf(w, "KIND:\t%s\n", res.Kind)
			if res.Group != "" {
				fmt.Fprintf(w, "GROUP:\t%s\n", res.Group)
			}
			fmt.Fprintf(w, "VERSION:\t%s\n\n", res.Version)
			if field != nil {
				fmt.Fprintf(w, "FIELD: %s <%s>\n\n", field.JSONName(), typeName(field))
			}
			if md != nil {
				fmt.Fprintln(w, "FIELDS:")
				writeFields(w, md, 1, recursive, map[protoreflect.FullName]bool{})
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&recursive, "recursive", false, "Print the fields of fields (Currently only 1 level deep)")
	return c
}

func fieldByJSONName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		if fs.Get(i).JSONName() == name {
			return fs.Get(i)
		}
	}
	return nil
}

// isValueType reports whether a message field is written as a scalar in
// manifests.
func isValueType(fd protoreflect.FieldDescriptor) bool {
	m := fd.Message()
	if fd.IsMap() {
		m = fd.MapValue().Message()
	}
	if m == nil {
		return true
	}
	switch m.FullName() {
	case "gantry.meta.v1.IntOrString", "gantry.meta.v1.Quantity", "google.protobuf.Timestamp", "google.protobuf.Duration":
		return true
	}
	return false
}

func scalarName(fd protoreflect.FieldDescriptor) string {
	if m := fd.Message(); m != nil {
		switch m.FullName() {
		case "gantry.meta.v1.IntOrString":
			return "IntOrString"
		case "gantry.meta.v1.Quantity":
			return "Quantity"
		case "google.protobuf.Timestamp", "google.protobuf.Duration":
			return "string"
		}
		return string(m.Name())
	}
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.EnumKind:
		return "string"
	case protoreflect.BoolKind:
		return "boolean"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "number"
	}
	return "integer"
}

// typeName is a field's type as kubectl explain writes it: string,
// integer, boolean, Object names, []T, map[string]T.
func typeName(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "map[string]" + scalarName(fd.MapValue())
	case fd.IsList():
		return "[]" + scalarName(fd)
	}
	return scalarName(fd)
}

func writeFields(w interface{ Write([]byte) (int, error) }, md protoreflect.MessageDescriptor, level int, recursive bool, seen map[protoreflect.FullName]bool) {
	if seen[md.FullName()] {
		return
	}
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		fmt.Fprintf(w, "%s%s\t<%s>\n", strings.Repeat("  ", level), fd.JSONName(), typeName(fd))
		if recursive && !isValueType(fd) {
			sub := fd.Message()
			if fd.IsMap() {
				sub = fd.MapValue().Message()
			}
			writeFields(w, sub, level+1, recursive, seen)
		}
	}
}
