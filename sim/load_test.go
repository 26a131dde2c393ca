package sim_test

//go:generate sh testdata/build.sh

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// The objects under testdata/ are built from the C beside them by testdata/build.sh; every test
// below loads one with sim.Load, runs frames through the program it picks and checks verdicts,
// output bytes and maps against values worked out from the C source and the frame. Where the
// real kernel is at hand, the same frames go through BPF_PROG_TEST_RUN and must give the same
// results, and both sides' maps must hold the same.

// object is the path of a test object.
func object(name string) string { return filepath.Join("testdata", name+".o") }

func load(t *testing.T, name string, opts sim.LoadOptions) *sim.Object {
	t.Helper()
	obj, err := sim.Load(object(name), opts)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	return obj
}

func newXDP(t *testing.T, obj *sim.Object, prog string) *sim.XDP {
	t.Helper()
	p, err := obj.FindProgram(prog)
	if err != nil {
		t.Fatalf("finding program %q: %v", prog, err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatalf("preparing %s: %v", p.Name, err)
	}
	return x
}

// frame is one frame through a program and what must come of it.
type frame struct {
	name    string
	in      []byte
	ifindex uint32 // ingress ifindex; 0 means 1, the loopback device
	ret     uint32
	out     []byte // the frame after the run, from data to data_end; nil: in, unchanged
}

func (f frame) ingress() uint32 {
	if f.ifindex == 0 {
		return 1
	}
	return f.ifindex
}

// checkFrame compares one run's result with the frame's expectations.
func checkFrame(t *testing.T, side string, f frame, got result.Packet) {
	t.Helper()
	if got.Err != "" {
		t.Errorf("%s: %s: the run failed: %s", side, f.name, got.Err)
		return
	}
	if got.Ret != f.ret {
		t.Errorf("%s: %s: returned %d (%s), want %d (%s)", side, f.name, got.Ret, result.VerdictName(got.Ret), f.ret, result.VerdictName(f.ret))
	}
	want := f.out
	if want == nil {
		want = f.in
	}
	if !bytes.Equal(got.Data, want) {
		t.Errorf("%s: %s: output differs%s", side, f.name, byteDiff(got.Data, want))
	}
	if len(got.Meta) != 0 {
		t.Errorf("%s: %s: %d bytes of metadata appeared", side, f.name, len(got.Meta))
	}
}

// byteDiff describes where got and want part ways.
func byteDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-8)
	return fmt.Sprintf(" at byte %d (lengths %d and %d):\n  got  ...%x\n  want ...%x", i, len(got), len(want),
		got[lo:min(len(got), i+24)], want[lo:min(len(want), i+24)])
}

// scenario loads an object, picks a program, runs frames through it in order and checks each,
// then the maps.
type scenario struct {
	object  string
	opts    sim.LoadOptions
	prog    string
	preload result.Maps // written into the maps before the first frame
	frames  []frame
	// maps checks the simulator's maps after the last frame, against values worked out by hand.
	maps func(t *testing.T, obj *sim.Object)
	// simOnly says why the kernel cannot run this scenario; "" when it can.
	simOnly string
}

func (sc scenario) run(t *testing.T) {
	t.Helper()
	t.Run("in the simulator", func(t *testing.T) {
		obj := load(t, sc.object, sc.opts)
		if err := obj.LoadMaps(sc.preload); err != nil {
			t.Fatal(err)
		}
		x := newXDP(t, obj, sc.prog)
		for _, f := range sc.frames {
			out := x.Run(f.in, nil, sim.Conditions{IngressIfindex: f.ingress()})
			checkFrame(t, "simulator", f, out.Packet)
		}
		if sc.maps != nil {
			sc.maps(t, obj)
		}
	})
	t.Run("in the kernel, with the same results", func(t *testing.T) {
		if sc.simOnly != "" {
			t.Skip(sc.simOnly)
		}
		kp := loadKernel(t, sc.object, sc.prog, sc.opts)
		if sc.preload != nil {
			if err := kp.LoadMaps(sc.preload); err != nil {
				t.Fatal(err)
			}
		}
		// Per-CPU maps hold a value per possible CPU in the kernel: simulate as many.
		opts := sc.opts
		opts.CPUs = kp.NumCPU()
		obj := load(t, sc.object, opts)
		if err := obj.LoadMaps(sc.preload); err != nil {
			t.Fatal(err)
		}
		x := newXDP(t, obj, sc.prog)
		for _, f := range sc.frames {
			if f.ingress() != 1 {
				t.Fatalf("%s: the kernel test run only knows ifindex 1 here", f.name)
			}
			checkFrame(t, "kernel", f, kp.Run(f.in, nil, kernel.Context{IngressIfindex: 1}))
			checkFrame(t, "simulator", f, x.Run(f.in, nil, sim.Conditions{IngressIfindex: 1}).Packet)
		}
		km, err := kp.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		sm, err := obj.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		sameMaps(t, sm, km)
	})
}

// loadKernel loads an object into the real kernel, or skips saying why it cannot.
func loadKernel(t *testing.T, name, prog string, opts sim.LoadOptions) *kernel.Program {
	t.Helper()
	if err := kernel.Available(); err != nil {
		t.Skip(err)
	}
	kp, err := kernel.Load(object(name), kernel.Options{Program: prog, Variables: opts.Set, MapSizes: opts.Resize})
	if err != nil {
		t.Fatalf("the kernel refused %s: %v", name, err)
	}
	t.Cleanup(func() { kp.Close() })
	return kp
}

// sameMaps reports every map whose dump differs between the simulator and the kernel.
func sameMaps(t *testing.T, sim, kern result.Maps) {
	t.Helper()
	var names []string
	for n := range sim {
		names = append(names, n)
	}
	for n := range kern {
		if _, ok := sim[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		s, k := fmt.Sprint(sim[n]), fmt.Sprint(kern[n])
		if s != k {
			t.Errorf("map %s differs:\n  simulator %s\n  kernel    %s", n, s, k)
		}
	}
}

// lookup reads a map's value at key on CPU 0.
func lookup(t *testing.T, obj *sim.Object, name string, key []byte) []byte {
	t.Helper()
	m := obj.Maps[name]
	if m == nil {
		t.Fatalf("no map %s", name)
	}
	v, err := m.Lookup(key, 0)
	if err != nil {
		t.Fatalf("map %s, key %x: %v", name, key, err)
	}
	return v
}

// wantValue checks a map's value at key.
func wantValue(t *testing.T, obj *sim.Object, name string, key, want []byte) {
	t.Helper()
	if got := lookup(t, obj, name, key); !bytes.Equal(got, want) {
		t.Errorf("map %s, key %x: got %x, want %x", name, key, got, want)
	}
}

// wantEntries checks that a map holds exactly the given keys and values (hex).
func wantEntries(t *testing.T, obj *sim.Object, name string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, e := range maps(t, obj)[name] {
		got[e.Key] = e.Value
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("map %s holds %v, want %v", name, got, want)
	}
}

func maps(t *testing.T, obj *sim.Object) result.Maps {
	t.Helper()
	d, err := obj.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// variable reads a global variable from the map of its data section.
func variable(t *testing.T, obj *sim.Object, name string) []byte {
	t.Helper()
	v := obj.Spec.Variables[name]
	if v == nil {
		t.Fatalf("no variable %s", name)
	}
	val := lookup(t, obj, v.SectionName, u32(0))
	return val[v.Offset : v.Offset+v.Size()]
}

func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

func u16(v uint16) []byte  { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte  { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte  { return binary.LittleEndian.AppendUint64(nil, v) }
func h(b ...[]byte) string { return hex.EncodeToString(bytes.Join(b, nil)) }

// Frames.

var (
	macLB     = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	macClient = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xc1}
	macGW     = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xfe}
)

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 0, last} }

// serialize builds a frame from layers, with lengths and checksums filled in.
func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(buf.Bytes())
}

// rawFrame is an Ethernet frame of n bytes with a zero payload.
func rawFrame(dst, src net.HardwareAddr, ethertype uint16, n int) []byte {
	b := make([]byte, n)
	copy(b, dst)
	copy(b[6:], src)
	binary.BigEndian.PutUint16(b[12:], ethertype)
	return b
}

// ethHeader is an Ethernet header that, unlike gopacket's, never pads the frame to 60 bytes:
// XDP programs see frames as they are.
type ethHeader struct {
	dst, src net.HardwareAddr
	typ      layers.EthernetType
}

func (e ethHeader) LayerType() gopacket.LayerType { return layers.LayerTypeEthernet }

