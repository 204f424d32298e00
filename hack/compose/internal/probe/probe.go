package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Check checks target within timeout: "http://..." and "https://..." must
// answer a GET with a 2xx status (https without verifying the certificate:
// a health check asks whether the daemon answers, not who it is);
// "tcp://host:port" must accept a connection; "file:///path" must exist.
func Check(target string, timeout time.Duration) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("parse target: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	switch u.Scheme {
	case "http", "https":
		return checkHTTP(ctx, target)
	case "tcp":
		if u.Host == "" {
			return fmt.Errorf("tcp target needs host:port")
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return err
		}
		return c.Close()
	case "file":
		if u.Path == "" {
			return fmt.Errorf("file target needs a path")
		}
		_, err := os.Stat(u.Path)
		return err
	default:
		return fmt.Errorf("unknown scheme %q (want http, https, tcp or file)", u.Scheme)
	}
}

func checkHTTP(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // liveness, not identity
		DisableKeepAlives: true,
		Proxy:             nil, // a proxy in the environment must not answer for the daemon
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}
