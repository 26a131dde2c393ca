package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/sim"
)

// loadFlags say how an object is loaded: which program, typed how, with which variables, map
// sizes and kernel BTF. Every command that loads an object (run, diff, test, show, debug, dump,
// verify) registers them here, so each means the same everywhere.
type loadFlags struct {
	prog   string
	typ    string
	set    []string
	resize []string
	btf    string
}

func (f *loadFlags) register(fs *pflag.FlagSet, progHelp string) {
	fs.StringVarP(&f.prog, "prog", "p", "", progHelp)
	fs.StringVar(&f.typ, "type", "", `program type for a section that carries none ("xdp" or "tc"); needs --prog`)
	fs.StringArrayVar(&f.set, "set", nil, "set a const volatile variable before load: NAME=VALUE (repeatable)")
	fs.StringArrayVar(&f.resize, "resize", nil, "set a map's max_entries: MAP=N (repeatable)")
	fs.StringVar(&f.btf, "btf", "", "vmlinux BTF to resolve CO-RE relocations against (default: the simulator's Linux 6.18 BTF)")
}

// programTypes are the names --type takes.
var programTypes = map[string]ebpf.ProgramType{"xdp": ebpf.XDP, "tc": ebpf.SchedCLS, "sched_cls": ebpf.SchedCLS}

// options adds what the flags say to opts.
func (f *loadFlags) options(opts *sim.LoadOptions) error {
	opts.BTF = f.btf
	if opts.Set == nil {
		opts.Set = map[string]any{}
	}
	if opts.Resize == nil {
		opts.Resize = map[string]uint32{}
	}
	for _, kv := range f.set {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return fmt.Errorf("--set %q: want NAME=VALUE", kv)
		}
		v, err := parseValue(val)
		if err != nil {
			return fmt.Errorf("--set %s: %w", name, err)
		}
		opts.Set[name] = v
	}
	for _, kv := range f.resize {
		name, val, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(val, 0, 32)
		if !ok || name == "" || err != nil || n == 0 {
			return fmt.Errorf("--resize %q: want MAP=N with N > 0", kv)
		}
		opts.Resize[name] = uint32(n)
	}
	if f.typ != "" {
		t, ok := programTypes[f.typ]
		if !ok {
			return fmt.Errorf("--type %q: xdp and tc programs are simulated", f.typ)
		}
		if f.prog == "" {
			return errors.New("--type needs --prog to say which program it types")
		}
		opts.Types = map[string]ebpf.ProgramType{f.prog: t}
	}
	return nil
}

// checkType refuses a --type that contradicts the type the program's section gives it: the
// section wins, as it does for libbpf, so the flag would be ignored.
func (f *loadFlags) checkType(obj *sim.Object, name string) error {
	if f.typ == "" {
		return nil
	}
	ps := obj.Spec.Programs[name]
	if ps == nil || ps.Type == ebpf.UnspecifiedProgram || ps.Type == programTypes[f.typ] {
		return nil
	}
	return fmt.Errorf("--type %s: program %s's section %q already gives it type %s", f.typ, name, ps.SectionName, ps.Type)
}