func (e ethHeader) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	hdr, err := b.PrependBytes(14)
	if err != nil {
		return err
	}
	copy(hdr, e.dst)
	copy(hdr[6:], e.src)
	binary.BigEndian.PutUint16(hdr[12:], uint16(e.typ))
	return nil
}

func eth(dst, src net.HardwareAddr, t layers.EthernetType) ethHeader {
	return ethHeader{dst: dst, src: src, typ: t}
}

func ip4(src, dst string, proto layers.IPProtocol, ttl uint8) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol, hop uint8) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: hop, NextHeader: next, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

func udp(sport, dport uint16, nl gopacket.NetworkLayer) *layers.UDP {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	u.SetNetworkLayerForChecksum(nl)
	return u
}

func tcp(sport, dport uint16, nl gopacket.NetworkLayer) *layers.TCP {
	t := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, Window: 65535, DataOffset: 5}
	t.SetNetworkLayerForChecksum(nl)
	return t
}

// swapMACs returns a copy of a frame with its Ethernet addresses swapped.
func swapMACs(in []byte) []byte {
	out := slices.Clone(in)
	copy(out[0:6], in[6:12])
	copy(out[6:12], in[0:6])
	return out
}

// TestEveryCFileHasItsObject keeps the committed objects in step with their sources.
func TestEveryCFileHasItsObject(t *testing.T) {
	srcs, err := filepath.Glob(filepath.Join("testdata", "*.c"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no C sources in testdata (%v)", err)
	}
	for _, src := range srcs {
		obj := strings.TrimSuffix(src, ".c") + ".o"
		t.Run(filepath.Base(src)+" is compiled into "+filepath.Base(obj), func(t *testing.T) {
			si, err := os.Stat(src)
			if err != nil {
				t.Fatal(err)
			}
			oi, err := os.Stat(obj)
			if err != nil {
				t.Fatalf("%v: run go generate ./sim", err)
			}
			if oi.Size() == 0 || si.Size() == 0 {
				t.Errorf("%s or %s is empty", src, obj)
			}
		})
	}
}

// choose.o: three XDP programs, two of them in the same section.

func TestAProgramIsChosenByFunctionOrSectionName(t *testing.T) {
	small := rawFrame(mac(0x02), mac(0x01), 0x0800, 100)
	jumbo := rawFrame(mac(0x02), mac(0x01), 0x0800, 9000)
	for _, tc := range []struct {
		name string
		sc   scenario
	}{
		{"the function name bounce_back picks the program that swaps the MAC addresses", scenario{
			object: "choose", prog: "bounce_back",
			frames: []frame{{name: "a 100-byte frame", in: small, ret: 3, out: swapMACs(small)}},
		}},
		{"the function name pass_untouched picks the program that passes every frame", scenario{
			object: "choose", prog: "pass_untouched",
			frames: []frame{{name: "a 100-byte frame", in: small, ret: 2}},
		}},
		{"the section name xdp.frags picks drop_jumbo, alone in it", scenario{
			object: "choose", prog: "xdp.frags",
			frames: []frame{
				{name: "a 100-byte frame passes", in: small, ret: 2},
				{name: "a 9000-byte frame is dropped", in: jumbo, ret: 1},
			},
		}},
	} {
		t.Run(tc.name, tc.sc.run)
	}
}

func TestChoosingAmongSeveralProgramsNeedsAName(t *testing.T) {
	obj := load(t, "choose", sim.LoadOptions{})
	for _, tc := range []struct {
		name, prog string
		want       []string
	}{
		{"no name lists the three XDP programs", "", []string{"3 XDP programs", "--prog", "bounce_back", "drop_jumbo", "pass_untouched"}},
		{"the section xdp names two programs, so both are listed", "xdp", []string{`section "xdp" holds several programs`, "bounce_back", "pass_untouched"}},
		{"an unknown name lists every program with its section", "no_such_program", []string{`no program named "no_such_program"`, "bounce_back (section xdp)", "drop_jumbo (section xdp.frags)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := obj.FindProgram(tc.prog)
			wantError(t, err, tc.want...)
			var le *sim.LoadError
			if !errors.As(err, &le) || le.Path != object("choose") {
				t.Errorf("%v is not a *sim.LoadError naming the object", err)
			}
		})
	}
	t.Run("only the program from xdp.frags is frags-aware", func(t *testing.T) {
		for prog, want := range map[string]bool{"drop_jumbo": true, "bounce_back": false, "pass_untouched": false} {
			p, err := obj.FindProgram(prog)
			if err != nil {
				t.Fatal(err)
			}
			if p.Frags != want {
				t.Errorf("%s: Frags is %v, want %v", prog, p.Frags, want)
			}
		}
	})
}

// mapdefs.o: BTF-defined and legacy maps side by side.

func TestMapsDeclaredInBTFAndAsLegacyDefinitions(t *testing.T) {
	a, b := mac(0x0a), mac(0x0b)
	t.Run("each map has the type and sizes its definition gives", func(t *testing.T) {
		obj := load(t, "mapdefs", sim.LoadOptions{})
		for _, want := range []struct {
			name                string
			typ                 ebpf.MapType
			key, value, entries int
		}{
			{"size_classes", ebpf.Array, 4, 8, 4},
			{"last_len_by_mac", ebpf.Hash, 6, 4, 16},
			{"bytes_by_ethertype", ebpf.Hash, 2, 8, 8},
			{"frames", ebpf.PerCPUArray, 4, 8, 1},
		} {
			m := obj.Maps[want.name]
			if m == nil {
				t.Errorf("no map %s", want.name)
				continue
			}
			if m.Type() != want.typ || m.KeySize() != want.key || m.ValueSize() != want.value || int(m.MaxEntries()) != want.entries {
				t.Errorf("map %s is %v, want type %v, key %d, value %d, %d entries", want.name, m, want.typ, want.key, want.value, want.entries)
			}
		}
	})
	t.Run("the program counts into both kinds of maps", scenario{
		object: "mapdefs",
		frames: []frame{
			{name: "60 bytes of IPv4 from a", in: rawFrame(macLB, a, 0x0800, 60), ret: 2},
			{name: "600 bytes of IPv6 from b", in: rawFrame(macLB, b, 0x86dd, 600), ret: 2},
			{name: "200 bytes of IPv4 from a", in: rawFrame(macLB, a, 0x0800, 200), ret: 2},
			{name: "1400 bytes of EtherType 0x88b5 from b", in: rawFrame(macLB, b, 0x88b5, 1400), ret: 2},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			// One frame in each size class: < 128, < 512, < 1024, larger.
			wantEntries(t, obj, "size_classes", map[string]string{
				h(u32(0)): h(u64(1)), h(u32(1)): h(u64(1)), h(u32(2)): h(u64(1)), h(u32(3)): h(u64(1)),
			})
			wantEntries(t, obj, "last_len_by_mac", map[string]string{h(a): h(u32(200)), h(b): h(u32(1400))})
			wantEntries(t, obj, "bytes_by_ethertype", map[string]string{
				h(u16(0x0800)): h(u64(260)), h(u16(0x86dd)): h(u64(600)), h(u16(0x88b5)): h(u64(1400)),
			})
			wantValue(t, obj, "frames", u32(0), u64(4))
		},
	}.run)
}

// globals.o: .data, .bss, .rodata, .data.custom and .rodata.custom.

func TestGlobalVariablesLiveInTheirSectionsMaps(t *testing.T) {
	v4 := func(dst byte) []byte { return rawFrame(mac(dst), mac(0x10), 0x0800, 60) }
	v6 := func(dst byte) []byte { return rawFrame(mac(dst), mac(0x10), 0x86dd, 80) }
	stamped := func(in []byte) []byte {
		out := slices.Clone(in)
		out[6] = 0xaa
		return out
	}
	t.Run("every section becomes a map with the initial values from C", func(t *testing.T) {
		obj := load(t, "globals", sim.LoadOptions{})
		for _, want := range []struct {
			variable string
			value    []byte
		}{
			{"ipv4_verdict", u32(2)},
			{"stamp", []byte{0}},
			{"weights", bytes.Join([][]byte{u32(1), u32(10), u32(100), u32(1000)}, nil)},
			{"seen", u64(5)},
			{"per_class", make([]byte, 32)},
			{"last_ifindex", u32(0)},
			{"weighted_sum", u64(1000)},
			{"tag", []byte("xdpsim\x00\x00")},
			{"scale", u32(3)},
		} {
			if got := variable(t, obj, want.variable); !bytes.Equal(got, want.value) {
				t.Errorf("%s (section %s) is %x, want %x", want.variable, obj.Spec.Variables[want.variable].SectionName, got, want.value)
			}
		}
		for _, name := range []string{".data", ".bss", ".rodata", ".data.custom", ".rodata.custom"} {
			m := obj.Maps[name]
			if m == nil || m.Type() != ebpf.Array || m.MaxEntries() != 1 {
				t.Errorf("section %s is %v, want a one-element array map", name, m)
			}
		}
	})
	t.Run("the program reads and writes the variables", scenario{
		object: "globals",
		frames: []frame{
			{name: "IPv4 to class 2 gets ipv4_verdict, XDP_PASS", in: v4(0x02), ret: 2},
			{name: "IPv6 to class 3 passes", in: v6(0x07), ret: 2},
			{name: "IPv4 to class 0 passes", in: v4(0x04), ret: 2},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			for name, want := range map[string][]byte{
				"seen":         u64(5 + 3),
				"per_class":    bytes.Join([][]byte{u64(1), u64(0), u64(1), u64(1)}, nil),
				"weighted_sum": u64(1000 + 100*3 + 1000*3 + 1*3),
				"last_ifindex": u32(1),
			} {
				if got := variable(t, obj, name); !bytes.Equal(got, want) {
					t.Errorf("%s is %x, want %x", name, got, want)
				}
			}
		},
	}.run)
	t.Run("const volatile variables set before load change what the program does", scenario{
		object: "globals",
		// Integers of any Go type, as the command line's --set gives them (uint64).
		opts: sim.LoadOptions{Set: map[string]any{"ipv4_verdict": uint64(1), "stamp": 0xaa, "scale": int32(5)}},
		frames: []frame{
			{name: "IPv4 to class 2 is dropped, stamped", in: v4(0x02), ret: 1, out: stamped(v4(0x02))},
			{name: "IPv6 to class 3 passes, stamped", in: v6(0x03), ret: 2, out: stamped(v6(0x03))},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			if got, want := variable(t, obj, "weighted_sum"), u64(1000+100*5+1000*5); !bytes.Equal(got, want) {
				t.Errorf("weighted_sum is %x, want %x", got, want)
			}
		},
	}.run)
	t.Run("values of every shape set a variable", func(t *testing.T) {
		for _, tc := range []struct {
			name, variable string
			value          any
			want           []byte
		}{
			{"a Go int", "ipv4_verdict", 3, u32(3)},
			{"a uint64, as --set gives", "ipv4_verdict", uint64(4), u32(4)},
			{"the variable's bytes", "ipv4_verdict", []byte{1, 0, 0, 0}, u32(1)},
			{"a negative int8 for a byte", "stamp", int8(-1), []byte{0xff}},
			{"true for a byte", "stamp", true, []byte{1}},
			{"a .data variable", "seen", uint8(9), u64(9)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				obj := load(t, "globals", sim.LoadOptions{Set: map[string]any{tc.variable: tc.value}})
				if got := variable(t, obj, tc.variable); !bytes.Equal(got, tc.want) {
					t.Errorf("%s is %x, want %x", tc.variable, got, tc.want)
				}
			})
		}
	})
	t.Run("values that cannot set a variable fail the load naming it", func(t *testing.T) {
		for _, tc := range []struct {
			name, variable string
			value          any
			want           []string
		}{
			{"256 does not fit a byte", "stamp", 256, []string{"variable stamp", "does not fit"}},
			{"-129 does not fit a byte", "stamp", -129, []string{"variable stamp", "does not fit"}},
			{"two bytes for a four-byte variable", "ipv4_verdict", []byte{1, 2}, []string{"variable ipv4_verdict", "2 bytes given for a 4-byte variable"}},
			{"a variable the object lacks", "no_such_variable", 1, []string{"variable no_such_variable", "no such variable"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := sim.Load(object("globals"), sim.LoadOptions{Set: map[string]any{tc.variable: tc.value}})
				wantError(t, err, tc.want...)
			})
		}
	})
}

