package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/topology"
)

const devUsage = `list | get DEV [ATTR...] | set DEV ATTR VALUE [ATTR VALUE...] | btf [flags]

  list                     the devices: ifindex, name, profile, MTU, RX queues, xdp-features
  get DEV [ATTR...]        every attribute of DEV, or the ones named
  set DEV ATTR VALUE...    change attributes (needs --devices FILE, which keeps them)
  btf                      the C declaration of struct if_xdp_attributes (-o FILE: its raw BTF)

Attributes are the members of struct if_xdp_attributes, the value of the BPF_MAP_TYPE_CONTROL
proposal (never merged into Linux), found by name through the simulated kernel's BTF; dashes
stand for underscores (xsk-ring-size).

flags:
`

// cmdDev reads and changes the simulated devices' attributes by member name, as the control map
// proposal's bpftool example does: through the kernel's BTF, not a layout of its own.
func cmdDev(args []string, stdout io.Writer) error {
	flags := newFlagSet("dev", devUsage, stdout)
	devices := flags.String("devices", "", "the state file of the simulated host's devices (read if it exists; set writes it); default: the built-in devices, lo and one per profile")
	topo := flags.String("topology", "", "show the devices of a topology file (NICs, veth and netkit pairs; run --topology's) instead; set is not available: a topology's devices are its file's")
	layout := flags.Int("layout", device.LatestVersion, "the simulated kernel's layout version of struct if_xdp_attributes (1 is an older kernel's, without the netdev netlink family's features)")
	asJSON := flags.Bool("json", false, "list and get print JSON")
	out := flags.StringP("output", "o", "", "btf: write the raw BTF to FILE")
	if err := parseFlags(flags, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if flags.NArg() == 0 {
		return usageErr(errors.New("need a subcommand: list, get, set or btf (see xdpsim dev --help)"))
	}
	l, err := device.LayoutVersion(*layout)
	if err != nil {
		return usageErr(fmt.Errorf("--layout: %w", err))
	}
	raw, err := l.BTF()
	if err != nil {
		return err
	}
	client, err := device.NewClient(raw)
	if err != nil {
		return err
	}
	sub, rest := flags.Arg(0), flags.Args()[1:]
	if sub == "btf" {
		if len(rest) != 0 {
			return usageErr(errors.New("btf takes no arguments"))
		}
		if *out == "" {
			_, err := io.WriteString(stdout, l.CHeader())
			return err
		}
		f, err := replay.CreateFile(*out, stdout)
		if err != nil {
			return usageErr(fmt.Errorf("-o: %w", err))
		}
		if _, err := f.Write(raw); err != nil {
			f.Abort()
			return usageErr(fmt.Errorf("-o %s: %w", *out, err))
		}
		return f.Commit()
	}
	set := device.Builtin()
	if *topo != "" {
		if *devices != "" || sub == "set" {
			return usageErr(errors.New("--topology: a topology's devices are what its file says; change them there (set keeps the attributes of a --devices state file)"))
		}
		// Loading runs nothing: let every proposal's map types and kfuncs load.
		t, err := topology.Load(*topo, sim.LoadOptions{Features: kfuncs.Features{Traits: true, ExportToSkb: true, ControlMap: true}})
		if err != nil {
			return usageErr(fmt.Errorf("--topology: %w", err))
		}
		set = t.Network.Netdevs()
	}
	if *devices != "" {
		switch s, err := device.LoadState(*devices); {
		case err == nil:
			set = s
		case errors.Is(err, fs.ErrNotExist) && sub == "set":
		default:
			return usageErr(fmt.Errorf("--devices: %w", err))
		}
	}
	c := devClient{l: l, c: client, devs: set}
	switch sub {
	case "list":
		if len(rest) != 0 {
			return usageErr(errors.New("list takes no arguments"))
		}
		return c.list(stdout, *asJSON)
	case "get":
		if len(rest) == 0 {
			return usageErr(errors.New("get needs a device (and optionally attribute names)"))
		}
		return c.get(stdout, rest[0], rest[1:], *asJSON)
	case "set":
		if len(rest) < 3 || len(rest)%2 != 1 {
			return usageErr(errors.New("set needs a device and ATTR VALUE pairs"))
		}
		if *devices == "" {
			return usageErr(errors.New("set needs --devices FILE to keep the change: the built-in devices are made afresh by every command (run reads the file with --devices)"))
		}
		return c.set(stdout, *devices, rest[0], rest[1:])
	}
	return usageErr(fmt.Errorf("unknown subcommand %q: want list, get, set or btf", sub))
}

// devClient is a control interface client: it reads the kernel side's values (Netdev.Lookup of
// the layout) and finds members through the BTF only.
type devClient struct {
	l    *device.Layout
	c    *device.Client
	devs *device.Set
}

func (c devClient) value(d *device.Netdev) []byte {
	v := make([]byte, c.c.Size())
	d.Lookup(c.l, v)
	return v
}

func (c devClient) text(d *device.Netdev, v []byte, name string) string {
	f, err := c.c.Field(name)
	if err != nil {
		return "-"
	}
	return c.c.Format(v, f)
}

func (c devClient) list(w io.Writer, asJSON bool) error {
	type row struct {
		Ifindex     uint32 `json:"ifindex"`
		Name        string `json:"name"`
		Profile     string `json:"profile"`
		Peer        string `json:"peer,omitempty"`
		MTU         string `json:"mtu"`
		RxQueues    string `json:"rx_queues"`
		XDPFeatures string `json:"xdp_features"`
	}
	var rows []row
	for _, d := range c.devs.All() {
		v := c.value(d)
		r := row{Ifindex: d.Ifindex, Name: d.Name, Profile: d.Profile.Name, MTU: c.text(d, v, "mtu"),
			RxQueues: c.text(d, v, "rx_queues"), XDPFeatures: c.text(d, v, "xdp_features")}
		if p := d.Peer(); p != nil {
			r.Peer = p.Name
		}
		rows = append(rows, r)
	}
	if asJSON {
		return writeJSON(w, rows)
	}
	fmt.Fprintf(w, "%-7s  %-10s  %-10s  %-9s  %-5s  %-9s  %s\n", "ifindex", "name", "profile", "peer", "mtu", "rx_queues", "xdp_features")
	for _, r := range rows {
		peer := r.Peer
		if peer == "" {
			peer = "-"
		}
		fmt.Fprintf(w, "%-7d  %-10s  %-10s  %-9s  %-5s  %-9s  %s\n", r.Ifindex, r.Name, r.Profile, peer, r.MTU, r.RxQueues, r.XDPFeatures)
	}
	return nil
}

func (c devClient) get(w io.Writer, name string, attrs []string, asJSON bool) error {
	d, err := c.devs.ByName(name)
	if err != nil {
		return usageErr(err)
	}
	v := c.value(d)
	var fields []device.Field
	if len(attrs) == 0 {
		fields = c.c.Fields()
	}
	for _, a := range attrs {
		f, err := c.c.Field(a)
		if err != nil {
			return usageErr(fmt.Errorf("%s: %w", d.Name, err))
		}
		fields = append(fields, f)
	}
	if asJSON {
		m := map[string]string{}
		for _, f := range fields {
			m[f.Name] = c.c.Format(v, f)
		}
		return writeJSON(w, m)
	}
	if len(attrs) == 1 {
		_, err := fmt.Fprintln(w, c.c.Format(v, fields[0]))
		return err
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%-25s %s\n", f.Name, c.c.Format(v, f))
	}
	return nil
}

func (c devClient) set(w io.Writer, path, name string, pairs []string) error {
	d, err := c.devs.ByName(name)
	if err != nil {
		return usageErr(err)
	}
	v := c.value(d)
	var fields []device.Field
	for i := 0; i < len(pairs); i += 2 {
		f, err := c.c.Field(pairs[i])
		if err != nil {
			return usageErr(fmt.Errorf("%s: %w", d.Name, err))
		}
		if err := c.c.Parse(v, f, pairs[i+1]); err != nil {
			return usageErr(fmt.Errorf("%s: %w", d.Name, err))
		}
		fields = append(fields, f)
	}
	if err := d.Update(c.l, v, device.FromUser); err != nil {
		return usageErr(err)
	}
	f, err := replay.CreateFile(path, w)
	if err != nil {
		return usageErr(fmt.Errorf("--devices: %w", err))
	}
	if err := c.devs.WriteState(f); err != nil {
		f.Abort()
		return err
	}
	if err := f.Commit(); err != nil {
		return usageErr(fmt.Errorf("--devices: %w", err))
	}
	v = c.value(d)
	for _, fl := range fields {
		fmt.Fprintf(w, "%s %s %s\n", d.Name, fl.Name, c.c.Format(v, fl))
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
