module github.com/gantryhq/gantry/cloud-controller-manager

go 1.26.0
