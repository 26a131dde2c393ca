package sim

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// Attachment is a program to attach to an interface through libxdp's dispatcher, with what
// libxdp's API (xdp_program__set_run_prio, xdp_program__set_chain_call_enabled) or xdp-loader's
// --prio and --actions would change of its run configuration.
type Attachment struct {
	Program  *Program
	Override device.Override
}

// SlotRun is what one slot of a dispatcher did for a packet.
type SlotRun struct {
	Slot    int    `json:"slot"`
	Program string `json:"program"`
	Ret     uint32 `json:"ret"`
	// Continued says the dispatcher went on to the next slot (or, after the last, to XDP_PASS).
	Continued bool `json:"continued"`
}

// SlotFault is the fault of a program in a dispatcher's slot: the packet's run ends there.
type SlotFault struct {
	Slot    int
	Program string
	Err     error
}

func (e *SlotFault) Error() string { return fmt.Sprintf("slot %d (%s): %v", e.Slot, e.Program, e.Err) }

func (e *SlotFault) Unwrap() error { return e.Err }

// NewDispatcher attaches programs to one simulated interface as libxdp 1.3.1 does, through its
// dispatcher (see package device for every modelling choice), and returns an XDP that runs them
// over packets as the dispatcher runs them: in slot order, on the same xdp_buff (packet,
// metadata, fragments and redirect target carry over from slot to slot), each program with its
// own object's maps, until a slot returns an action that is not one of its chain-call actions
// (that action is the verdict) or every slot chained on (the verdict is XDP_PASS). One program
// alone replaces the dispatcher's main function: its return value is the verdict.
//
// A program faulting (one the verifier refuses, loaded with NoVerify) ends the packet's run with
// a *SlotFault naming the slot. The objects may be loaded with different options but must
// switch on the same features.
func NewDispatcher(atts []Attachment, opts device.Options) (*XDP, error) {
	progs := make([]device.Program, len(atts))
	for i, a := range atts {
		if a.Program == nil {
			return nil, fmt.Errorf("attachment %d has no program", i)
		}
		dp, err := a.Program.DispatchProgram(a.Override)
		if err != nil {
			return nil, err
		}
		dp.Ref = i
		progs[i] = dp
	}
	plan, err := device.Build(progs, opts)
	if err != nil {
		return nil, err
	}
	return newDispatcherXDP(plan, atts)
}

// Add attaches more programs to the interface of a dispatcher, as libxdp does: it plans a new
// dispatcher with the programs already attached (keeping the run configuration recorded for
// them) and the new ones, and returns an XDP that runs it. The objects, and so their maps, are
// the same; x stays as it was.
func (x *XDP) Add(atts ...Attachment) (*XDP, error) {
	if x.plan == nil {
		return nil, fmt.Errorf("program %s is not attached through a dispatcher", x.prog.Name)
	}
	all := append(append([]Attachment(nil), x.atts...), atts...)
	progs := make([]device.Program, len(atts))
	for i, a := range atts {
		if a.Program == nil {
			return nil, fmt.Errorf("attachment %d has no program", i)
		}
		dp, err := a.Program.DispatchProgram(a.Override)
		if err != nil {
			return nil, err
		}
		dp.Ref = len(x.atts) + i
		progs[i] = dp
	}
	plan, err := x.plan.Add(progs)
	if err != nil {
		return nil, err
	}
	return newDispatcherXDP(plan, all)
}

// Dispatcher is the plan an XDP made by NewDispatcher runs (slots, chain-call actions, frags),
// nil for a single program attached on its own.
func (x *XDP) Dispatcher() *device.Dispatcher { return x.plan }

// Programs lists the programs the XDP runs: one, or a dispatcher's in slot order.
func (x *XDP) Programs() []*Program {
	if x.plan == nil {
		return []*Program{x.prog}
	}
	out := make([]*Program, len(x.slots))
	for i, c := range x.slots {
		out[i] = c.prog
	}
	return out
}

// Machines lists the machines the XDP runs programs on: one per slot for a dispatcher, so that
// budgets and traces can be set on each.
func (x *XDP) Machines() []*vm.Machine {
	var out []*vm.Machine
	for _, rs := range x.runStates() {
		out = append(out, rs.m)
	}
	return out
}

// runStates lists the run states of the XDP's programs: one, or one per slot.
func (x *XDP) runStates() []*runState {
	if x.plan == nil {
		return []*runState{x.rs}
	}
	out := make([]*runState, len(x.slots))
	for i, c := range x.slots {
		out[i] = c.rs
	}
	return out
}

