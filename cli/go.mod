module github.com/gantryhq/gantry/cli

go 1.26.0
