//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Program flags the kernel knows and cilium/ebpf does not export.
const (
	flagXDPHasFrags     = 1 << 5 // BPF_F_XDP_HAS_FRAGS
	flagXDPDevBoundOnly = 1 << 6 // BPF_F_XDP_DEV_BOUND_ONLY
)

// Program is one XDP program of an object file, loaded into the kernel together with the object's
// maps and every other program of the object the kernel accepted. Close it when done.
type Program struct {
	path    string
	name    string // function name: the key in CollectionSpec.Programs
	spec    *ebpf.CollectionSpec
	ifindex uint32 // non-zero: loaded device-bound to this interface
	coll    *ebpf.Collection
	prog    *ebpf.Program
	skipped []string
	ncpu    int
	host    *testHost // the program's own namespace, when Options.HostSetup asked for one
	tr      *testRunner
}

// Available reports whether the kernel side can be used: it loads a two-instruction XDP program and
// test-runs it once (the result is computed once per process). A non-nil error matches
// [ErrNoKernel] and its message says why in one line.
func Available() error { return availableOnce() }

var availableOnce = sync.OnceValue(checkKernel)

func checkKernel() error {
	// Only kernels before 5.11 account BPF memory to RLIMIT_MEMLOCK; this is a no-op elsewhere.
	_ = rlimit.RemoveMemlock()
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name: "xdpsim_probe",
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 2),
			asm.Return(),
		},
		License: "GPL",
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return noKernel("loading an XDP program", err)
	}
	defer prog.Close()
	ret, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 14), Repeat: 1})
	if err != nil {
		return noKernel("running BPF_PROG_TEST_RUN", err)
	}
	if ret != 2 {
		return &noKernelError{fmt.Sprintf("a probe XDP program returning 2 came back with %d", ret)}
	}
	return nil
}

// noKernel explains why doing something with BPF failed, in one line.
func noKernel(what string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return &noKernelError{what + " needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN), which this process lacks (" + errnoText(err) + ")"}
	case errors.Is(err, unix.ENOSYS):
		return &noKernelError{"this kernel has no bpf() system call (built without CONFIG_BPF_SYSCALL)"}
	case errors.Is(err, ebpf.ErrNotSupported):
		return &noKernelError{what + " is not supported by this kernel"}
	}
	return &noKernelError{what + " failed: " + firstLine(err.Error())}
}

// errnoText is the errno's name and text, e.g. "EPERM: operation not permitted", or the error text.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno) + ": " + errno.Error()
	}
	return firstLine(err.Error())
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Load reads the object file at path, prepares it as opts say and loads it into the kernel. The
// returned program runs with [Program.Run]; see [Options] for choosing the program, setting
// variables and sizing maps. Maps pinned by name in C are loaded unpinned (private to this
// Program). Programs of the object that the kernel rejects are left out (see [Program.Skipped]),
// unless it is the chosen one: then the error carries the verifier's words.
func Load(path string, opts Options) (*Program, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("kernel: read %s: %w", path, err)
	}
	return LoadSpec(path, spec, opts)
}

