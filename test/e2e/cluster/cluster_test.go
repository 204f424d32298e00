package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/test/e2e/framework"
)

const webManifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 10
      tolerations:
        - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
        - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
        - name: web
          image: gantry/demo:latest
          imagePullPolicy: Never
          # Keep answering for a while after SIGTERM, until kube-proxy has
          # taken the pod out of the Service (a preStop sleep's job).
          args: ["--term-delay=5s"]
          ports:
            - {name: http, containerPort: 8080}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
`

const clientPodManifest = `
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {role: client}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: client
      image: busybox:latest
      imagePullPolicy: Never
      command: ["sleep", "3600"]
`

const cronJobManifest = `
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: default}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
            - name: tick
              image: busybox:latest
              imagePullPolicy: Never
              command: ["sh", "-c", "echo tick"]
`

const jobManifest = `
apiVersion: batch/v1
kind: Job
metadata: {name: count, namespace: default}
spec:
  completions: 3
  parallelism: 2
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: count
          image: busybox:latest
          imagePullPolicy: Never
          command: ["sh", "-c", "seq 1 3; sleep 1"]
`

const nsManifest = `
apiVersion: v1
kind: Namespace
metadata: {name: NS}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: NS}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: gantry/demo:latest
          imagePullPolicy: Never
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: NS}
spec:
  selector: {app: app}
  ports:
    - {port: 80, targetPort: 8080}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: NS}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: once
          image: busybox:latest
          imagePullPolicy: Never
          command: ["sleep", "3600"]
