//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xdpsim/xdpsim/sim/result"
)

// errnoName is the errno inside err, as its name ("EINVAL"), or "" when there is none.
func errnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return ""
}

// requireKernel skips the test, with the one-line reason, where the kernel side cannot be used.
func requireKernel(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if !errors.Is(err, ErrNoKernel) {
			t.Fatalf("Available returned an error that does not match ErrNoKernel: %v", err)
		}
		t.Skip(err)
	}
}

// load loads a test object and closes it when the test ends.
func load(t *testing.T, path string, opts Options) *Program {
	t.Helper()
	requireKernel(t)
	p, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// frame builds an Ethernet frame of n bytes with the given EtherType; the payload bytes count up
// from 0 so that every byte is recognisable.
func frame(etherType uint16, n int) []byte {
	b := make([]byte, max(n, 14))
	copy(b, []byte{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01})
	binary.BigEndian.PutUint16(b[12:], etherType)
	for i := 14; i < n; i++ {
		b[i] = byte(i - 14)
	}
	return b[:n]
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// le32 and le64 give the hex of a little-endian value, as the maps of an x86 kernel hold it.
func le32(v uint32) string { return hex.EncodeToString(binary.LittleEndian.AppendUint32(nil, v)) }
func le64(v uint64) string { return hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, v)) }

func mustRun(t *testing.T, p *Program, pkt, meta []byte) result.Packet {
	t.Helper()
	r := p.Run(pkt, meta, Context{})
	if r.Err != "" {
		t.Fatalf("run %s: %s", p.Name(), r.Err)
	}
	return r
}

func TestVerdictDependsOnEtherType(t *testing.T) {
	p := load(t, "testdata/xdp_verdict.o", Options{})
	if p.Name() != "xdp_verdict" || p.Section() != "xdp" || p.HasFrags() {
		t.Errorf("loaded %s from section %s (frags %v), want xdp_verdict from xdp without frags", p.Name(), p.Section(), p.HasFrags())
	}
	for _, tc := range []struct {
		name      string
		etherType uint16
		want      uint32
	}{
		{"IPv4 passes", 0x0800, result.XDPPass},
		{"IPv6 is dropped", 0x86dd, result.XDPDrop},
		{"ARP is sent back", 0x0806, result.XDPTX},
		{"anything else aborts", 0x1234, result.XDPAborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := frame(tc.etherType, 60)
			r := mustRun(t, p, pkt, nil)
			if r.Ret != tc.want {
				t.Errorf("ret %d, want %d", r.Ret, tc.want)
			}
			if !bytes.Equal(r.Data, pkt) || len(r.Meta) != 0 {
				t.Errorf("packet changed: data %x meta %x", r.Data, r.Meta)
			}
		})
	}
}

func TestAdjustHelpersShowInDataAndMeta(t *testing.T) {
	pkt := frame(0x0800, 64)
	inv := []byte{^pkt[0], ^pkt[1], ^pkt[2], ^pkt[3]}
	for _, tc := range []struct {
		prog     string
		wantData []byte
		wantMeta []byte
	}{
		{"xdp_push_head", concat([]byte{0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}, pkt), nil},
		{"xdp_pop_head", pkt[14:], nil},
		{"xdp_add_meta", pkt, concat(pkt[:4], inv)},
		{"xdp_grow_tail", concat(pkt, []byte{0xde, 0xad, 0xbe, 0xef}), nil},
		{"xdp_cut_tail", pkt[:54], nil},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			p := load(t, "testdata/xdp_adjust.o", Options{Program: tc.prog})
			r := mustRun(t, p, pkt, nil)
			if r.Ret != result.XDPPass {
				t.Fatalf("ret %d, want XDP_PASS", r.Ret)
			}
			if !bytes.Equal(r.Data, tc.wantData) {
				t.Errorf("data\n got %x\nwant %x", r.Data, tc.wantData)
			}
			if !bytes.Equal(r.Meta, tc.wantMeta) {
				t.Errorf("meta\n got %x\nwant %x", r.Meta, tc.wantMeta)
			}
		})
	}
}

