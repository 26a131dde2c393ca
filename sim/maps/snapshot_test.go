package maps

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// opLog drives a map with random operations and writes down everything each one returned, so that
// two maps can be compared by what they do rather than by how they store it.
type opLog struct {
	m   *Map
	rng *rand.Rand
	b   strings.Builder
}

func (l *opLog) note(format string, args ...any) { fmt.Fprintf(&l.b, format+"\n", args...) }

// step applies one random operation that suits the map's type.
func (l *opLog) step() {
	m, rng := l.m, l.rng
	cpu := rng.IntN(m.NumCPU())
	key := func() []byte {
		switch m.kind {
		case kLPMTrie:
			k := make([]byte, m.KeySize())
			binary.LittleEndian.PutUint32(k, uint32(rng.IntN(33)))
			k[4], k[5] = byte(rng.IntN(4)), byte(rng.IntN(256))
			return k
		}
		return u32(uint32(rng.IntN(int(m.MaxEntries()) + 8)))
	}
	value := func() []byte {
		v := make([]byte, m.ValueSize())
		for i := range v {
			v[i] = byte(rng.IntN(256))
		}
		switch m.kind {
		case kDevMap, kCPUMap:
			binary.LittleEndian.PutUint32(v, uint32(rng.IntN(3)))
			if len(v) > 4 {
				clear(v[4:])
			}
		case kPerfEventArray:
			binary.LittleEndian.PutUint32(v, uint32(rng.IntN(m.NumCPU())))
		}
		return v
	}
	switch m.kind {
	case kQueue, kStack:
		switch rng.IntN(3) {
		case 0:
			l.note("push %v", m.Push(value(), uint64(rng.IntN(3))))
		case 1:
			dst := make([]byte, m.ValueSize())
			err := m.Pop(dst)
			l.note("pop %x %v", dst, err)
		default:
			dst := make([]byte, m.ValueSize())
			err := m.Peek(dst)
			l.note("peek %x %v", dst, err)
		}
		return
	case kRingBuf:
		r := m.RingBuf()
		switch rng.IntN(4) {
		case 0:
			s, err := r.Reserve(uint64(1+rng.IntN(40)), 0)
			if err == nil {
				s[0] = byte(rng.IntN(256))
				if rng.IntN(2) == 0 {
					err = r.Submit(s, 0)
				} else {
					err = r.Discard(s, 0)
				}
			}
			l.note("reserve %v", err)
		case 1:
			l.note("output %v", r.Output(value(), uint64(rng.IntN(3))))
		case 2:
			n := r.Consume(func(s []byte) { l.note("sample %x", s) })
			l.note("consumed %d", n)
		default:
			l.note("query %d %d %d %d", r.Query(RBAvailData), r.Query(RBConsPos), r.Query(RBProdPos), r.Wakeups)
		}
		return
	case kPerfEventArray:
		if rng.IntN(2) == 0 {
			l.note("output %v", m.PerfEventArray().Output(cpu, uint64(rng.IntN(4)), value()))
			return
		}
	}
	switch rng.IntN(4) {
	case 0, 1:
		var err error
		if m.kind == kProgArray {
			err = m.UpdateObject(key(), fmt.Sprintf("program %d", rng.IntN(5)), UpdateAny)
		} else {
			err = m.Update(key(), value(), uint64(rng.IntN(3)), cpu)
		}
		l.note("update %v", err)
	case 2:
		l.note("delete %v", m.Delete(key()))
	default:
		k := key()
		v, err := m.Lookup(k, cpu)
		l.note("lookup %x %x %v", k, v, err)
	}
}

// state writes down what a user can read of the map: its contents in get_next_key order, its
// length, and the samples and positions of its ring or perf event array.
func (l *opLog) state() string {
	m := l.m
	var b strings.Builder
	fmt.Fprintf(&b, "len %d\n", m.Len())
	if m.kind != kQueue && m.kind != kStack && m.kind != kRingBuf {
		var k []byte
		for {
			next, err := m.NextKey(k)
			if err != nil {
				break
			}
			vals, err := m.LookupPerCPU(next)
			if err != nil {
				v, err2 := m.Lookup(next, 0)
				vals, err = [][]byte{v}, err2
			}
			fmt.Fprintf(&b, "%x: %x %v\n", next, vals, err)
			k = next
		}
	}
	if m.kind == kProgArray {
		for i := range m.slots.objs {
			fmt.Fprintf(&b, "%d: %v\n", i, m.slots.objs[i])
		}
	}
	if p := m.PerfEventArray(); p != nil {
		fmt.Fprintf(&b, "records %v\n", p.records)
	}
	if r := m.RingBuf(); r != nil {
		fmt.Fprintf(&b, "ring %d %d %d %d %x\n", r.cons, r.prod, r.pending, r.Wakeups, r.data)
	}
	return b.String()
}