// calls.o: static and global bpf-to-bpf calls.

func TestBPFToBPFCallsAreLinked(t *testing.T) {
	dst := mac(0x01)
	odd, even := rawFrame(dst, mac(0x11), 0x0800, 60), rawFrame(dst, mac(0x12), 0x0800, 75)
	fnv1a := func(in []byte) uint32 {
		f := fnv.New32a()
		f.Write(in[:12])
		return f.Sum32()
	}
	if fnv1a(odd)&1 != 1 || fnv1a(even)&1 != 0 {
		t.Fatal("the frames no longer cover both verdicts: pick others")
	}
	t.Run("the program calls all three functions", func(t *testing.T) {
		p, err := load(t, "calls", sim.LoadOptions{}).FindProgram("call_functions")
		if err != nil {
			t.Fatal(err)
		}
		called := map[string]bool{}
		for _, ins := range p.Insns {
			if ins.IsFunctionCall() {
				called[ins.Reference()] = true
			}
		}
		for _, fn := range []string{"fnv_macs", "fnv_step", "frame_len"} {
			if !called[fn] {
				t.Errorf("no call of %s among the loaded instructions (calls: %v)", fn, called)
			}
		}
	})
	t.Run("the functions hash the addresses and measure the frame", scenario{
		object: "calls",
		frames: []frame{
			{name: "a frame whose address hash is odd is dropped", in: odd, ret: 1},
			{name: "a frame whose address hash is even passes", in: even, ret: 2},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			if got, want := variable(t, obj, "last_hash"), u32(fnv1a(even)); !bytes.Equal(got, want) {
				t.Errorf("last_hash is %x, want FNV-1a %x", got, want)
			}
			if got, want := variable(t, obj, "last_len"), u32(75); !bytes.Equal(got, want) {
				t.Errorf("last_len is %x, want %x", got, want)
			}
		},
	}.run)
}

// tailcalls.o: a prog array, an array_of_maps and a hash_of_maps filled by .values.

func TestStaticallyFilledProgArraysAndMapsOfMaps(t *testing.T) {
	v4 := rawFrame(macLB, macClient, 0x0800, 60)
	v6 := rawFrame(macLB, macClient, 0x86dd, 80)
	arp := rawFrame(macLB, macClient, 0x0806, 60)
	v4b := rawFrame(macLB, macClient, 0x0800, 100)
	t.Run("the slots name the programs and maps given in C", func(t *testing.T) {
		obj := load(t, "tailcalls", sim.LoadOptions{})
		for _, want := range []struct {
			outer string
			key   []byte
			inner string // "" for an empty slot
		}{
			{"jump", u32(0), "to_ipv4"},
			{"jump", u32(1), "to_ipv6"},
			{"jump", u32(2), ""},
			{"counts_by_family", u32(0), "ipv4_counts"},
			{"counts_by_family", u32(1), "ipv6_counts"},
			{"counts_by_family", u32(2), ""},
			{"by_ifindex", u32(1), "loopback_rules"},
			{"by_ifindex", u32(3), "third_rules"},
			{"by_ifindex", u32(2), ""},
		} {
			got, err := obj.Maps[want.outer].LookupObject(want.key)
			var name string
			switch o := got.(type) {
			case *sim.Program:
				name = o.Name
			case interface{ Name() string }:
				if o != nil {
					name = o.Name()
				}
			}
			if name != want.inner || (want.inner != "" && err != nil) {
				t.Errorf("%s[%x] holds %q (%v), want %q", want.outer, want.key, name, err, want.inner)
			}
		}
	})
	t.Run("frames go through maps of maps and tail calls", scenario{
		object: "tailcalls", prog: "dispatch",
		frames: []frame{
			{name: "IPv4 is counted and tail-called into to_ipv4, which drops", in: v4, ret: 1},
			{name: "IPv6 is tail-called into to_ipv6, which bounces it", in: v6, ret: 3, out: swapMACs(v6)},
			{name: "ARP finds no inner array and an empty prog array slot, so it passes", in: arp, ret: 2},
			{name: "more IPv4 is dropped", in: v4b, ret: 1},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			wantEntries(t, obj, "ipv4_counts", map[string]string{h(u32(0)): h(u64(2)), h(u32(1)): h(u64(160))})
			wantEntries(t, obj, "ipv6_counts", map[string]string{h(u32(0)): h(u64(1)), h(u32(1)): h(u64(80))})
			wantEntries(t, obj, "loopback_rules", map[string]string{h(u32(0)): h(u32(2)), h(u32(1)): h(u32(1)), h(u32(2)): h(u32(1))})
			wantEntries(t, obj, "third_rules", map[string]string{})
		},
	}.run)
	t.Run("the hash of maps picks the inner map by ingress ifindex", scenario{
		object: "tailcalls", prog: "dispatch",
		frames: []frame{
			{name: "a frame from ifindex 2, which has no inner map, is dropped", in: v4, ifindex: 2, ret: 1},
			{name: "IPv6 from ifindex 3 is counted in third_rules and bounced", in: v6, ifindex: 3, ret: 3, out: swapMACs(v6)},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			wantEntries(t, obj, "third_rules", map[string]string{h(u32(1)): h(u32(1))})
			wantEntries(t, obj, "loopback_rules", map[string]string{})
		},
		simOnly: "BPF_PROG_TEST_RUN needs a real device for ifindex 2 and 3",
	}.run)
}

