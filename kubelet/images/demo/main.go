// Command demo is the image gantry/demo: a small HTTP server for trying out
// pods, services and probes. GET / answers with the hostname and pod IP,
// GET /healthz with "ok" (or 500 once told to fail). Flags make it fail its
// health check, exit with a code, or linger after SIGTERM, so tests can
// drive every path of the kubelet.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	port := flag.Int("port", 8080, "port to listen on")
	failHealth := flag.Bool("fail-healthz", false, "answer /healthz with 500 from the start")
	failAfter := flag.Duration("fail-healthz-after", 0, "answer /healthz with 500 after this long")
	exitCode := flag.Int("exit-code", 0, "exit code for -exit-after")
	exitAfter := flag.Duration("exit-after", 0, "exit with -exit-code after this long")
	termDelay := flag.Duration("term-delay", 0, "keep running this long after SIGTERM (0: exit at once)")
	message := flag.String("message", "", "extra line in answers to /")
	flag.Parse()

	var unhealthy atomic.Bool
	unhealthy.Store(*failHealth)
	if *failAfter > 0 {
		time.AfterFunc(*failAfter, func() {
			log.Print("healthz: failing from now on")
			unhealthy.Store(true)
		})
	}
	if *exitAfter > 0 {
		time.AfterFunc(*exitAfter, func() {
			log.Printf("exiting with code %d", *exitCode)
			os.Exit(*exitCode)
		})
	}
	host, _ := os.Hostname()
	ip := podIP()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hostname: %s\npod IP: %s\n", host, ip)
		if *message != "" {
			fmt.Fprintln(w, *message)
		}
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if unhealthy.Load() {
			http.Error(w, "unhealthy", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		unhealthy.Store(true)
		fmt.Fprintln(w, "healthz fails from now on")
	})
	srv := &http.Server{Addr: fmt.Sprintf(":%d", *port), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		log.Printf("received %s", strings.ToUpper(sigName(s)))
		if *termDelay > 0 {
			log.Printf("lingering %s after %s", *termDelay, sigName(s))
			time.Sleep(*termDelay)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("demo listening on :%d (hostname %s, pod IP %s)", *port, host, ip)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
	log.Print("stopped")
}

func sigName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "sigterm"
	}
	return "sigint"
}

// podIP is the first non-loopback IPv4 address.
func podIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
