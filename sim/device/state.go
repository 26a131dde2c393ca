package device

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/xdpsim/xdpsim/sim/jsonfile"
)

// A state file keeps a simulated host's devices between commands: `xdpsim dev set` writes it and
// `xdpsim run --devices` reads it. Each device is its name, profile, ifindex, veth peer and the
// writable attributes that differ from the driver's defaults, by member name in the text form of
// [Client.Format]; names, not offsets, so that a file outlives layout changes.
//
//	{
//	  "devices": [
//	    {"name": "lo", "profile": "loopback", "ifindex": 1},
//	    {"name": "eth0", "profile": "mlx5", "ifindex": 2, "attrs": {"rx_queues": "4", "mtu": "3000"}}
//	  ]
//	}

type stateFile struct {
	Devices []stateDevice `json:"devices"`
}

type stateDevice struct {
	Name    string            `json:"name"`
	Profile string            `json:"profile"`
	Ifindex uint32            `json:"ifindex"`
	Peer    string            `json:"peer,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// LoadState reads a state file. Errors name the file, the device and the attribute.
func LoadState(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f stateFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, jsonfile.Explain(b, err))
	}
	s, err := f.build()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (f *stateFile) build() (*Set, error) {
	s := NewSet()
	byName := map[string]*Netdev{}
	for i, sd := range f.Devices {
		if sd.Name == "" {
			return nil, fmt.Errorf("device %d has no name", i)
		}
		if sd.Ifindex == 0 {
			return nil, fmt.Errorf("device %s has no ifindex", sd.Name)
		}
		var p *Profile
		if sd.Profile == "loopback" {
			p = Loopback()
		} else {
			var err error
			if p, err = LookupProfile(sd.Profile); err != nil {
				return nil, fmt.Errorf("device %s: %w", sd.Name, err)
			}
		}
		d := NewNetdev(p)
		d.Name, d.Ifindex = sd.Name, sd.Ifindex
		if err := s.Add(d); err != nil {
			return nil, err
		}
		byName[d.Name] = d
	}
	for _, sd := range f.Devices {
		if sd.Peer == "" {
			continue
		}
		d, p := byName[sd.Name], byName[sd.Peer]
		switch {
		case p == nil:
			return nil, fmt.Errorf("device %s: peer %q is not in the file", sd.Name, sd.Peer)
		case d.Profile.Name != "veth" || p.Profile.Name != "veth":
			return nil, fmt.Errorf("device %s: only veth devices have peers", sd.Name)
		case p.peer != nil && p.peer != d:
			return nil, fmt.Errorf("device %s: peer %s is %s's peer", sd.Name, p.Name, p.peer.Name)
		}
		d.peer, p.peer = p, d
	}
	c := latestClient()
	for _, sd := range f.Devices {
		if len(sd.Attrs) == 0 {
			continue
		}
		if err := c.SetAll(byName[sd.Name], sd.Attrs); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SetAll changes several attributes of d by name, in one update (all or none), from user space.
func (c *Client) SetAll(d *Netdev, attrs map[string]string) error {
	val := make([]byte, c.Size())
	d.Lookup(Latest(), val)
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := c.Field(n)
		if err != nil {
			return fmt.Errorf("device %s: %w", d.Name, err)
		}
		if err := c.Parse(val, f, attrs[n]); err != nil {
			return fmt.Errorf("device %s: %w", d.Name, err)
		}
	}
	return d.Update(Latest(), val, FromUser)
}

// latestClient is a client of the newest layout's BTF.
func latestClient() *Client {
	raw, err := Latest().BTF()
	if err != nil {
		panic("device: the layout's BTF: " + err.Error())
	}
	c, err := NewClient(raw)
	if err != nil {
		panic("device: the layout's BTF: " + err.Error())
	}
	return c
}

// WriteState writes the set as a state file.
func (s *Set) WriteState(w io.Writer) error {
	var f stateFile
	c := latestClient()
	for _, d := range s.devs {
		sd := stateDevice{Name: d.Name, Profile: d.Profile.Name, Ifindex: d.Ifindex}
		if d.peer != nil {
			sd.Peer = d.peer.Name
		}
		fresh := NewNetdev(d.Profile)
		fresh.Name, fresh.Ifindex, fresh.peer = d.Name, d.Ifindex, d.peer
		cur, def := d.Attributes(), fresh.Attributes()
		for _, m := range Latest().Members {
			if m.Access == ReadOnly || (m.Name == "rss_indir" && !d.tableSet) {
				// A table nobody configured follows the queue count.
				continue
			}
			fl, err := c.Field(m.Name)
			if err != nil {
				return err
			}
			if v := c.Format(cur, fl); v != c.Format(def, fl) {
				if sd.Attrs == nil {
					sd.Attrs = map[string]string{}
				}
				sd.Attrs[m.Name] = v
			}
		}
		f.Devices = append(f.Devices, sd)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
