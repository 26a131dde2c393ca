// Package sim is the simulated kernel: it loads clang-built BPF objects (through cilium/ebpf's ELF
// reader), creates their maps, links and prepares their programs for the vm, and runs XDP programs
// over packets with the kernel's data-path semantics: one program (NewXDP), or several on one
// interface as libxdp's dispatcher runs them (NewDispatcher, planned by package sim/device).
package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim/corebtf"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// LoadOptions change how an object is loaded.
type LoadOptions struct {
	// Set gives const volatile (and other global) variables their values before load, as
	// cilium/ebpf's VariableSpec.Set does: an integer for integer variables, or raw bytes.
	Set map[string]any
	// Resize sets max_entries of maps (needed for maps declared with max_entries 0).
	Resize map[string]uint32
	// CPUs is the number of simulated CPUs (per-CPU maps keep one value each); 0 means 1.
	CPUs int
	// BTF names a vmlinux BTF file to resolve CO-RE relocations against instead of the
	// simulator's own (Linux 6.18) kernel BTF.
	BTF string
	// Types gives a program type to programs in sections that carry none, by function or
	// section name ("xdp").
	Types map[string]ebpf.ProgramType
	// PerfReaders attaches a reader to every slot of every perf event array (slot i on CPU i), so
	// bpf_perf_event_output succeeds and its records can be read; without it the slots are empty
	// and outputs fail with ENOENT, as they do in the kernel when nobody reads.
	PerfReaders bool
	// Features switches on proposals that never merged (kfuncs.FeatureTraits,
	// kfuncs.FeatureExportToSkb, ...): their kfuncs resolve only when on.
	Features kfuncs.Features
	// NoVerify skips the verifier: programs the kernel would refuse may load (and run until
	// they fault or exhaust the instruction budget). The object's Notices say so.
	NoVerify bool
	// VerifierLogLevel is the log level of the verification at load (0, 1 or 2); the log is in
	// Program.Verification.
	VerifierLogLevel int
}

// Object is a loaded ELF object: its maps, created, and its programs, prepared on demand.
type Object struct {
	Path string
	Spec *ebpf.CollectionSpec
	// Maps by ELF name (".data", ".bss", ".rodata" and their variants included).
	Maps map[string]*maps.Map
	// mapOrder lists maps in the order their regions are numbered.
	mapOrder []*maps.Map
	mapIndex map[string]int
	mapIdx   map[*maps.Map]int
	programs map[string]*Program
	opts     LoadOptions
	coreBTF  *btf.Spec
	devices  *device.Set
	// rng holds each CPU's bpf_get_prandom_u32 state (see parallel.go).
	rng []cpuRNG
	objectLock
	// Notices are things the loader skipped or changed, for the user to see.
	Notices []string
}

// Program is one program of an object.
type Program struct {
	Name       string // function name
	Section    string
	Type       ebpf.ProgramType
	AttachType ebpf.AttachType
	// Frags says the program is frags-aware (SEC("xdp.frags")).
	Frags bool
	// DevBound says the program calls device-bound kfuncs (the RX-metadata hints): the kernel
	// loads it only bound to a device, and so does the simulator (to its simulated device).
	DevBound bool
	// Kfuncs names the kfuncs the program calls.
	Kfuncs []string
	// missingKfuncs are the kfuncs it calls that the simulator lacks for its type.
	missingKfuncs []MissingCall
	// kfuncNames names the kfunc each kfunc call immediate stands for.
	kfuncNames map[int32]string
	// tstampTypeAccess: a tc program reads __sk_buff's tstamp_type, so the kernel gives it tstamp
	// as a plain field.
	tstampTypeAccess bool
	// Insns are the instructions as loaded: linked, CO-RE relocated and with map references
	// resolved, before context rewriting.
	Insns asm.Instructions
	VM    *vm.Program
	// Verification is the verifier's result (log, statistics, the xlated program); nil when
	// loaded with NoVerify.
	Verification *verifier.Result
	vprog        *verifier.Program
	// lines holds the source line of every raw instruction slot; lineInfo the BTF line info it
	// comes from (nil where the line is not BTF's).
	lines    []string
	lineInfo []*btf.Line
	obj      *Object
}

// Object returns the object the program belongs to.
func (p *Program) Object() *Object { return p.obj }

