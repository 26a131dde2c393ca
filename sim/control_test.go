package sim_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	simmaps "github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/sim/simtest"
	"github.com/xdpsim/xdpsim/vm"
)

// controlRun runs corpus program name (control_steer or control_v1) over mixed.pcap on an mlx5
// with four RX queues and returns the object, the device and the records the program ran.
func controlRun(t *testing.T, name string, ifindex uint32) (*sim.Object, *device.Netdev, []simtest.Record) {
	t.Helper()
	x := simtest.XDP(t, simtest.Program(t, name))
	prof, err := device.LookupProfile("mlx5")
	if err != nil {
		t.Fatal(err)
	}
	d := device.NewNetdev(prof)
	d.Name, d.Ifindex, d.Queues = "eth0", 2, 4
	x.SetDevice(d)
	var ran []simtest.Record
	for _, r := range simtest.Records(t, corpus.TracePath("mixed.pcap"), -1) {
		out := x.Run(r.Data, nil, sim.Conditions{IngressIfindex: ifindex, TimeNs: uint64(r.Time.UnixNano())})
		if out.Fault != nil {
			t.Fatalf("fault: %s", out.Err)
		}
		if out.Err == "" {
			ran = append(ran, r)
		}
	}
	return x.Program().Object(), d, ran
}

func u64At(t *testing.T, o *sim.Object, mapName string, key uint32) int64 {
	t.Helper()
	v, err := o.Maps[mapName].Lookup(binary.LittleEndian.AppendUint32(nil, key), 0)
	if err != nil {
		t.Fatalf("%s[%d]: %v", mapName, key, err)
	}
	return int64(binary.LittleEndian.Uint64(v))
}

// queueOf is the RX queue of a frame on an mlx5 with table (256 entries) and key.
func queueOf(t *testing.T, data []byte, key []byte, table func(entry int) int) int {
	prof, _ := device.LookupProfile("mlx5")
	h, _ := device.ComputeHints(prof, data, 0, key)
	return table(int(h.Hash & 255))
}

func TestAProgramDrainsAnRXQueueThroughTheControlMap(t *testing.T) {
	o, d, ran := controlRun(t, "control_steer", 2)
	const drainAfter, drained = 1000, 1
	want := make([]int64, 4)
	for i, r := range ran {
		q := queueOf(t, r.Data, nil, func(e int) int {
			q := e % 4
			if i >= drainAfter && q == drained { // the table changed during frame drainAfter
				return 0
			}
			return q
		})
		want[q]++
	}
	for q := range 4 {
		if got := u64At(t, o, "queue_packets", uint32(q)); got != want[q] {
			t.Errorf("queue %d received %d frames, want %d", q, got, want[q])
		}
	}
	if want[drained] == 0 {
		t.Fatal("no frame reached the drained queue before the drain: the trace tests nothing")
	}
	results := map[string]struct {
		key  uint32
		want int64
	}{
		"frames seen":                            {0, int64(len(ran))},
		"lookups without a device":               {1, 0},
		"the MTU looked up":                      {2, 1500},
		"the RX queues looked up":                {3, 4},
		"xdp_features with the program attached": {4, 0x6f},
		"xdp_rx_metadata_features":               {5, 7},
		"the drain's update":                     {6, 0},
		"the MTU update (user space's to make)":  {7, -1}, // -EPERM
		"table entries moved":                    {8, 64},
	}
	for what, r := range results {
		if got := u64At(t, o, "results", r.key); got != r.want {
			t.Errorf("%s: %d, want %d", what, got, r.want)
		}
	}
	if d.MTU() != 1500 {
		t.Errorf("the refused MTU change went through: %d", d.MTU())
	}
	for e, q := range d.Table() {
		if want := e % 4; q == drained || (want != drained && int(q) != want) {
			t.Fatalf("table entry %d is %d", e, q)
		}
	}
}