func TestProgramChoice(t *testing.T) {
	requireKernel(t)
	t.Run("several XDP programs and no choice is an error listing them", func(t *testing.T) {
		_, err := Load("testdata/xdp_adjust.o", Options{})
		if err == nil {
			t.Fatal("loaded without a choice")
		}
		for _, n := range []string{"xdp_push_head", "xdp_pop_head", "xdp_add_meta", "xdp_grow_tail", "xdp_cut_tail"} {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("error does not name %s: %v", n, err)
			}
		}
	})
	t.Run("a section holding several programs is an error", func(t *testing.T) {
		if _, err := Load("testdata/xdp_adjust.o", Options{Program: "xdp"}); err == nil || !strings.Contains(err.Error(), "choose one by function name") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a unique section name chooses its program", func(t *testing.T) {
		p := load(t, "testdata/xdp_frags.o", Options{Program: "xdp.frags"})
		if p.Name() != "xdp_with_frags" || !p.HasFrags() {
			t.Errorf("chose %s (frags %v), want xdp_with_frags with frags", p.Name(), p.HasFrags())
		}
	})
	t.Run("an unknown name is an error", func(t *testing.T) {
		if _, err := Load("testdata/xdp_adjust.o", Options{Program: "nope"}); err == nil || !strings.Contains(err.Error(), "xdp_cut_tail (section xdp)") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a missing file is an error", func(t *testing.T) {
		if _, err := Load("testdata/missing.o", Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}

// mapsOpts sizes the map declared without a size.
var mapsOpts = Options{MapSizes: map[string]uint32{"sized_later": 4}}

func TestMapCountersShowInDump(t *testing.T) {
	p := load(t, "testdata/xdp_maps.o", mapsOpts)
	pkts := [][]byte{frame(0x0800, 60), frame(0x86dd, 100), frame(0x0800, 60)}
	for _, pkt := range pkts {
		if r := mustRun(t, p, pkt, nil); r.Ret != result.XDPPass {
			t.Fatalf("ret %d, want the default verdict XDP_PASS", r.Ret)
		}
	}
	got, err := p.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	// Two packets of 60 bytes (class 0), one of 100 (class 1); two IPv4, one IPv6; the pinned
	// hash holds the first length (60) plus one per later packet.
	want := result.Maps{
		"by_len_class": {
			{Key: le32(0), Value: le64(2)}, {Key: le32(1), Value: le64(1)},
			{Key: le32(2), Value: le64(0)}, {Key: le32(3), Value: le64(0)},
		},
		"by_proto": {
			{Key: "0008", Value: le32(2)}, // 0x0800 in host order
			{Key: "dd86", Value: le32(1)}, // 0x86dd
		},
		"sized_later": {
			{Key: le32(0), Value: le32(0)}, {Key: le32(1), Value: le32(0x5a)},
			{Key: le32(2), Value: le32(0)}, {Key: le32(3), Value: le32(0)},
		},
		"pinned": {{Key: le32(7), Value: le32(62)}},
		".bss":   {{Key: "00000000", Value: le64(3)}},  // packets
		".data":  {{Key: "00000000", Value: le32(60)}}, // last_len
	}
	perCPU := got["per_cpu"]
	delete(got, "per_cpu")
	if d := diffMaps(got, want); d != "" {
		t.Error(d)
	}
	// Which CPU ran each packet is the kernel's choice: check the sums and the shape.
	if len(perCPU) != 2 {
		t.Fatalf("per_cpu has %d entries, want 2", len(perCPU))
	}
	for i, wantSum := range []uint64{3, 60 + 100 + 60} {
		e := perCPU[i]
		if e.Key != le32(uint32(i)) || e.Value != "" || len(e.Values) != p.NumCPU() {
			t.Fatalf("per_cpu entry %d: %+v, want key %s and %d values", i, e, le32(uint32(i)), p.NumCPU())
		}
		var sum uint64
		for _, v := range e.Values {
			b, _ := hex.DecodeString(v)
			sum += binary.LittleEndian.Uint64(b)
		}
		if sum != wantSum {
			t.Errorf("per_cpu[%d] sums to %d over the CPUs, want %d", i, sum, wantSum)
		}
	}
}

// diffMaps describes how two dumps differ, or returns "".
func diffMaps(got, want result.Maps) string {
	var b strings.Builder
	for n, w := range want {
		g, ok := got[n]
		if !ok {
			b.WriteString("missing map " + n + "\n")
			continue
		}
		if len(g) != len(w) {
			b.WriteString("map " + n + ": got " + entriesString(g) + ", want " + entriesString(w) + "\n")
			continue
		}
		for i := range w {
			if g[i].Key != w[i].Key || g[i].Value != w[i].Value || strings.Join(g[i].Values, ",") != strings.Join(w[i].Values, ",") {
				b.WriteString("map " + n + ": got " + entriesString(g) + ", want " + entriesString(w) + "\n")
				break
			}
		}
	}
	for n, g := range got {
		if _, ok := want[n]; !ok {
			b.WriteString("unexpected map " + n + ": " + entriesString(g) + "\n")
		}
	}
	return b.String()
}

func entriesString(es []result.MapEntry) string {
	var s []string
	for _, e := range es {
		v := e.Value
		if e.Values != nil {
			v = "[" + strings.Join(e.Values, " ") + "]"
		}
		s = append(s, e.Key+"="+v)
	}
	return "{" + strings.Join(s, " ") + "}"
}

func TestVariablesSetThroughOptions(t *testing.T) {
	opts := Options{
		MapSizes:  mapsOpts.MapSizes,
		Variables: map[string]any{"verdict": uint64(result.XDPDrop), "mark": []byte{0x77}},
	}
	p := load(t, "testdata/xdp_maps.o", opts)
	r := mustRun(t, p, frame(0x0800, 60), nil)
	if r.Ret != result.XDPDrop {
		t.Errorf("ret %d, want XDP_DROP set through the const volatile verdict", r.Ret)
	}
	got, err := p.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	if e := got["sized_later"][1]; e.Value != le32(0x77) {
		t.Errorf("sized_later[1] = %s, want the mark 0x77 set through Options", e.Value)
	}
	if _, ok := got[".rodata"]; ok {
		t.Error(".rodata is dumped")
	}

	t.Run("a Go int32 sets a 4-byte variable", func(t *testing.T) {
		p := load(t, "testdata/xdp_maps.o", Options{MapSizes: mapsOpts.MapSizes, Variables: map[string]any{"verdict": int32(result.XDPTX)}})
		if r := mustRun(t, p, frame(0x0800, 60), nil); r.Ret != result.XDPTX {
			t.Errorf("ret %d, want XDP_TX", r.Ret)
		}
	})

	requireErr := func(name string, opts Options, words string) {
		t.Run(name, func(t *testing.T) {
			_, err := Load("testdata/xdp_maps.o", opts)
			if err == nil || !strings.Contains(err.Error(), words) {
				t.Fatalf("got %v, want an error saying %q", err, words)
			}
		})
	}
	requireErr("an unknown variable is an error", Options{MapSizes: mapsOpts.MapSizes, Variables: map[string]any{"nope": 1}}, `no global variable "nope"`)
	requireErr("a value too big for the variable is an error", Options{MapSizes: mapsOpts.MapSizes, Variables: map[string]any{"mark": 300}}, "does not fit in 1 bytes")
	requireErr("bytes of the wrong size are an error", Options{MapSizes: mapsOpts.MapSizes, Variables: map[string]any{"verdict": []byte{1}}}, "1 bytes given for a 4-byte variable")
	requireErr("an unknown map to resize is an error", Options{MapSizes: map[string]uint32{"nope": 1}}, `no map "nope"`)
	t.Run("a map declared without a size must be sized", func(t *testing.T) {
		if _, err := Load("testdata/xdp_maps.o", Options{}); err == nil {
			t.Fatal("loaded a map with max_entries 0")
		}
	})
}

func TestPinnedMapsArePrivate(t *testing.T) {
	a := load(t, "testdata/xdp_maps.o", mapsOpts)
	b := load(t, "testdata/xdp_maps.o", mapsOpts)
	mustRun(t, a, frame(0x0800, 60), nil)
	got, err := b.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	if len(got["pinned"]) != 0 {
		t.Errorf("the second load sees the first one's pinned map: %v", got["pinned"])
	}
}

func TestResetAndPreloadMaps(t *testing.T) {
	p := load(t, "testdata/xdp_maps.o", mapsOpts)
	mustRun(t, p, frame(0x0800, 60), nil)
	if err := p.ResetMaps(); err != nil {
		t.Fatal(err)
	}
	got, err := p.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	if g := got[".bss"]; len(g) != 1 || g[0].Value != le64(0) {
		t.Errorf(".bss after reset: %v, want packets = 0", g)
	}
	if g := got[".data"]; len(g) != 1 || g[0].Value != le32(0xffffffff) {
		t.Errorf(".data after reset: %v, want last_len = 0xffffffff as initialised in C", g)
	}
	if len(got["by_proto"]) != 0 {
		t.Errorf("by_proto after reset: %v, want empty", got["by_proto"])
	}

	pre := result.Maps{
		"by_proto": {{Key: "0008", Value: le32(100)}},
		"per_cpu":  {{Key: le32(0), Value: le64(10)}},
		".bss":     {{Key: "00000000", Value: le64(1000)}},
	}
	if err := p.LoadMaps(pre); err != nil {
		t.Fatal(err)
	}
	mustRun(t, p, frame(0x0800, 60), nil)
	got, err = p.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	if g := got["by_proto"]; len(g) != 1 || g[0].Value != le32(101) {
		t.Errorf("by_proto: %v, want 0008=%s", g, le32(101))
	}
	if g := got[".bss"]; g[0].Value != le64(1001) {
		t.Errorf(".bss: %v, want packets = 1001", g)
	}
	var sum uint64
	for _, v := range got["per_cpu"][0].Values {
		b, _ := hex.DecodeString(v)
		sum += binary.LittleEndian.Uint64(b)
	}
	if want := uint64(10*p.NumCPU() + 1); sum != want {
		t.Errorf("per_cpu[0] sums to %d, want %d (10 on each CPU, plus one packet)", sum, want)
	}

	for _, tc := range []struct {
		name  string
		maps  result.Maps
		words string
	}{
		{"an unknown map is an error", result.Maps{"nope": nil}, `no map "nope"`},
		{".rodata is read-only", result.Maps{".rodata": nil}, "read-only"},
		{"a key of the wrong size is an error", result.Maps{"by_proto": {{Key: "00", Value: le32(1)}}}, "key has 1 bytes"},
		{"a value that is not hex is an error", result.Maps{"by_proto": {{Key: "0008", Value: "zz"}}}, "not hex"},
		{"too few per-CPU values are an error", result.Maps{"per_cpu": {{Key: le32(0), Values: []string{le64(1)}}}}, "per-CPU values given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p.NumCPU() == 1 && strings.Contains(tc.name, "per-CPU") {
				t.Skip("one CPU: one value is the right count")
			}
			err := p.LoadMaps(tc.maps)
			if err == nil || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("got %v, want an error saying %q", err, tc.words)
			}
		})
	}
}