// LineInfo is the BTF line info of raw instruction slot pc (file name as clang recorded it, line
// number, line text), nil when the object has none for it.
func (p *Program) LineInfo(pc int) *btf.Line {
	if pc < 0 || pc >= len(p.lineInfo) {
		return nil
	}
	return p.lineInfo[pc]
}

// Line is the source line of raw instruction slot pc, "" when unknown.
func (p *Program) Line(pc int) string {
	if pc < 0 || pc >= len(p.lines) {
		return ""
	}
	return p.lines[pc]
}

// LoadError is a failure to load an object, naming what failed.
type LoadError struct {
	Path string
	What string // "map counters", "program xdp_prog (section xdp)", ...
	Err  error
}

func (e *LoadError) Error() string {
	if e.What == "" {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Path, e.What, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Load reads an ELF object and creates its maps. Programs are prepared when first asked for, so a
// program the simulator cannot run does not stop the others from loading.
func Load(path string, opts LoadOptions) (*Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkELF(f); err != nil {
		return nil, &LoadError{Path: path, Err: err}
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(f)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("the ELF file ends early (truncated?): %w", err)
		}
		return nil, &LoadError{Path: path, Err: fmt.Errorf("not a loadable BPF object: %w", err)}
	}
	return LoadSpec(path, spec, opts)
}

// checkELF says what a file that cannot be an ELF object is instead: a directory, an empty file,
// or a file that does not start with the ELF magic (a pcap given in the object's place, say).
func checkELF(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory, not a BPF object")
	}
	var magic [4]byte
	n, err := f.ReadAt(magic[:], 0)
	switch {
	case n == 0 && st.Mode().IsRegular():
		return errors.New("not a BPF object: the file is empty")
	case n == 4 && string(magic[:]) != "\x7fELF":
		return errors.New("not a BPF object: not an ELF file (build one with clang -target bpf -c)")
	case err != nil && !errors.Is(err, io.EOF):
		return err
	}
	return nil
}

