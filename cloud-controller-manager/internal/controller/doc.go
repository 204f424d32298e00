// Package controller holds what the cloud-controller-manager's controllers
// share: the worker loop that drains a work queue, and the names of the
// controllers.
package controller
