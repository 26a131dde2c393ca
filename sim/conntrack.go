package sim

import (
	"fmt"

	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
)

// The simulated host's connection tracking table, which the conntrack kfuncs (package kfuncs)
// consult and change: one per simulated host, as the kernel has one per network namespace, so
// that an XDP program and the tc programs behind it (which share the host) share it. It is made on
// first use, its entries laid out as the kernel BTF the object is relocated against lays out
// struct nf_conn.

// Conntrack is the table of the run's network namespace (kfuncs.Netns).
func (s *runState) Conntrack() (*conntrack.Table, error) {
	if s.host.ct != nil {
		return s.host.ct, nil
	}
	spec, err := s.obj.kernelBTF()
	if err != nil {
		return nil, err
	}
	l, err := conntrack.LayoutFromBTF(spec)
	if err != nil {
		return nil, fmt.Errorf("conntrack: %w", err)
	}
	s.host.ct = conntrack.NewTable(l, jiffiesHZ)
	if s.begun {
		s.host.ct.BeginRun(s.jiffies())
	}
	return s.host.ct, nil
}

// jiffies is the virtual clock in the ticks bpf_jiffies64 counts.
func (s *runState) jiffies() uint64 { return s.cond.TimeNs / (1e9 / jiffiesHZ) }

// Conntrack is the simulated host's connection tracking table: preload it before the run
// (conntrack.Table.Preload), dump it after (Dump).
func (x *XDP) Conntrack() (*conntrack.Table, error) { return x.rs.Conntrack() }

// Conntrack is the table of the tc programs' simulated host (shared with the XDP program they
// sit behind).
func (t *TC) Conntrack() (*conntrack.Table, error) { return t.stages[0].rs.Conntrack() }