// core.o: CO-RE relocations against the simulator's BTF, a vmlinux file and a BTF of our own.

// coreReport is struct core_report of core.c, in order.
type coreReport struct {
	IPSize, SaddrOff, ProtocolOff, TotLenSize      uint32
	HasRxQueue, HasMissingField, HasIPHdr, HasFake uint32
	RedirectValue, TXValue, HasTeleport            uint32
	Ifindex, RxQueue, TTL, Protocol, TotLen, Saddr uint32
	Daddr, Missing, Teleport                       uint32
}

func readReport(t *testing.T, obj *sim.Object) coreReport {
	t.Helper()
	var r coreReport
	if err := binary.Read(bytes.NewReader(variable(t, obj, "report")), binary.LittleEndian, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCORERelocations(t *testing.T) {
	ip := ip4("10.1.2.3", "192.168.7.9", layers.IPProtocolUDP, 61)
	ip.Id, ip.Flags = 0x1234, layers.IPv4DontFragment
	udpFrame := serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ip, udp(1000, 2000, ip), gopacket.Payload("twelve bytes"))
	ipt := ip4("10.1.2.3", "192.168.7.9", layers.IPProtocolTCP, 61)
	tcpFrame := serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ipt, tcp(1000, 2000, ipt))
	kernelLayout := coreReport{
		IPSize: 20, SaddrOff: 12, ProtocolOff: 9, TotLenSize: 2,
		HasRxQueue: 1, HasMissingField: 0, HasIPHdr: 1, HasFake: 0,
		RedirectValue: 4, TXValue: 3, HasTeleport: 0,
		Ifindex: 1, RxQueue: 0, TTL: 61, Protocol: 17, TotLen: 20 + 8 + 12,
		Saddr: 0x0a010203, Daddr: 0xc0a80709, Missing: 0xdead, Teleport: 0xbeef,
	}
	frames := []frame{
		{name: "TCP over IPv4 is dropped", in: tcpFrame, ret: 1},
		{name: "UDP over IPv4 passes", in: udpFrame, ret: 2},
	}
	checkReport := func(want coreReport) func(*testing.T, *sim.Object) {
		return func(t *testing.T, obj *sim.Object) {
			if got := readReport(t, obj); got != want {
				t.Errorf("report is\n  %+v\nwant\n  %+v", got, want)
			}
		}
	}
	t.Run("relocated against the simulator's own 6.18 BTF, fields land where the kernel has them", scenario{
		object: "core", frames: frames, maps: checkReport(kernelLayout),
	}.run)
	t.Run("relocated against the running kernel's vmlinux BTF given as a file, the same", func(t *testing.T) {
		raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
		if err != nil {
			t.Skip("no kernel BTF to copy:", err)
		}
		path := filepath.Join(t.TempDir(), "vmlinux.btf")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		scenario{object: "core", opts: sim.LoadOptions{BTF: path}, frames: frames, maps: checkReport(kernelLayout)}.run(t)
	})
	t.Run("relocated against a BTF of our own with another iphdr, fields land where it says", func(t *testing.T) {
		path := writeBTF(t, true)
		in := udpFrame
		// Our iphdr: ttl at 0, protocol at 1, tot_len at 2, saddr at 4, daddr at 8; 12 bytes.
		want := kernelLayout
		want.IPSize, want.SaddrOff, want.ProtocolOff = 12, 4, 1
		want.TTL = uint32(in[14])                              // 0x45, version and IHL
		want.Protocol = uint32(in[15])                         // TOS 0
		want.TotLen = uint32(binary.BigEndian.Uint16(in[16:])) // the real tot_len
		want.Saddr = binary.BigEndian.Uint32(in[18:])          // ID and fragment field
		want.Daddr = binary.BigEndian.Uint32(in[22:])          // TTL, protocol, checksum
		scenario{
			object: "core", opts: sim.LoadOptions{BTF: path},
			frames:  []frame{{name: "UDP is dropped: our protocol field reads the TOS byte", in: in, ret: 1}},
			maps:    checkReport(want),
			simOnly: "the kernel relocates against its own BTF",
		}.run(t)
	})
	t.Run("a relocation with no match poisons its instruction, which the verifier refuses to reach", func(t *testing.T) {
		obj := load(t, "core", sim.LoadOptions{BTF: writeBTF(t, false)})
		_, err := obj.FindProgram("")
		// The kernel's words for the call libbpf and cilium/ebpf write in its place.
		wantError(t, err, "core_reader", "invalid func unknown#195896080", "iphdr___co")
	})
	t.Run("unverified, a relocation with no match poisons its instruction, which faults when reached", func(t *testing.T) {
		obj := load(t, "core", sim.LoadOptions{BTF: writeBTF(t, false), NoVerify: true})
		x := newXDP(t, obj, "")
		out := x.Run(udpFrame, nil, sim.Conditions{IngressIfindex: 1})
		if out.Fault == nil {
			t.Fatalf("the run gave %d, want a fault at the poisoned size of iphdr___co", out.Ret)
		}
		wantError(t, out.Fault, "poisoned by CO-RE", "iphdr___co", "found no match in the kernel BTF")
		var re *vm.RuntimeError
		if !errors.As(out.Fault, &re) {
			t.Errorf("the fault %T is not a *vm.RuntimeError with the instruction", out.Fault)
		}
	})
	t.Run("a BTF file that cannot be read fails the load naming it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "not-btf")
		if err := os.WriteFile(path, []byte("not BTF at all"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := sim.Load(object("core"), sim.LoadOptions{BTF: path})
		wantError(t, err, "core.o", "--btf", path)
	})
	t.Run("a BTF file that does not exist fails the load even of an object without CO-RE relocations", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing-btf")
		_, err := sim.Load(object("parser"), sim.LoadOptions{BTF: path})
		wantError(t, err, "parser.o", "--btf", path, "no such file")
	})
}

// writeBTF writes a small BTF holding struct xdp_md and enum xdp_action as the kernel has them
// and, when withIPHdr, a struct iphdr of our own: { u8 ttl; u8 protocol; u16 tot_len;
// u32 saddr; u32 daddr; }.
func writeBTF(t testing.TB, withIPHdr bool) string {
	t.Helper()
	u8 := &btf.Int{Name: "__u8", Size: 1}
	u16 := &btf.Int{Name: "__u16", Size: 2}
	u32 := &btf.Int{Name: "__u32", Size: 4}
	var md []btf.Member
	for i, n := range []string{"data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex"} {
		md = append(md, btf.Member{Name: n, Type: u32, Offset: btf.Bits(32 * i)})
	}
	types := []btf.Type{
		&btf.Struct{Name: "xdp_md", Size: 24, Members: md},
		&btf.Enum{Name: "xdp_action", Size: 4, Values: []btf.EnumValue{
			{Name: "XDP_ABORTED", Value: 0}, {Name: "XDP_DROP", Value: 1}, {Name: "XDP_PASS", Value: 2},
			{Name: "XDP_TX", Value: 3}, {Name: "XDP_REDIRECT", Value: 4},
		}},
	}
	if withIPHdr {
		types = append(types, &btf.Struct{Name: "iphdr", Size: 12, Members: []btf.Member{
			{Name: "ttl", Type: u8, Offset: 0},
			{Name: "protocol", Type: u8, Offset: 8},
			{Name: "tot_len", Type: u16, Offset: 16},
			{Name: "saddr", Type: u32, Offset: 32},
			{Name: "daddr", Type: u32, Offset: 64},
		}})
	}
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "small.btf")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pinned.o: a map pinned by name.

