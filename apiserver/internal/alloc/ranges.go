package alloc

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
)

// IPRange is the service cluster IP range (--service-cluster-ip-range),
// without its network and broadcast addresses.
type IPRange struct {
	Prefix netip.Prefix
	// size is the number of usable addresses, capped at 1<<62 for IPv6.
	size uint64
}

// ParseIPRange parses a CIDR such as 10.96.0.0/12. It needs at least 4
// addresses (a /30).
func ParseIPRange(cidr string) (*IPRange, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("service cluster IP range %q: %w", cidr, err)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits < 2 {
		return nil, fmt.Errorf("service cluster IP range %q is too small: at least 4 addresses are needed", cidr)
	}
	size := uint64(1) << 62
	if hostBits < 62 {
		size = uint64(1)<<hostBits - 2
	}
	return &IPRange{Prefix: p, size: size}, nil
}

// String is the CIDR.
func (r *IPRange) String() string { return r.Prefix.String() }

// Size is the number of addresses that can be allocated.
func (r *IPRange) Size() uint64 { return r.size }

// Family is "IPv4" or "IPv6".
func (r *IPRange) Family() string {
	if r.Prefix.Addr().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// Contains reports whether ip may be allocated: inside the prefix, neither
// the network nor the broadcast address.
func (r *IPRange) Contains(ip netip.Addr) bool {
	if !r.Prefix.Contains(ip) || ip == r.Prefix.Addr() {
		return false
	}
	if ip.Is4() {
		return ip != r.last()
	}
	return true
}

func (r *IPRange) last() netip.Addr {
	b := r.Prefix.Addr().AsSlice()
	for i := r.Prefix.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// At returns the address at offset i (0 is the first usable address).
func (r *IPRange) At(i uint64) netip.Addr {
	base := new(big.Int).SetBytes(r.Prefix.Addr().AsSlice())
	base.Add(base, new(big.Int).SetUint64(i+1))
	b := base.FillBytes(make([]byte, r.Prefix.Addr().BitLen()/8))
	a, _ := netip.AddrFromSlice(b)
	return a
}

// PortRange is the node port range (--service-node-port-range), both ends
// included.
type PortRange struct {
	Base, Size int
}

// ParsePortRange parses "30000-32767" (or a single port).
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("service node port range %q: want <low>-<high> within 1-65535", s)
	}
	return PortRange{Base: a, Size: b - a + 1}, nil
}

// Contains reports whether port lies in the range.
func (r PortRange) Contains(port int) bool { return port >= r.Base && port < r.Base+r.Size }

// String is "low-high".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Base, r.Base+r.Size-1) }
