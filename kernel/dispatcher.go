package kernel

// DispatcherObject is where Debian's libxdp package (1.3.1) installs libxdp's dispatcher program;
// xdp-loader carries the same bytes inside it.
const DispatcherObject = "/usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o"

// Slot is a program for a slot of a dispatcher: an object file and the program's function name.
type Slot struct {
	Path    string
	Program string
}

// LibxdpOptions are the options of xdp-loader's load command that change a dispatcher.
type LibxdpOptions struct {
	// Priority is --prio: every program's run priority (0: leave each its own, as xdp-loader
	// does).
	Priority uint32
	// Actions is --actions: every program's chain-call actions, e.g. "XDP_PASS,XDP_DROP"
	// ("": leave each its own).
	Actions string
}

// LibxdpProgram is what libxdp read of one program it was given (from its debug output): its
// function name, run priority and chain-call actions after the options.
type LibxdpProgram struct {
	Name     string
	Priority uint32
	Actions  string // as libxdp prints them: "XDP_DROP,XDP_PASS"
}

// LibxdpResult is what the real libxdp did with a set of objects.
type LibxdpResult struct {
	// Config is the configuration libxdp wrote into its dispatcher's .rodata (struct
	// xdp_dispatcher_config, 124 bytes): the slots' run priorities, chain-call bitmaps and
	// program flags in slot order, and whether the dispatcher has frags support. Nil when libxdp
	// built no dispatcher (more than ten programs, say).
	Config []byte
	// Programs holds what libxdp read of each object, in the order given.
	Programs []LibxdpProgram
	// Attached says xdp-loader attached something to the interface: the dispatcher, or (Legacy)
	// a single program on its own. On a kernel that refuses extension programs (this one: EPERM)
	// libxdp cannot fill the dispatcher's slots: with one program it falls back to attaching it
	// alone, with more it gives up. Config is what it had computed by then.
	Attached, Legacy bool
	// Output is what xdp-loader printed (its -vv debug output included).
	Output string
}

// XDPLoader is the xdp-loader command RunLibxdp runs (Debian's xdp-tools 1.3.1).
var XDPLoader = "xdp-loader"