// LoadSpec creates an object from a collection spec already read.
func LoadSpec(path string, spec *ebpf.CollectionSpec, opts LoadOptions) (*Object, error) {
	if opts.CPUs <= 0 {
		opts.CPUs = 1
	}
	o := &Object{Path: path, Spec: spec, Maps: map[string]*maps.Map{}, mapIndex: map[string]int{}, mapIdx: map[*maps.Map]int{},
		programs: map[string]*Program{}, opts: opts, rng: make([]cpuRNG, opts.CPUs)}
	seedCPUs(o.rng, 1)
	if opts.BTF != "" {
		// Read the user's BTF now, so a file that is missing or not BTF is an error even for an
		// object without CO-RE relocations.
		if _, err := o.kernelBTF(); err != nil {
			return nil, &LoadError{Path: path, What: "--btf", Err: err}
		}
	}
	if opts.Features.Traits {
		v := "v2 (April 2025)"
		if opts.Features.TraitsV1 {
			v = "v1 (March 2025)"
		}
		o.Notices = append(o.Notices, "--feature traits: packet traits are an RFC that never merged into Linux; modelled as its "+v+" patches describe")
	}
	if opts.NoVerify {
		o.Notices = append(o.Notices, "--no-verify: programs are not verified; one the kernel would refuse may run, and fault or exhaust the instruction budget")
	}
	if opts.Features.ExportToSkb {
		o.Notices = append(o.Notices, "--feature export-to-skb: bpf_xdp_metadata_export_to_skb is a 2022 RFC that never merged into Linux; modelled after its description")
	}
	if opts.Features.ControlMap {
		o.Notices = append(o.Notices, controlNotice)
	}
	for _, name := range sortedKeys(opts.Set) {
		v, ok := spec.Variables[name]
		if !ok {
			return nil, &LoadError{Path: path, What: "variable " + name, Err: errors.New("no such variable in the object")}
		}
		if err := setVariable(v, opts.Set[name]); err != nil {
			return nil, &LoadError{Path: path, What: "variable " + name, Err: err}
		}
	}
	if err := applyVariables(spec); err != nil {
		return nil, &LoadError{Path: path, Err: err}
	}
	for _, name := range sortedKeys(opts.Resize) {
		ms, ok := spec.Maps[name]
		if !ok {
			return nil, &LoadError{Path: path, What: "map " + name, Err: errors.New("--resize names no map of the object")}
		}
		ms.MaxEntries = opts.Resize[name]
	}
	for _, name := range sortedKeys(spec.Programs) {
		ps := spec.Programs[name]
		if t := o.progType(ps); t != ebpf.XDP && t != ebpf.SchedCLS && t != ebpf.UnspecifiedProgram {
			o.Notices = append(o.Notices, fmt.Sprintf("program %s (section %s) is a %s program: not simulated, skipped", name, ps.SectionName, t))
		}
	}
	// Maps in name order, so region numbers do not depend on Go's map iteration. Inner maps of
	// maps-in-maps are created by the maps package from the outer map's spec.
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		if ms.Pinning == ebpf.PinByName {
			o.Notices = append(o.Notices, fmt.Sprintf("map %s is pinned by name: kept in this run's simulated bpffs", name))
		}
		if ms.MaxEntries == 0 && ms.Type != ebpf.PerfEventArray {
			return nil, &LoadError{Path: path, What: "map " + name, Err: fmt.Errorf("max_entries is 0: give its size with --resize %s=N", name)}
		}
		if ms.Type == maps.Control {
			if err := o.checkControlMap(ms); err != nil {
				return nil, &LoadError{Path: path, What: "map " + name, Err: err}
			}
		}
		m, err := maps.FromMapSpec(ms, opts.CPUs)
		if err != nil {
			return nil, &LoadError{Path: path, What: "map " + name, Err: err}
		}
		if ms.Type == maps.Control {
			m.SetControlBackend(controlBackend{o})
		}
		if ms.Type == ebpf.PerfEventArray && !opts.PerfReaders {
			// No user-space reader has opened a perf event for any slot, as in a plain
			// BPF_PROG_TEST_RUN: outputs fail with ENOENT.
			for i := uint32(0); i < m.MaxEntries(); i++ {
				_ = m.Delete(keyBytes(i, 4))
			}
		}
		o.mapIndex[name] = len(o.mapOrder)
		o.mapIdx[m] = len(o.mapOrder)
		o.mapOrder = append(o.mapOrder, m)
		o.Maps[name] = m
	}
	// Maps-in-maps and prog arrays initialised statically in C name their values.
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		if len(ms.Contents) == 0 {
			continue
		}
		switch ms.Type {
		case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
			for _, kv := range ms.Contents {
				inner, ok := kv.Value.(string)
				if !ok {
					continue
				}
				im := o.Maps[inner]
				if im == nil {
					return nil, &LoadError{Path: path, What: "map " + name, Err: fmt.Errorf("initial value names unknown map %q", inner)}
				}
				if err := o.Maps[name].UpdateObject(keyBytes(kv.Key, ms.KeySize), im, 0); err != nil {
					return nil, &LoadError{Path: path, What: "map " + name, Err: err}
				}
			}
		case ebpf.ProgramArray:
			for _, kv := range ms.Contents {
				pname, ok := kv.Value.(string)
				if !ok {
					continue
				}
				p, err := o.Program(pname)
				if err != nil {
					return nil, &LoadError{Path: path, What: "map " + name, Err: fmt.Errorf("initial value: %w", err)}
				}
				if err := o.Maps[name].UpdateObject(keyBytes(kv.Key, ms.KeySize), p, 0); err != nil {
					return nil, &LoadError{Path: path, What: "map " + name, Err: err}
				}
			}
		}
	}
	return o, nil
}

// setVariable gives a global variable its value before load: a []byte of the variable's size, a
// bool, or any Go integer that fits the variable (written little-endian at its size, as the
// kernel side and the command line's --set expect); other values go through VariableSpec.Set.
func setVariable(v *ebpf.VariableSpec, val any) error {
	size := int(v.Size())
	var u uint64
	switch x := val.(type) {
	case []byte:
		if len(x) != size {
			return fmt.Errorf("%d bytes given for a %d-byte variable", len(x), size)
		}
		return v.Set(x)
	case bool:
		if x {
			u = 1
		}
	case int, int8, int16, int32, int64:
		i := reflect.ValueOf(x).Int()
		if bits := uint(size * 8); size < 8 && (i < -(1<<(bits-1)) || i > (1<<bits)-1) {
			return fmt.Errorf("%d does not fit in the %d-byte variable", i, size)
		}
		u = uint64(i)
	case uint, uint8, uint16, uint32, uint64, uintptr:
		u = reflect.ValueOf(x).Uint()
		if size < 8 && u > (1<<(uint(size)*8))-1 {
			return fmt.Errorf("%d does not fit in the %d-byte variable", u, size)
		}
	default:
		return v.Set(val)
	}
	if size < 1 || size > 8 {
		return fmt.Errorf("an integer cannot set a %d-byte variable; give its bytes", size)
	}
	return v.Set(le.AppendUint64(nil, u)[:size])
}

