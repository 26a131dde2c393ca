package maps

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// lpmKey builds a struct bpf_lpm_trie_key_u8 for an IPv4 prefix.
func lpmKey(prefix string) []byte {
	p := netip.MustParsePrefix(prefix)
	a := p.Addr().As4()
	return append(u32(uint32(p.Bits())), a[:]...)
}

func lpmString(k []byte) string {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte(k[4:8])), int(k[0])).String()
}

func newTrie(t *testing.T, max uint32, prefixes ...string) *Map {
	m := mustNew(t, Spec{Name: "lpm", Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: max, Flags: FlagNoPrealloc}, 1)
	for i, p := range prefixes {
		wantErr(t, m.Update(lpmKey(p), u32(uint32(i+1)), UpdateAny, 0), nil)
	}
	return m
}

func TestLPMLongestMatch(t *testing.T) {
	m := newTrie(t, 16, "192.168.0.0/16", "192.168.0.0/24", "192.168.128.0/24", "192.168.1.0/24", "10.0.0.0/8", "0.0.0.0/0")
	tests := []struct {
		name string
		key  string
		want uint32 // 0: ENOENT
	}{
		{"an address inside a /24 matches the /24", "192.168.1.7/32", 4},
		{"an address inside only the /16 matches the /16", "192.168.2.7/32", 1},
		{"an address in the other /24 matches it", "192.168.128.1/32", 3},
		{"an address outside every specific prefix matches the default route", "8.8.8.8/32", 6},
		{"a lookup with a shorter prefixlen matches no longer prefix", "192.168.1.0/20", 1},
		{"a lookup of exactly a stored prefix matches it", "10.0.0.0/8", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := m.Lookup(lpmKey(tt.key), 0)
			wantErr(t, err, nil)
			if string(v) != string(u32(tt.want)) {
				t.Errorf("got %x, want %d", v, tt.want)
			}
		})
	}
	t.Run("a lookup with prefixlen above the data bits fails with ENOENT", func(t *testing.T) {
		_, err := m.Lookup(append(u32(33), 10, 0, 0, 1), 0)
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("an address no prefix covers fails with ENOENT", func(t *testing.T) {
		m := newTrie(t, 4, "10.0.0.0/8")
		_, err := m.Lookup(lpmKey("11.0.0.1/32"), 0)
		wantErr(t, err, errno.ENOENT)
	})
}

// The expected errors were checked against Linux 6.18.
func TestLPMUpdateAndDelete(t *testing.T) {
	t.Run("a prefixlen above the data bits fails with EINVAL", func(t *testing.T) {
		m := newTrie(t, 4)
		wantErr(t, m.Update(append(u32(33), 10, 0, 0, 0), u32(1), UpdateAny, 0), errno.EINVAL)
		wantErr(t, m.Delete(append(u32(33), 10, 0, 0, 0)), errno.EINVAL)
	})
	t.Run("BPF_EXIST on a missing prefix fails with ENOENT", func(t *testing.T) {
		m := newTrie(t, 4)
		wantErr(t, m.Update(lpmKey("10.0.0.0/8"), u32(1), UpdateExist, 0), errno.ENOENT)
	})
	t.Run("BPF_NOEXIST on a present prefix fails with EEXIST", func(t *testing.T) {
		m := newTrie(t, 4, "10.0.0.0/8")
		wantErr(t, m.Update(lpmKey("10.1.0.0/8"), u32(1), UpdateNoExist, 0), errno.EEXIST)
	})
	t.Run("flags above BPF_EXIST fail with EINVAL", func(t *testing.T) {
		m := newTrie(t, 4)
		wantErr(t, m.Update(lpmKey("10.0.0.0/8"), u32(1), 3, 0), errno.EINVAL)
	})
	t.Run("a new prefix in a full trie fails with ENOSPC", func(t *testing.T) {
		m := newTrie(t, 2, "10.0.0.0/8", "10.1.0.0/16")
		wantErr(t, m.Update(lpmKey("10.1.1.0/24"), u32(1), UpdateAny, 0), errno.ENOSPC)
	})
	t.Run("a present prefix can be replaced in a full trie", func(t *testing.T) {
		m := newTrie(t, 2, "10.0.0.0/8", "10.1.0.0/16")
		wantErr(t, m.Update(lpmKey("10.1.0.0/16"), u32(9), UpdateExist, 0), nil)
	})
	t.Run("intermediate nodes do not count as entries", func(t *testing.T) {
		m := newTrie(t, 2, "192.168.0.0/24", "192.168.1.0/24")
		if m.Len() != 2 {
			t.Errorf("Len = %d", m.Len())
		}
		// The /23 intermediate node becomes a real entry only with room for it.
		wantErr(t, m.Update(lpmKey("192.168.0.0/23"), u32(1), UpdateAny, 0), errno.ENOSPC)
	})
	t.Run("a delete of a missing prefix fails with ENOENT", func(t *testing.T) {
		m := newTrie(t, 4, "10.0.0.0/8")
		wantErr(t, m.Delete(lpmKey("10.0.0.0/16")), errno.ENOENT)
	})
	t.Run("after deletes the remaining prefixes still match", func(t *testing.T) {
		m := newTrie(t, 8, "192.168.0.0/16", "192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24")
		wantErr(t, m.Delete(lpmKey("192.168.0.0/24")), nil)
		wantErr(t, m.Delete(lpmKey("192.168.0.0/16")), nil)
		v, err := m.Lookup(lpmKey("192.168.1.1/32"), 0)
		wantErr(t, err, nil)
		if string(v) != string(u32(3)) {
			t.Errorf("got %x", v)
		}
		_, err = m.Lookup(lpmKey("192.168.0.1/32"), 0)
		wantErr(t, err, errno.ENOENT)
		if m.Len() != 2 {
			t.Errorf("Len = %d", m.Len())
		}
	})
}

func TestLPMNextKeyIsPostOrder(t *testing.T) {
	// The example of kernel/bpf/lpm_trie.c, whose get_next_key comment gives this order.
	m := newTrie(t, 8, "192.168.0.0/16", "192.168.0.0/24", "192.168.128.0/24", "192.168.1.0/24")
	want := []string{"192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24", "192.168.0.0/16"}
	t.Run("more specific prefixes come before less specific ones", func(t *testing.T) {
		var got []string
		for _, k := range keysOf(t, m) {
			got = append(got, lpmString(k))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a key not in the trie starts at the leftmost prefix", func(t *testing.T) {
		k, err := m.NextKey(lpmKey("1.2.3.4/32"))
		wantErr(t, err, nil)
		if lpmString(k) != want[0] {
			t.Errorf("got %s", lpmString(k))
		}
	})
	t.Run("an empty trie fails with ENOENT", func(t *testing.T) {
		_, err := newTrie(t, 1).NextKey(nil)
		wantErr(t, err, errno.ENOENT)
	})
}
