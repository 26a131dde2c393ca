package maps

import (
	"encoding/binary"
	"sync"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
)

// TestSharedMapsUnderConcurrentUpdates runs map operations on several goroutines at once, as a
// parallel replay's CPUs do, on shared maps of every kind whose structure changes under updates.
// Each goroutine works on keys of its own, so the end state is known exactly: nothing is lost,
// nothing is torn, nothing is counted twice. Run with -race, it also shows that the operations
// do not race.
func TestSharedMapsUnderConcurrentUpdates(t *testing.T) {
	const (
		workers = 4
		keys    = 64 // per worker
		rounds  = 20
	)
	// Each worker w inserts keys w*keys..w*keys+keys-1 (value: the key, twice), deletes the odd
	// ones, looks the even ones up, and does that rounds times.
	hashLike := func(t *testing.T, m *Map, cpu func(w int) int) {
		run(workers, func(w int) {
			for range rounds {
				for k := range keys {
					key := uint32(w*keys + k)
					if err := m.Update(u32(key), binary.LittleEndian.AppendUint32(u32(key), key), UpdateAny, cpu(w)); err != nil {
						t.Errorf("worker %d: update of %d: %v", w, key, err)
						return
					}
				}
				for k := 1; k < keys; k += 2 {
					if err := m.Delete(u32(uint32(w*keys + k))); err != nil {
						t.Errorf("worker %d: delete: %v", w, err)
						return
					}
				}
				for k := 0; k < keys; k += 2 {
					if _, err := m.Lookup(u32(uint32(w*keys+k)), cpu(w)); err != nil {
						t.Errorf("worker %d: lookup of %d: %v", w, w*keys+k, err)
						return
					}
				}
			}
		})
		if n := m.Len(); n != workers*keys/2 {
			t.Errorf("%d elements, want %d", n, workers*keys/2)
		}
		m.Iterate(func(key []byte, values [][]byte) bool {
			k := binary.LittleEndian.Uint32(key)
			if k%2 != 0 {
				t.Errorf("deleted key %d is still there", k)
			}
			v := values[0]
			if m.PerCPU() {
				v = values[cpu(int(k)/keys)]
			}
			if binary.LittleEndian.Uint32(v) != k || binary.LittleEndian.Uint32(v[4:]) != k {
				t.Errorf("key %d holds %x", k, v)
			}
			return true
		})
	}
	spec := func(typ ebpf.MapType, flags uint32) Spec {
		n := uint32(workers * keys)
		if typ == ebpf.LRUHash || typ == ebpf.LRUCPUHash {
			// Room for the CPUs' local free lists too, which the common LRU fills 128
			// elements at a time (it evicts before it is full otherwise, as the kernel's does).
			n = workers*keys + 2*workers*localFreeTarget
		}
		return Spec{Name: "shared", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: n, Flags: flags}
	}
	sameCPU := func(int) int { return 0 }
	ownCPU := func(w int) int { return w }
	for _, tt := range []struct {
		name string
		spec Spec
		cpu  func(int) int
	}{
		{"a hash map", spec(ebpf.Hash, 0), sameCPU},
		{"a hash map without preallocation", spec(ebpf.Hash, FlagNoPrealloc), sameCPU},
		{"a per-CPU hash map", spec(ebpf.PerCPUHash, 0), ownCPU},
		{"an LRU hash map", spec(ebpf.LRUHash, 0), ownCPU},
		{"an LRU hash map with per-CPU lists", spec(ebpf.LRUHash, FlagNoCommonLRU), ownCPU},
		{"an LRU per-CPU hash map", spec(ebpf.LRUCPUHash, 0), ownCPU},
	} {
		t.Run(tt.name+" keeps every worker's elements", func(t *testing.T) {
			m := mustNew(t, tt.spec, workers)
			m.SetShared()
			hashLike(t, m, tt.cpu)
		})
	}
	t.Run("an LRU hash map too small for every key evicts without losing its structure", func(t *testing.T) {
		s := spec(ebpf.LRUHash, 0)
		s.MaxEntries = keys
		m := mustNew(t, s, workers)
		m.SetShared()
		run(workers, func(w int) {
			for k := range rounds * keys {
				key := uint32(w*keys*rounds + k)
				if err := m.Update(u32(key), u64(uint64(key)), UpdateAny, w); err != nil {
					t.Errorf("worker %d: update: %v", w, err)
					return
				}
				m.Lookup(u32(key), w)
			}
		})
		n := 0
		m.Iterate(func(key []byte, values [][]byte) bool {
			n++
			if binary.LittleEndian.Uint32(key) != binary.LittleEndian.Uint32(values[0]) {
				t.Errorf("key %x holds %x", key, values[0])
			}
			return true
		})
		if n != m.Len() || n > keys || n == 0 {
			t.Errorf("%d elements listed, Len %d, max %d", n, m.Len(), keys)
		}
	})
	t.Run("an LPM trie keeps every worker's prefixes", func(t *testing.T) {
		m := mustNew(t, Spec{Name: "lpm", Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: workers * keys, Flags: FlagNoPrealloc}, workers)
		m.SetShared()
		prefix := func(w, k int) []byte {
			return append(u32(32), byte(10), byte(w), byte(k), 0)
		}
		run(workers, func(w int) {
			for range rounds {
				for k := range keys {
					if err := m.Update(prefix(w, k), u32(uint32(w*keys+k)), UpdateAny, 0); err != nil {
						t.Errorf("update: %v", err)
						return
					}
				}
				for k := 1; k < keys; k += 2 {
					if err := m.Delete(prefix(w, k)); err != nil {
						t.Errorf("delete: %v", err)
						return
					}
				}
			}
		})
		if n := m.Len(); n != workers*keys/2 {
			t.Errorf("%d prefixes, want %d", n, workers*keys/2)
		}
		for w := range workers {
			v, err := m.Lookup(prefix(w, 2), 0)
			if err != nil || binary.LittleEndian.Uint32(v) != uint32(w*keys+2) {
				t.Errorf("worker %d's prefix: %x, %v", w, v, err)
			}
		}
	})
	t.Run("a queue loses no element and hands none out twice", func(t *testing.T) {
		m := mustNew(t, Spec{Name: "q", Type: ebpf.Queue, ValueSize: 4, MaxEntries: workers * keys}, workers)
		m.SetShared()
		got := make([][]uint32, workers)
		run(workers, func(w int) {
			for k := range keys {
				if err := m.Push(u32(uint32(w*keys+k)), 0); err != nil {
					t.Errorf("push: %v", err)
					return
				}
				if k%2 == 1 {
					v := make([]byte, 4)
					if err := m.Pop(v); err != nil {
						t.Errorf("pop: %v", err)
						return
					}
					got[w] = append(got[w], binary.LittleEndian.Uint32(v))
				}
			}
		})
		seen := map[uint32]bool{}
		for _, vs := range got {
			for _, v := range vs {
				if seen[v] {
					t.Errorf("%d popped twice", v)
				}
				seen[v] = true
			}
		}
		m.Iterate(func(_ []byte, values [][]byte) bool {
			v := binary.LittleEndian.Uint32(values[0])
			if seen[v] {
				t.Errorf("%d popped and still queued", v)
			}
			seen[v] = true
			return true
		})
		if len(seen) != workers*keys {
			t.Errorf("%d elements accounted for, want %d", len(seen), workers*keys)
		}
	})
	t.Run("a ring buffer keeps every worker's samples whole", func(t *testing.T) {
		m := mustNew(t, Spec{Name: "rb", Type: ebpf.RingBuf, MaxEntries: 1 << 16}, workers)
		m.SetShared()
		rb := m.RingBuf()
		run(workers, func(w int) {
			for k := range keys {
				if k%2 == 0 {
					if err := rb.Output(u64(uint64(w)<<32|uint64(k)), 0); err != nil {
						t.Errorf("output: %v", err)
					}
					continue
				}
				s, err := rb.Reserve(8, 0)
				if err != nil {
					t.Errorf("reserve: %v", err)
					continue
				}
				binary.LittleEndian.PutUint64(s, uint64(w)<<32|uint64(k))
				if err := rb.Submit(s, 0); err != nil {
					t.Errorf("submit: %v", err)
				}
			}
		})
		seen := map[uint64]bool{}
		rb.Consume(func(sample []byte) {
			v := binary.LittleEndian.Uint64(sample)
			if seen[v] || v>>32 >= workers || v&0xffffffff >= keys {
				t.Errorf("sample %#x", v)
			}
			seen[v] = true
		})
		if len(seen) != workers*keys {
			t.Errorf("%d samples, want %d", len(seen), workers*keys)
		}
	})
}

