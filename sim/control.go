package sim

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/device"
)

// The BPF_MAP_TYPE_CONTROL proposal (seed 003), behind --feature control-map: a program declares
//
//	struct {
//		__uint(type, BPF_MAP_TYPE_CONTROL);
//		__uint(map_extra, XDP_ATTR);
//		__uint(max_entries, 1);
//		__type(key, __u32);                        // ifindex
//		__type(value, struct if_xdp_attributes);   // include/xdpsim_control.h
//	} devices SEC(".maps");
//
// and reads or changes the simulated host's devices (Object.Devices) through ordinary map helpers.
// The loader checks the value the program declares against the kernel's layout (package device):
// its size must end on a member (or exceed the layout: a newer client), and its BTF members must be
// the layout's; max_entries is not used (every device is there). bpf_map_lookup_elem gives a
// read-only snapshot of the device's attributes taken at the lookup (NULL for an unknown ifindex);
// bpf_map_update_elem changes the members a program may change (the RSS key and the indirection
// table), effective from the next packet the device receives; bpf_map_delete_elem is EINVAL.

const controlNotice = "--feature control-map: BPF_MAP_TYPE_CONTROL is a 2019 proposal (Saeed Mahameed, \"BPF Control MAP\") " +
	"that never merged into Linux; modelled after its description, with ctrl_type XDP_ATTR only"

// checkControlMap applies the proposal's map creation checks to a control map's spec.
func (o *Object) checkControlMap(ms *ebpf.MapSpec) error {
	if !o.opts.Features.ControlMap {
		return fmt.Errorf("BPF_MAP_TYPE_CONTROL belongs to a proposal that never merged into Linux; enable it with --feature %s", "control-map")
	}
	l := device.Latest()
	if ms.KeySize != 4 {
		return fmt.Errorf("a control map's key is the 4-byte ifindex, not %d bytes: %w", ms.KeySize, errno.EINVAL)
	}
	if !l.ValidSize(int(ms.ValueSize)) {
		return fmt.Errorf("value size %d does not end on a member of struct %s (%d bytes): %w", ms.ValueSize, device.StructName, l.Size, errno.EINVAL)
	}
	if err := l.CheckClientType(ms.Value); err != nil {
		return fmt.Errorf("value type: %v: %w", err, errno.EINVAL)
	}
	return nil
}

// Devices is the simulated host's network devices: what control maps reach. Without SetDevices it
// holds lo, and the device an XDP program runs on once SetDevice names one.
func (o *Object) Devices() *device.Set {
	if o.devices == nil {
		o.devices = device.NewSet()
		_ = o.devices.Add(device.NewLoopback())
	}
	return o.devices
}

// SetDevices makes s the simulated host's devices.
func (o *Object) SetDevices(s *device.Set) { o.devices = s }

// controlBackend connects the object's control maps to its devices.
type controlBackend struct{ o *Object }

func (b controlBackend) dev(key []byte) *device.Netdev {
	return b.o.Devices().ByIndex(binary.LittleEndian.Uint32(key))
}

func (b controlBackend) Lookup(key, dst []byte) bool {
	d := b.dev(key)
	if d == nil {
		return false
	}
	d.Lookup(device.Latest(), dst)
	return true
}

func (b controlBackend) Update(key, val []byte, program bool) error {
	d := b.dev(key)
	if d == nil {
		return errno.ENOENT
	}
	origin := device.FromUser
	if program {
		origin = device.FromProgram
	}
	err := d.Update(device.Latest(), val, origin)
	var no errno.Errno
	if errors.As(err, &no) {
		return &controlError{err: err, no: no}
	}
	return err
}

func (b controlBackend) Keys() [][]byte {
	var keys [][]byte
	for _, d := range b.o.Devices().All() {
		keys = append(keys, binary.LittleEndian.AppendUint32(nil, d.Ifindex))
	}
	return keys
}

// controlError is a device's refusal as a map operation's errno, keeping the device's words.
type controlError struct {
	err error
	no  errno.Errno
}

func (e *controlError) Error() string { return e.err.Error() }

// As lets errors.As find the errno.Errno.
func (e *controlError) As(target any) bool {
	if t, ok := target.(*errno.Errno); ok {
		*t = e.no
		return true
	}
	return false
}

// Unwrap gives the device's error.
func (e *controlError) Unwrap() error { return e.err }

// Netdevs is the network's devices as the control interface sees them: the NICs' and veth ends'
// device models, and netkit devices whose netkit attributes the network's registry holds (a change
// of a netkit policy through them is the registry's changelink). Each takes its device's name,
// ifindex and MTU. The set is made on the first call, after every device is added; control maps
// of the topology's objects reach it.
func (n *Network) Netdevs() *device.Set {
	if n.netdevs != nil {
		return n.netdevs
	}
	s := device.NewSet()
	netkit := map[*netDev]*device.Netdev{}
	for _, d := range n.devs {
		var nd *device.Netdev
		switch d.kind {
		case KindNIC, KindVeth:
			nd = d.nic
		case KindNetkit:
			if nd = netkit[d]; nd == nil {
				info, ok := n.reg.Netkit(d.ifindex)
				p := n.byIndex[info.Peer]
				if !ok || p == nil {
					continue
				}
				prim, peer := d, p
				if !info.Primary {
					prim, peer = p, d
				}
				netkit[prim], netkit[peer] = device.NewNetkitPair(n.reg, prim.name, peer.name, prim.ifindex, peer.ifindex)
				nd = netkit[d]
			}
		}
		if nd == nil {
			continue
		}
		nd.Name, nd.Ifindex = d.name, d.ifindex
		if nd.MTU() != d.mtu {
			_ = nd.SetMTU(d.mtu)
		}
		_ = s.Add(nd)
	}
	n.netdevs = s
	return s
}
