package maps

import (
	"testing"

	"github.com/cilium/ebpf"
)

func benchMaps(tb testing.TB) map[string]struct {
	m   *Map
	key []byte
} {
	arr := mustNew(tb, Spec{Type: ebpf.Array, KeySize: 4, ValueSize: 64, MaxEntries: 1024}, 1)
	pcpu := mustNew(tb, Spec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 64, MaxEntries: 1024}, 4)
	hash := mustNew(tb, Spec{Type: ebpf.Hash, KeySize: 16, ValueSize: 64, MaxEntries: 65536}, 1)
	lru := mustNew(tb, Spec{Type: ebpf.LRUHash, KeySize: 16, ValueSize: 64, MaxEntries: 65536}, 1)
	trie := mustNew(tb, Spec{Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 1024, Flags: FlagNoPrealloc}, 1)
	key16 := make([]byte, 16)
	for i := range 1000 {
		key16[0], key16[1] = byte(i), byte(i>>8)
		hash.Update(key16, make([]byte, 64), UpdateAny, 0)
		lru.Update(key16, make([]byte, 64), UpdateAny, 0)
		trie.Update(append(u32(uint32(8+i%24)), byte(i), byte(i>>8), 0, 0), make([]byte, 8), UpdateAny, 0)
	}
	key16[0], key16[1] = 77, 1
	return map[string]struct {
		m   *Map
		key []byte
	}{
		"array":        {arr, u32(77)},
		"percpu_array": {pcpu, u32(77)},
		"hash":         {hash, key16},
		"lru_hash":     {lru, key16},
		"lpm_trie":     {trie, append(u32(32), 77, 1, 2, 3)},
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	for name, c := range benchMaps(t) {
		t.Run("a "+name+" lookup does not allocate", func(t *testing.T) {
			if _, err := c.m.Lookup(c.key, 0); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(100, func() { c.m.Lookup(c.key, 0) }); n != 0 {
				t.Errorf("%v allocations per lookup", n)
			}
		})
	}
	t.Run("a hash update of a present key does not allocate", func(t *testing.T) {
		c := benchMaps(t)["hash"]
		v := make([]byte, 64)
		if n := testing.AllocsPerRun(100, func() { c.m.Update(c.key, v, UpdateAny, 0) }); n != 0 {
			t.Errorf("%v allocations per update", n)
		}
	})
	t.Run("a hash insert into a reused element does not allocate", func(t *testing.T) {
		m := mustNew(t, hashSpec(16), 1)
		k, v := u32(1), u64(1)
		m.Update(k, v, UpdateAny, 0)
		m.Delete(k)
		if n := testing.AllocsPerRun(100, func() { m.Update(k, v, UpdateAny, 0); m.Delete(k) }); n != 0 {
			t.Errorf("%v allocations per insert and delete", n)
		}
	})
}

func benchLookup(b *testing.B, name string) {
	c := benchMaps(b)[name]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.m.Lookup(c.key, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArrayLookup(b *testing.B)       { benchLookup(b, "array") }
func BenchmarkPerCPUArrayLookup(b *testing.B) { benchLookup(b, "percpu_array") }
func BenchmarkHashLookup(b *testing.B)        { benchLookup(b, "hash") }
func BenchmarkLRUHashLookup(b *testing.B)     { benchLookup(b, "lru_hash") }
func BenchmarkLPMTrieLookup(b *testing.B)     { benchLookup(b, "lpm_trie") }

func BenchmarkHashUpdate(b *testing.B) {
	c := benchMaps(b)["hash"]
	v := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.m.Update(c.key, v, UpdateAny, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLRUHashChurn(b *testing.B) {
	m := mustNew(b, Spec{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096}, 2)
	v := make([]byte, 8)
	k := make([]byte, 4)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		i++
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		if err := m.Update(k, v, UpdateAny, int(i&1)); err != nil {
			b.Fatal(err)
		}
	}
}
