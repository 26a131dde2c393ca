package kernel_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// taskSpec writes what the current-task helpers and bpf_get_numa_node_id answer into the packet:
// pid_tgid at 0, uid_gid at 8, cgroup id at 16, classid at 24, numa node at 32, comm at 40..56.
func taskSpec() *ebpf.CollectionSpec {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R9, asm.R1),
		asm.LoadMem(asm.R6, asm.R9, 0, asm.Word), // data
		asm.LoadMem(asm.R7, asm.R9, 4, asm.Word), // data_end
		asm.Mov.Reg(asm.R2, asm.R6),
		asm.Add.Imm(asm.R2, 56),
		asm.JLE.Reg(asm.R2, asm.R7, "room"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
	}
	first := true
	store := func(f asm.BuiltinFunc, off int16) {
		call := f.Call()
		if first {
			call = call.WithSymbol("room")
			first = false
		}
		insns = append(insns, call, asm.StoreMem(asm.R6, off, asm.R0, asm.DWord))
	}
	store(asm.FnGetCurrentPidTgid, 0)
	store(asm.FnGetCurrentUidGid, 8)
	store(asm.FnGetCurrentCgroupId, 16)
	store(asm.FnGetCgroupClassid, 24)
	store(asm.FnGetNumaNodeId, 32)
	insns = append(insns,
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, -16),
		asm.Mov.Imm(asm.R2, 16),
		asm.FnGetCurrentComm.Call(),
		asm.LoadMem(asm.R1, asm.R10, -16, asm.DWord),
		asm.StoreMem(asm.R6, 40, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R10, -8, asm.DWord),
		asm.StoreMem(asm.R6, 48, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	)
	return &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"task": {Name: "task", Type: ebpf.XDP, License: "GPL", Instructions: insns},
	}}
}

// The kernel runs a test run in the calling task: the helpers that ask about the current task
// answer with the test-run thread's identity. The simulator, told that task, answers the same.
func TestCurrentTaskHelpersAgreeWithTheTestRunsTask(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	task, err := kernel.CurrentTask()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the test runs run in %+v", task)
	t.Run("the task is the test process's own thread", func(t *testing.T) {
		if task.Tgid != uint32(os.Getpid()) {
			t.Errorf("tgid %d, want this process's pid %d", task.Tgid, os.Getpid())
		}
		if task.Uid != uint32(os.Getuid()) || task.Gid != uint32(os.Getgid()) {
			t.Errorf("uid %d gid %d, want %d and %d", task.Uid, task.Gid, os.Getuid(), os.Getgid())
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", os.Getpid(), task.Pid))
		if err != nil {
			t.Fatalf("thread %d is not a thread of this process: %v", task.Pid, err)
		}
		if got := strings.TrimSpace(string(comm)); got != task.Comm {
			t.Errorf("comm %q, want the thread's name %q", task.Comm, got)
		}
		if task.CgroupID == 0 {
			t.Error("cgroup id 0: every task is in a cgroup v2 (the root one is 1)")
		}
	})
	t.Run("the simulator given that task answers as the kernel does", func(t *testing.T) {
		kp, err := kernel.LoadSpec("task", taskSpec(), kernel.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer kp.Close()
		o, err := sim.LoadSpec("task", taskSpec(), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.FindProgram("task")
		if err != nil {
			t.Fatal(err)
		}
		x, err := sim.NewXDP(p)
		if err != nil {
			t.Fatal(err)
		}
		x.SetTask(task)
		pkt := make([]byte, 64)
		k := kp.Run(pkt, nil, kernel.Context{})
		s := x.Run(pkt, nil, sim.Conditions{})
		if k.Err != "" || s.Err != "" {
			t.Fatalf("kernel %q, simulator %q", k.Err, s.Err)
		}
		le := binary.LittleEndian
		if got := le.Uint64(k.Data); got != uint64(task.Tgid)<<32|uint64(task.Pid) {
			t.Errorf("kernel's pid_tgid %#x is not the measured task's", got)
		}
		if !bytes.Equal(s.Data, k.Data) {
			t.Errorf("simulator wrote\n%x\nkernel wrote\n%x", s.Data[:56], k.Data[:56])
		}
	})
	t.Run("without a task the simulator answers its documented default", func(t *testing.T) {
		o, err := sim.LoadSpec("task", taskSpec(), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := o.FindProgram("task")
		x, _ := sim.NewXDP(p)
		s := x.Run(make([]byte, 64), nil, sim.Conditions{CPU: 0})
		le := binary.LittleEndian
		d := result.DefaultTask
		if le.Uint64(s.Data) != uint64(d.Tgid)<<32|uint64(d.Pid) || le.Uint64(s.Data[16:]) != d.CgroupID ||
			!bytes.HasPrefix(s.Data[40:], []byte(d.Comm+"\x00")) {
			t.Errorf("simulator wrote %x, not result.DefaultTask %+v", s.Data[:56], d)
		}
	})
}