func newDispatcherXDP(plan *device.Dispatcher, atts []Attachment) (*XDP, error) {
	first := atts[plan.Slots[0].Program.Ref].Program
	st := &xdpState{frame: make([]byte, FrameSize), dirtyHi: FrameSize}
	x := &XDP{plan: plan, atts: atts, st: st, runs: make([]SlotRun, 0, len(plan.Slots))}
	for _, s := range plan.Slots {
		p := atts[s.Program.Ref].Program
		if !reflect.DeepEqual(p.obj.opts.Features, first.obj.opts.Features) {
			return nil, fmt.Errorf("%s and %s are loaded with different features: a dispatcher's programs share the packet, so they need the same ones", first.obj.Path, p.obj.Path)
		}
		c, err := newXDP(p, st)
		if err != nil {
			return nil, err
		}
		x.slots = append(x.slots, c)
	}
	c := x.slots[0]
	x.prog, x.rs, x.pkt, x.ctx = c.prog, c.rs, c.pkt, c.ctx
	st.x, st.r = c, c.rs
	return x, nil
}

// dispatch runs the slots as the dispatcher does, recording each in out.Dispatch. Every slot's
// program sees the packet's conditions; they draw from one random generator (the kernel's is per
// CPU, not per program) and their bpf_printk lines add up in order.
func (x *XDP) dispatch(out *Outcome, cond Conditions) (uint64, error) {
	s := x.st
	x.runs = x.runs[:0]
	defer func() { out.Dispatch = x.runs }()
	gen := x.slots[0].rs.rng
	for i, c := range x.slots {
		s.x, s.r = c, c.rs
		if i > 0 {
			c.rs.begin(cond)
		}
		c.rs.rng = gen // every slot draws from the first's per-CPU generators
		s.window()
		r0, err := c.rs.m.Run(c.prog.VM, vm.Address(c.ctx, 0))
		c.rs.releaseSpin()
		out.Executed += c.rs.m.Executed()
		out.Printk = append(out.Printk, c.rs.printed...)
		if err != nil {
			return 0, &SlotFault{Slot: i, Program: c.prog.Name, Err: err}
		}
		// The dispatcher keeps the program's r0 and returns it as the verdict when the chain
		// ends; the kernel reads the low 32 bits of it.
		cont := x.plan.Continues(i, uint32(r0))
		x.runs = append(x.runs, SlotRun{Slot: i, Program: c.prog.Name, Ret: uint32(r0), Continued: cont})
		if x.slotObs != nil {
			x.slotObs.SlotDone(x.Frame(), x.runs[i])
		}
		if !cont {
			return r0, nil
		}
	}
	return uint64(device.Pass), nil
}

// DispatchProgram describes p as libxdp sees it when it attaches it through its dispatcher: its
// run configuration from the object's BTF (with o applied), size, frags support (only when o
// says so, as libxdp 1.3.1 sees it: see device.Program.Frags), tag and what would keep it from
// being attached.
func (p *Program) DispatchProgram(o device.Override) (device.Program, error) {
	cfg, _, err := device.ParseRunConfig(p.obj.Spec.Types, p.Name)
	if err != nil {
		return device.Program{}, &LoadError{Path: p.obj.Path, What: "program " + p.Name, Err: err}
	}
	dp := device.Program{
		Name:   p.Name,
		Object: p.obj.Path,
		Insns:  entrySize(p.Insns),
		Frags:  o.ApplyFrags(),
		Config: o.Apply(cfg),
		Tag:    p.Tag(),
	}
	if len(p.Name) >= 15 {
		dp.LoadedName = p.loadedName()
	}
	for _, k := range p.Kfuncs {
		if strings.HasPrefix(k, "bpf_xdp_metadata_rx_") {
			dp.DevBound = k
			break
		}
	}
	dp.ChangesPacketData = p.changesPacketData()
	return dp, nil
}

// entrySize is the size in instruction slots of a program's entry function alone, before the
// functions it calls (which the loader appends behind it).
func entrySize(insns asm.Instructions) int {
	n := 0
	for i, ins := range insns {
		if i > 0 && ins.Symbol() != "" {
			break
		}
		n += int(ins.Size() / asm.InstructionSize)
	}
	return n
}

// changesPacketData names the first call that makes the kernel consider the program as changing
// packet data (bpf_helper_changes_pkt_data, and tail calls): "" when there is none.
func (p *Program) changesPacketData() string {
	for pc, in := range p.VM.Instructions() {
		if in.Op != vm.OpCall || in.Src() != 0 {
			continue
		}
		switch asm.BuiltinFunc(in.Imm) {
		case asm.FnXdpAdjustHead, asm.FnXdpAdjustMeta, asm.FnXdpAdjustTail, asm.FnTailCall:
			return fmt.Sprintf("%s at instruction %d%s", helperName(in.Imm), pc, lineSuffix(p.Line(pc)))
		}
	}
	return ""
}

