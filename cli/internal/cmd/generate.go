package cmd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// genOptions are the flags every object generator has.
type genOptions struct {
	output string
	dryRun string
}

func (o *genOptions) addFlags(c *cobra.Command) {
	c.Flags().StringVarP(&o.output, "output", "o", "", "Output format. One of: (json, yaml, name, jsonpath=...).")
	addDryRunFlag(c, &o.dryRun)
}

// emit creates a generated object (or prints it with --dry-run=client)
// and says `<kind>/<name> <verb>`.
func emit(c *cobra.Command, f *Factory, o *genOptions, obj scheme.Object, verb string) error {
	dry, err := parseDryRun(o.dryRun)
	if err != nil {
		return err
	}
	res, ok := scheme.ForMessage(obj)
	if !ok {
		return fmt.Errorf("%T is not a kind", obj)
	}
	if dry == dryRunClient {
		// As kubectl, a client dry run names a namespace only when -n does.
		if res.Namespaced && f.Namespace != "" {
			scheme.Meta(obj).Namespace = f.Namespace
		}
		return printResult(f, o.output, res, obj, verb+dry.suffix())
	}
	ns, _, err := f.DefaultNamespace()
	if err != nil {
		return err
	}
	if res.Namespaced {
		scheme.Meta(obj).Namespace = ns
	}
	cs, err := f.Client()
	if err != nil {
		return err
	}
	out, err := createObject(c.Context(), cs, res, obj, dry)
	if err != nil {
		return err
	}
	return printResult(f, o.output, res, out, verb+dry.suffix())
}

// containerName is kubectl's name for a container of image: its last path
// element without tag or digest.
func containerName(image string) string {
	n := image
	if i := strings.LastIndex(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	if i := strings.IndexAny(n, ":@"); i >= 0 {
		n = n[:i]
	}
	return n
}

func newCreateNamespaceCommand(f *Factory) *cobra.Command {
	o := &genOptions{}
	c := &cobra.Command{
		Use:     "namespace NAME [--dry-run=server|client|none]",
		Aliases: []string{"ns"},
		Short:   "Create a namespace with the specified name",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return emit(c, f, o, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: args[0]}}, "created")
		},
	}
	o.addFlags(c)
	return c
}

func newCreateDeploymentCommand(f *Factory) *cobra.Command {
	o := &genOptions{}
	var images []string
	var replicas, port int32
	c := &cobra.Command{
		Use:     "deployment NAME --image=image -- [COMMAND] [args...]",
		Aliases: []string{"deploy"},
		Short:   "Create a deployment with the specified name",
		Example: `  # Create a deployment named my-dep that runs the busybox image
  gantry create deployment my-dep --image=busybox -- date

  # Create a deployment named my-dep that runs the nginx image with 3 replicas
  gantry create deployment my-dep --image=nginx --replicas=3`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usage(c, "NAME is required")
			}
			if len(images) == 0 {
				return usage(c, "required flag(s) \"image\" not set")
			}
			name := args[0]
			if len(images) > 1 && len(args) > 1 {
				return fmt.Errorf("cannot specify multiple --image options and command")
			}
			labels := map[string]string{"app": name}
			var cs []*corev1.Container
			for _, img := range images {
				ct := &corev1.Container{Name: containerName(img), Image: img}
				if len(args) > 1 {
					ct.Command = args[1:]
				}
				if port > 0 {
					ct.Ports = []*corev1.ContainerPort{{ContainerPort: port}}
				}
				cs = append(cs, ct)
			}
			d := &appsv1.Deployment{
				Metadata: &metav1.ObjectMeta{Name: name, Labels: labels},
				Spec: &appsv1.DeploymentSpec{
					Replicas: proto.Int32(replicas),
					Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: &corev1.PodTemplateSpec{
						Metadata: &metav1.ObjectMeta{Labels: labels},
						Spec:     &corev1.PodSpec{Containers: cs},
					},
				},
			}
			return emit(c, f, o, d, "created")
		},
	}
	c.Flags().StringSliceVar(&images, "image", nil, "Image names to run. A deployment can have multiple images set for multi-container pod.")
	c.Flags().Int32VarP(&replicas, "replicas", "r", 1, "Number of replicas to create. Default is 1.")
	c.Flags().Int32Var(&port, "port", -1, "The containerPort that this deployment exposes.")
	o.addFlags(c)
	return c
}

