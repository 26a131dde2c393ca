package device

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Program is a component program as libxdp sees it when it builds a dispatcher.
type Program struct {
	// Name is the program's function name (bpf_program__name).
	Name string
	// Object is the file the program comes from, for messages.
	Object string
	// Insns is the function's size in instructions as libbpf counts it before loading
	// (bpf_program__insn_cnt: the entry function alone, a 64-bit immediate load counting two).
	Insns int
	// Frags says libxdp takes the program as frags-aware. libxdp 1.3.1 asks libbpf for the
	// program's BPF_F_XDP_HAS_FRAGS flag before loading it, and libbpf (1.1, Debian's) adds that
	// flag for SEC("xdp.frags") only when it loads the program: so a program is frags-aware to
	// libxdp only when the application says so (xdp_program__set_xdp_frags_support, an
	// Override), which xdp-loader never does.
	Frags bool
	// Config is the program's effective run configuration: its BTF's, with any override applied.
	Config RunConfig
	// ChangesPacketData names the first helper call that changes packet data (for example
	// "bpf_xdp_adjust_head at instruction 7 (prog.c:31)"), "" when there is none.
	ChangesPacketData string
	// DevBound names the device-bound kfunc the program calls, "" when none.
	DevBound string
	// Loaded says the program is already attached to the interface through the dispatcher being
	// regenerated; Tag, LoadTime and (for names of 15 characters or more) LoadedName then matter.
	Loaded bool
	// Tag is the program's tag as the kernel computes it (the first 8 bytes of a SHA-256 of its
	// instructions, map references zeroed, on Linux 6.18).
	Tag [8]byte
	// LoadTime orders loaded programs by when they were loaded.
	LoadTime uint64
	// LoadedName is the name libxdp finds for a loaded program: the kernel keeps 15 characters
	// of it, and libxdp expands them again only when exactly one function of the program's BTF
	// starts with them. Empty means Name.
	LoadedName string
	// Ref is the caller's reference for the program (its index in the caller's list, say):
	// Build copies it into the slot the program gets.
	Ref int
}

// sortName is the name libxdp compares.
func (p *Program) sortName() string {
	if p.Loaded && p.LoadedName != "" {
		return p.LoadedName
	}
	return p.Name
}

// Override changes a program's run configuration before it is attached, as libxdp's
// xdp_program__set_run_prio and xdp_program__set_chain_call_enabled do. Nil fields leave the
// program's own value.
type Override struct {
	Priority *uint32
	Actions  *Actions
	// Frags is xdp_program__set_xdp_frags_support.
	Frags *bool
}

// ApplyFrags returns whether libxdp takes a program as frags-aware: as the override says, or, by
// default, not (see Program.Frags).
func (o Override) ApplyFrags() bool { return o.Frags != nil && *o.Frags }

// Apply returns c with the override applied.
func (o Override) Apply(c RunConfig) RunConfig {
	if o.Priority != nil {
		c.Priority = *o.Priority
	}
	if o.Actions != nil {
		c.Actions = *o.Actions
	}
	return c
}

// Options select what the dispatcher is built like.
type Options struct {
	// PacketChangingStubs models the stubs of libxdp 1.5.5 and later, which call
	// bpf_xdp_adjust_tail(ctx, 0) so that the kernel (6.13 and later) lets components change
	// packet data. False models libxdp 1.3.1, whose stubs do not, so such components cannot be
	// attached.
	PacketChangingStubs bool
}

// LibXDPOptions are the options that model a libxdp version: "1.3.1" (Debian 12's) or "1.5.5"
// (stubs that change packet data).
func LibXDPOptions(version string) (Options, error) {
	switch version {
	case "1.3.1":
		return Options{}, nil
	case "1.5.5":
		return Options{PacketChangingStubs: true}, nil
	}
	return Options{}, fmt.Errorf("libxdp %q: 1.3.1 or 1.5.5", version)
}

// Slot is one program's place in the dispatcher.
type Slot struct {
	// Index is the slot number: the program replaces the stub prog<Index>.
	Index   int
	Program Program
	// ChainActions is the slot's chain-call bitmap as the dispatcher holds it: the program's
	// actions and bit ContinueRetval.
	ChainActions uint32
	// Target is the function the program replaces: "prog<Index>", or "xdp_dispatcher" when it is
	// the only program.
	Target string
	// Why says what put this slot after the previous one (the tie-break that decided), "" for
	// slot 0.
	Why string
}

// Dispatcher is a dispatcher as libxdp builds it for a set of programs.
type Dispatcher struct {
	Slots []Slot
	// Frags says the dispatcher is loaded with BPF_F_XDP_HAS_FRAGS: every component is
	// frags-aware.
	Frags bool
	// NotFrags names the components that are not frags-aware.
	NotFrags []string
	// Config is the configuration libxdp writes into the dispatcher's .rodata.
	Config Config
	opts   Options
	clock  uint64 // the last load time given out
}

