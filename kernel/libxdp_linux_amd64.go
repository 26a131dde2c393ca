//go:build linux && amd64

package kernel

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunLibxdp attaches the objects (each with one XDP program) to a veth in a private network
// namespace with the real libxdp, through `xdp-loader load -vv`, and returns what libxdp
// computed for its dispatcher. xdp-loader runs in a private mount namespace with a bpffs of its
// own at /sys/fs/bpf (its lock and libxdp's pins), so neither other runs nor leftovers are in the
// way and nothing outlives it; the dispatcher's configuration is read from the bpf() system calls
// xdp-loader makes (the one map update of a 124-byte value that starts with the dispatcher's
// magic byte), through ptrace.
func RunLibxdp(objs []string, opts LibxdpOptions) (*LibxdpResult, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	loader, err := exec.LookPath(XDPLoader)
	if err != nil {
		return nil, fmt.Errorf("kernel: libxdp: %w (install Debian's xdp-tools)", err)
	}
	return onPrivateNetns("libxdp", func() (*LibxdpResult, error) {
		return runLibxdp(loader, objs, opts)
	})
}

func runLibxdp(loader string, objs []string, opts LibxdpOptions) (*LibxdpResult, error) {
	for _, f := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
		_ = os.WriteFile(f, []byte("1"), 0)
	}
	if err := createVeth(vethProg, vethInject, 1500); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: create a veth pair: %w", err)
	}
	// xdp-loader keeps its lock in /run (xdp-loader.lck), libxdp its lock and pins in the bpffs at
	// /sys/fs/bpf: give them both of their own, in a mount namespace of this thread's, so that no
	// other xdp-loader (another test run's, say, or a stale lock file of a killed one) is in the
	// way and nothing outlives the run. A thread cannot go back to its mount namespace, so it
	// stays locked and ends with its goroutine.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: a mount namespace of its own: %w", err)
	}
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: make the mounts private: %w", err)
	}
	const bpffs, rundir = "/sys/fs/bpf", "/run"
	if err := unix.Mount("bpf", bpffs, "bpf", 0, "mode=0700"); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: mount a bpffs at %s: %w", bpffs, err)
	}
	defer unix.Unmount(bpffs, unix.MNT_DETACH)
	if err := unix.Mount("tmpfs", rundir, "tmpfs", 0, "mode=0755"); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: mount a tmpfs at %s: %w", rundir, err)
	}
	defer unix.Unmount(rundir, unix.MNT_DETACH)
	out, err := os.CreateTemp("", "xdpsim-xdp-loader-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(out.Name())
	defer out.Close()

	args := []string{"load", "-vv"}
	if opts.Priority != 0 {
		args = append(args, "--prio", strconv.FormatUint(uint64(opts.Priority), 10))
	}
	if opts.Actions != "" {
		args = append(args, "--actions", opts.Actions)
	}
	args = append(args, vethProg)
	args = append(args, objs...)
	cmd := exec.Command(loader, args...)
	cmd.Env = append(os.Environ(), "LIBXDP_BPFFS="+bpffs)
	cmd.Stdout, cmd.Stderr = out, out
	// Traced from its first instruction: the tracer is this locked thread.
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: start %s: %w", loader, err)
	}
	defer cmd.Process.Release()
	res := &LibxdpResult{}
	status, err := traceBPF(cmd.Process.Pid, func(value []byte) {
		res.Config = value
	})
	if err != nil {
		return nil, fmt.Errorf("kernel: libxdp: tracing %s: %w", loader, err)
	}
	text, err := os.ReadFile(out.Name())
	if err != nil {
		return nil, err
	}
	res.Output = string(text)
	res.Attached = status.Exited() && status.ExitStatus() == 0
	res.Legacy = res.Attached && strings.Contains(res.Output, "Falling back to loading single prog without dispatcher")
	if res.Programs, err = parseLoaderPrograms(res.Output, len(objs)); err != nil {
		return nil, fmt.Errorf("kernel: libxdp: %w; xdp-loader said:\n%s", err, res.Output)
	}
	return res, nil
}

// loaderProgram matches libxdp's debug line for each program it is given.
var loaderProgram = regexp.MustCompile(`(?m)^XDP program (\d+): Run prio: (\d+)\. Chain call actions: (\S*)$`)