func jobSpec(name, image string, command []string, restart string) *batchv1.JobSpec {
	return &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{
		Containers:    []*corev1.Container{{Name: name, Image: image, Command: command}},
		RestartPolicy: restart,
	}}}
}

func newCreateJobCommand(f *Factory) *cobra.Command {
	o := &genOptions{}
	var image, from string
	c := &cobra.Command{
		Use:   "job NAME --image=image [--from=cronjob/name] -- [COMMAND] [args...]",
		Short: "Create a job with the specified name",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usage(c, "NAME is required")
			}
			name := args[0]
			if from != "" {
				typ, cjName, ok := strings.Cut(from, "/")
				if !ok || (typ != "cronjob" && typ != "cj" && typ != "cronjobs") {
					return fmt.Errorf("from must be an existing cronjob: cronjob/NAME")
				}
				cs, ns, _, err := f.ClientIn()
				if err != nil {
					return err
				}
				cj, err := cs.CronJobs(ns).Get(c.Context(), cjName)
				if err != nil {
					return err
				}
				tmpl := cj.GetSpec().GetJobTemplate()
				j := &batchv1.Job{
					Metadata: &metav1.ObjectMeta{Name: name, Labels: tmpl.GetMetadata().GetLabels(),
						Annotations: map[string]string{"cronjob.kubernetes.io/instantiate": "manual"},
						OwnerReferences: []*metav1.OwnerReference{{ApiVersion: "batch/v1", Kind: "CronJob", Name: cjName,
							Uid: cj.GetMetadata().GetUid(), Controller: proto.Bool(true)}}},
					Spec: proto.Clone(tmpl.GetSpec()).(*batchv1.JobSpec),
				}
				return emit(c, f, o, j, "created")
			}
			if image == "" {
				return usage(c, "--image or --from must be specified")
			}
			return emit(c, f, o, &batchv1.Job{Metadata: &metav1.ObjectMeta{Name: name},
				Spec: jobSpec(name, image, args[1:], "Never")}, "created")
		},
	}
	c.Flags().StringVar(&image, "image", "", "Image name to run.")
	c.Flags().StringVar(&from, "from", "", "The name of the resource to create a Job from (only cronjob is supported).")
	o.addFlags(c)
	return c
}

func newCreateCronJobCommand(f *Factory) *cobra.Command {
	o := &genOptions{}
	var image, schedule, restart string
	c := &cobra.Command{
		Use:     "cronjob NAME --image=image --schedule='0/5 * * * ?' -- [COMMAND] [args...]",
		Aliases: []string{"cj"},
		Short:   "Create a cron job with the specified name",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usage(c, "NAME is required")
			}
			if image == "" || schedule == "" {
				return usage(c, "--image and --schedule must be specified")
			}
			name := args[0]
			return emit(c, f, o, &batchv1.CronJob{Metadata: &metav1.ObjectMeta{Name: name},
				Spec: &batchv1.CronJobSpec{Schedule: schedule, JobTemplate: &batchv1.JobTemplateSpec{
					Metadata: &metav1.ObjectMeta{Name: name}, Spec: jobSpec(name, image, args[1:], restart)}}}, "created")
		},
	}
	c.Flags().StringVar(&image, "image", "", "Image name to run.")
	c.Flags().StringVar(&schedule, "schedule", "", "A schedule in the Cron format the job should be run with.")
	c.Flags().StringVar(&restart, "restart", "OnFailure", "job's restart policy. supported values: OnFailure, Never")
	o.addFlags(c)
	return c
}

