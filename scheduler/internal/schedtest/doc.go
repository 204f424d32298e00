// Package schedtest builds pods and nodes for the scheduler's tests, in
// the style of kube-scheduler's testing wrappers:
// schedtest.MakePod("web-1").Req("500m", "1Gi").Obj().
package schedtest
