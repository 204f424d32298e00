package provider

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
)

// Config is what the command gives every provider when it builds it.
type Config struct {
	// ClusterName names the cluster; providers label what they make with it
	// so that two clusters on the same infrastructure do not collide.
	ClusterName string
	// Logger is the provider's logger.
	Logger *zap.Logger
}

// Registration is one provider a [Registry] can build.
type Registration struct {
	// Name is the value of --cloud-provider that picks this provider.
	Name string
	// AddFlags adds the provider's own flags to fs; by convention their
	// names start with the provider's name ("--docker-network"). The values
	// are read by New, which runs after the flags are parsed. May be nil.
	AddFlags func(fs *pflag.FlagSet)
	// New builds the provider. Required.
	New func(ctx context.Context, cfg Config) (Interface, error)
}

// Registry holds providers by name. It is safe for concurrent use.
type Registry struct {
	mu   sync.Mutex
	regs map[string]Registration
}

// NewRegistry returns a registry holding regs.
func NewRegistry(regs ...Registration) (*Registry, error) {
	r := &Registry{regs: map[string]Registration{}}
	for _, reg := range regs {
		if err := r.Register(reg); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds reg. A second provider of the same name is an error.
func (r *Registry) Register(reg Registration) error {
	if reg.Name == "" || reg.New == nil {
		return fmt.Errorf("register provider %q: Name and New are required", reg.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.regs == nil {
		r.regs = map[string]Registration{}
	}
	if _, ok := r.regs[reg.Name]; ok {
		return fmt.Errorf("provider %q is already registered", reg.Name)
	}
	r.regs[reg.Name] = reg
	return nil
}

// Names lists the registered providers, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.regs))
	for n := range r.regs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has says whether a provider of that name is registered.
func (r *Registry) Has(name string) bool {
	return slices.Contains(r.Names(), name)
}

// AddFlags adds every registered provider's flags to fs.
func (r *Registry) AddFlags(fs *pflag.FlagSet) {
	for _, n := range r.Names() {
		r.mu.Lock()
		reg := r.regs[n]
		r.mu.Unlock()
		if reg.AddFlags != nil {
			reg.AddFlags(fs)
		}
	}
}

// New builds the provider registered as name.
func (r *Registry) New(ctx context.Context, name string, cfg Config) (Interface, error) {
	r.mu.Lock()
	reg, ok := r.regs[name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown cloud provider %q (registered: %s)", name, strings.Join(r.Names(), ", "))
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	p, err := reg.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cloud provider %s: %w", name, err)
	}
	return p, nil
}
