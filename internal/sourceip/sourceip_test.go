package sourceip

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseAndContains(t *testing.T) {
	l, err := Parse("eu1, 10.0.0.0/8 192.168.1.7,2001:db8::/32", true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want bool
	}{
		{"40.74.41.91", true}, // eu1
		{"20.73.142.44", true},
		{"20.105.89.153", false}, // eu2, not listed
		{"10.200.3.4", true},
		{"11.0.0.1", false},
		{"192.168.1.7", true},
		{"192.168.1.8", false},
		{"::ffff:192.168.1.7", true}, // IPv4-mapped
		{"2001:db8::1", true},
		{"2001:db9::1", false},
		{"", false},
		{"not an ip", false},
		{"40.74.41.91:443", false},
	}
	for _, tt := range tests {
		if got := l.Contains(tt.ip); got != tt.want {
			t.Errorf("Contains(%q): got %v, want %v", tt.ip, got, tt.want)
		}
	}
}

func TestParseRegions(t *testing.T) {
	for _, region := range []string{"eu1", "eu2", "us1", "us2", "au1", "EU1"} {
		l, err := Parse(region, true)
		if err != nil || len(l.prefixes) != 5 {
			t.Errorf("%s: got %v, %v, want its 5 addresses", region, l, err)
		}
	}
	if _, err := Parse("eu1", false); err == nil {
		t.Error("region names accepted where they mean nothing")
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse("10.0.0.0/33, eu3, 1.2.3.4, x", true)
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	for _, want := range []string{`"10.0.0.0/33"`, `"eu3"`, `"x"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "1.2.3.4") {
		t.Errorf("got %q, which names a good entry", err)
	}
	if l, err := Parse("", true); err != nil || !l.Empty() {
		t.Errorf("empty: got %v, %v, want an empty list", l, err)
	}
}

func TestClientIP(t *testing.T) {
	trusted, _ := Parse("10.0.0.0/8, 172.16.0.1", false)
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct, header ignored", "40.74.41.91", []string{"1.2.3.4"}, "40.74.41.91"},
		{"one proxy", "10.0.0.5", []string{"40.74.41.91"}, "40.74.41.91"},
		{"spoofed left part ignored", "10.0.0.5", []string{"1.2.3.4, 40.74.41.91"}, "40.74.41.91"},
		{"two proxies", "10.0.0.5", []string{"40.74.41.91, 172.16.0.1"}, "40.74.41.91"},
		{"headers in order", "10.0.0.5", []string{"1.2.3.4", "40.74.41.91", "10.1.1.1"}, "40.74.41.91"},
		{"proxy without header", "10.0.0.5", nil, "10.0.0.5"},
		{"all trusted", "10.0.0.5", []string{"10.9.9.9"}, "10.9.9.9"},
		{"garbage is the client", "10.0.0.5", []string{"40.74.41.91, garbage"}, "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClientIP(tt.peer, tt.xff, trusted); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAllowsWhenEmpty checks that an allowlist set to nothing checks no
// address, while a list of proxies set to nothing trusts none.
func TestAllowsWhenEmpty(t *testing.T) {
	empty, err := Parse("", true)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := Parse("40.74.41.91", true)
	tests := []struct {
		name              string
		list              *List
		ip                string
		allows, contained bool
	}{
		{"empty list", empty, "198.51.100.1", true, false},
		{"nil list", nil, "198.51.100.1", true, false},
		{"listed", one, "40.74.41.91", true, true},
		{"not listed", one, "198.51.100.1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.list.Allows(tt.ip); got != tt.allows {
				t.Errorf("Allows: got %v, want %v", got, tt.allows)
			}
			if got := tt.list.Contains(tt.ip); got != tt.contained {
				t.Errorf("Contains: got %v, want %v", got, tt.contained)
			}
		})
	}
}

// TestRegions checks that Regions lists the names Parse expands, five IPv4
// addresses each, that Parse takes exactly those addresses for a name, and
// that the caller gets a copy.
func TestRegions(t *testing.T) {
	got := Regions()
	var names []string
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"au1", "eu1", "eu2", "us1", "us2"}; !slices.Equal(names, want) {
		t.Errorf("got regions %v, want %v", names, want)
	}
	for name, addrs := range got {
		l, err := Parse(name, true)
		if err != nil {
			t.Fatalf("Parse(%q): %v", name, err)
		}
		if len(addrs) != 5 || len(l.prefixes) != len(addrs) {
			t.Errorf("%s: got %d addresses and %d parsed ranges, want 5 of each", name, len(addrs), len(l.prefixes))
		}
		for i, a := range addrs {
			ip, err := netip.ParseAddr(a)
			if err != nil || !ip.Is4() {
				t.Errorf("%s: got address %q, want IPv4", name, a)
				continue
			}
			if i < len(l.prefixes) && l.prefixes[i] != netip.PrefixFrom(ip, 32) {
				t.Errorf("%s, address %d: got parsed %v, want %v/32", name, i, l.prefixes[i], a)
			}
		}
	}
	got["eu1"][0] = "192.0.2.1"
	delete(got, "us1")
	if again := Regions(); again["eu1"][0] != "40.74.41.91" || again["us1"] == nil {
		t.Errorf("got %v after changing an earlier result, want Regions unchanged", again)
	}
}