func TestMetadataInput(t *testing.T) {
	p := load(t, "testdata/xdp_meta_in.o", Options{})
	pkt := frame(0x0800, 60)

	t.Run("metadata reaches the program and comes back changed", func(t *testing.T) {
		meta := []byte{0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd}
		r := mustRun(t, p, pkt, meta)
		if r.Ret != result.XDPPass {
			t.Fatalf("ret %d, want XDP_PASS", r.Ret)
		}
		// The first little-endian word 0x04030201 is incremented in place.
		wantMeta := []byte{0x02, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd}
		if !bytes.Equal(r.Meta, wantMeta) || !bytes.Equal(r.Data, pkt) {
			t.Errorf("meta %x data %x, want meta %x and the packet unchanged", r.Meta, r.Data, wantMeta)
		}
		got, err := p.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		// .data holds meta_len (initialised), .bss holds meta_word.
		if g := got[".data"][0].Value; g != le32(8) {
			t.Errorf("meta_len %s, want 8", g)
		}
		if g := got[".bss"][0].Value; g != le32(0x04030201) {
			t.Errorf("meta_word %s, want 0x04030201", g)
		}
	})
	t.Run("no metadata means an empty metadata area", func(t *testing.T) {
		r := mustRun(t, p, pkt, nil)
		if r.Ret != result.XDPDrop || len(r.Meta) != 0 {
			t.Errorf("ret %d meta %x, want XDP_DROP and no metadata", r.Ret, r.Meta)
		}
	})
	t.Run("216 bytes of metadata are the most accepted", func(t *testing.T) {
		r := mustRun(t, p, pkt, make([]byte, MaxMeta))
		if len(r.Meta) != MaxMeta || r.Meta[0] != 1 {
			t.Errorf("meta %x, want %d bytes with the first incremented", r.Meta, MaxMeta)
		}
	})
}

