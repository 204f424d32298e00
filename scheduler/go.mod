module github.com/gantryhq/gantry/scheduler

go 1.26.0