// parsePortSpecs reads --tcp=port[:targetPort] values.
func parsePortSpecs(specs []string) ([]*corev1.ServicePort, error) {
	var out []*corev1.ServicePort
	for _, s := range specs {
		p, t, hasTarget := strings.Cut(s, ":")
		port, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("invalid port %q", s)
		}
		sp := &corev1.ServicePort{Name: fmt.Sprintf("%d-%s", port, firstNonEmpty(t, p)), Protocol: "TCP", Port: int32(port)}
		target := p
		if hasTarget {
			target = t
		}
		if n, err := strconv.Atoi(target); err == nil {
			sp.TargetPort = &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: int32(n)}}
		} else {
			sp.TargetPort = &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: target}}
		}
		out = append(out, sp)
	}
	return out, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func newCreateServiceCommand(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:     "service",
		Aliases: []string{"svc"},
		Short:   "Create a service using a specified subcommand",
	}
	for _, typ := range []string{"ClusterIP", "NodePort", "LoadBalancer"} {
		typ := typ
		o := &genOptions{}
		var tcp []string
		var clusterIP string
		var nodePort int32
		sc := &cobra.Command{
			Use:   strings.ToLower(typ) + " NAME [--tcp=<port>:<targetPort>]",
			Short: "Create a " + typ + " service",
			Args:  cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				ports, err := parsePortSpecs(tcp)
				if err != nil {
					return err
				}
				if len(ports) == 0 && clusterIP != "None" {
					return usage(c, "at least one tcp port specifier must be provided")
				}
				if nodePort > 0 && len(ports) > 0 {
					ports[0].NodePort = nodePort
				}
				name := args[0]
				labels := map[string]string{"app": name}
				svc := &corev1.Service{Metadata: &metav1.ObjectMeta{Name: name, Labels: labels},
					Spec: &corev1.ServiceSpec{Type: typ, Ports: ports, Selector: labels, ClusterIp: clusterIP}}
				return emit(c, f, o, svc, "created")
			},
		}
		sc.Flags().StringSliceVar(&tcp, "tcp", nil, "Port pairs can be specified as '<port>:<targetPort>'.")
		if typ == "ClusterIP" {
			sc.Flags().StringVar(&clusterIP, "clusterip", "", "Assign your own ClusterIP or set to 'None' for a 'headless' service (no loadbalancing).")
		}
		if typ == "NodePort" {
			sc.Flags().Int32Var(&nodePort, "node-port", 0, "Port used to expose the service on each node in a cluster.")
		}
		o.addFlags(sc)
		c.AddCommand(sc)
	}
	return c
}

func newRunCommand(f *Factory) *cobra.Command {
	o := &genOptions{}
	var image, restart string
	var port int32
	var labelSpecs, env []string
	var command bool
	c := &cobra.Command{
		Use:   "run NAME --image=image [--env=\"key=value\"] [--port=port] [--dry-run=server|client] [--command] -- [COMMAND] [args...]",
		Short: "Run a particular image on the cluster",
		Long:  "Create and run a particular image in a pod.",
		Example: `  # Start a nginx pod
  gantry run nginx --image=nginx

  # Start a busybox pod and keep it in the foreground, don't restart it if it exits
  gantry run busybox --image=busybox --restart=Never -- sleep 3600`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usage(c, "NAME is required for run")
			}
			if image == "" {
				return usage(c, "--image is required")
			}
			name := args[0]
			labels := map[string]string{"run": name}
			for _, l := range labelSpecs {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					return fmt.Errorf("invalid label spec: %s", l)
				}
				if len(labels) == 1 && labels["run"] == name {
					labels = map[string]string{}
				}
				labels[k] = v
			}
			ct := &corev1.Container{Name: name, Image: image}
			if len(args) > 1 {
				if command {
					ct.Command = args[1:]
				} else {
					ct.Args = args[1:]
				}
			}
			if port > 0 {
				ct.Ports = []*corev1.ContainerPort{{ContainerPort: port}}
			}
			for _, e := range env {
				k, v, _ := strings.Cut(e, "=")
				ct.Env = append(ct.Env, &corev1.EnvVar{Name: k, Value: v})
			}
			pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: name, Labels: labels},
				Spec: &corev1.PodSpec{Containers: []*corev1.Container{ct}, RestartPolicy: restart}}
			return emit(c, f, o, pod, "created")
		},
	}
	c.Flags().StringVar(&image, "image", "", "The image for the container to run.")
	c.Flags().StringVar(&restart, "restart", "Always", "The restart policy for this Pod. Legal values [Always, OnFailure, Never].")
	c.Flags().Int32Var(&port, "port", -1, "The port that this container exposes.")
	c.Flags().StringSliceVarP(&labelSpecs, "labels", "l", nil, "Comma separated labels to apply to the pod. Will override previous values.")
	c.Flags().StringArrayVar(&env, "env", nil, "Environment variables to set in the container.")
	c.Flags().BoolVar(&command, "command", false, "If true and extra arguments are present, use them as the 'command' field in the container, rather than the 'args' field which is the default.")
	o.addFlags(c)
	return c
}

