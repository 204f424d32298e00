module github.com/gantryhq/gantry/kubelet

go 1.26.0