// TestKernelRefusals records what Linux 6.18 refuses, with the exact errno.
func TestKernelRefusals(t *testing.T) {
	p := load(t, "testdata/xdp_verdict.o", Options{})
	for _, tc := range []struct {
		name    string
		pkt     []byte
		meta    []byte
		ctx     Context
		errno   string
		message string
	}{
		{"a 13-byte runt is refused with EINVAL", frame(0x0800, 13), nil, Context{}, "EINVAL",
			"kernel refused the packet: invalid argument (packet shorter than 14 bytes)"},
		{"an empty packet is refused with EINVAL", nil, nil, Context{}, "EINVAL",
			"kernel refused the packet: invalid argument (packet shorter than 14 bytes)"},
		{"a runt is refused even when metadata makes the input 14 bytes long", frame(0x0800, 10), make([]byte, 4), Context{}, "EINVAL",
			"kernel refused the packet: invalid argument (packet shorter than 14 bytes)"},
		{"metadata of 2 bytes is refused with EINVAL", frame(0x0800, 60), make([]byte, 2), Context{}, "EINVAL",
			"kernel refused the packet: invalid argument (metadata length 2 is not a multiple of 4)"},
		{"metadata of 6 bytes is refused with EINVAL", frame(0x0800, 60), make([]byte, 6), Context{}, "EINVAL",
			"kernel refused the packet: invalid argument (metadata length 6 is not a multiple of 4)"},
		{"metadata of 220 bytes is refused with EINVAL", frame(0x0800, 60), make([]byte, 220), Context{}, "EINVAL",
			"kernel refused the packet: invalid argument (metadata longer than 216 bytes)"},
		{"a missing rx queue is refused with EINVAL", frame(0x0800, 60), nil, Context{RxQueue: 1}, "EINVAL",
			"kernel refused the packet: invalid argument (no rx queue 1 on ifindex 1)"},
		{"a missing interface is refused with ENODEV", frame(0x0800, 60), nil, Context{IngressIfindex: 1 << 30}, "ENODEV",
			"kernel refused the packet: no such device (no interface with ifindex 1073741824)"},
		{"a packet needing 18 fragments is refused with ENOMEM", make([]byte, MaxPacket+1), nil, Context{}, "ENOMEM",
			"kernel refused the packet: cannot allocate memory (packet longer than 73152 bytes needs more than 17 fragments)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := p.run(tc.pkt, tc.meta, tc.ctx)
			if err == nil {
				t.Fatal("the kernel accepted it")
			}
			if got := errnoName(err); got != tc.errno {
				t.Errorf("errno %s (%v), want %s", got, err, tc.errno)
			}
			if r := p.Run(tc.pkt, tc.meta, tc.ctx); r.Err != tc.message {
				t.Errorf("Err %q, want %q", r.Err, tc.message)
			}
		})
	}
	t.Run("14 bytes are enough", func(t *testing.T) {
		if r := mustRun(t, p, frame(0x0800, 14), nil); r.Ret != result.XDPPass || len(r.Data) != 14 {
			t.Errorf("ret %d, %d bytes", r.Ret, len(r.Data))
		}
	})
	t.Run("the loopback device's queue 0 is the default context", func(t *testing.T) {
		if r := p.Run(frame(0x0800, 60), nil, Context{IngressIfindex: 1, RxQueue: 0}); r.Err != "" || r.Ret != result.XDPPass {
			t.Errorf("%+v", r)
		}
	})
}

