package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/sim/result"
)

// helperFlags are the replaying commands' flags for the state that helpers and kfuncs consult
// beyond maps: the current task, the SYN cookie secret, the conntrack table, timers.
type helperFlags struct {
	task string
}

func (f *helperFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.task, "task", "", "the task programs find current (bpf_get_current_pid_tgid, _uid_gid, _comm, _cgroup_id): idle (the CPU's idle task, as on a NIC's receive path), or KEY=VALUE pairs over the default (pid=1000,tgid=1000,uid=0,gid=0,comm=xdpsim,cgroup=1,classid=0); diff uses the kernel's test-run task")
}

// apply gives the session's simulator what the flags say. With the kernel beside it, the simulator
// takes the task the kernel's test runs run in, so that both answer the same.
func (f *helperFlags) apply(s *session) error {
	task := result.DefaultTask
	if f.task != "" {
		t, err := result.ParseTask(f.task)
		if err != nil {
			return usageErr(fmt.Errorf("--task %w", err))
		}
		task = t
	}
	if s.kp != nil && s.engine.vm != nil {
		if f.task != "" {
			return usageErr(fmt.Errorf("--task: the kernel's programs run in the test run's task; diff gives the simulator that one"))
		}
		t, err := s.kp.CurrentTask()
		if err != nil {
			return err
		}
		task = t
	}
	s.x.SetTask(task)
	return nil
}
