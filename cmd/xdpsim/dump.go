package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// cmdDump is `xdpsim dump PROG.o`: without --prog it lists the object's programs, maps and
// variables; with --prog it prints that program's instructions as loaded (or, with --xlated,
// after the kernel's context rewriting), in the kernel's notation with the C source lines
// interleaved as `bpftool prog dump xlated` does.
func cmdDump(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dump", "[flags] PROG.o", stdout)
	var lf loadFlags
	lf.register(fs, "print this program's instructions, by function or section name")
	prog := &lf.prog
	xlated := fs.Bool("xlated", false, "print the program as the kernel's verifier rewrites it (context accesses expanded)")
	showMaps := fs.Bool("maps", false, "print the maps' contents as loaded (global variables, statically filled maps, --maps-in) as JSON")
	mapsFormat := fs.String("maps-format", mapsHex, `how --maps prints keys and values and --maps-in reads them: "hex", or "btf" (as the C types the object's BTF declares, like bpftool map dump -j)`)
	mapsIn := fs.String("maps-in", "", "preload maps from a JSON file before printing them")
	mapsInFormat := fs.String("maps-in-format", "", "the form of --maps-in: hex or btf (default: --maps-format's)")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		return usageErr(errors.New("need exactly one object (see xdpsim dump --help)"))
	}
	// Dumping runs nothing: let every proposal's kfuncs resolve.
	opts := sim.LoadOptions{Features: kfuncs.Features{Traits: true, ExportToSkb: true, ControlMap: true}}
	if err := lf.options(&opts); err != nil {
		return usageErr(err)
	}
	if *mapsInFormat == "" {
		*mapsInFormat = *mapsFormat
	}
	if err := checkMapsFormats(*mapsFormat, *mapsInFormat); err != nil {
		return usageErr(err)
	}
	if (*mapsIn != "" || *mapsFormat != mapsHex) && !*showMaps {
		return &exitError{2, errors.New("--maps-in and --maps-format go with --maps")}
	}
	if *showMaps && (*prog != "" || *xlated) {
		return &exitError{2, errors.New("--maps prints the object's maps: leave out --prog and --xlated")}
	}
	if *xlated && *prog == "" {
		return &exitError{2, errors.New("--xlated needs --prog to say which program to print")}
	}
	obj, err := sim.Load(fs.Arg(0), opts)
	if err != nil {
		return err
	}
	if *showMaps {
		return dumpMaps(obj, *mapsIn, *mapsInFormat, *mapsFormat, stdout)
	}
	if *prog == "" {
		return listObject(obj, stdout)
	}
	p, err := obj.FindProgram(*prog)
	if err != nil {
		return err
	}
	if err := lf.checkType(obj, p.Name); err != nil {
		return usageErr(err)
	}
	insns := p.VM.Instructions()
	origin := make([]int, len(insns))
	for i := range origin {
		origin[i] = i
	}
	if *xlated {
		if insns, origin, err = p.Xlated(); err != nil {
			return fmt.Errorf("%s: program %s: %w", obj.Path, p.Name, err)
		}
	}
	_, err = io.WriteString(stdout, dumpProgram(obj, p, insns, origin))
	return err
}