// run calls fn(w) for every worker w on goroutines of their own and waits for them.
func run(workers int, fn func(w int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	wg.Wait()
}

// TestPerCPUArrayValuesKeepToTheirCPU: each CPU's values of a per-CPU array start on a line of
// their own and share none with another CPU's, however small the array, so that CPUs running at
// once do not contend for each other's values (false sharing); and each CPU still reads back only
// what it wrote.
func TestPerCPUArrayValuesKeepToTheirCPU(t *testing.T) {
	for _, tt := range []struct {
		name      string
		entries   uint32
		valueSize uint32
	}{
		{"one 8-byte value", 1, 8},
		{"six 8-byte values (eth_stats's bytes)", 6, 8},
		{"three 12-byte values, padded to 16", 3, 12},
		{"a value longer than a line", 2, 200},
	} {
		t.Run(tt.name+" per CPU stay apart", func(t *testing.T) {
			const cpus = 4
			m := mustNew(t, Spec{Name: "pcpu", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: tt.valueSize, MaxEntries: tt.entries}, cpus)
			lines := map[uintptr]int{}
			for c, d := range m.arr.data {
				start := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
				if start%cpuLine != 0 {
					t.Errorf("CPU %d's values start at %#x, not on a %d-byte line", c, start, cpuLine)
				}
				if len(d) != int(tt.entries)*int(roundUp8(tt.valueSize)) || cap(d) != len(d) {
					t.Errorf("CPU %d's values: length %d, capacity %d", c, len(d), cap(d))
				}
				for a := start / cpuLine; a <= (start+uintptr(len(d))-1)/cpuLine; a++ {
					if o, ok := lines[a]; ok {
						t.Errorf("CPUs %d and %d share the line at %#x", o, c, a*cpuLine)
					}
					lines[a] = c
				}
			}
			for c := range cpus {
				for k := range tt.entries {
					v := make([]byte, tt.valueSize)
					v[0], v[len(v)-1] = byte(c+1), byte(k+1)
					if err := m.Update(u32(k), v, UpdateAny, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			for c := range cpus {
				for k := range tt.entries {
					got, err := m.Lookup(u32(k), c)
					if err != nil || got[0] != byte(c+1) || got[len(got)-1] != byte(k+1) {
						t.Errorf("CPU %d key %d: %v, %v", c, k, got, err)
					}
				}
			}
		})
	}
}