func snapshotSpecs() []Spec {
	return []Spec{
		{Type: ebpf.Array, KeySize: 4, ValueSize: 6, MaxEntries: 9},
		{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 9},
		{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 100},
		{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 40},
		{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 30},
		{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 30, Flags: FlagNoCommonLRU},
		{Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 30},
		{Type: ebpf.LPMTrie, KeySize: 6, ValueSize: 4, MaxEntries: 30, Flags: 1},
		{Type: ebpf.Queue, ValueSize: 4, MaxEntries: 7},
		{Type: ebpf.Stack, ValueSize: 4, MaxEntries: 7},
		{Type: ebpf.RingBuf, MaxEntries: 4096},
		{Type: ebpf.PerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: ebpf.DevMap, KeySize: 4, ValueSize: 8, MaxEntries: 6},
		{Type: ebpf.DevMapHash, KeySize: 4, ValueSize: 8, MaxEntries: 6},
		{Type: ebpf.CPUMap, KeySize: 4, ValueSize: 8, MaxEntries: 3},
		{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 5},
	}
}

func specName(s Spec) string {
	n := typeName(s.Type)
	if s.Flags&FlagNoCommonLRU != 0 {
		n += " without a common LRU"
	}
	return n
}

// TestSnapshotRestoreActsAsTheMapDidThen builds two maps with the same random operations, takes a
// snapshot of one, works it hard (several times, restoring after each), then gives both the same
// further operations: the restored map must answer every one of them, and end, exactly as the map
// that never left the snapshot's state.
func TestSnapshotRestoreActsAsTheMapDidThen(t *testing.T) {
	for _, s := range snapshotSpecs() {
		t.Run("a restored "+specName(s)+" acts as it did at the snapshot", func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				restored := &opLog{m: mustNew(t, s, 3), rng: rand.New(rand.NewPCG(seed, 1))}
				twin := &opLog{m: mustNew(t, s, 3), rng: rand.New(rand.NewPCG(seed, 1))}
				before := int(seed * 15)
				for range before {
					restored.step()
					twin.step()
				}
				snap := restored.m.Snapshot()
				restored.rng = rand.New(rand.NewPCG(seed, 2))
				for round := range 3 {
					for range 40 + round*40 {
						restored.step()
					}
					snap.Restore()
				}
				if got, want := restored.state(), twin.state(); got != want {
					t.Fatalf("seed %d: after restoring\n%s\nthe map that stayed\n%s", seed, got, want)
				}
				restored.b.Reset()
				twin.b.Reset()
				restored.rng, twin.rng = rand.New(rand.NewPCG(seed, 3)), rand.New(rand.NewPCG(seed, 3))
				for range 200 {
					restored.step()
					twin.step()
				}
				if got, want := restored.b.String()+restored.state(), twin.b.String()+twin.state(); got != want {
					t.Fatalf("seed %d: the restored map answered\n%s\nthe map that stayed answered\n%s", seed, got, want)
				}
			}
		})
	}
}

// TestSnapshotRestoreKeepsValueStorage holds Restore to writing back in place: a value slice taken
// before (as the simulator's regions for .data and .bss are) sees the restored value.
func TestSnapshotRestoreKeepsValueStorage(t *testing.T) {
	for _, s := range []Spec{
		{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	} {
		t.Run(specName(s), func(t *testing.T) {
			m := mustNew(t, s, 1)
			if err := m.Update(u32(0), []byte{1, 2, 3, 4, 5, 6, 7, 8}, UpdateAny, 0); err != nil {
				t.Fatal(err)
			}
			v, err := m.Lookup(u32(0), 0)
			if err != nil {
				t.Fatal(err)
			}
			snap := m.Snapshot()
			copy(v, "changed!")
			snap.Restore()
			if string(v) != "\x01\x02\x03\x04\x05\x06\x07\x08" {
				t.Fatalf("the value slice holds %q after Restore", v)
			}
		})
	}
}

// TestSnapshotRestoreDoesNotAllocate holds the common maps to restoring without allocation once
// warm, as a fuzzer restores them before every input.
func TestSnapshotRestoreDoesNotAllocate(t *testing.T) {
	for _, s := range snapshotSpecs() {
		if s.Type == ebpf.PerfEventArray || s.Type == ebpf.LPMTrie {
			continue
		}
		t.Run(specName(s), func(t *testing.T) {
			l := &opLog{m: mustNew(t, s, 2), rng: rand.New(rand.NewPCG(7, 7))}
			for range 20 {
				l.step()
			}
			snap := l.m.Snapshot()
			one, three, zeros := u32(1), u32(3), make([]byte, l.m.ValueSize())
			change := func() {
				// Changes that allocate nothing themselves: updates of keys already present, or
				// (for rings, queues) a push and a pop.
				switch l.m.kind {
				case kQueue, kStack:
					_ = l.m.Push(one, UpdateExist)
				case kRingBuf:
					_ = l.m.RingBuf().Output(one, 0)
				case kArray, kPerCPUArray, kDevMap, kCPUMap:
					_ = l.m.Update(one, zeros, UpdateAny, 0)
				default:
					_ = l.m.Delete(three)
				}
			}
			change()
			snap.Restore()
			if allocs := testing.AllocsPerRun(100, func() {
				change()
				snap.Restore()
			}); allocs != 0 {
				t.Errorf("%v allocations per restore, want 0", allocs)
			}
		})
	}
}
