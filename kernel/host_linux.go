//go:build linux

package kernel

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The test host: every BPF_PROG_TEST_RUN runs on one OS thread that lives in a private network
// namespace of its own. Helpers that consult the host (bpf_fib_lookup's forwarding settings and
// routes, bpf_check_mtu's devices) then see a fresh namespace with only a loopback device, which is
// what the simulator models, instead of whatever the machine running the tests is configured as.
// The thread is also pinned to the CPU a packet asks for, since the test run executes the program
// on the calling CPU (per-CPU maps, bpf_get_smp_processor_id).

type hostRequest struct {
	cpu  int
	fn   func() error
	done chan error
}

type testHost struct {
	reqs chan hostRequest
}

var host = sync.OnceValues(func() (*testHost, error) { return startTestHost(nil) })

// startTestHost starts a test host thread in a new network namespace and runs the setup commands
// in it (a child process forked from the thread inherits its namespace).
func startTestHost(setup [][]string) (*testHost, error) {
	h := &testHost{reqs: make(chan hostRequest)}
	started := make(chan error)
	go func() {
		// The thread is never unlocked: when this goroutine ends the runtime discards the
		// thread together with its namespace.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			started <- fmt.Errorf("private network namespace for the test runs: %w", err)
			return
		}
		for _, cmd := range setup {
			if len(cmd) == 0 {
				continue
			}
			out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
			if err != nil {
				started <- fmt.Errorf("test host setup %q: %v: %s", strings.Join(cmd, " "), err, strings.TrimSpace(string(out)))
				return
			}
		}
		started <- nil
		cpu := -1
		for r := range h.reqs {
			if r.cpu != cpu {
				var set unix.CPUSet
				set.Set(r.cpu)
				if err := unix.SchedSetaffinity(0, &set); err != nil {
					r.done <- fmt.Errorf("pinning the test run to CPU %d: %w", r.cpu, err)
					continue
				}
				cpu = r.cpu
			}
			r.done <- r.fn()
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return h, nil
}

// close ends the test host's thread, and its namespace with it.
func (h *testHost) close() { close(h.reqs) }

// onTestHost runs fn on the package's bare test host's thread, on the given CPU.
func onTestHost(cpu int, fn func() error) error {
	h, err := host()
	if err != nil {
		return err
	}
	return h.do(cpu, fn)
}

// do runs fn on the host's thread, on the given CPU.
func (h *testHost) do(cpu int, fn func() error) error {
	done := make(chan error, 1)
	h.reqs <- hostRequest{cpu: cpu, fn: fn, done: done}
	return <-done
}