// Config is struct xdp_dispatcher_config, the dispatcher's .rodata.
type Config struct {
	Magic            uint8
	Version          uint8
	NumProgsEnabled  uint8
	IsXDPFrags       uint8
	ChainCallActions [MaxPrograms]uint32
	RunPrios         [MaxPrograms]uint32
	ProgramFlags     [MaxPrograms]uint32
}

// ConfigSize is the size of struct xdp_dispatcher_config in bytes.
const ConfigSize = 4 + 3*4*MaxPrograms

// flagHasFrags is BPF_F_XDP_HAS_FRAGS, the program flag program_flags records.
const flagHasFrags = 1 << 5

// MarshalBinary encodes the configuration as the dispatcher's .rodata holds it (little-endian,
// the layout of x86_64, the only architecture libxdp's dispatcher works on).
func (c Config) MarshalBinary() ([]byte, error) {
	b := make([]byte, ConfigSize)
	b[0], b[1], b[2], b[3] = c.Magic, c.Version, c.NumProgsEnabled, c.IsXDPFrags
	for i := range MaxPrograms {
		binary.LittleEndian.PutUint32(b[4+4*i:], c.ChainCallActions[i])
		binary.LittleEndian.PutUint32(b[4+4*MaxPrograms+4*i:], c.RunPrios[i])
		binary.LittleEndian.PutUint32(b[4+8*MaxPrograms+4*i:], c.ProgramFlags[i])
	}
	return b, nil
}

// UnmarshalBinary decodes a configuration from the dispatcher's .rodata.
func (c *Config) UnmarshalBinary(b []byte) error {
	if len(b) != ConfigSize {
		return fmt.Errorf("dispatcher configuration of %d bytes, want %d", len(b), ConfigSize)
	}
	c.Magic, c.Version, c.NumProgsEnabled, c.IsXDPFrags = b[0], b[1], b[2], b[3]
	for i := range MaxPrograms {
		c.ChainCallActions[i] = binary.LittleEndian.Uint32(b[4+4*i:])
		c.RunPrios[i] = binary.LittleEndian.Uint32(b[4+4*MaxPrograms+4*i:])
		c.ProgramFlags[i] = binary.LittleEndian.Uint32(b[4+8*MaxPrograms+4*i:])
	}
	return nil
}

// ErrTooMany is matched by the error of a dispatcher with more than MaxPrograms programs.
var ErrTooMany = errors.New("argument list too long (E2BIG)")

// ErrRefused is matched by the error of a component the kernel or libxdp refuses.
var ErrRefused = errors.New("cannot be attached through libxdp's dispatcher")

// Build plans the dispatcher libxdp builds to attach progs to an interface that has none.
func Build(progs []Program, opts Options) (*Dispatcher, error) {
	if len(progs) == 0 {
		return nil, errors.New("no programs to attach")
	}
	return build(slices.Clone(progs), opts, 0)
}

func build(progs []Program, opts Options, clock uint64) (*Dispatcher, error) {
	if len(progs) > MaxPrograms {
		return nil, fmt.Errorf("%d programs on one interface: libxdp's dispatcher has %d slots: %w", len(progs), MaxPrograms, ErrTooMany)
	}
	// generate sorts and loads the dispatcher before it links any component: the limit above
	// fails first, then the components fail in slot order.
	slices.SortStableFunc(progs, func(a, b Program) int { c, _ := Compare(&a, &b); return c })
	d := &Dispatcher{Frags: true, opts: opts, clock: clock}
	d.Config = Config{Magic: Magic, Version: Version, NumProgsEnabled: uint8(len(progs)), IsXDPFrags: 1}
	for i, p := range progs {
		if err := refusal(&p, opts); err != nil {
			return nil, err
		}
		if !p.Loaded {
			// libxdp loads the new programs as it links them, in slot order.
			d.clock++
			p.LoadTime = d.clock
		}
		s := Slot{Index: i, Program: p, ChainActions: uint32(p.Config.Actions) | 1<<ContinueRetval, Target: fmt.Sprintf("prog%d", i)}
		if len(progs) == 1 {
			s.Target = "xdp_dispatcher"
		}
		if i > 0 {
			_, s.Why = Compare(&progs[i-1], &progs[i])
		}
		d.Config.ChainCallActions[i] = s.ChainActions
		d.Config.RunPrios[i] = p.Config.Priority
		if p.Frags {
			d.Config.ProgramFlags[i] = flagHasFrags
		} else {
			d.Frags = false
			d.Config.IsXDPFrags = 0
			d.NotFrags = append(d.NotFrags, p.Name)
		}
		d.Slots = append(d.Slots, s)
	}
	return d, nil
}