// LoadSpec is Load for a collection spec already at hand (built in Go, say); name stands for the
// object in messages. The spec is changed as opts say.
func LoadSpec(name string, spec *ebpf.CollectionSpec, opts Options) (*Program, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	prog, err := prepare(name, spec, opts)
	if err != nil {
		return nil, err
	}
	p := &Program{path: name, name: prog, spec: spec}
	if len(opts.HostSetup) > 0 || opts.OwnNamespace {
		if p.host, err = startTestHost(opts.HostSetup); err != nil {
			return nil, err
		}
	}
	if err := p.load(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// prepare chooses the program and applies opts to the spec.
func prepare(path string, spec *ebpf.CollectionSpec, opts Options) (string, error) {
	name, err := choose(spec, opts.Program)
	if err != nil {
		return "", fmt.Errorf("kernel: %s: %w", path, err)
	}
	for _, m := range spec.Maps {
		m.Pinning = ebpf.PinNone
		if m.InnerMap != nil {
			m.InnerMap.Pinning = ebpf.PinNone
		}
	}
	for _, k := range sortedKeys(opts.MapSizes) {
		m := spec.Maps[k]
		if m == nil {
			return "", fmt.Errorf("kernel: %s: no map %q to resize (maps: %s)", path, k, strings.Join(sortedKeys(spec.Maps), ", "))
		}
		m.MaxEntries = opts.MapSizes[k]
	}
	for _, k := range sortedKeys(opts.Variables) {
		v := spec.Variables[k]
		if v == nil {
			return "", fmt.Errorf("kernel: %s: no global variable %q (variables: %s)", path, k, strings.Join(sortedKeys(spec.Variables), ", "))
		}
		b, err := variableBytes(opts.Variables[k], int(v.Size()))
		if err != nil {
			return "", fmt.Errorf("kernel: %s: variable %s: %w", path, k, err)
		}
		if err := v.Set(b); err != nil {
			return "", fmt.Errorf("kernel: %s: variable %s: %w", path, k, err)
		}
	}
	return name, nil
}

// variableBytes encodes a variable's new value at its size in the host's byte order.
func variableBytes(val any, size int) ([]byte, error) {
	if b, ok := val.([]byte); ok {
		if len(b) != size {
			return nil, fmt.Errorf("%d bytes given for a %d-byte variable", len(b), size)
		}
		return b, nil
	}
	if size < 1 || size > 8 {
		return nil, fmt.Errorf("an integer cannot set a %d-byte variable; give []byte", size)
	}
	rv := reflect.ValueOf(val)
	var u uint64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := rv.Int()
		bits := uint(size * 8)
		if bits < 64 && (i < -(1<<(bits-1)) || i > (1<<bits)-1) {
			return nil, fmt.Errorf("%d does not fit in %d bytes", i, size)
		}
		u = uint64(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u = rv.Uint()
		if size < 8 && u > (1<<(uint(size)*8))-1 {
			return nil, fmt.Errorf("%d does not fit in %d bytes", u, size)
		}
	case reflect.Bool:
		if rv.Bool() {
			u = 1
		}
	default:
		return nil, fmt.Errorf("value of type %T: give []byte or an integer", val)
	}
	b := binary.NativeEndian.AppendUint64(nil, u)
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 { // big-endian host: the low bytes are last
		return b[8-size:], nil
	}
	return b[:size], nil
}

// isTestRunnable says whether a program is one BPF_PROG_TEST_RUN accepts at all: an XDP program
// not meant for devmap or cpumap entries, or a tc (SCHED_CLS) program.
func isTestRunnable(ps *ebpf.ProgramSpec) bool {
	switch ps.Type {
	case ebpf.XDP:
		return ps.AttachType != ebpf.AttachXDPDevMap && ps.AttachType != ebpf.AttachXDPCPUMap
	case ebpf.SchedCLS:
		return true
	}
	return false
}

// choose picks the program to run by function name, section name, or as the only XDP program
// (or, in an object without XDP programs, the only tc program).
func choose(spec *ebpf.CollectionSpec, want string) (string, error) {
	var xdp, tc []string
	for _, n := range sortedKeys(spec.Programs) {
		if !isTestRunnable(spec.Programs[n]) {
			continue
		}
		if spec.Programs[n].Type == ebpf.XDP {
			xdp = append(xdp, n)
		} else {
			tc = append(tc, n)
		}
	}
	list := func() string {
		all := append(append([]string(nil), xdp...), tc...)
		if len(all) == 0 {
			return "none"
		}
		var s []string
		for _, n := range all {
			s = append(s, fmt.Sprintf("%s (section %s)", n, spec.Programs[n].SectionName))
		}
		return strings.Join(s, ", ")
	}
	if want == "" {
		switch {
		case len(xdp) == 1:
			return xdp[0], nil
		case len(xdp) > 1:
			return "", fmt.Errorf("%d XDP programs, choose one by function or section name: %s", len(xdp), list())
		case len(tc) == 1:
			return tc[0], nil
		case len(tc) > 1:
			return "", fmt.Errorf("%d tc programs, choose one by function or section name: %s", len(tc), list())
		}
		return "", fmt.Errorf("no XDP or tc program to run in the object")
	}
	if ps, ok := spec.Programs[want]; ok {
		if ps.Type != ebpf.XDP && ps.Type != ebpf.SchedCLS {
			return "", fmt.Errorf("program %s is of type %s, not XDP or tc (SchedCLS)", want, ps.Type)
		}
		return want, nil
	}
	var bySection []string
	for _, n := range sortedKeys(spec.Programs) {
		if t := spec.Programs[n].Type; spec.Programs[n].SectionName == want && (t == ebpf.XDP || t == ebpf.SchedCLS) {
			bySection = append(bySection, n)
		}
	}
	switch len(bySection) {
	case 1:
		return bySection[0], nil
	case 0:
		return "", fmt.Errorf("no XDP or tc program with function or section name %q; programs: %s", want, list())
	}
	return "", fmt.Errorf("section %q holds %d programs (%s): choose one by function name", want, len(bySection), strings.Join(bySection, ", "))
}

// IsTC says whether the program is a tc (SCHED_CLS) program, which runs with RunTC.
func (p *Program) IsTC() bool { return p.spec.Programs[p.name].Type == ebpf.SchedCLS }

// load creates the collection from p.spec, replacing any previous one only on success.
func (p *Program) load() error {
	spec := p.spec.Copy()
	if p.ifindex != 0 {
		ps := spec.Programs[p.name]
		ps.Flags |= flagXDPDevBoundOnly
		ps.Ifindex = p.ifindex
	}
	coll, skipped, err := loadCollection(spec, p.name)
	if err != nil {
		// EPERM without a verifier log is a missing capability; with one, the verifier refused
		// the program (a kfunc it does not allow, say), which is an answer, not a missing kernel.
		var ve *ebpf.VerifierError
		if errors.Is(err, unix.EPERM) && !errors.As(err, &ve) {
			return noKernel("loading "+p.path, err)
		}
		return fmt.Errorf("kernel: load %s: %w", p.path, err)
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		coll.Close()
		return fmt.Errorf("kernel: number of possible CPUs: %w", err)
	}
	if p.coll != nil {
		p.coll.Close()
	}
	p.coll, p.prog, p.skipped, p.ncpu = coll, coll.Programs[p.name], skipped, ncpu
	return nil
}

// loadCollection loads the whole collection; if the kernel refuses part of it, it loads the chosen
// program with every other program that loads on its own, and reports the others as skipped.
func loadCollection(spec *ebpf.CollectionSpec, chosen string) (*ebpf.Collection, []string, error) {
	opts := ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogSizeStart: 1 << 20}}
	coll, err := ebpf.NewCollectionWithOptions(spec, opts)
	if err == nil {
		return coll, nil, nil
	}
	fullErr := err

	// Find out which programs the kernel accepts, one at a time.
	keep := []string{chosen}
	var skipped []string
	if c, err := ebpf.NewCollectionWithOptions(only(spec, []string{chosen}), opts); err != nil {
		return nil, nil, programError(chosen, err)
	} else {
		c.Close()
	}
	for _, n := range sortedKeys(spec.Programs) {
		if n == chosen || spec.Programs[n].Type == ebpf.UnspecifiedProgram {
			continue
		}
		c, err := ebpf.NewCollectionWithOptions(only(spec, []string{n}), opts)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %s", n, firstLine(unwrapProgram(err).Error())))
			continue
		}
		c.Close()
		keep = append(keep, n)
	}
	coll, err = ebpf.NewCollectionWithOptions(only(spec, keep), opts)
	if err == nil {
		return coll, skipped, nil
	}
	// The programs load one by one but not together (for example a program array shared by
	// programs of different kinds): keep the chosen program alone.
	for _, n := range keep[1:] {
		skipped = append(skipped, fmt.Sprintf("%s: does not load together with %s", n, chosen))
	}
	sort.Strings(skipped)
	coll, err = ebpf.NewCollectionWithOptions(only(spec, keep[:1]), opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (alone: %v)", fullErr, err)
	}
	return coll, skipped, nil
}