// parseLoaderPrograms reads the run configuration libxdp printed for each of n programs; the
// names come from the libbpf lines that found them.
func parseLoaderPrograms(out string, n int) ([]LibxdpProgram, error) {
	progs := make([]LibxdpProgram, n)
	seen := 0
	for _, m := range loaderProgram.FindAllStringSubmatch(out, -1) {
		i, _ := strconv.Atoi(m[1])
		prio, _ := strconv.ParseUint(m[2], 10, 32)
		if i >= n {
			return nil, fmt.Errorf("xdp-loader reported program %d of %d", i, n)
		}
		progs[i].Priority, progs[i].Actions = uint32(prio), m[3]
		seen++
	}
	if seen != n {
		return nil, fmt.Errorf("xdp-loader reported the run configuration of %d programs, not %d", seen, n)
	}
	names := regexp.MustCompile(`(?m)sec '[^']*': found program '([^']+)'`)
	sc := bufio.NewScanner(strings.NewReader(out))
	i := 0
	for sc.Scan() && i < n {
		line := sc.Text()
		if strings.Contains(line, "xdp-dispatcher") {
			break
		}
		if m := names.FindStringSubmatch(line); m != nil {
			progs[i].Name = m[1]
			i++
		}
	}
	return progs, nil
}

// traceBPF runs the stopped tracee pid to its end, stopping at every system call, and hands
// onConfig the value of every BPF_MAP_UPDATE_ELEM on a 124-byte map that holds a dispatcher
// configuration (magic 236). It returns the tracee's wait status.
func traceBPF(pid int, onConfig func([]byte)) (syscall.WaitStatus, error) {
	const (
		sysBPF          = 321 // x86_64
		bpfMapCreate    = 0
		bpfMapUpdate    = 2
		configSize      = 124
		dispatcherMagic = 236
	)
	var ws syscall.WaitStatus
	// The tracee stops with SIGTRAP after its execve.
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return ws, err
	}
	if !ws.Stopped() {
		return ws, fmt.Errorf("the tracee did not stop after exec (status %#x)", ws)
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACESYSGOOD|unix.PTRACE_O_EXITKILL); err != nil {
		return ws, err
	}
	valueSize := map[uint64]uint32{} // map fd -> value size
	var (
		entry      = true
		cmd, attr  uint64
		createSize uint32
		sig        int
	)
	for {
		if err := unix.PtraceSyscall(pid, sig); err != nil {
			return ws, err
		}
		sig = 0
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return ws, err
		}
		if ws.Exited() || ws.Signaled() {
			return ws, nil
		}
		if !ws.Stopped() {
			continue
		}
		if s := ws.StopSignal(); s != syscall.SIGTRAP|0x80 {
			sig = int(s) // a signal for the tracee: deliver it
			continue
		}
		var regs unix.PtraceRegs
		if err := unix.PtraceGetRegs(pid, &regs); err != nil {
			return ws, err
		}
		if entry {
			cmd, attr = regs.Rdi, regs.Rsi
			if regs.Orig_rax == sysBPF {
				switch cmd {
				case bpfMapCreate:
					var b [4]byte
					if _, err := unix.PtracePeekData(pid, uintptr(attr+8), b[:]); err == nil {
						createSize = binary.LittleEndian.Uint32(b[:])
					}
				case bpfMapUpdate:
					var a [24]byte
					if _, err := unix.PtracePeekData(pid, uintptr(attr), a[:]); err == nil {
						fd := uint64(binary.LittleEndian.Uint32(a[0:]))
						if valueSize[fd] == configSize {
							v := make([]byte, configSize)
							valuePtr := uint64(binary.LittleEndian.Uint32(a[16:])) | uint64(binary.LittleEndian.Uint32(a[20:]))<<32
							if _, err := unix.PtracePeekData(pid, uintptr(valuePtr), v); err == nil && v[0] == dispatcherMagic {
								onConfig(v)
							}
						}
					}
				}
			}
		} else if regs.Orig_rax == sysBPF && cmd == bpfMapCreate && int64(regs.Rax) >= 0 {
			valueSize[regs.Rax] = createSize
		}
		entry = !entry
	}
}