func TestAClientOfTheOlderLayoutRekeysRSS(t *testing.T) {
	p := simtest.Program(t, "control_v1")
	spec, err := ebpf.LoadCollectionSpec(p.Object("v4"))
	if err != nil {
		t.Fatal(err)
	}
	if v1, _ := device.LayoutVersion(1); spec.Maps["devices"].ValueSize != uint32(v1.Size) || v1.Size >= device.Latest().Size {
		t.Fatalf("the program's value is %d bytes; layout 1 is %d, the kernel's %d", spec.Maps["devices"].ValueSize, v1.Size, device.Latest().Size)
	}
	o, d, ran := controlRun(t, "control_v1", 2)
	newKey := []byte{
		0x3c, 0x1a, 0x94, 0x27, 0x5e, 0xd3, 0x0b, 0x81, 0x6f, 0xa2, 0x49, 0xc7, 0x12, 0xe8, 0x75, 0x3d,
		0x9b, 0x04, 0xce, 0x66, 0x2f, 0xb1, 0x58, 0x0d, 0xe3, 0x97, 0x4a, 0x1c, 0x86, 0x7e, 0x30, 0xd5,
		0x61, 0xac, 0x0f, 0x92, 0x3b, 0xf4, 0x25, 0x8e,
	}
	const rekeyAfter = 500
	want := make([]int64, 4)
	for i, r := range ran {
		var key []byte
		if i >= rekeyAfter {
			key = newKey
		}
		want[queueOf(t, r.Data, key, func(e int) int { return e % 4 })]++
	}
	for q := range 4 {
		if got := u64At(t, o, "queue_packets", uint32(q)); got != want[q] {
			t.Errorf("queue %d received %d frames, want %d", q, got, want[q])
		}
	}
	if got := u64At(t, o, "results", 3); got != 0 {
		t.Errorf("the rekey returned %d", got)
	}
	if got := u64At(t, o, "results", 1); got != 1500 {
		t.Errorf("MTU %d", got)
	}
	if got := u64At(t, o, "results", 2); got != 40 {
		t.Errorf("key size %d", got)
	}
	if string(d.Key()) != string(newKey) {
		t.Errorf("the device's key is %x", d.Key())
	}
}

func TestALookupOfNoDeviceIsNull(t *testing.T) {
	o, _, ran := controlRun(t, "control_steer", 9)
	if got := u64At(t, o, "results", 1); got != int64(len(ran)) {
		t.Errorf("%d lookups found no device, want all %d", got, len(ran))
	}
}

// controlObject loads an object of one control map (built in Go) and one XDP program.
func controlObject(t *testing.T, ms *ebpf.MapSpec, features kfuncs.Features, insns ...asm.Instruction) (*sim.Object, error) {
	t.Helper()
	return controlObjectOpts(t, ms, sim.LoadOptions{Features: features}, insns...)
}

func controlObjectOpts(t *testing.T, ms *ebpf.MapSpec, opts sim.LoadOptions, insns ...asm.Instruction) (*sim.Object, error) {
	t.Helper()
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{"devices": ms},
		Programs: map[string]*ebpf.ProgramSpec{"p": {Name: "p", Type: ebpf.XDP, License: "GPL", Instructions: insns}}}
	return sim.LoadSpec("control", spec, opts)
}

func controlMap(valueSize uint32) *ebpf.MapSpec {
	return &ebpf.MapSpec{Name: "devices", Type: simmaps.Control, KeySize: 4, ValueSize: valueSize, MaxEntries: 1, MapExtra: simmaps.ControlXDPAttr}
}

func TestControlMapsAreCheckedWhenCreated(t *testing.T) {
	on := kfuncs.Features{ControlMap: true}
	full := uint32(device.Latest().Size)
	wrong := &btf.Struct{Name: device.StructName, Size: 8, Members: []btf.Member{{Name: "mtu", Type: &btf.Int{Name: "u32", Size: 4}}}}
	ret := []asm.Instruction{asm.Mov.Imm(asm.R0, 2), asm.Return()}
	cases := []struct {
		name     string
		ms       *ebpf.MapSpec
		features kfuncs.Features
		err      string
	}{
		{"the newest layout's size loads", controlMap(full), on, ""},
		{"the first layout's size loads", controlMap(1136), on, ""},
		{"a size that ends on a member loads", controlMap(12), on, ""},
		{"a size larger than the kernel's layout loads: a newer client", controlMap(full + 64), on, ""},
		{"without the feature it is refused, naming the switch", controlMap(full), kfuncs.Features{},
			"map devices: BPF_MAP_TYPE_CONTROL belongs to a proposal that never merged into Linux; enable it with --feature control-map"},
		{"a size inside a member is EINVAL", controlMap(10), on, "value size 10 does not end on a member of struct if_xdp_attributes (1192 bytes)"},
		{"a key that is not an ifindex is EINVAL", func() *ebpf.MapSpec { m := controlMap(full); m.KeySize = 8; return m }(), on, "the 4-byte ifindex, not 8 bytes"},
		{"another ctrl_type is EINVAL", func() *ebpf.MapSpec { m := controlMap(full); m.MapExtra = 2; return m }(), on, "ctrl_type (map_extra) 2 is not XDP_ATTR (1)"},
		{"a value type that disagrees with the kernel's is EINVAL", func() *ebpf.MapSpec { m := controlMap(8); m.Value = wrong; return m }(), on,
			"member mtu is 4 bytes at offset 0; the kernel's is 4 bytes at 8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := controlObject(t, c.ms, c.features, ret...)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("error %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want %q", err, c.err)
			case c.err != "" && strings.Contains(c.err, "EINVAL") && !errors.Is(err, errno.EINVAL):
				t.Errorf("error %v is not EINVAL", err)
			}
		})
	}
}

