// Package sourceip decides which addresses may send callbacks, and where a
// request behind trusted proxies really came from.
package sourceip

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// regions are Speechmatics' published egress addresses, by region name.
var regions = map[string][]string{
	"eu1": {"40.74.41.91", "52.236.157.154", "40.74.37.0", "20.73.209.153", "20.73.142.44"},
	"eu2": {"20.105.89.153", "20.105.89.173", "20.105.89.184", "20.105.89.98", "20.105.88.228"},
	"us1": {"52.149.21.32", "52.149.21.10", "52.137.102.83", "40.64.107.92", "40.64.107.99"},
	"us2": {"52.146.58.224", "52.146.58.159", "52.146.59.242", "52.146.59.213", "52.146.58.64"},
	"au1": {"20.248.249.20", "20.248.249.47", "20.248.249.181", "20.248.249.119", "20.248.249.164"},
}

// Regions returns Speechmatics' published egress addresses, by region name
// (eu1, eu2, us1, us2, au1), as Parse expands the names: a copy, which the
// caller may change. The template's SpeechmaticsEgress mapping repeats it.
func Regions() map[string][]string {
	m := make(map[string][]string, len(regions))
	for name, addrs := range regions {
		m[name] = slices.Clone(addrs)
	}
	return m
}

// List is a set of address ranges. The zero value holds nothing.
type List struct {
	prefixes []netip.Prefix
}

// Parse reads a list of CIDRs, IPs and, when regionNames, the region names
// eu1, eu2, us1, us2 and au1, separated by commas or white space. Its error
// names every entry it cannot read.
func Parse(s string, regionNames bool) (*List, error) {
	l := &List{}
	var bad []string
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if addrs, ok := regions[strings.ToLower(entry)]; ok && regionNames {
			for _, a := range addrs {
				l.prefixes = append(l.prefixes, netip.PrefixFrom(netip.MustParseAddr(a), 32))
			}
			continue
		}
		if p, err := netip.ParsePrefix(entry); err == nil {
			l.prefixes = append(l.prefixes, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(entry); err == nil {
			a = a.Unmap()
			l.prefixes = append(l.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, fmt.Sprintf("%q", entry))
	}
	if len(bad) > 0 {
		want := "a CIDR or an IP"
		if regionNames {
			want = "a CIDR, an IP, or eu1, eu2, us1, us2, au1"
		}
		return nil, fmt.Errorf("want %s, got %s", want, strings.Join(bad, ", "))
	}
	return l, nil
}

// Empty reports whether the list holds no range.
func (l *List) Empty() bool { return l == nil || len(l.prefixes) == 0 }

// Allows reports whether ip may send callbacks under this list taken as an
// allowlist: an empty or nil list allows every address, as no list set
// means no address check.
func (l *List) Allows(ip string) bool { return l.Empty() || l.Contains(ip) }

// Contains reports whether ip, in text form, is in the list. An address
// that does not parse is in no list.
func (l *List) Contains(ip string) bool {
	if l == nil {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address a request came from: the peer's, unless the
// peer is a trusted proxy, in which case the rightmost address of
// X-Forwarded-For that is not itself a trusted proxy. forwardedFor holds
// every X-Forwarded-For header value, in order.
func ClientIP(peer string, forwardedFor []string, trusted *List) string {
	if !trusted.Contains(peer) {
		return peer
	}
	var hops []string
	for _, v := range forwardedFor {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		client = hops[i]
		if !trusted.Contains(client) {
			break
		}
	}
	return client
}