// applyVariables copies the values of global variables into the contents of their data sections'
// maps. cilium/ebpf keeps a VariableSpec's value apart from its section's MapSpec until it creates
// the map itself, so values set before load would otherwise be lost.
func applyVariables(spec *ebpf.CollectionSpec) error {
	for _, name := range sortedKeys(spec.Variables) {
		v := spec.Variables[name]
		ms := spec.Maps[v.SectionName]
		if ms == nil || len(ms.Contents) != 1 {
			continue
		}
		data, ok := ms.Contents[0].Value.([]byte)
		if !ok {
			continue
		}
		end := uint64(v.Offset) + uint64(len(v.Value))
		if end > uint64(len(data)) {
			return fmt.Errorf("variable %s (offset %d, %d bytes) lies outside its section %s of %d bytes", name, v.Offset, len(v.Value), v.SectionName, len(data))
		}
		if bytes.Equal(data[v.Offset:end], v.Value) {
			continue
		}
		// Leave the section's original bytes alone: Contents may share them with copies of spec.
		data = bytes.Clone(data)
		copy(data[v.Offset:end], v.Value)
		ms.Contents = []ebpf.MapKV{{Key: ms.Contents[0].Key, Value: data}}
	}
	return nil
}

func keyBytes(k any, size uint32) []byte {
	b := make([]byte, size)
	switch v := k.(type) {
	case uint32:
		le.PutUint32(b, v)
	case []byte:
		copy(b, v)
	}
	return b
}

// MapRegion is the vm region number of map i (maps in the order of MapOrder).
func (o *Object) MapRegion(i int) int { return vm.FirstHostRegion + i }

// MapOrder lists the object's maps in region order.
func (o *Object) MapOrder() []*maps.Map { return o.mapOrder }

// ProgramNames lists the object's programs as "function (section)", sorted.
func (o *Object) ProgramNames() []string {
	var out []string
	for _, name := range sortedKeys(o.Spec.Programs) {
		out = append(out, fmt.Sprintf("%s (section %s)", name, o.Spec.Programs[name].SectionName))
	}
	return out
}

// XDPPrograms lists the function names of the XDP programs.
func (o *Object) XDPPrograms() []string { return o.programsOf(ebpf.XDP) }

// TCPrograms lists the function names of the tc (SCHED_CLS) programs.
func (o *Object) TCPrograms() []string { return o.programsOf(ebpf.SchedCLS) }

func (o *Object) programsOf(t ebpf.ProgramType) []string {
	var out []string
	for _, name := range sortedKeys(o.Spec.Programs) {
		if o.progType(o.Spec.Programs[name]) == t {
			out = append(out, name)
		}
	}
	return out
}

func (o *Object) progType(ps *ebpf.ProgramSpec) ebpf.ProgramType {
	if t, ok := o.opts.Types[ps.Name]; ok && ps.Type == ebpf.UnspecifiedProgram {
		return t
	}
	if t, ok := o.opts.Types[ps.SectionName]; ok && ps.Type == ebpf.UnspecifiedProgram {
		return t
	}
	return ps.Type
}

// FindProgram picks a program by function or section name; with name "" it picks the only XDP
// program, or, in an object without XDP programs, the only tc program, or fails listing the
// choices.
func (o *Object) FindProgram(name string) (*Program, error) {
	fn, err := o.ProgramName(name)
	if err != nil {
		return nil, err
	}
	return o.Program(fn)
}

