package sim

import (
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// The helpers that ask about the current task, and bpf_get_numa_node_id. BPF_PROG_TEST_RUN runs the
// program in the task that called it, so the kernel answers with the caller's ids, name and cgroup
// (measured on 6.18, see kernel.CurrentTask); the simulator answers with the task of its run,
// result.DefaultTask unless XDP.SetTask says otherwise (`--task`; `diff` gives the simulator the
// kernel's test-run task, so both agree).

func init() {
	registerBase(asm.FnGetCurrentPidTgid, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(s.task.Tgid)<<32 | uint64(s.task.Pid), nil
	})
	registerBase(asm.FnGetCurrentUidGid, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(s.task.Gid)<<32 | uint64(s.task.Uid), nil
	})
	registerBase(asm.FnGetCurrentComm, func(s *runState, m *vm.Machine, buf, size, _, _, _ uint64) (uint64, error) {
		b, err := m.Bytes(buf, int(uint32(size)), true)
		if err != nil {
			return 0, err
		}
		// strscpy_pad: as much of the name as fits before a NUL, the rest zeroed.
		clear(b)
		if len(b) > 0 {
			copy(b[:len(b)-1], s.task.CommOn(s.cond.CPU))
		}
		return 0, nil
	})
	registerBase(asm.FnGetCurrentCgroupId, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return s.task.CgroupID, nil
	})
	registerBase(asm.FnGetCurrentTask, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		// The kernel answers the task_struct's address, which programs pass on to
		// bpf_probe_read_kernel; the simulator has no task_struct, so it answers a value that
		// stands for the task (non-zero, the same for the same task) and that faults if used as
		// a pointer.
		return taskAddress | uint64(s.task.Pid)<<12, nil
	})
	// bpf_get_cgroup_classid: XDP programs may call it (a base helper of 6.18); it reads the
	// current task's net_cls class id.
	registerXDP(asm.FnGetCgroupClassid, func(s *xdpState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(s.r.task.ClassID), nil
	})
	// The simulated host has one NUMA node, so every CPU is on node 0 (as on the machines the
	// kernel side was measured on).
	registerBase(asm.FnGetNumaNodeId, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return 0, nil
	})
}

// taskAddress is the high part of the value bpf_get_current_task answers: a kernel direct-map
// address, which no simulator region ever has.
const taskAddress = 0xffff_8880_0000_0000

// SetTask says which task the program finds current (result.DefaultTask when never called).
func (x *XDP) SetTask(t result.Task) {
	for _, rs := range x.runStates() {
		rs.task = t
	}
}