func TestJumboPackets(t *testing.T) {
	const n = 9000
	pkt := frame(0x0800, n)
	for _, tc := range []struct {
		name, prog string
		frags      bool
	}{
		// With frags support, a 9000-byte packet arrives as 3520 linear bytes and fragments.
		{"a frags program sees the whole packet", "xdp_with_frags", true},
		// Measured on 6.18: BPF_PROG_TEST_RUN does not look at BPF_F_XDP_HAS_FRAGS. A program
		// loaded without it gets the same split buffer, and bpf_xdp_get_buff_len counts the
		// fragments; only drivers refuse such programs on a large MTU.
		{"a program without frags support gets the same fragments", "xdp_without_frags", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, "testdata/xdp_frags.o", Options{Program: tc.prog})
			if p.HasFrags() != tc.frags {
				t.Fatalf("HasFrags %v, want %v", p.HasFrags(), tc.frags)
			}
			for _, metaLen := range []int{0, 8} {
				r := mustRun(t, p, pkt, make([]byte, metaLen))
				if r.Ret != result.XDPPass || !bytes.Equal(r.Data, pkt) || len(r.Meta) != metaLen {
					t.Fatalf("meta %d: ret %d, %d bytes of data, %d of metadata; want XDP_PASS and the packet whole", metaLen, r.Ret, len(r.Data), len(r.Meta))
				}
				got, err := p.DumpMaps()
				if err != nil {
					t.Fatal(err)
				}
				// .bss: linear_len then buff_len. The linear part is 3520 bytes whatever the
				// metadata length.
				if want := le32(MaxLinear) + le32(n); got[".bss"][0].Value != want {
					t.Errorf("meta %d: linear_len, buff_len = %s, want %s (3520, 9000)", metaLen, got[".bss"][0].Value, want)
				}
			}
			// The longest packet: the linear part and 17 full fragments.
			big := make([]byte, MaxPacket)
			if r := mustRun(t, p, big, nil); len(r.Data) != MaxPacket {
				t.Errorf("%d bytes came back from %d", len(r.Data), MaxPacket)
			}
			// Exactly 3520 bytes need no fragment.
			r := mustRun(t, p, frame(0x0800, MaxLinear), nil)
			got, _ := p.DumpMaps()
			if want := le32(MaxLinear) + le32(MaxLinear); got[".bss"][0].Value != want || len(r.Data) != MaxLinear {
				t.Errorf("3520 bytes: .bss %s, want %s", got[".bss"][0].Value, want)
			}
		})
	}
}