// refusal says why the kernel would not load p as an extension program in place of a stub.
func refusal(p *Program, opts Options) error {
	switch {
	case p.DevBound != "":
		return fmt.Errorf("%s: %s calls %s, and the kernel refuses device-bound kfuncs in an extension program (\"metadata kfuncs require device-bound program\", EINVAL): %w",
			p.Object, p.Name, p.DevBound, ErrRefused)
	case p.ChangesPacketData != "" && !opts.PacketChangingStubs:
		return fmt.Errorf("%s: %s calls %s; since Linux 6.13 the kernel refuses an extension program that changes packet data in place of a function that does not (\"Extension program changes packet data, while original does not\", EINVAL), and libxdp 1.3.1's stubs do not (libxdp 1.5.5 and later add a no-op bpf_xdp_adjust_tail to them): %w",
			p.Object, p.Name, p.ChangesPacketData, ErrRefused)
	}
	return nil
}

// Compare orders two programs as libxdp's cmp_xdp_programs does, and says which rule decided.
func Compare(a, b *Program) (int, string) {
	if a.Config.Priority != b.Config.Priority {
		return cmpU(uint64(a.Config.Priority), uint64(b.Config.Priority)), fmt.Sprintf("priority %d, then %d", a.Config.Priority, b.Config.Priority)
	}
	an, bn := a.sortName(), b.sortName()
	if c := strings.Compare(an, bn); c != 0 {
		return c, fmt.Sprintf("same priority; by name, %s before %s", min(an, bn), max(an, bn))
	}
	if a.Loaded != b.Loaded {
		c := 1
		if a.Loaded {
			c = -1
		}
		return c, "same priority and name; the program already attached first"
	}
	if !a.Loaded && a.Insns != b.Insns {
		return cmpU(uint64(a.Insns), uint64(b.Insns)), fmt.Sprintf("same priority and name; by size, %d instructions before %d", min(a.Insns, b.Insns), max(a.Insns, b.Insns))
	}
	// A program not loaded yet has no tag (zeros) and no load time.
	var ta, tb [8]byte
	var la, lb uint64
	if a.Loaded {
		ta, la = a.Tag, a.LoadTime
	}
	if b.Loaded {
		tb, lb = b.Tag, b.LoadTime
	}
	if c := slices.Compare(ta[:], tb[:]); c != 0 {
		lo, hi := ta, tb
		if c > 0 {
			lo, hi = hi, lo
		}
		return c, fmt.Sprintf("same priority and name; by tag, %x before %x", lo, hi)
	}
	if la != lb {
		return cmpU(la, lb), "same priority, name and tag; by load time"
	}
	return 0, "same priority, name, size and tag; in the order given"
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// Add plans the dispatcher libxdp builds when progs are attached to an interface that has d: the
// programs already there keep the run configuration d recorded for them (not their BTF's) and
// sort as loaded programs; the new ones are inserted where their priorities put them. Every
// program after the first new one moves to another slot of a new dispatcher.
func (d *Dispatcher) Add(progs []Program) (*Dispatcher, error) {
	if len(progs) == 0 {
		return nil, errors.New("no programs to add")
	}
	all := d.loaded()
	return build(append(all, progs...), d.opts, d.clock)
}

// Remove plans the dispatcher that remains when the programs matching drop (given the slot's
// program) are detached. Removing every program leaves no dispatcher (nil).
func (d *Dispatcher) Remove(drop func(Program) bool) (*Dispatcher, error) {
	var keep []Program
	for _, p := range d.loaded() {
		if !drop(p) {
			keep = append(keep, p)
		}
	}
	if len(keep) == len(d.Slots) {
		return nil, errors.New("no such program on the interface")
	}
	if len(keep) == 0 {
		return nil, nil
	}
	return build(keep, d.opts, d.clock)
}

// loaded lists d's programs as libxdp reads them back from the kernel: loaded, with the priority,
// chain-call actions and frags flag of d's configuration.
func (d *Dispatcher) loaded() []Program {
	var out []Program
	for i, s := range d.Slots {
		p := s.Program
		p.Loaded = true
		p.Config = RunConfig{Priority: d.Config.RunPrios[i], Actions: Actions(d.Config.ChainCallActions[i] &^ (1 << ContinueRetval))}
		p.Frags = d.Config.ProgramFlags[i]&flagHasFrags != 0
		out = append(out, p)
	}
	return out
}

// Continues reports whether the dispatcher goes on after slot i's program returned ret, exactly
// as its code decides: it shifts the slot's 32-bit bitmap, zero-extended to 64 bits, right by
// the return value's low 32 bits, which the JIT (and the interpreter) masks to 6 bits, and tests
// bit 0. A single program is not chained at all: Continues is false.
func (d *Dispatcher) Continues(i int, ret uint32) bool {
	if len(d.Slots) < 2 {
		return false
	}
	return (uint64(d.Slots[i].ChainActions)>>(ret&63))&1 != 0
}
