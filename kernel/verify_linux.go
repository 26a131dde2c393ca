//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Verify loads one program of the object file at path into the kernel with the verifier log on
// and returns the verifier's verdict. Only the chosen program is loaded, with the maps of the
// object (created for it and removed afterwards), so a program the kernel rejects never stands
// in the way of another. The returned error is for what is no verdict: no usable kernel (it
// matches [ErrNoKernel]), an unreadable object, an unknown program, or a load that failed
// before the kernel's verifier said anything (a map the kernel refuses, for example).
func Verify(path string, opts VerifyOptions) (*Verdict, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("kernel: read %s: %w", path, err)
	}
	return VerifySpec(path, spec, opts)
}

// VerifySpec is Verify for a collection spec already at hand; name stands for the object in
// messages. The spec is not changed.
func VerifySpec(name string, spec *ebpf.CollectionSpec, opts VerifyOptions) (*Verdict, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	prog := opts.Program
	if prog == "" {
		var names []string
		for _, n := range sortedKeys(spec.Programs) {
			if spec.Programs[n].Type != ebpf.UnspecifiedProgram {
				names = append(names, n)
			}
		}
		if len(names) != 1 {
			return nil, fmt.Errorf("kernel: %s: %d programs, choose one by function name: %s", name, len(names), strings.Join(names, ", "))
		}
		prog = names[0]
	}
	ps, ok := spec.Programs[prog]
	if !ok || ps.Type == ebpf.UnspecifiedProgram {
		return nil, fmt.Errorf("kernel: %s: no program %q (programs: %s)", name, prog, strings.Join(sortedKeys(spec.Programs), ", "))
	}
	level := opts.LogLevel
	switch level {
	case 0:
		level = 1
	case 1, 2:
	default:
		return nil, fmt.Errorf("kernel: log level %d: want 1 or 2", level)
	}
	size := opts.LogSize
	if size == 0 {
		size = 1 << 20
	}

	s := only(spec, []string{prog})
	for _, m := range s.Maps {
		m.Pinning = ebpf.PinNone
		if m.InnerMap != nil {
			m.InnerMap.Pinning = ebpf.PinNone
		}
	}
	// Program arrays filled statically would load their programs too: leave them empty.
	for _, m := range s.Maps {
		if m.Type == ebpf.ProgramArray {
			m.Contents = nil
		}
	}
	if !opts.DevBound {
		return verifyLoad(name, s, prog, level, size, opts.TestRun)
	}
	// Bind the program to one end of a veth pair in a private network namespace, on a thread of
	// its own that ends with the namespace.
	type outcome struct {
		v   *Verdict
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.v, o.err = inNetns(func() (*Verdict, error) {
			if err := createVeth(vethProg, vethInject, 1500); err != nil {
				return nil, fmt.Errorf("kernel: veth for a device-bound program: %w", err)
			}
			ifc, err := net.InterfaceByName(vethProg)
			if err != nil {
				return nil, fmt.Errorf("kernel: veth for a device-bound program: %w", err)
			}
			s.Programs[prog].Flags |= flagXDPDevBoundOnly
			s.Programs[prog].Ifindex = uint32(ifc.Index)
			return verifyLoad(name, s, prog, level, size, opts.TestRun)
		})
		done <- o
	}()
	o := <-done
	return o.v, o.err
}

// verifyLoad loads the program prog of the prepared spec s (of the object called name) and reads
// the verdict.
func verifyLoad(name string, s *ebpf.CollectionSpec, prog string, level int, size uint32, testRun bool) (*Verdict, error) {
	ps := s.Programs[prog]
	coll, err := ebpf.NewCollectionWithOptions(s, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevel(level), LogSizeStart: size},
	})
	v := &Verdict{Program: prog, Insn: -1}
	if err == nil {
		defer coll.Close()
		p := coll.Programs[prog]
		v.Accepted = true
		v.Log = p.VerifierLog
		v.Stats = ParseStats(v.Log)
		if testRun {
			v.Run = testRunOnce(p, ps)
		}
		return v, nil
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		if errors.Is(err, unix.EPERM) {
			return nil, noKernel("loading "+name, err)
		}
		return nil, fmt.Errorf("kernel: load %s program %s: %w", name, prog, err)
	}
	v.Errno = errnoOf(ve.Cause)
	v.Log = strings.Join(ve.Log, "\n")
	if v.Log != "" {
		v.Log += "\n"
	}
	v.Message = ErrorMessage(v.Log)
	v.Insn = BlamedInsn(v.Log)
	v.Stats = ParseStats(v.Log)
	return v, nil
}

// errnoOf is the name of the errno inside err ("EACCES"), or its text when there is none.
func errnoOf(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// testRunOnce runs an accepted program once on a zeroed 64-byte frame.
func testRunOnce(p *ebpf.Program, ps *ebpf.ProgramSpec) *TestRun {
	if ps.Flags&flagXDPDevBoundOnly != 0 {
		return &TestRun{Err: "not run: device-bound programs cannot be test-run"}
	}
	opts := ebpf.RunOptions{Data: make([]byte, 64), Repeat: 1}
	var ret uint32
	err := onTestHost(0, func() error {
		var err error
		ret, err = p.Run(&opts)
		return err
	})
	if err != nil {
		why := errnoText(err)
		if ps.Type == ebpf.XDP && !isTestRunnable(ps) {
			why += " (programs for devmap or cpumap entries cannot be test-run)"
		}
		return &TestRun{Err: why}
	}
	return &TestRun{Ret: ret}
}