func TestStaticTailCall(t *testing.T) {
	p := load(t, "testdata/xdp_tailcall.o", Options{Program: "xdp_entry"})
	if s := p.Skipped(); len(s) != 0 {
		t.Errorf("skipped programs: %v", s)
	}
	pkt := frame(0x0800, 60)
	r := mustRun(t, p, pkt, nil)
	want := concat([]byte{0xee}, pkt[1:])
	if r.Ret != result.XDPDrop || !bytes.Equal(r.Data, want) {
		t.Errorf("ret %d data %x, want XDP_DROP from the tail-called program and the first byte marked", r.Ret, r.Data)
	}
	if got, err := p.DumpMaps(); err != nil || len(got) != 0 {
		t.Errorf("dump %v, %v: want no map (program arrays are left out)", got, err)
	}
}

func TestClosedProgram(t *testing.T) {
	requireKernel(t)
	p, err := Load("testdata/xdp_verdict.o", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if r := p.Run(frame(0x0800, 60), nil, Context{}); r.Err == "" {
		t.Error("a closed program ran")
	}
	if _, err := p.DumpMaps(); err == nil {
		t.Error("a closed program dumped its maps")
	}
}

func TestRejectedProgramsAreSkipped(t *testing.T) {
	p := load(t, "testdata/xdp_partial.o", Options{Program: "xdp_good"})
	if s := p.Skipped(); len(s) != 1 || !strings.HasPrefix(s[0], "xdp_bad: ") {
		t.Errorf("skipped %q, want xdp_bad with a reason", s)
	}
	if r := mustRun(t, p, frame(0x0800, 60), nil); r.Ret != result.XDPPass {
		t.Errorf("ret %d", r.Ret)
	}
	t.Run("the chosen program's rejection carries the verifier's words", func(t *testing.T) {
		_, err := Load("testdata/xdp_partial.o", Options{Program: "xdp_bad"})
		if err == nil || !strings.Contains(err.Error(), "xdp_bad") || !strings.Contains(err.Error(), "invalid access to packet") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestPreloadedDevmapRedirects(t *testing.T) {
	p := load(t, "testdata/xdp_redirect.o", Options{})
	pkt := frame(0x0800, 60)
	if r := mustRun(t, p, pkt, nil); r.Ret != result.XDPPass {
		t.Errorf("empty devmap: ret %d, want the fallback XDP_PASS", r.Ret)
	}
	// Slot 0 names the loopback device (ifindex 1).
	if err := p.LoadMaps(result.Maps{"ports": {{Key: le32(0), Value: le32(1)}}}); err != nil {
		t.Fatal(err)
	}
	if r := mustRun(t, p, pkt, nil); r.Ret != result.XDPRedirect {
		t.Errorf("filled devmap: ret %d, want XDP_REDIRECT", r.Ret)
	}
	got, err := p.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	if d := diffMaps(got, result.Maps{".bss": {{Key: "00000000", Value: le32(2)}}}); d != "" {
		t.Errorf("devmaps are left out of dumps: %s", d)
	}
}

func TestOnTestThread(t *testing.T) {
	requireKernel(t)
	pkts := [][]byte{frame(0x0800, 60), frame(0x86dd, 100), frame(0x0800, 70), frame(0x0806, 64)}
	t.Run("runs inside give what runs from outside give", func(t *testing.T) {
		outside := load(t, "testdata/xdp_maps.o", mapsOpts)
		inside := load(t, "testdata/xdp_maps.o", mapsOpts)
		var want []result.Packet
		for _, pkt := range pkts {
			want = append(want, outside.Run(pkt, nil, Context{}))
		}
		var got []result.Packet
		err := inside.OnTestThread(func() error {
			for _, pkt := range pkts {
				got = append(got, inside.Run(pkt, nil, Context{}))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range pkts {
			if d := result.ComparePackets(i+1, got[i], want[i]); len(d) > 0 {
				t.Errorf("%s", strings.Join(d, "\n"))
			}
		}
		wm, _ := outside.DumpMaps()
		gm, _ := inside.DumpMaps()
		if d := result.CompareMaps(gm, wm); len(d) > 0 {
			t.Errorf("maps: %s", strings.Join(d, "\n"))
		}
	})
	t.Run("each packet runs on the CPU it asks for", func(t *testing.T) {
		p := load(t, "testdata/xdp_maps.o", mapsOpts)
		cpus := min(p.NumCPU(), runtime.NumCPU())
		err := p.OnTestThread(func() error {
			for cpu := range cpus {
				for range cpu + 1 {
					if r := p.Run(frame(0x0800, 60), nil, Context{CPU: cpu}); r.Err != "" {
						return errors.New(r.Err)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		// per_cpu slot 0 counts packets on each CPU: CPU n ran n+1 of them.
		for cpu, v := range got["per_cpu"][0].Values[:cpus] {
			if v != le64(uint64(cpu+1)) {
				t.Errorf("CPU %d counted %s packets, want %d", cpu, v, cpu+1)
			}
		}
	})
	t.Run("a closed program says so", func(t *testing.T) {
		p := load(t, "testdata/xdp_maps.o", mapsOpts)
		p.Close()
		if err := p.OnTestThread(func() error { return nil }); !errors.Is(err, errClosed) {
			t.Errorf("got %v, want errClosed", err)
		}
	})
}
