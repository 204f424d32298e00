module github.com/gantryhq/gantry/controller-manager

go 1.26.0
