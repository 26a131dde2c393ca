//go:build !linux

package kernel

import (
	"runtime"
	"time"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim/result"
)

// Program is one XDP program loaded into the kernel. Outside Linux it cannot be created: [Load]
// returns an error matching [ErrNoKernel].
type Program struct{}

var errNotLinux = &noKernelError{"BPF_PROG_TEST_RUN needs Linux and this is " + runtime.GOOS}

// Available reports whether the kernel side can be used; outside Linux it never can.
func Available() error { return errNotLinux }

// Load loads an XDP object into the kernel; outside Linux it returns an error matching
// [ErrNoKernel].
func Load(path string, opts Options) (*Program, error) { return nil, errNotLinux }

// LoadSpec is Load for a collection spec already at hand.
func LoadSpec(name string, spec *ebpf.CollectionSpec, opts Options) (*Program, error) {
	return nil, errNotLinux
}

// RunOnVeth runs a device-bound program on a veth pair; outside Linux it returns an error matching
// [ErrNoKernel].
func RunOnVeth(path string, opts Options, pkts [][]byte, vopts VethOptions) (*VethResult, error) {
	return nil, errNotLinux
}

// Run runs one packet; outside Linux the packet's Err says the kernel side cannot be used.
func (p *Program) Run(pkt []byte, meta []byte, ctx Context) result.Packet {
	return result.Packet{Err: errNotLinux.Error()}
}

// RunTC runs one packet through a tc program; outside Linux the packet's Err says the kernel side
// cannot be used.
func (p *Program) RunTC(pkt []byte, ctx []byte, c Context) result.Packet {
	return result.Packet{Err: errNotLinux.Error()}
}

// IsTC says whether the program is a tc (SCHED_CLS) program; outside Linux there is none.
func (p *Program) IsTC() bool { return false }

// DumpMaps dumps the maps; outside Linux it returns an error matching [ErrNoKernel].
func (p *Program) DumpMaps() (result.Maps, error) { return nil, errNotLinux }

// RunTime is the kernel's own time per test run (Linux only).
func (p *Program) RunTime(pkt []byte, repeat uint32) (time.Duration, error) { return 0, errNotLinux }

// OnTestThread runs fn on the thread of the program's test runs (Linux only).
func (p *Program) OnTestThread(fn func() error) error { return errNotLinux }

// LoadMaps preloads the maps; outside Linux it returns an error matching [ErrNoKernel].
func (p *Program) LoadMaps(maps result.Maps) error { return errNotLinux }

// ResetMaps reloads the maps; outside Linux it returns an error matching [ErrNoKernel].
func (p *Program) ResetMaps() error { return errNotLinux }

// Name is the function name of the program.
func (p *Program) Name() string { return "" }

// Section is the ELF section the program came from.
func (p *Program) Section() string { return "" }

// HasFrags says whether the program was loaded with frags support.
func (p *Program) HasFrags() bool { return false }

// Skipped lists the programs of the object the kernel refused.
func (p *Program) Skipped() []string { return nil }

// NumCPU is the kernel's number of possible CPUs.
func (p *Program) NumCPU() int { return 0 }

// Close unloads the program.
func (p *Program) Close() error { return nil }

// CurrentTask measures the task test runs run in; outside Linux it returns an error matching
// [ErrNoKernel].
func CurrentTask() (result.Task, error) { return result.Task{}, errNotLinux }

// CurrentTask is [CurrentTask] for this program's test runs.
func (p *Program) CurrentTask() (result.Task, error) { return result.Task{}, errNotLinux }

// Dispatcher is libxdp's dispatcher loaded into the kernel; outside Linux it cannot be created.
type Dispatcher struct{ *Program }

// LoadDispatcher builds and loads libxdp's dispatcher; outside Linux it returns an error matching
// [ErrNoKernel].
func LoadDispatcher(dispatcher string, slots []Slot, config []byte) (*Dispatcher, error) {
	return nil, errNotLinux
}

// SlotMaps dumps the maps of a slot's program; outside Linux it returns an error matching
// [ErrNoKernel].
func (d *Dispatcher) SlotMaps(i int) (result.Maps, error) { return nil, errNotLinux }

// DumpMaps dumps every slot's maps; outside Linux it returns an error matching [ErrNoKernel].
func (d *Dispatcher) DumpMaps() (result.Maps, error) { return nil, errNotLinux }

// RunDispatcherOnVeth runs libxdp's dispatcher on a veth pair; outside Linux it returns an error
// matching [ErrNoKernel].
func RunDispatcherOnVeth(dispatcher string, slots []Slot, config []byte, pkts [][]byte, vopts VethOptions) (*VethResult, error) {
	return nil, errNotLinux
}

// Tag is the program's tag; outside Linux it returns an error matching [ErrNoKernel].
func (p *Program) Tag() (string, error) { return "", errNotLinux }

// Verify asks the kernel's verifier about one program; outside Linux it returns an error matching
// [ErrNoKernel].
func Verify(path string, opts VerifyOptions) (*Verdict, error) { return nil, errNotLinux }

// VerifySpec is Verify for a collection spec already at hand; outside Linux it returns an error
// matching [ErrNoKernel].
func VerifySpec(name string, spec *ebpf.CollectionSpec, opts VerifyOptions) (*Verdict, error) {
	return nil, errNotLinux
}
