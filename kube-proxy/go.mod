module github.com/gantryhq/gantry/kube-proxy

go 1.26.0
