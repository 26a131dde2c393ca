package maps

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// TestHashMapsAgreeWithAModel drives the hash maps with random operations and checks them
// against a Go map: every key the model has is found with its value, iteration visits each
// element once, and the element count never exceeds max_entries. LRU maps may forget keys (by
// eviction) but never invent or corrupt them.
func TestHashMapsAgreeWithAModel(t *testing.T) {
	specs := []Spec{
		{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 50},
		{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 50},
		{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 50},
		{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 50, Flags: FlagNoCommonLRU},
		{Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 50},
	}
	for _, s := range specs {
		name := typeName(s.Type)
		if s.Flags&FlagNoCommonLRU != 0 {
			name += " without a common LRU"
		}
		t.Run("a random workload keeps a "+name+" consistent", func(t *testing.T) {
			const ncpu = 3
			m := mustNew(t, s, ncpu)
			lru := m.isLRU()
			model := map[uint32]*[ncpu]uint32{}
			percpu := m.PerCPU()
			rng := rand.New(rand.NewPCG(1, 2))
			for step := range 20000 {
				k := uint32(rng.IntN(120))
				cpu := rng.IntN(ncpu)
				switch op := rng.IntN(10); {
				case op < 5:
					v := rng.Uint32()
					flags := uint64(rng.IntN(3))
					err := m.Update(u32(k), u32(v), flags, cpu)
					_, had := model[k]
					switch {
					case err == nil:
						vals, ok := model[k]
						if !ok {
							vals = new([ncpu]uint32)
							model[k] = vals
						}
						for c := range vals {
							if c == cpu || !percpu {
								vals[c] = v
							}
						}
						if lru && percpu {
							// The update may have evicted the key itself and created it anew,
							// with zeros on the other CPUs.
							got, err := m.LookupPerCPU(u32(k))
							if err != nil {
								t.Fatalf("step %d: updated key %d is missing: %v", step, k, err)
							}
							for c := range vals {
								g := binary.LittleEndian.Uint32(got[c])
								if g != vals[c] && (c == cpu || g != 0) {
									t.Fatalf("step %d: key %d cpu %d = %d, model %d", step, k, c, g, vals[c])
								}
								vals[c] = g
							}
						}
					case errors.Is(err, errno.EEXIST) && had, errors.Is(err, errno.ENOENT), errors.Is(err, errno.E2BIG) && !lru:
					default:
						t.Fatalf("step %d: update %d flags %d: %v", step, k, flags, err)
					}
				case op < 8:
					v, err := m.Lookup(u32(k), cpu)
					want, ok := model[k]
					if err == nil && (!ok || binary.LittleEndian.Uint32(v) != want[cpu]) {
						t.Fatalf("step %d: lookup %d = %x, model %v %v", step, k, v, want, ok)
					}
					if err != nil && ok && !lru {
						t.Fatalf("step %d: lookup %d lost the key", step, k)
					}
				default:
					err := m.Delete(u32(k))
					if _, ok := model[k]; ok && err != nil && !lru {
						t.Fatalf("step %d: delete %d: %v", step, k, err)
					}
					delete(model, k)
				}
				if lru {
					// Forget what the LRU evicted.
					for mk := range model {
						if _, err := m.LookupPerCPU(u32(mk)); err != nil {
							delete(model, mk)
						}
					}
				}
				if m.Len() != len(model) || m.Len() > int(m.MaxEntries()) {
					t.Fatalf("step %d: %d elements, model %d", step, m.Len(), len(model))
				}
			}
			seen := map[uint32]bool{}
			for _, k := range keysOf(t, m) {
				x := binary.LittleEndian.Uint32(k)
				if seen[x] {
					t.Fatalf("get_next_key visits %d twice", x)
				}
				seen[x] = true
			}
			if len(seen) != len(model) {
				t.Fatalf("get_next_key visits %d keys, model has %d", len(seen), len(model))
			}
		})
	}
}