// loadedName is the name libxdp finds for the loaded program: the kernel keeps the first 15
// characters, which libxdp expands to the function of the program's BTF (the object's) that has
// exactly that name, or else the only one that starts with them.
func (p *Program) loadedName() string {
	short := p.Name[:15]
	if p.obj.Spec.Types == nil {
		return short
	}
	match, n := "", 0
	for typ, err := range p.obj.Spec.Types.All() {
		if err != nil {
			return short
		}
		fn, ok := typ.(*btf.Func)
		if !ok || !strings.HasPrefix(fn.Name, short) {
			continue
		}
		if fn.Name == short {
			return short
		}
		match, n = fn.Name, n+1
	}
	if n != 1 {
		return short
	}
	return match
}

// Tag is the program's tag as the kernel computes it when the program is loaded (what bpftool
// and xdp-loader status show): the first 8 bytes of the SHA-256 of its instructions as loaded,
// with the map references of 64-bit immediate loads zeroed. (Linux 6.18 hashes with SHA-256,
// measured; kernels before took SHA-1.)
func (p *Program) Tag() [8]byte {
	insns := append([]vm.Instruction(nil), p.VM.Instructions()...)
	mapRef := false
	for i := range insns {
		in := &insns[i]
		switch {
		case !mapRef && in.Op == vm.OpLdImm64 && (in.Src() == vm.PseudoMapFD || in.Src() == vm.PseudoMapValue):
			mapRef = true
			in.Imm = 0
		case mapRef && in.Op == 0 && in.Regs == 0 && in.Off == 0:
			mapRef = false
			in.Imm = 0
		case in.Op == vm.OpCall && in.Src() == vm.PseudoKfuncCall:
			// The kernel sees the kfunc's BTF id in vmlinux where the simulator keeps its own
			// number: the id in the kernel BTF the object is loaded against (LoadOptions.BTF,
			// or the built-in 6.18 one, whose ids are its build's).
			mapRef = false
			if id, ok := p.obj.kfuncBTFID(p.kfuncNames[in.Imm]); ok {
				in.Imm = int32(id)
			}
		default:
			mapRef = false
		}
	}
	sum := sha256.Sum256(vm.Encode(insns))
	var tag [8]byte
	copy(tag[:], sum[:])
	return tag
}

// SlotMapPrefix is what the names of slot i's maps start with in a dispatcher's map dumps
// ("slot0/counters"): each program keeps its own object's maps, and two programs may name theirs
// alike.
func SlotMapPrefix(i int) string { return fmt.Sprintf("slot%d/", i) }

// DumpMaps dumps the maps of the program's object (Object.DumpMaps), or, for a dispatcher, of every
// slot's, each name prefixed by SlotMapPrefix.
func (x *XDP) DumpMaps() (result.Maps, error) {
	if x.plan == nil {
		return x.prog.obj.DumpMaps()
	}
	out := result.Maps{}
	for i, c := range x.slots {
		m, err := c.prog.obj.DumpMaps()
		if err != nil {
			return nil, err
		}
		for n, e := range m {
			out[SlotMapPrefix(i)+n] = e
		}
	}
	return out, nil
}

// MapSpecs gives the spec of every map DumpMaps dumps, by the name it dumps it under (for a
// dispatcher, every slot's maps prefixed by SlotMapPrefix): what their keys and values are.
func (x *XDP) MapSpecs() map[string]*ebpf.MapSpec {
	if x.plan == nil {
		return x.prog.obj.Spec.Maps
	}
	out := map[string]*ebpf.MapSpec{}
	for i, c := range x.slots {
		for n, ms := range c.prog.obj.Spec.Maps {
			out[SlotMapPrefix(i)+n] = ms
		}
	}
	return out
}

// LoadMaps preloads maps from a dump shaped as DumpMaps writes it.
func (x *XDP) LoadMaps(in result.Maps) error {
	if x.plan == nil {
		return x.prog.obj.LoadMaps(in)
	}
	per := make([]result.Maps, len(x.slots))
	for _, n := range sortedKeys(in) {
		i := -1
		for j := range x.slots {
			if strings.HasPrefix(n, SlotMapPrefix(j)) {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("map %q: a dispatcher's maps are named slot<N>/<map> (slots 0..%d)", n, len(x.slots)-1)
		}
		if per[i] == nil {
			per[i] = result.Maps{}
		}
		per[i][strings.TrimPrefix(n, SlotMapPrefix(i))] = in[n]
	}
	for i, m := range per {
		if m == nil {
			continue
		}
		if err := x.slots[i].prog.obj.LoadMaps(m); err != nil {
			return fmt.Errorf("slot %d (%s): %w", i, x.slots[i].prog.Name, err)
		}
	}
	return nil
}