// The lookup gives a read-only snapshot: the verifier refuses a program that writes through the
// pointer, as the kernel refuses writes into a BPF_F_RDONLY_PROG map's value; run unverified, the
// store faults on every engine, and the device is unchanged.
func TestControlMapValuesAreReadOnlyForPrograms(t *testing.T) {
	insns := []asm.Instruction{
		asm.StoreImm(asm.R10, -4, 1, asm.Word), // key: ifindex 1
		asm.LoadMapPtr(asm.R1, 0).WithReference("devices"),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreImm(asm.R0, 8, 9000, asm.Word), // attrs->mtu = 9000
		asm.Mov.Imm(asm.R0, 2).WithSymbol("out"),
		asm.Return(),
	}
	t.Run("the verifier refuses a store through the lookup", func(t *testing.T) {
		o, err := controlObject(t, controlMap(uint32(device.Latest().Size)), kfuncs.Features{ControlMap: true}, insns...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.FindProgram("p")
		if err == nil || !strings.Contains(err.Error(), "write into map forbidden, value_size=1192 off=8 size=4") {
			t.Errorf("error %v", err)
		}
	})
	for _, e := range vm.EngineNames() {
		t.Run("unverified, a store through the lookup faults on "+e, func(t *testing.T) {
			o, err := controlObjectOpts(t, controlMap(uint32(device.Latest().Size)), sim.LoadOptions{Features: kfuncs.Features{ControlMap: true}, NoVerify: true}, insns...)
			if err != nil {
				t.Fatal(err)
			}
			p, err := o.FindProgram("p")
			if err != nil {
				t.Fatal(err)
			}
			x, err := sim.NewXDP(p)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := vm.EngineByName(e)
			if err != nil {
				t.Fatal(err)
			}
			x.Machine().SetEngine(eng)
			out := x.Run(make([]byte, 64), nil, sim.Conditions{IngressIfindex: 1})
			var f *vm.Fault
			if !errors.As(out.Fault, &f) || !strings.Contains(out.Err, "read-only") {
				t.Errorf("outcome %+v", out)
			}
			if lo := o.Devices().ByIndex(1); lo == nil || lo.MTU() != 65536 {
				t.Error("lo's MTU changed")
			}
		})
	}
}

// BenchmarkControlMapPacketsPerSecond runs control_steer (a control-map lookup per packet, 1192
// bytes encoded) and, to compare, eth_stats on an mlx5 with four RX queues over the mixed trace.
func BenchmarkControlMapPacketsPerSecond(b *testing.B) {
	pkts := readPcap(b, "../corpus/traces/mixed.pcap")
	for _, name := range []string{"control_steer", "eth_stats"} {
		b.Run(name, func(b *testing.B) {
			x := simtest.XDP(b, simtest.Program(b, name))
			prof, err := device.LookupProfile("mlx5")
			if err != nil {
				b.Fatal(err)
			}
			d := device.NewNetdev(prof)
			d.Queues = 4
			x.SetDevice(d)
			cond := sim.Conditions{IngressIfindex: 1}
			for _, p := range pkts { // warm: buffers made, the drain done
				x.Run(p, nil, cond)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				x.Run(pkts[n%len(pkts)], nil, cond)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// Once warm, a run with a control-map lookup per packet on a multi-queue device allocates nothing
// per packet. (A frame whose 802.1Q tag the device strips is copied without it: those are left out.)
func TestControlMapRunsDoNotAllocate(t *testing.T) {
	pkts := readPcap(t, "../corpus/traces/mixed.pcap")
	x := simtest.XDP(t, simtest.Program(t, "control_steer"))
	prof, err := device.LookupProfile("mlx5")
	if err != nil {
		t.Fatal(err)
	}
	d := device.NewNetdev(prof)
	d.Queues = 4
	if err := d.AttachXDP(&device.XDPProgram{}); err != nil {
		t.Fatal(err)
	}
	x.SetDevice(d)
	// Frames without an outer 802.1Q tag: the device strips none, so nothing is copied.
	var plain [][]byte
	for _, p := range pkts {
		if len(p) >= 14 && binary.BigEndian.Uint16(p[12:]) != 0x8100 {
			plain = append(plain, p)
		}
	}
	cond := sim.Conditions{IngressIfindex: 1}
	for _, p := range plain {
		x.Run(p, nil, cond)
	}
	i := 0
	if a := testing.AllocsPerRun(2000, func() {
		x.Run(plain[i%len(plain)], nil, cond)
		i++
	}); a != 0 {
		t.Errorf("%.2f allocations per packet", a)
	}
}