// ProgramName resolves a function or section name as FindProgram does, to the program's
// function name, without preparing it.
func (o *Object) ProgramName(name string) (string, error) {
	if name == "" {
		xdp, tc := o.XDPPrograms(), o.TCPrograms()
		switch {
		case len(xdp) == 1:
			return xdp[0], nil
		case len(xdp) > 1:
			return "", &LoadError{Path: o.Path, Err: fmt.Errorf("%d XDP programs, pick one with --prog: %s", len(xdp), strings.Join(xdp, ", "))}
		case len(tc) == 1:
			return tc[0], nil
		case len(tc) > 1:
			return "", &LoadError{Path: o.Path, Err: fmt.Errorf("%d tc programs, pick one with --prog: %s", len(tc), strings.Join(tc, ", "))}
		}
		return "", &LoadError{Path: o.Path, Err: fmt.Errorf("no XDP or tc program in the object; programs: %s (pick one with --prog and type it with --type xdp or --type tc)", strings.Join(o.ProgramNames(), ", "))}
	}
	if _, ok := o.Spec.Programs[name]; ok {
		return name, nil
	}
	var bySection []string
	for _, fn := range sortedKeys(o.Spec.Programs) {
		if o.Spec.Programs[fn].SectionName == name {
			bySection = append(bySection, fn)
		}
	}
	switch len(bySection) {
	case 1:
		return bySection[0], nil
	case 0:
		return "", &LoadError{Path: o.Path, Err: fmt.Errorf("no program named %q; programs: %s", name, strings.Join(o.ProgramNames(), ", "))}
	}
	return "", &LoadError{Path: o.Path, Err: fmt.Errorf("section %q holds several programs, name one: %s", name, strings.Join(bySection, ", "))}
}

// Program prepares (once) and returns the program with function name name.
func (o *Object) Program(name string) (*Program, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.program(name)
}

// program is Program with the object's lock held.
func (o *Object) program(name string) (*Program, error) {
	if p, ok := o.programs[name]; ok {
		if p == nil {
			return nil, &LoadError{Path: o.Path, What: "program " + name, Err: errors.New("references itself while loading")}
		}
		return p, nil
	}
	ps, ok := o.Spec.Programs[name]
	if !ok {
		return nil, &LoadError{Path: o.Path, Err: fmt.Errorf("no program named %q", name)}
	}
	o.programs[name] = nil
	p, err := o.prepare(ps)
	if err != nil {
		delete(o.programs, name)
		return nil, &LoadError{Path: o.Path, What: fmt.Sprintf("program %s (section %s)", ps.Name, ps.SectionName), Err: err}
	}
	o.programs[name] = p
	return p, nil
}

// ProgramIDs numbers the object's programs from 1 in the order of their function names: the IDs
// map values use to name programs (the bpf_prog.id of devmap and cpumap values given with
// --maps-in).
func (o *Object) ProgramIDs() map[string]uint32 {
	ids := map[string]uint32{}
	for i, name := range sortedKeys(o.Spec.Programs) {
		ids[name] = uint32(i + 1)
	}
	return ids
}

// ProgramByID prepares and returns the program with the given ID (see ProgramIDs).
func (o *Object) ProgramByID(id uint32) (*Program, error) {
	names := sortedKeys(o.Spec.Programs)
	if id == 0 || int(id) > len(names) {
		return nil, fmt.Errorf("no program with ID %d in %s (IDs 1..%d follow the function names)", id, o.Path, len(names))
	}
	return o.Program(names[id-1])
}

// fakeFD stands in for a map file descriptor while cilium/ebpf encodes the instructions: the "fd"
// is the map's index in region order.
type fakeFD int

func (f fakeFD) FD() int { return int(f) }