func newExposeCommand(f *Factory) *cobra.Command {
	o := &genOptions{}
	var port, targetPort, svcType, name, protocol, clusterIP string
	c := &cobra.Command{
		Use:   "expose (-f FILENAME | TYPE NAME) [--port=port] [--protocol=TCP|UDP|SCTP] [--target-port=number-or-name] [--name=name] [--type=type]",
		Short: "Take a deployment, replica set, service or pod and expose it as a new service",
		Example: `  # Create a service for an nginx deployment, which serves on port 80 and connects to the containers on port 8000
  gantry expose deployment nginx --port=80 --target-port=8000`,
		RunE: func(c *cobra.Command, args []string) error {
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			if len(refs) != 1 || len(refs[0].names) != 1 {
				return usage(c, "you must provide one resource by type and name")
			}
			cs, ns, _, err := f.ClientIn()
			if err != nil {
				return err
			}
			res, objName := refs[0].res, refs[0].names[0]
			obj, err := cs.Resource(res, namespaceFor(res, ns)).Get(c.Context(), objName)
			if err != nil {
				return err
			}
			var selector map[string]string
			var ports []*corev1.ContainerPort
			switch o := obj.(type) {
			case *appsv1.Deployment:
				selector = o.GetSpec().GetSelector().GetMatchLabels()
				ports = firstPorts(o.GetSpec().GetTemplate().GetSpec())
			case *appsv1.ReplicaSet:
				selector = o.GetSpec().GetSelector().GetMatchLabels()
				ports = firstPorts(o.GetSpec().GetTemplate().GetSpec())
			case *corev1.Pod:
				selector = o.GetMetadata().GetLabels()
				ports = firstPorts(o.GetSpec())
			case *corev1.Service:
				selector = o.GetSpec().GetSelector()
				for _, p := range o.GetSpec().GetPorts() {
					ports = append(ports, &corev1.ContainerPort{ContainerPort: p.GetPort(), Protocol: p.GetProtocol()})
				}
			default:
				return fmt.Errorf("cannot expose a %s", res.Kind)
			}
			if len(selector) == 0 {
				return fmt.Errorf("couldn't retrieve selectors via --selector flag or introspection: the %s has no labels to select", res.Kind)
			}
			var sps []*corev1.ServicePort
			if port != "" {
				p, err := strconv.Atoi(port)
				if err != nil {
					return fmt.Errorf("invalid --port %q", port)
				}
				sps = append(sps, &corev1.ServicePort{Port: int32(p), Protocol: protocol})
			} else {
				for i, cp := range ports {
					sp := &corev1.ServicePort{Port: cp.GetContainerPort(), Protocol: firstNonEmpty(cp.GetProtocol(), protocol)}
					if len(ports) > 1 {
						sp.Name = fmt.Sprintf("port-%d", i+1)
					}
					sps = append(sps, sp)
				}
			}
			if len(sps) == 0 {
				return fmt.Errorf("couldn't find port via --port flag or introspection")
			}
			for _, sp := range sps {
				t := targetPort
				if t == "" {
					t = strconv.Itoa(int(sp.GetPort()))
				}
				if n, err := strconv.Atoi(t); err == nil {
					sp.TargetPort = &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: int32(n)}}
				} else {
					sp.TargetPort = &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: t}}
				}
			}
			if name == "" {
				name = objName
			}
			svc := &corev1.Service{Metadata: &metav1.ObjectMeta{Name: name, Labels: obj.GetMetadata().GetLabels()},
				Spec: &corev1.ServiceSpec{Selector: selector, Ports: sps, Type: svcType, ClusterIp: clusterIP}}
			return emit(c, f, o, svc, "exposed")
		},
	}
	c.Flags().StringVar(&port, "port", "", "The port that the service should serve on. Copied from the resource being exposed, if unspecified")
	c.Flags().StringVar(&targetPort, "target-port", "", "Name or number for the port on the container that the service should direct traffic to. Optional.")
	c.Flags().StringVar(&svcType, "type", "", "Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName. Default is 'ClusterIP'.")
	c.Flags().StringVar(&name, "name", "", "The name for the newly created object.")
	c.Flags().StringVar(&protocol, "protocol", "TCP", "The network protocol for the service to be created. Default is 'TCP'.")
	c.Flags().StringVar(&clusterIP, "cluster-ip", "", "ClusterIP to be assigned to the service. Leave empty to auto-allocate, or set to 'None' to create a headless service.")
	o.addFlags(c)
	return c
}

func firstPorts(spec *corev1.PodSpec) []*corev1.ContainerPort {
	var out []*corev1.ContainerPort
	for _, c := range spec.GetContainers() {
		out = append(out, c.GetPorts()...)
	}
	return out
}
