package result

import (
	"fmt"
	"strconv"
	"strings"
)

// Task is the task a program finds current when it asks bpf_get_current_pid_tgid,
// bpf_get_current_uid_gid, bpf_get_current_comm, bpf_get_current_cgroup_id or
// bpf_get_cgroup_classid. BPF_PROG_TEST_RUN runs an XDP program in the task that called it, so
// the kernel answers with the caller's thread and process ids, user and group, thread name and
// cgroup (measured on Linux 6.18: see kernel.CurrentTask); on a NIC's receive path the current
// task is whatever the interrupt found, usually the CPU's idle task.
type Task struct {
	// Pid is the thread id, Tgid the process id: bpf_get_current_pid_tgid is Tgid<<32 | Pid.
	Pid  uint32 `json:"pid"`
	Tgid uint32 `json:"tgid"`
	// Uid and Gid: bpf_get_current_uid_gid is Gid<<32 | Uid.
	Uid uint32 `json:"uid"`
	Gid uint32 `json:"gid"`
	// Comm is the thread's name (at most 15 bytes). For the idle task ([IdleTask]) it is
	// "swapper/N" on CPU N; IdleComm says so.
	Comm     string `json:"comm"`
	IdleComm bool   `json:"idle_comm,omitempty"`
	// CgroupID is the id of the task's cgroup v2 (1 for the root cgroup).
	CgroupID uint64 `json:"cgroup_id"`
	// ClassID is the task's net_cls class id (bpf_get_cgroup_classid), 0 outside a net_cls cgroup.
	ClassID uint32 `json:"classid"`
}

// DefaultTask is the task the simulator's programs find current unless told otherwise: a test run's
// caller with fixed, documented ids, so that runs are reproducible. It is a root process named
// "xdpsim" (thread and process 1000) in the root cgroup (id 1), outside any net_cls cgroup.
var DefaultTask = Task{Pid: 1000, Tgid: 1000, Comm: "xdpsim", CgroupID: 1}

// IdleTask is the CPU's idle task, which a NIC's receive interrupt usually finds running: pid 0,
// root, "swapper/N" on CPU N, in the root cgroup.
var IdleTask = Task{Comm: "swapper", IdleComm: true, CgroupID: 1}

// CommOn is the task's name as bpf_get_current_comm gives it on CPU cpu.
func (t Task) CommOn(cpu int) string {
	if t.IdleComm {
		return "swapper/" + strconv.Itoa(cpu)
	}
	return t.Comm
}

// ParseTask reads a task description: "idle" (IdleTask), or comma-separated KEY=VALUE pairs that
// change DefaultTask: pid, tgid, uid, gid, comm, cgroup, classid ("pid=77,tgid=70,comm=nginx").
func ParseTask(s string) (Task, error) {
	if s == "idle" {
		return IdleTask, nil
	}
	t := DefaultTask
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return t, fmt.Errorf("%q: want idle, or KEY=VALUE pairs (pid, tgid, uid, gid, comm, cgroup, classid)", kv)
		}
		if k == "comm" {
			if len(v) > 15 {
				return t, fmt.Errorf("comm %q: a task's name has at most 15 bytes", v)
			}
			t.Comm = v
			continue
		}
		n, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			return t, fmt.Errorf("%s=%q: not a number", k, v)
		}
		fits := n <= 0xffffffff
		switch k {
		case "pid":
			t.Pid = uint32(n)
		case "tgid":
			t.Tgid = uint32(n)
		case "uid":
			t.Uid = uint32(n)
		case "gid":
			t.Gid = uint32(n)
		case "classid":
			t.ClassID = uint32(n)
		case "cgroup":
			t.CgroupID, fits = n, true
		default:
			return t, fmt.Errorf("%q: unknown key (want pid, tgid, uid, gid, comm, cgroup, classid)", k)
		}
		if !fits {
			return t, fmt.Errorf("%s=%s does not fit in 32 bits", k, v)
		}
	}
	return t, nil
}