`

// TestCluster runs the issue 9 scenarios in order on one cluster of two
// nodes; a failed step stops the ones after it.
func TestCluster(t *testing.T) {
	start := time.Now()
	e := newCluster(t)
	ctx := context.Background()
	n1, n2 := e.AddNode(""), e.AddNode("")
	e.WaitNodeInitialized(t, n1)
	e.WaitNodeInitialized(t, n2)
	t.Logf("cluster up after %s", time.Since(start).Round(time.Millisecond))

	// The CronJob fires at the next whole minute; it is checked last, so
	// the other steps fill the wait.
	e.Apply(t, cronJobManifest)

	var lbIP, clusterIP, clientID string
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"DeploymentSpreadsAndServes", func(t *testing.T) {
			e.Apply(t, webManifest)
			pods := e.WaitReadyPods(t, "default", "app=web", 3, 120*time.Second, nil)
			nodes := map[string]int{}
			for _, p := range pods {
				nodes[p.GetSpec().GetNodeName()]++
				body, err := framework.HTTPGet("http://" + p.GetStatus().GetPodIp() + ":8080/")
				if err != nil {
					t.Errorf("pod %s at %s: %v", p.GetMetadata().GetName(), p.GetStatus().GetPodIp(), err)
				} else if h := framework.Hostname(body); h != p.GetMetadata().GetName() {
					t.Errorf("pod %s answers with hostname %q", p.GetMetadata().GetName(), h)
				}
			}
			if nodes[n1.Name] == 0 || nodes[n2.Name] == 0 {
				t.Errorf("pods not spread over both nodes: %v", nodes)
			}
		}},
		{"ClusterIPFromPod", func(t *testing.T) {
			svc, err := e.Client.Services("default").Get(ctx, "web")
			if err != nil {
				t.Fatal(err)
			}
			ip := svc.GetSpec().GetClusterIp()
			if ip == "" {
				t.Fatalf("service web has no cluster IP: %v", svc.GetSpec())
			}
			e.Apply(t, clientPodManifest)
			pod := e.WaitReadyPods(t, "default", "role=client", 1, 60*time.Second, nil)[0]
			node := n1
			if pod.GetSpec().GetNodeName() == n2.Name {
				node = n2
			}
			// The pod's traffic to the cluster IP goes through its node's
			// namespace, where that node's kube-proxy has its rules.
			framework.Sh(t, "nsenter", "--net=/proc/"+framework.SandboxPid(t, node.Name, "default", "client")+"/ns/net",
				"ip", "route", "add", ip+"/32", "via", node.IP)
			id := framework.ContainerID(t, node.Name, "default", "client", "client")
			clusterIP, clientID = ip, id
			want := map[string]bool{}
			for _, p := range e.Pods(t, "default", "app=web") {
				want[p.GetMetadata().GetName()] = true
			}
			seen := map[string]bool{}
			framework.WaitFor(t, "every replica's hostname through the cluster IP from the pod", 60*time.Second, func() (bool, string) {
				out, err := podGet(id, ip)
				if err != nil {
					return false, err.Error()
				}
				h := framework.Hostname(out)
				if !want[h] {
					t.Errorf("answer from %q, not one of %v", h, want)
				}
				seen[h] = true
				return len(seen) == len(want), fmt.Sprint(seen)
			})
		}},
		{"LoadBalancer", func(t *testing.T) {
			framework.WaitFor(t, "the load balancer's address", 90*time.Second, func() (bool, string) {
				s, err := e.Client.Services("default").Get(ctx, "web")
				if err != nil {
					return false, err.Error()
				}
				if ing := s.GetStatus().GetLoadBalancer().GetIngress(); len(ing) > 0 && ing[0].GetIp() != "" {
					lbIP = ing[0].GetIp()
					return true, ""
				}
				return false, fmt.Sprint(s.GetStatus())
			})
			seen := map[string]bool{}
			framework.WaitFor(t, "every replica through the load balancer "+lbIP, 90*time.Second, func() (bool, string) {
				body, err := framework.HTTPGet("http://" + lbIP + "/")
				if err != nil {
					return false, err.Error()
				}
				seen[framework.Hostname(body)] = true
				return len(seen) == 3, fmt.Sprint(seen)
			})
		}},
		{"Scale", func(t *testing.T) {
			e.Scale(t, "default", "web", 5)
			e.WaitReadyPods(t, "default", "app=web", 5, 90*time.Second, nil)
			e.Scale(t, "default", "web", 3)
			e.WaitReadyPods(t, "default", "app=web", 3, 60*time.Second, nil)
			framework.WaitFor(t, "the scaled-down pods gone", 60*time.Second, func() (bool, string) {
				l, err := e.Client.Pods("default").List(ctx, client.ListOptions{LabelSelector: "app=web"})
				if err != nil {
					return false, err.Error()
				}
				return len(l.Items) == 3, fmt.Sprint(len(l.Items), " pods")
			})
		}},
		{"RollingUpdate", func(t *testing.T) {
			// Two pollers: from this machine through the load balancer, and
			// from the client pod through the cluster IP. They run a moment
			// before the update, to know they work.
			p := startPoller(func() (string, error) { return framework.HTTPGet("http://" + lbIP + "/") }, 20*time.Millisecond)
			pp := startPoller(func() (string, error) { return podGet(clientID, clusterIP) }, 100*time.Millisecond)
			framework.WaitFor(t, "the pollers' first answers", 20*time.Second, func() (bool, string) {
				return p.ok.Load() >= 5 && pp.ok.Load() >= 2, fmt.Sprint(p.ok.Load(), pp.ok.Load())
			})
			if err := client.RetryOnConflict(ctx, func() error {
				d, err := e.Client.Deployments("default").Get(ctx, "web")
				if err != nil {
					return err
				}
				c := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0]
				c.Image = v2Image
				c.Args = append(c.Args, "--message=v2")
				_, err = e.Client.Deployments("default").Update(ctx, d)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			e.WaitReadyPods(t, "default", "app=web", 3, 180*time.Second, func(p *corev1.Pod) bool {
				return p.GetSpec().GetContainers()[0].GetImage() == v2Image
			})
			framework.WaitFor(t, "the old pods gone", 60*time.Second, func() (bool, string) {
				l, err := e.Client.Pods("default").List(ctx, client.ListOptions{LabelSelector: "app=web"})
				if err != nil {
					return false, err.Error()
				}
				return len(l.Items) == 3, fmt.Sprint(len(l.Items), " pods")
			})
			// Old pods answer for a few seconds after they were deleted.
			framework.WaitFor(t, "only v2 answering", 30*time.Second, func() (bool, string) {
				body, err := framework.HTTPGet("http://" + lbIP + "/")
				return err == nil && strings.Contains(body, "v2"), body
			})
			p.stop()
			pp.stop()
			for _, q := range []struct {
				what string
				p    *poller
			}{{"load balancer", p}, {"cluster IP from the pod", pp}} {
				t.Logf("rolling update, %s: %d answers, %d failures", q.what, q.p.ok.Load(), len(q.p.failures))
				if len(q.p.failures) > 0 {
					t.Errorf("%s: %d requests failed during the rolling update: %v", q.what, len(q.p.failures), q.p.failures[:min(5, len(q.p.failures))])
				}
				if !q.p.sawV2 {
					t.Errorf("%s: no answer from a v2 pod during the update", q.what)
				}
			}
		}},
		{"NodeFailure", func(t *testing.T) {
			// Kill the kubelet with the most web pods.
			count := map[string]int{}
			for _, p := range e.Pods(t, "default", "app=web") {
				count[p.GetSpec().GetNodeName()]++
			}
			dead, alive := n1, n2
			if count[n2.Name] > count[n1.Name] {
				dead, alive = n2, n1
			}
			if count[dead.Name] == 0 {
				t.Fatalf("no web pod on either node: %v", count)
			}
			dead.Kubelet.Kill()
			framework.WaitFor(t, "node "+dead.Name+" not Ready", 60*time.Second, func() (bool, string) {
				n, err := e.Client.Nodes().Get(ctx, dead.Name)
				if err != nil {
					return false, err.Error()
				}
				return framework.NodeReady(n) != "True", framework.NodeReady(n)
			})
			e.WaitReadyPods(t, "default", "app=web", 3, 90*time.Second, func(p *corev1.Pod) bool {
				return p.GetSpec().GetNodeName() == alive.Name
			})
			// The service still answers (through the load balancer).
			framework.WaitFor(t, "the service answering with one node", 30*time.Second, func() (bool, string) {
				_, err := framework.HTTPGet("http://" + lbIP + "/")
				return err == nil, fmt.Sprint(err)
			})
			// The kubelet comes back: its node turns Ready and it finishes
			// the deletion of its evicted pods.
			e.Restart(dead.Kubelet)
			framework.WaitFor(t, "node "+dead.Name+" Ready again", 60*time.Second, func() (bool, string) {
				n, err := e.Client.Nodes().Get(ctx, dead.Name)
				if err != nil {
					return false, err.Error()
				}
				return framework.NodeReady(n) == "True", framework.NodeReady(n)
			})
			framework.WaitFor(t, "the evicted pods gone", 90*time.Second, func() (bool, string) {
				l, err := e.Client.Pods("default").List(ctx, client.ListOptions{LabelSelector: "app=web"})
				if err != nil {
					return false, err.Error()
				}
				return len(l.Items) == 3, fmt.Sprint(len(l.Items), " pods")
			})
		}},
		{"Job", func(t *testing.T) {
			e.Apply(t, jobManifest)
			framework.WaitFor(t, "job count complete", 120*time.Second, func() (bool, string) {
				j, err := e.Client.Jobs("default").Get(ctx, "count")
				if err != nil {
					return false, err.Error()
				}
				complete := false
				for _, c := range j.GetStatus().GetConditions() {
					complete = complete || (c.GetType() == "Complete" && c.GetStatus() == "True")
				}
				return complete && j.GetStatus().GetSucceeded() == 3, fmt.Sprint(j.GetStatus())
			})
		}},
		{"NamespaceDeletion", func(t *testing.T) {
			ns := "e2e-ns-" + e.ID
			e.Apply(t, strings.ReplaceAll(nsManifest, "NS", ns))
			e.WaitReadyPods(t, ns, "app=app", 2, 90*time.Second, nil)
			framework.WaitFor(t, "the job's pod running", 60*time.Second, func() (bool, string) {
				l, err := e.Client.Pods(ns).List(ctx, client.ListOptions{LabelSelector: "job-name=once"})
				if err != nil || len(l.Items) == 0 {
					return false, fmt.Sprint(err)
				}
				return l.Items[0].GetStatus().GetPhase() == "Running", l.Items[0].GetStatus().GetPhase()
			})
			if err := e.Client.Namespaces().Delete(ctx, ns, client.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			framework.WaitFor(t, "namespace "+ns+" gone", 120*time.Second, func() (bool, string) {
				_, err := e.Client.Namespaces().Get(ctx, ns)
				return client.IsNotFound(err), fmt.Sprint(err)
			})
			for _, kind := range []string{"pods", "services", "deployments", "replicasets", "jobs", "endpoints"} {
				res, err := scheme.Lookup(kind)
				if err != nil {
					t.Fatal(err)
				}
				l, err := e.Client.Resource(res, ns).List(ctx, client.ListOptions{})
				if err != nil || len(l.Items) != 0 {
					t.Errorf("%s left in %s: %v", kind, ns, err)
				}
			}
			framework.WaitFor(t, "the namespace's containers removed", 60*time.Second, func() (bool, string) {
				out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=io.gantry.pod.namespace="+ns).Output()
				return err == nil && strings.TrimSpace(string(out)) == "", string(out)
			})
		}},
		{"APIServerRestart", func(t *testing.T) {
			before := map[string]string{}
			for _, p := range e.Pods(t, "default", "app=web") {
				before[p.GetMetadata().GetName()] = p.GetMetadata().GetUid()
			}
			d, err := e.Client.Deployments("default").Get(ctx, "web")
			if err != nil {
				t.Fatal(err)
			}
			svc, err := e.Client.Services("default").Get(ctx, "web")
			if err != nil {
				t.Fatal(err)
			}
			// An outage longer than the node grace period (6s): the node
			// lifecycle controller may find the Leases stale once it is back
			// and mark the nodes Unknown; the kubelets must set them Ready
			// again at once.
			e.API.Stop()
			time.Sleep(8 * time.Second)
			e.API.Restart()
			restarted := time.Now()
			framework.WaitFor(t, "the apiserver answering", 60*time.Second, func() (bool, string) {
				_, err := e.Client.Version(ctx)
				return err == nil, fmt.Sprint(err)
			})
			d2, err := e.Client.Deployments("default").Get(ctx, "web")
			if err != nil || d2.GetMetadata().GetUid() != d.GetMetadata().GetUid() {
				t.Errorf("deployment after restart: %v %v", d2.GetMetadata(), err)
			}
			s2, err := e.Client.Services("default").Get(ctx, "web")
			if err != nil || s2.GetSpec().GetClusterIp() != svc.GetSpec().GetClusterIp() {
				t.Errorf("service after restart: %v %v", s2.GetSpec(), err)
			}
			after := map[string]string{}
			for _, p := range e.Pods(t, "default", "app=web") {
				after[p.GetMetadata().GetName()] = p.GetMetadata().GetUid()
			}
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("pods before the restart %v, after %v", before, after)
			}
			// Every daemon reconnected: the kubelets renew their Leases
			// again, a scale-up is scheduled, started and served through the
			// load balancer (kube-proxy, endpoints, cloud controller).
			for _, n := range []*framework.Node{n1, n2} {
				framework.WaitFor(t, "node "+n.Name+"'s Lease renewed after the restart", 30*time.Second, func() (bool, string) {
					l, err := e.Client.Leases("kube-node-lease").Get(ctx, n.Name)
					if err != nil {
						return false, err.Error()
					}
					return l.GetSpec().GetRenewTime().AsTime().After(restarted), fmt.Sprint(l.GetSpec().GetRenewTime().AsTime(), " ", restarted)
				})
				framework.WaitFor(t, "node "+n.Name+" Ready after the restart", 30*time.Second, func() (bool, string) {
					node, err := e.Client.Nodes().Get(ctx, n.Name)
					if err != nil {
						return false, err.Error()
					}
					return framework.NodeReady(node) == "True", fmt.Sprint(node.GetStatus().GetConditions())
				})
			}
			e.Scale(t, "default", "web", 4)
			pods := e.WaitReadyPods(t, "default", "app=web", 4, 90*time.Second, nil)
			var fresh string
			for _, p := range pods {
				if _, ok := before[p.GetMetadata().GetName()]; !ok {
					fresh = p.GetMetadata().GetName()
				}
			}
			framework.WaitFor(t, "the new pod "+fresh+" through the load balancer", 60*time.Second, func() (bool, string) {
				body, err := framework.HTTPGet("http://" + lbIP + "/")
				return err == nil && framework.Hostname(body) == fresh, fmt.Sprint(framework.Hostname(body), err)
			})
			e.Scale(t, "default", "web", 3)
			e.WaitReadyPods(t, "default", "app=web", 3, 60*time.Second, nil)
		}},
		{"CronJob", func(t *testing.T) {
			framework.WaitFor(t, "a job of cronjob tick complete", 120*time.Second, func() (bool, string) {
				l, err := e.Client.Jobs("default").List(ctx, client.ListOptions{})
				if err != nil {
					return false, err.Error()
				}
				var state []string
				for _, j := range l.Items {
					for _, o := range j.GetMetadata().GetOwnerReferences() {
						if o.GetKind() == "CronJob" && o.GetName() == "tick" {
							if j.GetStatus().GetSucceeded() >= 1 {
								return true, ""
							}
							state = append(state, fmt.Sprint(j.GetMetadata().GetName(), j.GetStatus()))
						}
					}
				}
				return false, strings.Join(state, "; ")
			})
			cj, err := e.Client.CronJobs("default").Get(ctx, "tick")
			if err != nil || cj.GetStatus().GetLastScheduleTime() == nil {
				t.Errorf("cronjob status: %v %v", cj.GetStatus(), err)
			}
		}},
	}
	for _, s := range steps {
		begin := time.Now()
		ok := t.Run(s.name, s.fn)
		t.Logf("%s: %s", s.name, time.Since(begin).Round(time.Millisecond))
		if !ok {
			return
		}
	}
	t.Logf("all steps after %s", time.Since(start).Round(time.Millisecond))
}

// poller asks a URL without pause and counts answers and failures.
type poller struct {
	ok       atomic.Int64
	mu       sync.Mutex
	failures []string
	sawV2    bool
	done     chan struct{}
	stopped  chan struct{}
}

// podGet asks http://ip/ from inside a pod's container (Debian's static
// busybox wget crashes with -T: timeout bounds it instead).
func podGet(container, ip string) (string, error) {
	out, err := exec.Command("docker", "exec", container, "timeout", "5", "wget", "-qO-", "http://"+ip+"/").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("wget in the pod: %v: %s", err, out)
	}
	return string(out), nil
}

func startPoller(get func() (string, error), pause time.Duration) *poller {
	p := &poller{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		for {
			select {
			case <-p.done:
				return
			default:
			}
			body, err := get()
			p.mu.Lock()
			if err != nil {
				p.failures = append(p.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
			} else {
				p.ok.Add(1)
				p.sawV2 = p.sawV2 || strings.Contains(body, "v2")
			}
			p.mu.Unlock()
			time.Sleep(pause)
		}
	}()
	return p
}

func (p *poller) stop() {
	close(p.done)
	<-p.stopped
}
