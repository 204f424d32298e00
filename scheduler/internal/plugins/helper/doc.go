// Package helper holds what several plugins share: toleration matching,
// score normalizing.
package helper