// link makes the program as loaded: CO-RE applied, map references, helpers and kfuncs resolved,
// source lines; its vprog is what the verifier checks. It returns the raw instructions and the
// kfuncs by call immediate for preparing the machine.
func (o *Object) link(ps *ebpf.ProgramSpec) (*Program, []vm.Instruction, map[int32]vm.Helper, error) {
	typ := o.progType(ps)
	switch typ {
	case ebpf.XDP, ebpf.SchedCLS:
	case ebpf.UnspecifiedProgram:
		return nil, nil, nil, fmt.Errorf("section %q carries no program type: give one with --type xdp or --type tc", ps.SectionName)
	default:
		return nil, nil, nil, fmt.Errorf("program type %s is not simulated (XDP and tc programs are)", typ)
	}
	p := &Program{Name: ps.Name, Section: ps.SectionName, Type: typ, AttachType: ps.AttachType,
		Frags: ps.Flags&(1<<5) != 0 || strings.HasPrefix(ps.SectionName, "xdp.frags") || strings.HasPrefix(ps.SectionName, "xdp/frags"), obj: o}
	insns := make(asm.Instructions, len(ps.Instructions))
	copy(insns, ps.Instructions)
	if err := o.applyCORE(insns); err != nil {
		return nil, nil, nil, err
	}
	insns = splitPoisonedLoads(insns)
	kfns := map[int32]vm.Helper{}
	kfnDesc := map[int32]*kfuncs.Kfunc{}
	poisoned := map[int32]bool{}
	kfnIdx := map[string]int32{}
	// Kfuncs the simulator lacks, by the index of their first call among insns (turned into raw
	// instruction slots below, for the load error that names every missing callee).
	var missingKfuncs []MissingCall
	for i := range insns {
		ins := &insns[i]
		switch {
		case isPoisonedCall(ins):
			// A CO-RE relocation found no match and cilium/ebpf poisoned the instruction, as
			// libbpf does. The kernel accepts the program as long as the instruction cannot be
			// reached (the usual bpf_core_field_exists guard); the simulator has no verifier
			// yet, so reaching it is a fault at run time instead. The call becomes a call of a
			// kfunc of our own that fails, naming the relocation.
			what := "a CO-RE relocation found no match in the kernel BTF"
			if src := ins.Source(); src != nil {
				what = strings.TrimSpace(src.String())
			}
			id := int32(len(kfns))
			poisoned[id] = true
			kfns[id] = func(*vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
				return 0, fmt.Errorf("reached an instruction poisoned by CO-RE (%s): the kernel refuses programs that can reach one", what)
			}
			*ins = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: int64(id)}.WithMetadata(ins.Metadata)
		case ins.IsLoadFromMap():
			ref := ins.Reference()
			idx, ok := o.mapIndex[ref]
			if !ok {
				return nil, nil, nil, fmt.Errorf("instruction %d references %q, which is not a map of this object (.kconfig and ksyms are not simulated)", i, ref)
			}
			if err := ins.AssociateMap(fakeFD(idx)); err != nil {
				return nil, nil, nil, fmt.Errorf("instruction %d: %w", i, err)
			}
		case ins.IsKfuncCall():
			name := ins.Reference()
			id, ok := kfnIdx[name]
			if !ok {
				k, err := kfuncs.Lookup(name, o.opts.Features)
				if err == nil && !k.For(p.Type) {
					err = fmt.Errorf("kfunc %s: %w", name, errKfuncType)
				}
				if err == nil && k.Refused != "" {
					err = fmt.Errorf("kfunc %s: %w: %s", name, errKfuncRefused, k.Refused)
				}
				if err != nil {
					// Keep going, so the load error names every missing callee at once.
					id = int32(len(kfns))
					kfnIdx[name] = id
					kfns[id] = nil
					missingKfuncs = append(missingKfuncs, MissingCall{Name: name, Helper: -1, Insn: i, Err: err, Note: kfuncNote(p.Type, name, k, err)})
					ins.Constant = int64(id)
					continue
				}
				id = int32(len(kfns))
				kfnIdx[name] = id
				kfns[id] = recordKfunc(k)
				kfnDesc[id] = k
				p.Kfuncs = append(p.Kfuncs, name)
				if p.kfuncNames == nil {
					p.kfuncNames = map[int32]string{}
				}
				p.kfuncNames[id] = name
				if k.DevBound {
					p.DevBound = true
				}
			}
			ins.Constant = int64(id)
		case ins.OpCode.IsDWordLoad() && ins.Reference() != "" && ins.Src != asm.PseudoFunc && !ins.IsFunctionReference():
			return nil, nil, nil, fmt.Errorf("instruction %d references symbol %q, which is not simulated (.kconfig and ksyms are not)", i, ins.Reference())
		}
	}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, le); err != nil {
		return nil, nil, nil, err
	}
	raw, err := vm.Decode(buf.Bytes())
	if err != nil {
		return nil, nil, nil, err
	}
	// Source lines per raw slot, and the kfunc call immediates as we assigned them.
	p.lines = make([]string, len(raw))
	p.lineInfo = make([]*btf.Line, len(raw))
	iter := insns.Iterate()
	for iter.Next() {
		if src := iter.Ins.Source(); src != nil {
			p.lines[iter.Offset] = formatLine(src)
			p.lineInfo[iter.Offset], _ = src.(*btf.Line)
		}
	}
	// A line holds until the next instruction that carries one.
	for i := 1; i < len(p.lines); i++ {
		if p.lines[i] == "" {
			p.lines[i] = p.lines[i-1]
			p.lineInfo[i] = p.lineInfo[i-1]
		}
	}
	p.Insns = insns
	// The kfuncs the simulator lacks, at their raw instruction slots, for the load error.
	if len(missingKfuncs) > 0 {
		slot := make([]int, 0, len(insns))
		for iter := insns.Iterate(); iter.Next(); {
			slot = append(slot, int(iter.Offset))
		}
		for _, c := range missingKfuncs {
			c.Insn = slot[c.Insn]
			c.Line = p.Line(c.Insn)
			p.missingKfuncs = append(p.missingKfuncs, c)
		}
	}
	p.vprog = o.verifierProgram(p, ps, raw, kfnDesc, poisoned)
	return p, raw, kfns, nil
}