func TestMapsPinnedByNameLoadWithANotice(t *testing.T) {
	t.Run("the notice names the pinned map and only it", func(t *testing.T) {
		obj := load(t, "pinned", sim.LoadOptions{})
		var about []string
		for _, n := range obj.Notices {
			if strings.Contains(n, "shared_bytes") && strings.Contains(n, "pinned by name") {
				about = append(about, n)
			}
			if strings.Contains(n, "local_frames") {
				t.Errorf("a notice about the unpinned map: %q", n)
			}
		}
		if len(about) != 1 {
			t.Errorf("notices %q, want one about shared_bytes being pinned by name", obj.Notices)
		}
	})
	t.Run("the pinned map works like any other", scenario{
		object: "pinned",
		frames: []frame{
			{name: "a 60-byte frame", in: rawFrame(macLB, macClient, 0x0800, 60), ret: 2},
			{name: "a 100-byte frame", in: rawFrame(macLB, macClient, 0x0800, 100), ret: 2},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			wantValue(t, obj, "shared_bytes", u32(0), u64(160))
			wantValue(t, obj, "local_frames", u32(0), u64(2))
		},
	}.run)
}

// resize.o: a map declared with max_entries 0.

func TestMapsWithoutASizeNeedResize(t *testing.T) {
	t.Run("without --resize the load fails naming the map and the flag", func(t *testing.T) {
		_, err := sim.Load(object("resize"), sim.LoadOptions{})
		wantError(t, err, "map sources", "max_entries is 0", "--resize sources=N")
		var le *sim.LoadError
		if !errors.As(err, &le) {
			t.Errorf("%T is not a *sim.LoadError", err)
		}
	})
	t.Run("resizing a map the object lacks fails naming it", func(t *testing.T) {
		_, err := sim.Load(object("resize"), sim.LoadOptions{Resize: map[string]uint32{"sources": 2, "no_such_map": 4}})
		wantError(t, err, "no_such_map", "--resize names no map")
	})
	a, b, c := mac(0x0a), mac(0x0b), mac(0x0c)
	key := func(m net.HardwareAddr) string { return h(m, []byte{0, 0}) }
	t.Run("with a size of 2 a third source does not fit", scenario{
		object: "resize", opts: sim.LoadOptions{Resize: map[string]uint32{"sources": 2}},
		frames: []frame{
			{name: "the first frame from a is counted", in: rawFrame(macLB, a, 0x0800, 60), ret: 2},
			{name: "the first frame from b is counted", in: rawFrame(macLB, b, 0x0800, 60), ret: 2},
			{name: "c finds the map full and is dropped", in: rawFrame(macLB, c, 0x0800, 60), ret: 1},
			{name: "a again is counted", in: rawFrame(macLB, a, 0x0800, 60), ret: 2},
		},
		maps: func(t *testing.T, obj *sim.Object) {
			if n := obj.Maps["sources"].MaxEntries(); n != 2 {
				t.Errorf("sources has %d entries, want 2", n)
			}
			wantEntries(t, obj, "sources", map[string]string{key(a): h(u64(2)), key(b): h(u64(1))})
		},
	}.run)
}

// mixed.o: XDP beside TC, tracepoint, kprobe and an untyped section.

