package btfjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim/btfjson"
)

// bpftoolEntry is one entry of `bpftool map dump -j`.
type bpftoolEntry struct {
	Key       []string        `json:"key"`
	Value     []string        `json:"value"`
	Formatted json.RawMessage `json:"formatted"`
}

func bytesOf(t *testing.T, list []string) []byte {
	out := make([]byte, len(list))
	for i, s := range list {
		v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 8)
		if err != nil {
			t.Fatalf("bpftool byte %q: %v", s, err)
		}
		out[i] = byte(v)
	}
	return out
}

// sameJSON compares two JSON texts as values, numbers by their text.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(s []byte) any {
		d := json.NewDecoder(bytes.NewReader(s))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

// needBpftool skips unless this is Linux with BPF (root) and bpftool.
func needBpftool(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("creating maps for bpftool needs root (CAP_BPF): the comparison with bpftool is skipped")
	}
	p, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("no bpftool on PATH: the comparison with bpftool is skipped")
	}
	return p
}

// fill puts n entries of seeded random bytes (with a few hand-picked shapes) into a kernel map.
func fill(t *testing.T, m *ebpf.Map, spec *ebpf.MapSpec, n int, rng *rand.Rand) {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		key := make([]byte, spec.KeySize)
		for j := range key {
			key[j] = byte(rng.IntN(256))
		}
		if spec.Type == ebpf.Array || spec.Type == ebpf.PerCPUArray {
			key = []byte{byte(i % int(spec.MaxEntries)), 0, 0, 0}
		}
		val := func() []byte {
			v := make([]byte, spec.ValueSize)
			switch i % 4 {
			case 0: // random bytes everywhere
				for j := range v {
					v[j] = byte(rng.IntN(256))
				}
			case 1: // printable text with NULs here and there: char arrays become strings
				for j := range v {
					v[j] = byte(0x20 + rng.IntN(95))
					if rng.IntN(5) == 0 {
						v[j] = 0
					}
				}
			case 2: // small numbers: enums by name, zero bitfields left out
				for j := range v {
					if j%4 == 0 {
						v[j] = byte(rng.IntN(9))
					}
				}
			}
			return v
		}
		var err error
		switch spec.Type {
		case ebpf.PerCPUArray, ebpf.PerCPUHash, ebpf.LRUCPUHash:
			vals := make([][]byte, ncpu)
			for c := range vals {
				vals[c] = val()
			}
			err = m.Put(key, vals)
		default:
			err = m.Put(key, val())
		}
		if err != nil {
			t.Fatalf("map %s: put: %v", spec.Name, err)
		}
	}
}

// compareWithBpftool creates a map of spec in the kernel, fills it, dumps it with bpftool and
// checks every formatted key and value against Format over the same bytes.
func compareWithBpftool(t *testing.T, bpftool string, spec *ebpf.MapSpec, rng *rand.Rand) int {
	t.Helper()
	spec = spec.Copy()
	spec.Pinning = ebpf.PinNone
	if spec.MaxEntries > 64 {
		spec.MaxEntries = 64
	}
	m, err := ebpf.NewMap(spec)
	if err != nil {
		t.Fatalf("map %s: %v", spec.Name, err)
	}
	defer m.Close()
	fill(t, m, spec, min(int(spec.MaxEntries), 12), rng)
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	out, err := exec.Command(bpftool, "map", "dump", "id", fmt.Sprint(id), "-j").Output()
	if err != nil {
		t.Fatalf("bpftool map dump: %v", err)
	}
	var entries []bpftoolEntry
	if err := json.Unmarshal(out, &entries); err != nil {
		t.Fatalf("bpftool's output: %v\n%s", err, out)
	}
	checked := 0
	for _, e := range entries {
		if e.Formatted == nil {
			t.Fatalf("map %s: bpftool printed no formatted entry: %s", spec.Name, out)
		}
		var f struct {
			Key    json.RawMessage
			Value  json.RawMessage
			Values []struct{ Value json.RawMessage }
		}
		if err := json.Unmarshal(e.Formatted, &f); err != nil {
			t.Fatal(err)
		}
		check := func(what string, typ btf.Type, raw []byte, want json.RawMessage) {
			got, err := btfjson.Format(typ, raw)
			if err != nil {
				t.Errorf("map %s %s %x: %v", spec.Name, what, raw, err)
				return
			}
			if !sameJSON(t, got, want) {
				t.Errorf("map %s %s %x:\n ours    %s\n bpftool %s", spec.Name, what, raw, got, want)
			}
			// Reading our text back must give bytes that print the same.
			back, err := btfjson.Parse(typ, got)
			if err != nil {
				t.Errorf("map %s %s: reading %s back: %v", spec.Name, what, got, err)
				return
			}
			if again, _ := btfjson.Format(typ, back); !bytes.Equal(again, got) {
				t.Errorf("map %s %s: %s read back prints as %s", spec.Name, what, got, again)
			}
			checked++
		}
		if _, void := spec.Key.(*btf.Void); void {
			if f.Key != nil {
				t.Errorf("map %s: bpftool printed a key of type void: %s", spec.Name, f.Key)
			}
		} else {
			check("key", spec.Key, bytesOf(t, e.Key), f.Key)
		}
		if f.Values == nil {
			check("value", spec.Value, bytesOf(t, e.Value), f.Value)
		}
	}
	if len(entries) == 0 {
		t.Errorf("map %s: bpftool dumped no entries", spec.Name)
	}
	return checked
}

func TestFormatAgreesWithBpftool(t *testing.T) {
	bpftool := needBpftool(t)
	rng := rand.New(rand.NewPCG(1, 2))
	t.Run("every C type of testdata/types.c prints as bpftool prints it", func(t *testing.T) {
		spec, err := ebpf.LoadCollectionSpec("testdata/types.o")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"typed", "colours", ".data", ".bss"} {
			if n := compareWithBpftool(t, bpftool, spec.Maps[name], rng); n == 0 {
				t.Errorf("map %s: nothing compared", name)
			}
		}
	})
	t.Run("every BTF-typed hash and array map of the corpus prints as bpftool prints it", func(t *testing.T) {
		total := 0
		for _, p := range corpus.Programs() {
			spec, err := ebpf.LoadCollectionSpec(p.Object("v4"))
			if err != nil {
				t.Fatal(err)
			}
			for name, ms := range spec.Maps {
				switch ms.Type {
				case ebpf.Hash, ebpf.Array, ebpf.LRUHash, ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash:
				default:
					continue
				}
				if ms.Key == nil || ms.Value == nil || strings.HasPrefix(name, ".rodata") {
					continue
				}
				if ms.Value != nil && hasSpinLock(ms.Value) {
					continue // the kernel refuses to copy spin locks through map updates
				}
				total += compareWithBpftool(t, bpftool, ms, rng)
			}
		}
		t.Logf("%d keys and values compared with bpftool", total)
		if total < 100 {
			t.Errorf("only %d keys and values compared", total)
		}
	})
}

func hasSpinLock(t btf.Type) bool {
	s, ok := btf.UnderlyingType(t).(*btf.Struct)
	if !ok {
		return false
	}
	for _, m := range s.Members {
		if st, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok && st.Name == "bpf_spin_lock" {
			return true
		}
	}
	return false
}
