// Package codec reads and writes Kubernetes' JSON (and YAML) for every Gantry
// message, so that the manifests in the Kubernetes documentation apply
// unchanged and `-o json|yaml` prints what kubectl would.
//
// protojson is not enough for that: it writes int64 fields as strings, cannot
// read a number into a string field and knows nothing of Kubernetes' value
// types. This codec walks messages with protoreflect and follows Kubernetes'
// rules instead:
//
//   - Field names are the fields' JSON names (json_name when set); only those
//     are accepted when reading (Kubernetes is case-sensitive), and any other
//     field is an error naming its full path: unknown field
//     "spec.containers[0].foo". A field given twice is an error too.
//   - A kind's message (one in package scheme) is written with apiVersion and
//     kind first, then its fields in declaration order (metadata, spec,
//     status). Reading a kind ignores apiVersion and kind at its top level,
//     unless they name another kind.
//   - Zero scalars, empty lists and maps and unset messages are left out
//     (omitempty); proto3 optional fields (Kubernetes' pointers) and oneof
//     members are written whenever they are set, even to 0 or false. JSON
//     null reads as unset (as the zero value inside a list or map, except
//     for the value types below, where it is an error).
//   - Integers, int64 included, are JSON numbers. Reading one rejects
//     fractions, exponents and values out of the field's range.
//   - gantry.meta.v1.IntOrString is the number or the string it holds
//     (`targetPort: 8080`, `targetPort: http`, `maxSurge: 25%`).
//   - gantry.meta.v1.Quantity is read from a number or a string, checked with
//     k8s.io/apimachinery's resource.ParseQuantity, kept as written (a
//     number keeps its JSON text: `1`, `0.5`) and written as a string.
//   - google.protobuf.Timestamp is an RFC 3339 string in UTC, with fractional
//     seconds only when they are not zero; google.protobuf.Duration is a Go
//     duration string ("1m30s") as metav1.Duration writes it; the wrapper
//     types are their inner value; google.protobuf.Any must hold a kind and is
//     written as that kind's object (apiVersion and kind included).
//   - Map keys are written sorted, so output is deterministic.
//
// Marshal, MarshalIndent and MarshalYAML write; Unmarshal reads into a given
// message; Decode picks the message from apiVersion and kind; DecodeManifests
// reads a whole file of YAML documents or JSON objects, expanding `kind: List`.
//
// Descriptor lookups (JSON name to field) are built once per message type
// and cached, and JSON is read and written by hand over byte slices, so no
// reflection over Go structs happens. No input makes the codec panic.
package codec
