package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/syncookie"
)

// helperFlags are the replaying commands' flags for the state that helpers and kfuncs consult
// beyond maps: the current task, the SYN cookie secret, the conntrack table.
type helperFlags struct {
	task          string
	cookieSecret  string
	conntrackIn   string
	conntrackDump string
}

func (f *helperFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.task, "task", "", "the task programs find current (bpf_get_current_pid_tgid, _uid_gid, _comm, _cgroup_id): idle (the CPU's idle task, as on a NIC's receive path), or KEY=VALUE pairs over the default (pid=1000,tgid=1000,uid=0,gid=0,comm=xdpsim,cgroup=1,classid=0); diff uses the kernel's test-run task")
	fs.StringVar(&f.cookieSecret, "syncookie-secret", "", "the SYN cookie keys as 64 bytes of hex (default: derived from --seed); the kernel's are random, so diff cannot compare cookies")
	fs.StringVar(&f.conntrackIn, "conntrack-in", "", "preload the simulated conntrack table from a JSON list of entries, shaped as --conntrack writes them")
	fs.StringVar(&f.conntrackDump, "conntrack", "", "write the simulated conntrack table after the run to FILE as JSON (- for stdout)")
}

// helperState is what the flags set, on an XDP program or on tc programs alone.
type helperState interface {
	SetTask(result.Task)
	SetSyncookieSecret(syncookie.Secret)
	Conntrack() (*conntrack.Table, error)
}

// target is the simulator the flags act on: the XDP program (whose tc ingress programs share its
// host and so its conntrack table), or the tc programs run alone.
func (s *session) helperTarget() helperState {
	switch {
	case s.x != nil:
		return s.x
	case s.tc != nil:
		return s.tc
	}
	return nil // not a nil pointer in an interface, which apply's check would let through
}

// apply gives the session's simulator what the flags say. With the kernel beside it, the simulator
// takes the task the kernel's test runs run in, so that both answer the same.
func (f *helperFlags) apply(s *session) error {
	h := s.helperTarget()
	if h == nil {
		return nil
	}
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
			return usageErr(errors.New("--task: the kernel's programs run in the test run's task; diff gives the simulator that one"))
		}
		t, err := s.kp.CurrentTask()
		if err != nil {
			return err
		}
		task = t
	}
	h.SetTask(task)
	if s.x != nil && s.tc != nil {
		s.tc.SetTask(task) // the tc programs behind XDP
	}
	if f.cookieSecret != "" {
		sec, err := syncookie.ParseSecret(f.cookieSecret)
		if err != nil {
			return usageErr(fmt.Errorf("--syncookie-secret: %w", err))
		}
		h.SetSyncookieSecret(sec)
		if s.x != nil && s.tc != nil {
			s.tc.SetSyncookieSecret(sec)
		}
	}
	if f.conntrackIn != "" {
		if s.kp != nil {
			return usageErr(errors.New("--conntrack-in: the kernel's conntrack table cannot be preloaded; run the simulator alone"))
		}
		var recs []conntrack.Record
		if err := readJSON(f.conntrackIn, &recs); err != nil {
			return usageErr(fmt.Errorf("--conntrack-in: %w", err))
		}
		t, err := h.Conntrack()
		if err != nil {
			return err
		}
		if err := t.Preload(recs); err != nil {
			return usageErr(fmt.Errorf("--conntrack-in %s: %w", f.conntrackIn, err))
		}
	}
	return nil
}

// sinks adds the conntrack dump to the loop's outputs.
func (f *helperFlags) sinks(s *session, stdout io.Writer) error {
	if f.conntrackDump == "" {
		return nil
	}
	if s.engine.kernel {
		s.loop.Abort()
		return usageErr(errors.New("--conntrack: the table is the simulator's; the kernel's cannot be dumped"))
	}
	out, err := replay.CreateFile(f.conntrackDump, stdout)
	if err != nil {
		s.loop.Abort()
		return usageErr(fmt.Errorf("--conntrack: %w", err))
	}
	s.loop.Sinks = append(s.loop.Sinks, &conntrackOut{x: s.helperTarget(), out: out})
	return nil
}

// conntrackOut writes the simulated conntrack table after the last packet.
type conntrackOut struct {
	x    helperState
	out  *replay.File
	dump []byte
}

func (c *conntrackOut) Packet(*replay.Packet) error { return nil }

func (c *conntrackOut) Finish(*replay.Loop) error {
	t, err := c.x.Conntrack()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(t.Dump(), "", "  ")
	c.dump = append(b, '\n')
	return err
}

func (c *conntrackOut) Commit() error {
	if _, err := c.out.Write(c.dump); err != nil {
		c.out.Abort()
		return err
	}
	return c.out.Commit()
}

func (c *conntrackOut) Abort() { c.out.Abort() }

// cookieNotice warns, for diff, that a program making SYN cookies cannot agree with the kernel on
// them: the kernel's cookie secret is random (net_get_random_once), the simulator's follows
// --syncookie-secret or --seed. "" for a program that makes none.
func cookieNotice(p *sim.Program) string {
	var makers []string
	for _, ins := range p.Insns {
		if !ins.IsBuiltinCall() {
			continue
		}
		switch fn := asm.BuiltinFunc(ins.Constant); fn {
		case asm.FnTcpRawGenSyncookieIpv4, asm.FnTcpRawGenSyncookieIpv6, asm.FnTcpGenSyncookie:
			if name := sim.HelperName(int32(fn)); !slices.Contains(makers, name) {
				makers = append(makers, name)
			}
		}
	}
	if len(makers) == 0 {
		return ""
	}
	return fmt.Sprintf("program %s makes SYN cookies (%s): the kernel's cookie secret is random, so the cookies it sends, and the checksums over them, differ from the simulator's (--syncookie-secret, or derived from --seed); the kernel's tests compare them masked",
		p.Name, strings.Join(makers, ", "))
}
