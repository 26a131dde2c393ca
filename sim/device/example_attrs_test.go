package device_test

import (
	"encoding/binary"
	"fmt"

	"github.com/xdpsim/xdpsim/sim/device"
)

// A client finds attributes by name through the kernel's BTF, as the control map proposal's
// bpftool does, so it reaches members added after it was built; an older kernel's layout lacks
// them, and the error says what it has.
func ExampleClient() {
	p, _ := device.LookupProfile("mlx5")
	eth0 := device.NewNetdev(p)
	eth0.Name, eth0.Ifindex = "eth0", 2

	raw, _ := device.Latest().BTF()
	c, _ := device.NewClient(raw)
	val := make([]byte, c.Size())
	eth0.Lookup(device.Latest(), val)
	f, _ := c.Field("xsk-ring-size")
	_ = c.Parse(val, f, "128")
	fmt.Println(eth0.Update(device.Latest(), val, device.FromUser))
	eth0.Lookup(device.Latest(), val)
	fmt.Println(f.Name, "at", f.Offset, "=", c.Format(val, f))
	xdp, _ := c.Field("xdp_features")
	fmt.Println(xdp.Name, "=", c.Format(val, xdp))

	v1, _ := device.LayoutVersion(1)
	rawV1, _ := v1.BTF()
	old, _ := device.NewClient(rawV1)
	_, err := old.Field("xsk_ring_size")
	fmt.Println(err != nil, old.Size())
	// Output:
	// <nil>
	// xsk_ring_size at 1164 = 128
	// xdp_features = 0x2b (basic,redirect,xsk-zerocopy,rx-sg)
	// true 1136
}

// A program may change the RSS key and the indirection table, not what needs the device
// reconfigured: that is user space's.
func ExampleNetdev_Update() {
	p, _ := device.LookupProfile("ice")
	d := device.NewNetdev(p)
	d.Name = "eth1"
	l := device.Latest()
	val := d.Attributes()
	mtu, _ := l.Member("mtu")
	binary.LittleEndian.PutUint32(val[mtu.Offset:], 9000)
	fmt.Println(d.Update(l, val, device.FromProgram))
	fmt.Println(d.Update(l, val, device.FromUser), d.MTU())
	// Output:
	// eth1: mtu: changing it reconfigures the device, which a BPF program in the data path may not do; only user space may (EPERM)
	// <nil> 9000
}