func TestObjectsWithOtherProgramTypes(t *testing.T) {
	short, full := rawFrame(macLB, macClient, 0x0800, 54), rawFrame(macLB, macClient, 0x0800, 60)
	t.Run("the only typed XDP program is the default, and runs", scenario{
		object: "mixed",
		frames: []frame{{name: "a short frame", in: short, ret: 2}, {name: "a full frame", in: full, ret: 2}},
		maps: func(t *testing.T, obj *sim.Object) {
			wantEntries(t, obj, "hits", map[string]string{h(u32(0)): h(u64(2)), h(u32(1)): h(u64(0)), h(u32(2)): h(u64(0)), h(u32(3)): h(u64(0))})
		},
	}.run)
	t.Run("asking for a program the simulator cannot run says why", func(t *testing.T) {
		obj := load(t, "mixed", sim.LoadOptions{})
		for _, tc := range []struct {
			name, prog string
			want       []string
		}{
			{"the tracepoint program", "trace_write", []string{"trace_write", "TracePoint", "not simulated (XDP and tc programs are)"}},
			{"the kprobe program", "kprobe_open", []string{"kprobe_open", "Kprobe", "not simulated"}},
			{"the program whose section carries no type", "custom_section", []string{"custom_section", `section "foo" carries no program type`, "--type xdp"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := obj.FindProgram(tc.prog)
				wantError(t, err, tc.want...)
			})
		}
	})
	t.Run("the tc program loads, by function or section name", func(t *testing.T) {
		obj := load(t, "mixed", sim.LoadOptions{})
		for _, name := range []string{"tc_count", "tc"} {
			p, err := obj.FindProgram(name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p.Name != "tc_count" || p.Type != ebpf.SchedCLS {
				t.Errorf("%s: got program %s of type %s", name, p.Name, p.Type)
			}
		}
	})
	t.Run("preparing the tc program to run as XDP names the object, program and section", func(t *testing.T) {
		p, err := load(t, "mixed", sim.LoadOptions{}).FindProgram("tc_count")
		if err != nil {
			t.Fatal(err)
		}
		_, err = sim.NewXDP(p)
		wantError(t, err, object("mixed")+": program tc_count (section tc) is of type SchedCLS, not XDP")
	})
	untyped := []frame{
		{name: "a 54-byte frame is dropped", in: short, ret: 1},
		{name: "a 60-byte frame passes", in: full, ret: 2},
	}
	hits := func(t *testing.T, obj *sim.Object) {
		wantEntries(t, obj, "hits", map[string]string{h(u32(0)): h(u64(0)), h(u32(1)): h(u64(0)), h(u32(2)): h(u64(0)), h(u32(3)): h(u64(2))})
	}
	t.Run("typed as XDP by function name, the untyped program runs", scenario{
		object: "mixed", prog: "custom_section", frames: untyped, maps: hits,
		opts:    sim.LoadOptions{Types: map[string]ebpf.ProgramType{"custom_section": ebpf.XDP}},
		simOnly: "the kernel side has no way to give a section a program type",
	}.run)
	t.Run("typed as XDP by section name, the untyped program runs", scenario{
		object: "mixed", prog: "foo", frames: untyped, maps: hits,
		opts:    sim.LoadOptions{Types: map[string]ebpf.ProgramType{"foo": ebpf.XDP}},
		simOnly: "the kernel side has no way to give a section a program type",
	}.run)
	t.Run("once typed, the untyped program is one more XDP program to choose from", func(t *testing.T) {
		obj := load(t, "mixed", sim.LoadOptions{Types: map[string]ebpf.ProgramType{"custom_section": ebpf.XDP}})
		_, err := obj.FindProgram("")
		wantError(t, err, "2 XDP programs", "custom_section", "xdp_count")
	})
}

// unsupported.o: helpers and kfuncs the simulator cannot call.

func TestUnsupportedCallsFailNamingTheCallee(t *testing.T) {
	obj := load(t, "unsupported", sim.LoadOptions{})
	for _, tc := range []struct {
		name, prog string
		want       []string
	}{
		{"bpf_skb_vlan_push is named with its number, in the kernel's words", "vlan_pusher", []string{"program vlan_pusher", "program of this type cannot use helper bpf_skb_vlan_push#18"}},
		{"a kfunc the simulator does not provide is named", "kfunc_user", []string{"program kfunc_user", "kfunc bpf_xdpsim_test_kfunc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := obj.FindProgram(tc.prog)
			wantError(t, err, tc.want...)
		})
	}
	t.Run("bpf_get_current_pid_tgid, which XDP may call, reports the simulated test run's caller", scenario{
		object: "unsupported", prog: "pid_tagger",
		frames:  []frame{{name: "result.DefaultTask's pid 1000 is even: the frame passes", in: rawFrame(macLB, macClient, 0x0800, 60), ret: 2}},
		simOnly: "in the kernel the value is the pid of the test run's own thread (see kernel/task_test.go)",
	}.run)
	t.Run("the other programs of the object still load and run", scenario{
		object: "unsupported", prog: "plain",
		frames: []frame{{name: "a frame passes", in: rawFrame(macLB, macClient, 0x0800, 60), ret: 2}},
	}.run)
	t.Run("a kfunc the simulator does not know is an ErrUnknownKfunc", func(t *testing.T) {
		_, err := obj.FindProgram("kfunc_user")
		if !errors.Is(err, kfuncs.ErrUnknownKfunc) {
			t.Errorf("%v does not match kfuncs.ErrUnknownKfunc", err)
		}
	})
	t.Run("the kernel refuses bpf_skb_vlan_push for XDP too", func(t *testing.T) {
		if err := kernel.Available(); err != nil {
			t.Skip(err)
		}
		_, err := kernel.Load(object("unsupported"), kernel.Options{Program: "vlan_pusher"})
		wantError(t, err, "bpf_skb_vlan_push#18")
	})
}

// lb.o: a load balancer of several thousand instructions.

// The load balancer's configuration, as lb.c's flags and structs spell it.
const (
	vipGUE     = 1
	vipAnyPort = 2
	vipQUIC    = 4
	vipNoLRU   = 8
	beV6       = 1
	beDrained  = 2
	ringSize   = 64
	maxBE      = 8
)

// Indexes of lb.c's stats.
const (
	stRX = iota
	stRXBytes
	stNotVIP
	stFiltered
	stNewConn
	stLRUHit
	stQUICRouted
	stIPIP
	stGUE
	stNoBackend
	stDecap
	stICMPReply
	stTTLExceeded
	stMalformed
	stFragment
	stTooBig
	stVLAN
	stMax
)

func addr16(s string) []byte {
	ip := net.ParseIP(s)
	if v4 := ip.To4(); v4 != nil {
		return append(slices.Clone([]byte(v4)), make([]byte, 12)...)
	}
	return slices.Clone([]byte(ip.To16()))
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// vipKey is struct vip_key: the address, the port in network order, protocol and family.
func vipKey(addr string, port uint16, proto uint8) string {
	family := byte(4)
	if net.ParseIP(addr).To4() == nil {
		family = 6
	}
	return h(addr16(addr), be16(port), []byte{proto, family})
}

// flowKey is struct flow_key.
func flowKey(src, dst string, sport, dport uint16, proto uint8) []byte {
	family := byte(4)
	if net.ParseIP(src).To4() == nil {
		family = 6
	}
	return bytes.Join([][]byte{addr16(src), addr16(dst), be16(sport), be16(dport), {proto, family, 0, 0}}, nil)
}

// lbHash is lb.c's flow hash, written from its description: murmur3's block mix over the
// address words as a little-endian machine loads them, then the ports word (sport << 16 | dport,
// each as loaded from network order, or 0), then fmix32; the seed is hash_seed ^ protocol.
func lbHash(seed uint32, src, dst string, sport, dport uint16, proto uint8, withPorts bool) uint32 {
	rotl := func(x uint32, k uint) uint32 { return x<<k | x>>(32-k) }
	h := seed ^ uint32(proto)
	mix := func(w uint32) {
		h ^= rotl(w*0xcc9e2d51, 15) * 0x1b873593
		h = rotl(h, 13)*5 + 0xe6546b64
	}
	a, b := net.ParseIP(src), net.ParseIP(dst)
	if a.To4() != nil {
		a, b = a.To4(), b.To4()
	}
	for _, ip := range [][]byte{a, b} {
		for i := 0; i < len(ip); i += 4 {
			mix(binary.LittleEndian.Uint32(ip[i:]))
		}
	}
	var ports uint32
	if withPorts {
		ports = uint32(binary.LittleEndian.Uint16(be16(sport)))<<16 | uint32(binary.LittleEndian.Uint16(be16(dport)))
	}
	mix(ports)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// lbSetup is the load balancer's configuration, preloaded on both sides:
//   - VIP 0, 192.0.2.10:80/TCP (and ICMP to it), IPIP to three backends 10.1.0.1-3; ring slot
//     i names backend i % 3;
//   - VIP 1, 192.0.2.20 any UDP port, GUE to 10.2.0.1;
//   - VIP 2, [2001:db8::10]:443/UDP with QUIC server IDs, IP6IP6 to fd00:b::1 and fd00:b::2;
//     ring slot i names backend i % 2; server ID 0x0102 names backend 1;
//   - VIP 3, 192.0.2.30:53/UDP without connection table, whose only backend is drained;
//   - sources in 198.51.100.0/24 are filtered; frames tunnelled to 10.0.0.1 are decapsulated.
func lbSetup() result.Maps {
	m := result.Maps{}
	add := func(name, key, value string) { m[name] = append(m[name], result.MapEntry{Key: key, Value: value}) }
	meta := func(id, flags uint32) string { return h(u32(id), u32(flags)) }
	add("vips", vipKey("192.0.2.10", 80, 6), meta(0, 0))
	add("vips", vipKey("192.0.2.10", 0, 1), meta(0, vipAnyPort))
	add("vips", vipKey("192.0.2.20", 0, 17), meta(1, vipGUE|vipAnyPort))
	add("vips", vipKey("2001:db8::10", 443, 17), meta(2, vipQUIC))
	add("vips", vipKey("192.0.2.30", 53, 17), meta(3, vipNoLRU))
	backend := func(addr string, flags uint32) string { return h(addr16(addr), u32(flags), u32(0)) }
	for i := range 3 {
		add("backends_vip0", h(u32(uint32(i))), backend(fmt.Sprintf("10.1.0.%d", i+1), 0))
	}
	add("backends_vip1", h(u32(0)), backend("10.2.0.1", 0))
	add("backends_vip2", h(u32(0)), backend("fd00:b::1", beV6))
	add("backends_vip2", h(u32(1)), backend("fd00:b::2", beV6))
	add("backends_vip3", h(u32(0)), backend("10.3.0.1", beDrained))
	for slot := range uint32(ringSize) {
		add("ch_rings", h(u32(0*ringSize+slot)), h(u32(slot%3)))
		add("ch_rings", h(u32(1*ringSize+slot)), h(u32(0)))
		add("ch_rings", h(u32(2*ringSize+slot)), h(u32(slot%2)))
		add("ch_rings", h(u32(3*ringSize+slot)), h(u32(0)))
	}
	add("server_ids", h(u32(0x0102%256)), h(u32(1+1)))
	add("src_filter", h(u32(24), net.ParseIP("198.51.100.0").To4()), h(u32(1)))
	add("decap_dst", h(addr16("10.0.0.1")), h(u32(1)))
	add("config", h(u32(0)), h(net.ParseIP("10.0.0.1").To4(), net.ParseIP("fd00::1").To16(), macGW, macLB))
	return m
}

// lbFrames builds the load balancer's frames and what comes of each, given the knobs.
type lbFrames struct {
	t        *testing.T
	seed     uint32
	decTTL   bool
	guePort  uint16
	frames   []frame
	events   [][]byte // struct event of every new connection, in order
	stats    [stMax]uint64
	vipStats [4][2]uint64
	bePkts   map[uint32]uint64
	conns    map[string]string
}

func newLBFrames(t *testing.T, seed uint32, decTTL bool, guePort uint16) *lbFrames {
	return &lbFrames{t: t, seed: seed, decTTL: decTTL, guePort: guePort, bePkts: map[uint32]uint64{}, conns: map[string]string{}}
}

func (l *lbFrames) add(f frame, stats ...int) {
	l.frames = append(l.frames, f)
	l.stats[stRX]++
	l.stats[stRXBytes] += uint64(len(f.in))
	for _, s := range stats {
		l.stats[s]++
	}
}

// ttl is the TTL (hop limit) the balancer forwards a packet with: one less when decrement_ttl is set.
func (l *lbFrames) ttl(ttl uint8) uint8 {
	if l.decTTL {
		return ttl - 1
	}
	return ttl
}

// newConn records what a new connection leaves behind.
func (l *lbFrames) newConn(flow []byte, vip, pos, hash uint32, bytes int, lru bool) {
	l.events = append(l.events, bytes2(flow, u32(vip), u32(pos), u32(hash), u32(1)))
	if lru {
		l.conns[h(flow)] = h(u32(vip), u32(pos), u64(1), u64(uint64(bytes)))
	}
}

func bytes2(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// outer4 is the tunnel's outer IPv4 header and Ethernet header around inner.
func (l *lbFrames) outer4(backend string, proto layers.IPProtocol, inner []byte) []byte {
	o := ip4("10.0.0.1", backend, proto, 64)
	o.Flags = layers.IPv4DontFragment
	return serialize(l.t, eth(macGW, macLB, layers.EthernetTypeIPv4), o, gopacket.Payload(inner))
}

// gue is the GUE-style UDP header: source port from the hash, checksum 0.
func (l *lbFrames) gue(hash uint32, inner []byte) []byte {
	return bytes2(be16(0xc000|uint16(hash&0x3fff)), be16(l.guePort), be16(uint16(len(inner)+8)), be16(0), inner)
}

func (l *lbFrames) build() {
	t := l.t
	client := "203.0.113.5"
	vip0 := "192.0.2.10"

	// 1. A TCP SYN to VIP 0: IPIP to the backend the ring gives its hash.
	syn := func(ttl uint8) (*layers.IPv4, *layers.TCP) {
		ip := ip4(client, vip0, layers.IPProtocolTCP, ttl)
		ip.Id, ip.Flags = 1, layers.IPv4DontFragment
		tc := tcp(40000, 80, ip)
		tc.SYN = true
		return ip, tc
	}
	ip, tc := syn(64)
	in1 := serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ip, tc)
	h1 := lbHash(l.seed, client, vip0, 40000, 80, 6, true)
	pos1 := h1 % ringSize % 3
	be1 := fmt.Sprintf("10.1.0.%d", pos1+1)
	ip, tc = syn(l.ttl(64))
	l.add(frame{name: "a TCP SYN to the IPv4 VIP goes in IPIP to the backend its hash picks", in: in1, ret: 3,
		out: l.outer4(be1, layers.IPProtocolIPv4, serialize(t, ip, tc))}, stIPIP, stNewConn)
	flow1 := flowKey(client, vip0, 40000, 80, 6)
	l.newConn(flow1, 0, pos1, h1, len(in1), true)

	// 2. The next packet of that connection: found in the connection table.
	ip, tc = syn(64)
	tc.SYN, tc.ACK = false, true
	in2 := serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ip, tc, gopacket.Payload("hello, vip"))
	ip, _ = syn(l.ttl(64))
	l.add(frame{name: "the next packet of the connection sticks to its backend through the connection table", in: in2, ret: 3,
		out: l.outer4(be1, layers.IPProtocolIPv4, serialize(t, ip, tc, gopacket.Payload("hello, vip")))}, stIPIP, stLRUHit)
	l.conns[h(flow1)] = h(u32(0), u32(pos1), u64(2), u64(uint64(len(in1)+len(in2))))
	l.bePkts[0*maxBE+pos1] += 2
	l.vipStats[0][0] += 2
	l.vipStats[0][1] += uint64(len(in1) + len(in2))

	// 3. UDP to the any-port VIP 1: GUE, hashed without ports.
	udpTo := func(src, dst string, sport, dport uint16, ttl uint8, payload []byte) []byte {
		ip := ip4(src, dst, layers.IPProtocolUDP, ttl)
		ip.Id = 7
		return serialize(t, ip, udp(sport, dport, ip), gopacket.Payload(payload))
	}
	dns := []byte("a dns query, say")
	in3 := append(serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4)), udpTo("203.0.113.7", "192.0.2.20", 5353, 9999, 50, dns)...)
	h3 := lbHash(l.seed, "203.0.113.7", "192.0.2.20", 0, 0, 17, false)
	l.add(frame{name: "UDP to the any-port VIP goes out GUE-encapsulated with a source port from the hash", in: in3, ret: 3,
		out: l.outer4("10.2.0.1", layers.IPProtocolUDP, l.gue(h3, udpTo("203.0.113.7", "192.0.2.20", 5353, 9999, l.ttl(50), dns)))}, stGUE, stNewConn)
	l.newConn(flowKey("203.0.113.7", "192.0.2.20", 5353, 9999, 17), 1, 0, h3, len(in3), true)
	l.bePkts[1*maxBE+0]++
	l.vipStats[1] = [2]uint64{1, uint64(len(in3))}

	// 4 and 5. IPv6 UDP to the QUIC VIP 2: a short header names the backend by server ID, a long
	// header goes by the ring; IP6IP6 with the hash as flow label.
	vip2 := "2001:db8::10"
	udp6 := func(src string, sport uint16, hop uint8, payload []byte) []byte {
		ip := ip6(src, vip2, layers.IPProtocolUDP, hop)
		return serialize(t, ip, udp(sport, 443, ip), gopacket.Payload(payload))
	}
	outer6 := func(backend string, hash uint32, inner []byte) []byte {
		o := ip6("fd00::1", backend, layers.IPProtocolIPv6, 64)
		o.FlowLabel = hash & 0xfffff
		return serialize(t, eth(macGW, macLB, layers.EthernetTypeIPv6), o, gopacket.Payload(inner))
	}
	short := []byte{0x41, 0x01, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0x33}
	in4 := append(serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv6)), udp6("2001:db8:1::5", 50000, 64, short)...)
	h4 := lbHash(l.seed, "2001:db8:1::5", vip2, 50000, 443, 17, true)
	l.add(frame{name: "a QUIC short-header packet to the IPv6 VIP goes in IP6IP6 to the backend its server ID names", in: in4, ret: 3,
		out: outer6("fd00:b::2", h4, udp6("2001:db8:1::5", 50000, l.ttl(64), short))}, stIPIP, stQUICRouted)
	l.bePkts[2*maxBE+1]++
	long := []byte{0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8}
	in5 := append(serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv6)), udp6("2001:db8:1::6", 50001, 64, long)...)
	h5 := lbHash(l.seed, "2001:db8:1::6", vip2, 50001, 443, 17, true)
	pos5 := h5 % ringSize % 2
	l.add(frame{name: "a QUIC long-header packet to the IPv6 VIP is placed by the ring", in: in5, ret: 3,
		out: outer6(fmt.Sprintf("fd00:b::%d", pos5+1), h5, udp6("2001:db8:1::6", 50001, l.ttl(64), long))}, stIPIP, stNewConn)
	l.newConn(flowKey("2001:db8:1::6", vip2, 50001, 443, 17), 2, pos5, h5, len(in5), true)
	l.bePkts[2*maxBE+pos5]++

	// 6 and 7. A filtered source, and an address that is no VIP.
	ipf := ip4("198.51.100.9", vip0, layers.IPProtocolTCP, 64)
	l.add(frame{name: "a source in the filter is dropped untouched", ret: 1,
		in: serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ipf, tcp(1234, 80, ipf))}, stFiltered)
	ipn := ip4(client, "192.0.2.99", layers.IPProtocolTCP, 64)
	l.add(frame{name: "TCP to an address that is no VIP passes untouched", ret: 2,
		in: serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ipn, tcp(40000, 80, ipn))}, stNotVIP)

	// 8. ICMP echo to VIP 0: answered in place.
	echo := func(src, dst string, ttl uint8, typ uint8, srcMAC, dstMAC net.HardwareAddr) []byte {
		ip := ip4(src, dst, layers.IPProtocolICMPv4, ttl)
		ip.Id = 0x99
		return serialize(t, eth(dstMAC, srcMAC, layers.EthernetTypeIPv4), ip,
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: 0x77, Seq: 1}, gopacket.Payload("ping ping ping!!"))
	}
	l.add(frame{name: "an ICMP echo request to the VIP is answered in place", ret: 3,
		in:  echo(client, vip0, 57, layers.ICMPv4TypeEchoRequest, macClient, macLB),
		out: echo(vip0, client, 64, layers.ICMPv4TypeEchoReply, macLB, macClient)}, stICMPReply)

	// 9. IPIP to our decap address: stripped and passed.
	inner9 := ip4("203.0.113.8", "192.0.2.50", layers.IPProtocolTCP, 30)
	innerBytes := serialize(t, inner9, tcp(5555, 22, inner9))
	outer9 := ip4("10.9.9.9", "10.0.0.1", layers.IPProtocolIPv4, 20)
	l.add(frame{name: "an IPIP frame to our decap address is stripped and passed", ret: 2,
		in:  serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), outer9, gopacket.Payload(innerBytes)),
		out: serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), gopacket.Payload(innerBytes))}, stDecap)

	// 10. A VLAN-tagged TCP packet to VIP 0: the tunnel drops the tag.
	vlanIP := func(ttl uint8) *layers.IPv4 {
		ip := ip4("203.0.113.9", vip0, layers.IPProtocolTCP, ttl)
		ip.Flags = layers.IPv4DontFragment
		return ip
	}
	ip10 := vlanIP(64)
	in10 := serialize(t, eth(macLB, macClient, layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, ip10, tcp(41000, 80, ip10))
	h10 := lbHash(l.seed, "203.0.113.9", vip0, 41000, 80, 6, true)
	pos10 := h10 % ringSize % 3
	ip10 = vlanIP(l.ttl(64))
	l.add(frame{name: "a VLAN-tagged packet to the VIP loses its tag in the tunnel", in: in10, ret: 3,
		out: l.outer4(fmt.Sprintf("10.1.0.%d", pos10+1), layers.IPProtocolIPv4, serialize(t, ip10, tcp(41000, 80, ip10)))}, stIPIP, stNewConn, stVLAN)
	l.newConn(flowKey("203.0.113.9", vip0, 41000, 80, 6), 0, pos10, h10, len(in10), true)
	l.bePkts[0*maxBE+pos10]++
	l.vipStats[0][0]++
	l.vipStats[0][1] += uint64(len(in10))

	// 11. A full-size IPv4 packet with DF: 1514 + 20 bytes of tunnel exceed max_frame, so the
	// client hears "fragmentation needed" with an MTU of 1514 - 14 - 20, quoting the packet.
	big := func(ttl uint8) (*layers.IPv4, *layers.TCP) {
		ip := ip4("203.0.113.10", vip0, layers.IPProtocolTCP, ttl)
		ip.Id, ip.Flags = 0x4242, layers.IPv4DontFragment
		return ip, tcp(42000, 80, ip)
	}
	ip11, tc11 := big(64)
	in11 := serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ip11, tc11, gopacket.Payload(make([]byte, 1460)))
	if len(in11) != 1514 {
		t.Fatalf("frame 11 is %d bytes", len(in11))
	}
	ip11, tc11 = big(l.ttl(64))
	quote := serialize(t, ip11, tc11, gopacket.Payload(make([]byte, 1460)))[:28]
	icmpIP := ip4(vip0, "203.0.113.10", layers.IPProtocolICMPv4, 64)
	icmpIP.TOS = 0xc0
	h11 := lbHash(l.seed, "203.0.113.10", vip0, 42000, 80, 6, true)
	l.add(frame{name: "a full-size IPv4 packet with DF that cannot take the tunnel gets fragmentation-needed back", in: in11, ret: 3,
		out: serialize(t, eth(macClient, macLB, layers.EthernetTypeIPv4), icmpIP,
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1514 - 14 - 20}, gopacket.Payload(quote))}, stNewConn, stTooBig)
	l.newConn(flowKey("203.0.113.10", vip0, 42000, 80, 6), 0, h11%ringSize%3, h11, len(in11), true)
	l.vipStats[0][0]++
	l.vipStats[0][1] += uint64(len(in11))

	// 12. The same for IPv6: "packet too big" with an MTU of 1514 - 14 - 40.
	in12 := append(serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv6)), udp6("2001:db8:1::7", 50002, 64, append([]byte{0xc0}, make([]byte, 1451)...))...)
	if len(in12) != 1514 {
		t.Fatalf("frame 12 is %d bytes", len(in12))
	}
	quote6 := udp6("2001:db8:1::7", 50002, l.ttl(64), append([]byte{0xc0}, make([]byte, 1451)...))[:48]
	icmp6IP := ip6(vip2, "2001:db8:1::7", layers.IPProtocolICMPv6, 64)
	icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypePacketTooBig, 0)}
	icmp6.SetNetworkLayerForChecksum(icmp6IP)
	h12 := lbHash(l.seed, "2001:db8:1::7", vip2, 50002, 443, 17, true)
	l.add(frame{name: "a full-size IPv6 packet that cannot take the tunnel gets packet-too-big back", in: in12, ret: 3,
		out: serialize(t, eth(macClient, macLB, layers.EthernetTypeIPv6), icmp6IP, icmp6,
			gopacket.Payload(bytes2(binary.BigEndian.AppendUint32(nil, 1514-14-40), quote6)))}, stNewConn, stTooBig)
	l.newConn(flowKey("2001:db8:1::7", vip2, 50002, 443, 17), 2, h12%ringSize%2, h12, len(in12), true)
	l.vipStats[2][0] += 3
	l.vipStats[2][1] += uint64(len(in4) + len(in5) + len(in12))

	// 13. A packet whose TTL runs out here.
	if l.decTTL {
		ip, tc = syn(1)
		l.add(frame{name: "a packet whose TTL would run out is dropped untouched", ret: 1,
			in: serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ip, tc)}, stTTLExceeded)
	}

	// 14. UDP to VIP 3, whose only backend is drained.
	in14 := append(serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4)), udpTo(client, "192.0.2.30", 7000, 53, 64, dns)...)
	h14 := lbHash(l.seed, client, "192.0.2.30", 7000, 53, 17, true)
	l.add(frame{name: "UDP to a VIP whose only backend is drained is dropped", in: in14, ret: 1,
		out: append(serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4)), udpTo(client, "192.0.2.30", 7000, 53, l.ttl(64), dns)...)}, stNoBackend, stNewConn)
	l.newConn(flowKey(client, "192.0.2.30", 7000, 53, 17), 3, 0, h14, len(in14), false)
	l.vipStats[3] = [2]uint64{1, uint64(len(in14))}

	// 15 and 16. ARP and an IPv4 fragment pass untouched.
	l.add(frame{name: "an ARP frame passes untouched", in: rawFrame(layers.EthernetBroadcast, macClient, 0x0806, 60), ret: 2})
	ipfr := ip4(client, vip0, layers.IPProtocolUDP, 64)
	ipfr.Flags, ipfr.Id = layers.IPv4MoreFragments, 3
	l.add(frame{name: "an IPv4 fragment passes untouched", ret: 2,
		in: serialize(t, eth(macLB, macClient, layers.EthernetTypeIPv4), ipfr, udp(1, 2, ipfr), gopacket.Payload("part one"))}, stFragment)
}

