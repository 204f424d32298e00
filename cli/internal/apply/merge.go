package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
)

// LastAppliedAnnotation is where apply records the configuration it
// applied, as kubectl does.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Configuration returns what apply records of manifest: the manifest as
// JSON without status, server-set metadata and the annotation itself.
func Configuration(manifest scheme.Object) (string, error) {
	m := proto.Clone(manifest).(scheme.Object)
	clean(m)
	md := scheme.Meta(m)
	delete(md.Annotations, LastAppliedAnnotation)
	if len(md.Annotations) == 0 {
		md.Annotations = nil
	}
	b, err := codec.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// clean removes from m what a user does not configure: status and the
// metadata the server sets.
func clean(m scheme.Object) {
	md := scheme.Meta(m)
	md.Uid, md.ResourceVersion, md.Generation = "", "", 0
	md.CreationTimestamp, md.DeletionTimestamp, md.DeletionGracePeriodSeconds = nil, nil, nil
	rm := m.ProtoReflect()
	if fd := rm.Descriptor().Fields().ByName("status"); fd != nil {
		rm.Clear(fd)
	}
}

// ForCreate returns the object to create for manifest: server-set fields
// removed and the last-applied annotation set to config.
func ForCreate(manifest scheme.Object, config string) scheme.Object {
	m := proto.Clone(manifest).(scheme.Object)
	clean(m)
	md := scheme.Meta(m)
	if md.Annotations == nil {
		md.Annotations = map[string]string{}
	}
	md.Annotations[LastAppliedAnnotation] = config
	return m
}

// Unchanged reports whether applying manifest (whose configuration is
// config) to live would change nothing: every field the manifest sets has
// that value in live, and live records the same configuration — config
// itself, or the one the manifest carries when it is live's own output
// (`gantry get -o yaml`) applied again.
func Unchanged(manifest, live scheme.Object, config string) (bool, error) {
	recorded := live.GetMetadata().GetAnnotations()[LastAppliedAnnotation]
	carried := manifest.GetMetadata().GetAnnotations()[LastAppliedAnnotation]
	switch {
	case recorded == config:
	case carried != "" && carried == recorded:
		config = recorded
	default:
		return false, nil
	}
	mod, err := toMap(ForCreate(manifest, config))
	if err != nil {
		return false, err
	}
	lv, err := toMap(live)
	if err != nil {
		return false, err
	}
	return subset(configured(mod), lv), nil
}

// Merge returns the object an update sends: live with the changes from the
// configuration live last recorded to manifest (whose configuration is
// config) applied to its metadata labels and annotations and to every
// top-level field other than metadata and status. Status and server-set
// fields come from live, resourceVersion included, so a concurrent change
// makes the update fail with a conflict.
func Merge(manifest, live scheme.Object, config string) (scheme.Object, error) {
	mod, err := toMap(ForCreate(manifest, config))
	if err != nil {
		return nil, err
	}
	lv, err := toMap(live)
	if err != nil {
		return nil, err
	}
	orig := map[string]any{}
	if last := live.GetMetadata().GetAnnotations()[LastAppliedAnnotation]; last != "" {
		if err := decodeJSON([]byte(last), &orig); err != nil {
			orig = map[string]any{} // unreadable: treat as never applied
		}
	}
	merged := threeWay(configured(orig), configured(mod), lv)
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	res, ok := scheme.ForMessage(live)
	if !ok {
		return nil, fmt.Errorf("apply: %T is not a kind", live)
	}
	out := res.New().(scheme.Object)
	if err := codec.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("apply: merge: %w", err)
	}
	return out, nil
}

// configured keeps of an object's JSON what apply manages: metadata labels
// and annotations and the top-level fields other than status.
func configured(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch k {
		case "apiVersion", "kind", "status":
		case "metadata":
			md, _ := v.(map[string]any)
			keep := map[string]any{}
			for _, f := range []string{"labels", "annotations"} {
				if x, ok := md[f]; ok {
					keep[f] = x
				}
			}
			out[k] = keep
		default:
			out[k] = v
		}
	}
	return out
}

