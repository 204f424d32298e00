// Package apply holds what `gantry apply` decides for one object: the
// configuration it records in the kubectl.kubernetes.io/last-applied-configuration
// annotation, whether the live object already matches a manifest, and the
// three-way merge of the previous configuration, the new manifest and the
// live object that an update sends (fields the manifest stopped setting are
// removed; fields it never set, such as a Service's clusterIP, are kept).
package apply