// programError names the program in a verifier error; other errors from cilium/ebpf name it already.
func programError(name string, err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("program %s: %w", name, ve)
	}
	return err
}

// unwrapProgram returns the innermost verifier error if there is one, else err.
func unwrapProgram(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return ve
	}
	return err
}

// only copies spec with just the named programs; program arrays lose entries naming others.
func only(spec *ebpf.CollectionSpec, names []string) *ebpf.CollectionSpec {
	s := spec.Copy()
	for n := range s.Programs {
		if !slices.Contains(names, n) && s.Programs[n].Type != ebpf.UnspecifiedProgram {
			delete(s.Programs, n)
		}
	}
	for _, m := range s.Maps {
		if m.Type != ebpf.ProgramArray {
			continue
		}
		m.Contents = slices.DeleteFunc(m.Contents, func(kv ebpf.MapKV) bool {
			n, ok := kv.Value.(string)
			return ok && !slices.Contains(names, n)
		})
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Name is the function name of the program that runs.
func (p *Program) Name() string { return p.name }

// Section is the ELF section the program came from, e.g. "xdp" or "xdp.frags".
func (p *Program) Section() string { return p.spec.Programs[p.name].SectionName }

// HasFrags says whether the program was loaded with frags support (BPF_F_XDP_HAS_FRAGS, from a
// SEC("xdp.frags") section), so that packets longer than 3520 bytes reach it whole.
func (p *Program) HasFrags() bool { return p.spec.Programs[p.name].Flags&flagXDPHasFrags != 0 }

// Skipped lists the other programs of the object the kernel refused, each as "name: reason";
// they are not loaded, so tail calls to them fail.
func (p *Program) Skipped() []string { return slices.Clone(p.skipped) }

// NumCPU is the kernel's number of possible CPUs: the length of every per-CPU value.
func (p *Program) NumCPU() int { return p.ncpu }

// ResetMaps starts from fresh state: it reloads the object's maps and programs from the prepared
// object, as [Load] did, so that map contents (and .data/.bss variables) are back to their
// initial values. On error the previous state is kept.
func (p *Program) ResetMaps() error {
	if p.coll == nil {
		return errClosed
	}
	return p.load()
}

var errClosed = errors.New("kernel: program is closed")

// Close unloads the program, the other programs of its object and the maps.
func (p *Program) Close() error {
	if p.host != nil {
		p.host.close()
		p.host = nil
	}
	if p.coll != nil {
		p.coll.Close()
		p.coll, p.prog = nil, nil
	}
	return nil
}

// Tag is the program's tag as the kernel computed it (hex, as bpftool shows it): the first 8
// bytes of a hash over its instructions as loaded, map references zeroed (SHA-256 on 6.18).
func (p *Program) Tag() (string, error) {
	if p.prog == nil {
		return "", errClosed
	}
	info, err := p.prog.Info()
	if err != nil {
		return "", fmt.Errorf("kernel: program info: %w", err)
	}
	return info.Tag, nil
}
