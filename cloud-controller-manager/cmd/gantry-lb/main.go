// Command gantry-lb is the docker provider's load balancer: a TCP forwarder
// configured by a JSON file (see package internal/lb), reloaded on SIGHUP
// and when the file changes. It runs as PID 1 of a FROM scratch container.
package main

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gantryhq/gantry/cloud-controller-manager/internal/lb"
)

func main() {
	path := flag.String("config", lb.ConfigPath, "path of the JSON config")
	poll := flag.Duration("poll", time.Second, "how often the config file is checked for changes")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	f := lb.NewForwarder(log)

	var applied []byte
	reload := func() {
		data, err := os.ReadFile(*path)
		if err != nil {
			if !os.IsNotExist(err) || applied != nil {
				log.Warn("read config", "path", *path, "err", err)
			}
			return
		}
		if bytes.Equal(data, applied) {
			return
		}
		cfg, err := lb.ParseConfig(data)
		if err != nil {
			log.Error("bad config; keeping the last one", "err", err)
			applied = data
			return
		}
		if err := f.Apply(cfg); err != nil {
			log.Error("config applied in part", "err", err)
		} else {
			log.Info("config applied", "listeners", len(cfg.Listeners))
		}
		applied = data
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	t := time.NewTicker(*poll)
	defer t.Stop()
	reload()
	for {
		select {
		case s := <-sigs:
			if s != syscall.SIGHUP {
				log.Info("stopping", "signal", s.String())
				f.Close()
				return
			}
			reload()
		case <-t.C:
			reload()
		}
	}
}