func (o *Object) prepare(ps *ebpf.ProgramSpec) (*Program, error) {
	p, raw, kfns, err := o.link(ps)
	if err != nil {
		return nil, err
	}
	insns := p.Insns
	var devKfuncs []string
	for _, name := range p.Kfuncs {
		if k, err := kfuncs.Lookup(name, o.opts.Features); err == nil && k.DevBound {
			devKfuncs = append(devKfuncs, name)
		}
	}
	// One load error names every helper and kfunc the simulator lacks, before the verifier
	// would stumble on the first.
	helpers, missing := o.helpersFor(p, raw)
	if missing = append(missing, p.missingKfuncs...); len(missing) > 0 {
		sortCalls(missing)
		return nil, &MissingError{Type: p.Type, Calls: missing}
	}
	unchecked := p.uncheckedKfuncs()
	if !o.opts.NoVerify && verifier.Supported(p.Type) && len(unchecked) > 0 {
		o.Notices = append(o.Notices, fmt.Sprintf("program %s loaded without verification: %v", p.Name, errUncheckedKfuncs(unchecked)))
	}
	if !o.opts.NoVerify && verifier.Supported(p.Type) && len(unchecked) == 0 {
		res, err := verifier.Verify(p.vprog, verifier.Options{LogLevel: o.opts.VerifierLogLevel})
		if err != nil {
			return nil, err
		}
		p.Verification = res
	}
	p.VM, err = vm.NewProgram(raw, vm.ProgramOptions{
		Name:       ps.Name,
		Helpers:    helpers,
		HelperName: helperName,
		Kfuncs:     kfns,
		Lines:      p.Line,
		ResolveLdImm64: func(pc int, src uint8, imm, next int32) (uint64, error) {
			switch src {
			case vm.PseudoMapFD, vm.PseudoMapIdx:
				if imm < 0 || int(imm) >= len(o.mapOrder) {
					return 0, fmt.Errorf("lddw names map #%d, which does not exist", imm)
				}
				return vm.Address(o.MapRegion(int(imm)), 0), nil
			case vm.PseudoMapValue, vm.PseudoMapIdxValue:
				if imm < 0 || int(imm) >= len(o.mapOrder) {
					return 0, fmt.Errorf("lddw names map #%d, which does not exist", imm)
				}
				return vm.Address(o.MapRegion(int(imm)), uint32(next)), nil
			}
			return 0, fmt.Errorf("lddw with pseudo source %d is not simulated", src)
		},
	})
	if err != nil {
		return nil, err
	}
	if p.DevBound {
		// bpf_prog_map_compatible: a device-bound program may not share prog arrays, and a
		// program bound to one device cannot redirect through devmaps or cpumaps.
		for i := range insns {
			if !insns[i].IsLoadFromMap() {
				continue
			}
			switch m := o.mapOrder[insns[i].Map().FD()]; m.Type() { // (AssociateMap above dropped the reference)
			case ebpf.ProgramArray, ebpf.DevMap, ebpf.DevMapHash, ebpf.CPUMap:
				return nil, fmt.Errorf("calls device-bound kfuncs (%s) and uses %s map %s, which the kernel refuses for device-bound programs",
					strings.Join(devKfuncs, ", "), m.Type(), m.Name())
			}
		}
		o.Notices = append(o.Notices, fmt.Sprintf("program %s calls device-bound kfuncs (%s): bound to the simulated device, as the kernel binds it with BPF_F_XDP_DEV_BOUND_ONLY",
			p.Name, strings.Join(devKfuncs, ", ")))
	}
	// What the verifier learnt of the program's context accesses decides how the machine serves
	// them (tstamp of an skb); a program loaded without verification is taken to read
	// tstamp_type when it holds a byte load at its offset.
	if p.Verification != nil {
		p.tstampTypeAccess = p.Verification.TstampTypeAccess
	} else if p.Type == ebpf.SchedCLS {
		p.tstampTypeAccess = verifier.SkbReadsTstampType(raw)
	}
	return p, nil
}

