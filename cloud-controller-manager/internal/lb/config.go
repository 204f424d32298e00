package lb

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
)

// ConfigPath is where the config sits inside the load balancer's container.
const ConfigPath = "/etc/gantry-lb/config.json"

// Config is the whole configuration of one load balancer.
type Config struct {
	// Listeners, one per service port, sorted by port.
	Listeners []Listener `json:"listeners"`
}

// Listener forwards one port.
type Listener struct {
	// Name is the service port's name (for logs).
	Name string `json:"name,omitempty"`
	// Port is the port listened on, on every address.
	Port int32 `json:"port"`
	// Protocol is "TCP", the only one supported.
	Protocol string `json:"protocol"`
	// Backends are "host:port" addresses, sorted.
	Backends []string `json:"backends"`
}

// Normalize sorts listeners and backends so that equal configs marshal to
// equal bytes.
func (c *Config) Normalize() {
	sort.Slice(c.Listeners, func(i, j int) bool { return c.Listeners[i].Port < c.Listeners[j].Port })
	for i := range c.Listeners {
		sort.Strings(c.Listeners[i].Backends)
	}
}

// Validate checks ports, protocols and backend addresses.
func (c *Config) Validate() error {
	seen := map[int32]bool{}
	for _, l := range c.Listeners {
		if l.Port < 1 || l.Port > 65535 {
			return fmt.Errorf("listener port %d: must be 1..65535", l.Port)
		}
		if seen[l.Port] {
			return fmt.Errorf("listener port %d: listed twice", l.Port)
		}
		seen[l.Port] = true
		if l.Protocol != "TCP" {
			return fmt.Errorf("listener port %d: protocol %q not supported (only TCP)", l.Port, l.Protocol)
		}
		for _, b := range l.Backends {
			host, port, err := net.SplitHostPort(b)
			if err != nil || host == "" {
				return fmt.Errorf("listener port %d: backend %q: want host:port", l.Port, b)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("listener port %d: backend %q: bad port", l.Port, b)
			}
		}
	}
	return nil
}

// Marshal returns the normalized config as indented JSON.
func (c Config) Marshal() ([]byte, error) {
	c.Listeners = append([]Listener(nil), c.Listeners...)
	for i := range c.Listeners {
		c.Listeners[i].Backends = append([]string(nil), c.Listeners[i].Backends...)
	}
	c.Normalize()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseConfig reads and validates a config.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse load balancer config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Normalize()
	return &c, nil
}
