package device

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Set is the network devices of a simulated host, by interface index and name: what a control map
// reaches, and what `xdpsim dev` lists.
type Set struct {
	devs []*Netdev // by ifindex
}

// NewSet makes an empty set.
func NewSet() *Set { return &Set{} }

// Add puts d in the set. A device without an ifindex gets the next free one (from 2: 1 is the
// loopback's); a device without a name gets one from its profile. Names and indexes must be
// unique; a veth's peer must be added on its own.
func (s *Set) Add(d *Netdev) error {
	if d.Profile == nil {
		return fmt.Errorf("device %q has no profile", d.Name)
	}
	if d.Ifindex == 0 {
		d.Ifindex = 2
		for _, o := range s.devs {
			if o.Ifindex >= d.Ifindex {
				d.Ifindex = o.Ifindex + 1
			}
		}
	}
	if d.Name == "" {
		d.Name = d.Profile.Name
	}
	for _, o := range s.devs {
		switch {
		case o.Ifindex == d.Ifindex:
			return fmt.Errorf("device %s: ifindex %d is %s's", d.Name, d.Ifindex, o.Name)
		case o.Name == d.Name:
			return fmt.Errorf("device %s: the name is taken (ifindex %d)", d.Name, o.Ifindex)
		}
	}
	s.devs = append(s.devs, d)
	sort.Slice(s.devs, func(i, j int) bool { return s.devs[i].Ifindex < s.devs[j].Ifindex })
	return nil
}

// Put puts d in the set in place of any device with its ifindex or name.
func (s *Set) Put(d *Netdev) error {
	s.devs = slices.DeleteFunc(s.devs, func(o *Netdev) bool {
		return o != d && (o.Ifindex == d.Ifindex || o.Name == d.Name)
	})
	if slices.Contains(s.devs, d) {
		return nil
	}
	return s.Add(d)
}

// ByIndex finds a device by ifindex (nil: none).
func (s *Set) ByIndex(ifindex uint32) *Netdev {
	for _, d := range s.devs {
		if d.Ifindex == ifindex {
			return d
		}
	}
	return nil
}

// ByName finds a device by name; an unknown name is an error that lists the devices.
func (s *Set) ByName(name string) (*Netdev, error) {
	for _, d := range s.devs {
		if d.Name == name {
			return d, nil
		}
	}
	names := make([]string, len(s.devs))
	for i, d := range s.devs {
		names[i] = d.Name
	}
	return nil, fmt.Errorf("no device %q (devices: %s)", name, strings.Join(names, ", "))
}

// All lists the devices by ifindex.
func (s *Set) All() []*Netdev { return slices.Clone(s.devs) }

// Loopback is the profile of lo: no XDP features, no RX metadata, the MTU of 65536 and the limits
// of 0 (none) that Linux 6.18 reports for it.
func Loopback() *Profile {
	return &Profile{Name: "loopback", Description: "the loopback device, lo",
		Facts: DriverFacts{MTU: 65536, MaxQueues: 1, Queues: 1, RingFixed: true}}
}

// NewLoopback makes lo, ifindex 1.
func NewLoopback() *Netdev {
	d := NewNetdev(Loopback())
	d.Name, d.Ifindex = "lo", 1
	return d
}

// Builtin is the host `xdpsim dev` shows when given no state file: lo, then one device per
// profile named after it (veth as a pair, veth and its peer veth-peer), fresh with the drivers'
// defaults.
func Builtin() *Set {
	s := NewSet()
	mustAdd := func(d *Netdev) {
		if err := s.Add(d); err != nil {
			panic("device: built-in set: " + err.Error())
		}
	}
	mustAdd(NewLoopback())
	for _, name := range ProfileNames() {
		p, _ := LookupProfile(name)
		if name == "veth" {
			a, b := NewVethPair(p, "veth", "veth-peer")
			mustAdd(a)
			mustAdd(b)
			continue
		}
		mustAdd(NewNetdev(p))
	}
	return s
}