// threeWay applies to live the difference between orig and mod: keys set
// in mod take mod's value (objects merged key by key); keys in orig but not
// in mod are removed. Lists of objects with a merge key (containers by
// name, ports by port, ... as Kubernetes' strategic merge patch knows them)
// are merged item by item, so that what the server set inside an item — a
// Service port's allocated nodePort — is kept; other lists are replaced.
func threeWay(orig, mod, live map[string]any) map[string]any {
	if live == nil {
		live = map[string]any{}
	}
	for k, mv := range mod {
		switch m := mv.(type) {
		case map[string]any:
			if lm, ok := live[k].(map[string]any); ok {
				om, _ := orig[k].(map[string]any)
				live[k] = threeWay(om, m, lm)
				continue
			}
		case []any:
			if ll, ok := live[k].([]any); ok {
				ol, _ := orig[k].([]any)
				if merged, ok := mergeList(k, ol, m, ll); ok {
					live[k] = merged
					continue
				}
			}
		}
		live[k] = mv
	}
	for k := range orig {
		if _, ok := mod[k]; !ok {
			delete(live, k)
		}
	}
	return live
}

// mergeKeys are the merge keys of Kubernetes' strategic merge patch for the
// lists of objects Gantry's kinds hold, by field name; several keys are
// tried in order ("ports" is keyed by containerPort in a container and by
// port in a Service).
var mergeKeys = map[string][]string{
	"containers":                {"name"},
	"initContainers":            {"name"},
	"env":                       {"name"},
	"volumes":                   {"name"},
	"volumeMounts":              {"mountPath"},
	"ports":                     {"containerPort", "port"},
	"hostAliases":               {"ip"},
	"imagePullSecrets":          {"name"},
	"readinessGates":            {"conditionType"},
	"schedulingGates":           {"name"},
	"topologySpreadConstraints": {"topologyKey"},
}

// mergeList merges a list item by item by its merge key: the items of mod,
// in mod's order, each merged into the live item with the same key; live
// items that neither orig nor mod have (added by someone else) are kept
// after them. It reports false when the list has no merge key or an item
// lacks it, and the list is then replaced.
func mergeList(field string, orig, mod, live []any) ([]any, bool) {
	var key string
	for _, k := range mergeKeys[field] {
		if m, ok := first(mod).(map[string]any); ok && m[k] != nil {
			key = k
			break
		}
	}
	if key == "" {
		return nil, false
	}
	keyOf := func(items []any) (map[string]map[string]any, bool) {
		out := map[string]map[string]any{}
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok || m[key] == nil {
				return nil, false
			}
			out[fmt.Sprint(m[key])] = m
		}
		return out, true
	}
	origBy, ok1 := keyOf(orig)
	modBy, ok2 := keyOf(mod)
	liveBy, ok3 := keyOf(live)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	out := make([]any, 0, len(mod))
	for _, it := range mod {
		m := it.(map[string]any)
		k := fmt.Sprint(m[key])
		if lm, ok := liveBy[k]; ok {
			out = append(out, threeWay(origBy[k], m, lm))
		} else {
			out = append(out, m)
		}
	}
	for _, it := range live {
		k := fmt.Sprint(it.(map[string]any)[key])
		if _, inMod := modBy[k]; inMod {
			continue
		}
		if _, inOrig := origBy[k]; inOrig {
			continue // removed from the manifest
		}
		out = append(out, it)
	}
	return out, true
}

func first(items []any) any {
	if len(items) == 0 {
		return nil
	}
	return items[0]
}

// subset reports whether every value set in want has that value in got:
// objects compared key by key, lists element by element (same length),
// so fields the server defaulted in got do not count.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

func toMap(m proto.Message) (map[string]any, error) {
	b, err := codec.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := decodeJSON(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// StrategicMerge applies patch to doc (both objects' JSON) as a strategic
// merge patch does for the fields Gantry has: objects merged key by key,
// null removing a key, lists of objects with a merge key merged item by
// item, other lists replaced.
func StrategicMerge(doc, patch map[string]any) map[string]any {
	return threeWay(nil, dropNulls(patch, doc), doc)
}

// dropNulls removes from doc the keys patch sets to null, and returns patch
// without them.
func dropNulls(patch, doc map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := doc[k].(map[string]any); ok {
				out[k] = dropNulls(pm, dm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
