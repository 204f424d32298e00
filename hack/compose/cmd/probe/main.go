// Command probe is the health check of the dev cluster's daemon images. The
// images are built FROM scratch, so they have no shell and no curl: docker
// runs this static binary instead. It checks every target it is given and
// exits 0 when all are healthy, 1 otherwise.
//
//	probe http://127.0.0.1:10259/readyz          an HTTP(S) GET answered 2xx
//	probe tcp://127.0.0.1:10250                  a TCP connection accepted
//	probe file:///var/lib/gantry/apiserver/admin.conf   a file that exists
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gantryhq/gantry/hack/compose/internal/probe"
)

func main() {
	timeout := flag.Duration("timeout", 3*time.Second, "Time allowed for each check.")
	quiet := flag.Bool("q", false, "Print nothing when healthy.")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: probe [-timeout 3s] [-q] http://host:port/path | https://... | tcp://host:port | file:///path ...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ok := true
	for _, target := range flag.Args() {
		if err := probe.Check(target, *timeout); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", target, err)
			ok = false
		} else if !*quiet {
			fmt.Printf("%s: ok\n", target)
		}
	}
	if !ok {
		os.Exit(1)
	}
}