// isPoisonedCall reports whether ins is the invalid helper call cilium/ebpf writes in place of an
// instruction whose CO-RE relocation failed.
func isPoisonedCall(ins *asm.Instruction) bool {
	return ins.IsBuiltinCall() && ins.Constant == btf.COREBadRelocationSentinel
}

// splitPoisonedLoads turns every poisoned 64-bit immediate load (cilium/ebpf writes "lddw r10,
// 0xbad2310" for those) into a poisoned call followed by a no-op jump, which fill the same two
// instruction slots, so that jumps across it keep their targets.
func splitPoisonedLoads(insns asm.Instructions) asm.Instructions {
	var out asm.Instructions
	for i, ins := range insns {
		poisoned := ins.OpCode.IsDWordLoad() && ins.Dst == asm.R10 && ins.Constant == btf.COREBadRelocationSentinel
		if !poisoned {
			if out != nil {
				out = append(out, ins)
			}
			continue
		}
		if out == nil {
			out = append(make(asm.Instructions, 0, len(insns)+1), insns[:i]...)
		}
		call := asm.BuiltinFunc(btf.COREBadRelocationSentinel).Call().WithMetadata(ins.Metadata)
		out = append(out, call, asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)})
	}
	if out == nil {
		return insns
	}
	return out
}

func formatLine(src fmt.Stringer) string {
	if l, ok := src.(*btf.Line); ok {
		file := l.FileName()
		if i := strings.LastIndexByte(file, '/'); i >= 0 {
			file = file[i+1:]
		}
		return fmt.Sprintf("%s:%d: %s", file, l.LineNumber(), strings.TrimSpace(l.Line()))
	}
	return strings.TrimSpace(src.String())
}

func (o *Object) applyCORE(insns asm.Instructions) error {
	var relos []*btf.CORERelocation
	var at []*asm.Instruction
	iter := insns.Iterate()
	for iter.Next() {
		if r := btf.CORERelocationMetadata(iter.Ins); r != nil {
			relos = append(relos, r)
			at = append(at, iter.Ins)
		}
	}
	if len(relos) == 0 {
		return nil
	}
	kbtf, err := o.kernelBTF()
	if err != nil {
		return err
	}
	var b btf.Builder
	fixups, err := btf.CORERelocate(relos, []*btf.Spec{kbtf}, le, b.Add)
	if err != nil {
		return fmt.Errorf("CO-RE: %w", err)
	}
	for i, f := range fixups {
		src := at[i].Source()
		if err := f.Apply(at[i]); err != nil {
			return fmt.Errorf("CO-RE fixup for %s: %w", relos[i], err)
		}
		if strings.HasSuffix(f.String(), "=poison") {
			// Say which relocation failed, and where, for the fault that reaching it gives.
			what := fmt.Sprintf("%s found no match in the kernel BTF", relos[i])
			if src != nil {
				what += " at " + formatLine(src)
			}
			*at[i] = at[i].WithSource(asm.Comment(what))
		}
	}
	return nil
}

// kernelBTF is the kernel BTF the object's programs are relocated against and the kernel's
// structs are laid out by: the user's (LoadOptions.BTF) or the simulator's own, read once.
func (o *Object) kernelBTF() (*btf.Spec, error) {
	if o.coreBTF == nil {
		var err error
		if o.opts.BTF != "" {
			o.coreBTF, err = corebtf.Load(o.opts.BTF)
		} else {
			o.coreBTF, err = corebtf.Spec()
		}
		if err != nil {
			return nil, err
		}
	}
	return o.coreBTF, nil
}

// helperName gives the C name of a helper number, as bpf_helper_defs.h spells it.
func helperName(id int32) string {
	s := asm.BuiltinFunc(id).String()
	if !strings.HasPrefix(s, "Fn") {
		return ""
	}
	var b strings.Builder
	b.WriteString("bpf")
	for _, r := range s[2:] {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
