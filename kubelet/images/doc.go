// Package images holds the sources of the pod images hack/build-images.sh
// builds without a registry: pause (the sandbox) and demo (a small HTTP
// server). Each is its own main package, built static and copied into a
// FROM-scratch image.
package images
