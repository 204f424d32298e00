// Package plugins registers the built-in plugins by name.
package plugins
