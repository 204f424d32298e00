// Package config reads and writes Gantry's client configuration, a file in
// the shape of a Kubernetes kubeconfig:
//
//	apiVersion: v1
//	kind: Config
//	current-context: local
//	clusters:
//	- name: local
//	  cluster:
//	    server: https://127.0.0.1:6443       # or "127.0.0.1:6443"
//	    certificate-authority: ca.crt         # or certificate-authority-data (base64 PEM)
//	    tls-server-name: apiserver            # optional
//	contexts:
//	- name: local
//	  context: {cluster: local, user: admin, namespace: default}
//	users:
//	- name: admin
//	  user:
//	    client-certificate: admin.crt         # or client-certificate-data
//	    client-key: admin.key                 # or client-key-data
//	    token: ...                            # or token-file
//
// A program finds its file with [Path] (the --kubeconfig flag, else
// $GANTRY_CONFIG, else ~/.gantry/config), reads it with [Load], and turns a
// context into a [Config] ready to dial with [File.Resolve]; [Open] does all
// three. Relative file names in the file resolve against the file's own
// folder. [Write] stores a File atomically with mode 0600 (the apiserver
// writes <data-dir>/admin.conf with it).
package config
