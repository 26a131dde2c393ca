//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim/result"
)

// CurrentTask measures the task BPF_PROG_TEST_RUN runs XDP programs in when [Program.Run] runs
// them on the package's shared test-run thread (see [Program.CurrentTask] for a program with a
// host of its own): it test-runs a probe program that asks bpf_get_current_pid_tgid,
// bpf_get_current_uid_gid, bpf_get_current_comm, bpf_get_current_cgroup_id and
// bpf_get_cgroup_classid, on CPU 0. The test run executes the program in the calling task, so the
// answer is the test-run thread's own identity (measured on 6.18).
func CurrentTask() (result.Task, error) {
	if err := Available(); err != nil {
		return result.Task{}, err
	}
	return measureTask(onTestHost)
}

// CurrentTask is [CurrentTask] for the thread that runs this program's test runs.
func (p *Program) CurrentTask() (result.Task, error) {
	if p.host != nil {
		return measureTask(p.host.do)
	}
	return CurrentTask()
}

// Offsets of the probe's answers in its map value.
const (
	taskPidTgid = 0
	taskUidGid  = 8
	taskCgroup  = 16
	taskClassID = 24
	taskComm    = 32
	taskValue   = 48
)

func measureTask(runOn func(cpu int, fn func() error) error) (result.Task, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: taskValue, MaxEntries: 1})
	if err != nil {
		return result.Task{}, fmt.Errorf("kernel: task probe map: %w", err)
	}
	defer m.Close()
	store := func(f asm.BuiltinFunc, off int16) asm.Instructions {
		return asm.Instructions{f.Call(), asm.StoreMem(asm.R6, off, asm.R0, asm.DWord)}
	}
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, "found"),
		asm.Return(),
		asm.Mov.Reg(asm.R6, asm.R0).WithSymbol("found"),
	}
	insns = append(insns, store(asm.FnGetCurrentPidTgid, taskPidTgid)...)
	insns = append(insns, store(asm.FnGetCurrentUidGid, taskUidGid)...)
	insns = append(insns, store(asm.FnGetCurrentCgroupId, taskCgroup)...)
	insns = append(insns, store(asm.FnGetCgroupClassid, taskClassID)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Add.Imm(asm.R1, taskComm),
		asm.Mov.Imm(asm.R2, taskValue-taskComm),
		asm.FnGetCurrentComm.Call(),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "xdpsim_task", Type: ebpf.XDP, License: "GPL", Instructions: insns})
	if err != nil {
		return result.Task{}, fmt.Errorf("kernel: task probe: %w", err)
	}
	defer prog.Close()
	err = runOn(0, func() error {
		_, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, MinPacket), Repeat: 1})
		return err
	})
	if err != nil {
		return result.Task{}, fmt.Errorf("kernel: task probe run: %w", err)
	}
	v := make([]byte, taskValue)
	if err := m.Lookup(uint32(0), &v); err != nil {
		return result.Task{}, fmt.Errorf("kernel: task probe answer: %w", err)
	}
	le := binary.LittleEndian
	pidTgid, uidGid := le.Uint64(v[taskPidTgid:]), le.Uint64(v[taskUidGid:])
	comm := v[taskComm:]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	return result.Task{
		Pid: uint32(pidTgid), Tgid: uint32(pidTgid >> 32),
		Uid: uint32(uidGid), Gid: uint32(uidGid >> 32),
		Comm:     string(comm),
		CgroupID: le.Uint64(v[taskCgroup:]),
		ClassID:  uint32(le.Uint64(v[taskClassID:])),
	}, nil
}