// listObject prints the programs, maps and variables of an object as three tables.
func listObject(obj *sim.Object, w io.Writer) error {
	spec := obj.Spec
	var tables []string
	table := func(fill func(tw *tabwriter.Writer)) {
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fill(tw)
		tw.Flush()
		tables = append(tables, b.String())
	}
	table(func(tw *tabwriter.Writer) {
		// ID is what devmap and cpumap values given with --maps-in use to name a program.
		ids := obj.ProgramIDs()
		fmt.Fprintln(tw, "ID\tFUNCTION\tSECTION\tTYPE\tATTACH\tINSNS")
		for _, name := range sortedNames(spec.Programs) {
			ps := spec.Programs[name]
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", ids[name], name, ps.SectionName, ps.Type, ps.AttachType,
				ps.Instructions.Size()/asm.InstructionSize)
		}
	})
	if len(spec.Maps) > 0 {
		table(func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "MAP\tTYPE\tKEY\tVALUE\tMAX_ENTRIES\tFLAGS\tPINNING")
			for _, name := range sortedNames(spec.Maps) {
				ms := spec.Maps[name]
				typ := ms.Type.String()
				if ms.Type == maps.Control {
					typ = "Control (proposal)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%#x\t%s\n", name, typ, ms.KeySize, ms.ValueSize, ms.MaxEntries, ms.Flags, pinningName(ms.Pinning))
			}
		})
	}
	if len(spec.Variables) > 0 {
		table(func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "VARIABLE\tSECTION\tSIZE\tCONST\tVALUE")
			for _, name := range sortedNames(spec.Variables) {
				vs := spec.Variables[name]
				c := "no"
				if vs.Constant() {
					c = "yes"
				}
				val := "-"
				if vs.Value != nil {
					val = hex.EncodeToString(vs.Value)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", name, vs.SectionName, vs.Size(), c, val)
			}
		})
	}
	_, err := io.WriteString(w, strings.Join(tables, "\n"))
	return err
}

func pinningName(p ebpf.PinType) string {
	switch p {
	case ebpf.PinNone:
		return "none"
	case ebpf.PinByName:
		return "by-name"
	}
	return p.String()
}

// dumpProgram renders insns (the program p as loaded or xlated; origin gives, for every slot, the
// slot of the loaded program it comes from) as bpftool prog dump xlated does: a function's
// signature above its first instruction, a "; source line @ file:N" comment above the first
// instruction of every line-info record, and "% 4d: " instruction numbers.
func dumpProgram(obj *sim.Object, p *sim.Program, insns []vm.Instruction, origin []int) string {
	// What BTF says about each slot of the loaded program.
	type meta struct {
		fn   *btf.Func
		line *btf.Line
		ref  string // kfunc name
	}
	metas := map[int]meta{}
	iter := p.Insns.Iterate()
	for iter.Next() {
		var m meta
		m.fn = btf.FuncMetadata(iter.Ins)
		if l, ok := iter.Ins.Source().(*btf.Line); ok {
			m.line = l
		}
		if iter.Ins.IsKfuncCall() {
			m.ref = iter.Ins.Reference()
		}
		if m != (meta{}) {
			metas[int(iter.Offset)] = m
		}
	}
	mapName := func(idx int32) string {
		if order := obj.MapOrder(); idx >= 0 && int(idx) < len(order) {
			return order[idx].Name()
		}
		return fmt.Sprintf("#%d", idx)
	}
	var at int // the slot being printed, for CallName
	opts := &assembly.KernelOptions{
		PadIndex: true,
		Imm: func(ins, second vm.Instruction, value uint64) string {
			switch ins.Src() {
			case vm.PseudoMapFD, vm.PseudoMapIdx:
				return fmt.Sprintf("map[%s]", mapName(ins.Imm))
			case vm.PseudoMapValue, vm.PseudoMapIdxValue:
				return fmt.Sprintf("map[%s][0]+%d", mapName(ins.Imm), uint32(second.Imm))
			}
			return assembly.BPFToolImm(ins, second, value)
		},
		CallName: func(ins vm.Instruction) string {
			if ins.Src() == vm.PseudoKfuncCall && at < len(origin) {
				return metas[origin[at]].ref
			}
			return ""
		},
	}
	var b strings.Builder
	for i := 0; i < len(insns); i++ {
		if i == 0 || origin[i] != origin[i-1] {
			m := metas[origin[i]]
			if m.fn != nil {
				if sig := btfFuncSignature(m.fn); sig != "" {
					fmt.Fprintf(&b, "%s:\n", sig)
				}
			}
			if m.line != nil {
				file := m.line.FileName()
				if k := strings.LastIndexByte(file, '/'); k >= 0 {
					file = file[k+1:]
				}
				fmt.Fprintf(&b, "; %s @ %s:%d\n", strings.TrimLeft(m.line.Line(), " \t"), file, m.line.LineNumber())
			}
		}
		at = i
		fmt.Fprintf(&b, "% 4d: %s\n", i, assembly.FormatKernel(insns, i, opts))
		if insns[i].Op == vm.OpLdImm64 {
			i++
		}
	}
	return b.String()
}