// check compares the simulator's maps and events with what the frames should have left.
func (l *lbFrames) check(t *testing.T, obj *sim.Object) {
	for s := range stMax {
		wantValue(t, obj, "stats", u32(uint32(s)), u64(l.stats[s]))
	}
	for v := range 4 {
		wantValue(t, obj, "vip_stats", u32(uint32(v)), bytes2(u64(l.vipStats[v][0]), u64(l.vipStats[v][1])))
	}
	for i := range uint32(4 * maxBE) {
		wantValue(t, obj, "backend_packets", u32(i), u64(l.bePkts[i]))
	}
	wantEntries(t, obj, "conn_table", l.conns)
	var got [][]byte
	obj.Maps["events"].RingBuf().Consume(func(sample []byte) { got = append(got, slices.Clone(sample)) })
	if len(got) != len(l.events) {
		t.Errorf("%d events, want %d", len(got), len(l.events))
	}
	for i := range min(len(got), len(l.events)) {
		if !bytes.Equal(got[i], l.events[i]) {
			t.Errorf("event %d is %x, want %x", i, got[i], l.events[i])
		}
	}
}

func TestALargeLoadBalancer(t *testing.T) {
	t.Run("it is large and uses maps of every common kind", func(t *testing.T) {
		obj := load(t, "lb", sim.LoadOptions{})
		p, err := obj.FindProgram("")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(p.Insns); n < 2500 {
			t.Errorf("xdp_lb has %d instructions, want at least 2500", n)
		}
		funcs := 0
		for _, ins := range p.Insns {
			if ins.Symbol() != "" {
				funcs++
			}
		}
		if funcs < 8 {
			t.Errorf("xdp_lb links %d functions, want its entry and at least seven BPF functions", funcs)
		}
		types := map[ebpf.MapType]int{}
		for _, m := range obj.Maps {
			types[m.Type()]++
		}
		if len(obj.Maps) < 12 {
			t.Errorf("%d maps, want at least 12", len(obj.Maps))
		}
		for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.Array, ebpf.ArrayOfMaps, ebpf.LRUHash, ebpf.PerCPUArray, ebpf.LPMTrie, ebpf.RingBuf} {
			if types[typ] == 0 {
				t.Errorf("no map of type %v", typ)
			}
		}
	})
	l := newLBFrames(t, 0x5eed, true, 6080)
	l.build()
	t.Run("frames are balanced, answered, decapsulated or passed", scenario{
		object: "lb", preload: lbSetup(), frames: l.frames, maps: l.check,
	}.run)
	k := newLBFrames(t, 1, false, 7777)
	k.build()
	t.Run("knobs set before load change the hash, the GUE port and the TTL handling", scenario{
		object: "lb", preload: lbSetup(), frames: k.frames, maps: k.check,
		opts: sim.LoadOptions{Set: map[string]any{"hash_seed": 1, "gue_port": 7777, "decrement_ttl": false}},
	}.run)
}