// btfFuncSignature writes a function's prototype as bpftool's btf_dumper_type_only does
// ("int xdp_prog(struct xdp_md * ctx)"), or "" for a type it cannot write.
func btfFuncSignature(fn *btf.Func) string {
	var b strings.Builder
	if !writeBTFType(&b, fn) {
		return ""
	}
	return b.String()
}

func writeBTFType(b *strings.Builder, t btf.Type) bool {
	switch t := t.(type) {
	case nil, *btf.Void:
		b.WriteString("void ")
	case *btf.Int:
		b.WriteString(t.Name + " ")
	case *btf.Typedef:
		b.WriteString(t.Name + " ")
	case *btf.Float:
		b.WriteString(t.Name + " ")
	case *btf.Struct:
		b.WriteString("struct " + t.Name + " ")
	case *btf.Union:
		b.WriteString("union " + t.Name + " ")
	case *btf.Enum:
		b.WriteString("enum " + t.Name + " ")
	case *btf.Fwd:
		if t.Kind == btf.FwdUnion {
			b.WriteString("union " + t.Name + " ")
		} else {
			b.WriteString("struct " + t.Name + " ")
		}
	case *btf.Array:
		if !writeBTFType(b, t.Type) {
			return false
		}
		fmt.Fprintf(b, "[%d]", t.Nelems)
	case *btf.Pointer:
		if !writeBTFType(b, t.Target) {
			return false
		}
		b.WriteString("* ")
	case *btf.Volatile:
		b.WriteString("volatile ")
		return writeBTFType(b, t.Type)
	case *btf.Const:
		b.WriteString("const ")
		return writeBTFType(b, t.Type)
	case *btf.Restrict:
		b.WriteString("restrict ")
		return writeBTFType(b, t.Type)
	case *btf.FuncProto:
		return writeBTFFunc(b, t, "")
	case *btf.Func:
		proto, ok := t.Type.(*btf.FuncProto)
		if !ok {
			return false
		}
		return writeBTFFunc(b, proto, t.Name)
	default:
		return false
	}
	return true
}

func writeBTFFunc(b *strings.Builder, proto *btf.FuncProto, name string) bool {
	if !writeBTFType(b, proto.Return) {
		return false
	}
	b.WriteString(name + "(")
	for i, p := range proto.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		if _, void := p.Type.(*btf.Void); void || p.Type == nil {
			b.WriteString("...")
			continue
		}
		if !writeBTFType(b, p.Type) {
			return false
		}
		if p.Name != "" {
			b.WriteString(p.Name)
		} else if s := b.String(); strings.HasSuffix(s, " ") {
			// No name: drop the space the type left for it.
			rest := s[:len(s)-1]
			b.Reset()
			b.WriteString(rest)
		}
	}
	b.WriteString(")")
	return true
}

// dumpMaps prints the maps as loaded, after preloading mapsIn.
func dumpMaps(obj *sim.Object, mapsIn, inFormat, format string, w io.Writer) error {
	if mapsIn != "" {
		in, err := readMaps(mapsIn, inFormat, btfjson.SpecTypes(obj.Spec))
		if err != nil {
			return usageErr(fmt.Errorf("--maps-in: %w", err))
		}
		if err := obj.LoadMaps(in); err != nil {
			return usageErr(fmt.Errorf("--maps-in %s: %w", mapsIn, err))
		}
	}
	dump, err := obj.DumpMaps()
	if err != nil {
		return err
	}
	b, err := encodeMaps(dump, format, btfjson.SpecTypes(obj.Spec))
	if err != nil {
		return fmt.Errorf("%s: %w", obj.Path, err)
	}
	_, err = w.Write(b)
	return err
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
