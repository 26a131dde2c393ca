package device

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
)

func mustNetdev(t testing.TB, profile string) *Netdev {
	t.Helper()
	d := NewNetdev(mustProfile(t, profile))
	d.Name, d.Ifindex = profile, 2
	return d
}

func mustLayout(t testing.TB, v int) *Layout {
	t.Helper()
	l, err := LayoutVersion(v)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustClient(t testing.TB, l *Layout) *Client {
	t.Helper()
	raw, err := l.BTF()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setText changes one member of d by name, from user space, through a BTF client of layout l.
func setText(t testing.TB, d *Netdev, l *Layout, name, text string, origin Origin) error {
	t.Helper()
	c := mustClient(t, l)
	val := make([]byte, l.Size)
	d.Lookup(l, val)
	f, err := c.Field(name)
	if err != nil {
		return err
	}
	if err := c.Parse(val, f, text); err != nil {
		return err
	}
	return d.Update(l, val, origin)
}

func getText(t testing.TB, d *Netdev, name string) string {
	t.Helper()
	c := mustClient(t, Latest())
	f, err := c.Field(name)
	if err != nil {
		t.Fatal(err)
	}
	return c.Format(d.Attributes(), f)
}

func TestTheLayoutGrowsOnlyAtItsEnd(t *testing.T) {
	t.Run("every member sits at its natural alignment, in order, without overlap", func(t *testing.T) {
		end := 0
		for _, m := range Latest().Members {
			if m.Offset%m.Elem != 0 || m.Offset < end {
				t.Errorf("%s at %d (previous end %d, element %d)", m.Name, m.Offset, end, m.Elem)
			}
			end = m.Offset + m.Size()
		}
		if end != Latest().Size {
			t.Errorf("members end at %d, the layout is %d bytes", end, Latest().Size)
		}
	})
	for v, size := range map[int]int{1: 1136, 2: 1168, 3: 1192} {
		if l := mustLayout(t, v); l.Size != size {
			t.Errorf("version %d is %d bytes, want %d", v, l.Size, size)
		}
	}
	for v := 1; v < LatestVersion; v++ {
		t.Run("version "+strconv.Itoa(v)+" is a prefix of version "+strconv.Itoa(v+1)+", member for member", func(t *testing.T) {
			old, next := mustLayout(t, v), mustLayout(t, v+1)
			for i, m := range old.Members {
				if next.Members[i] != m {
					t.Errorf("member %d differs: %s vs %s", i, m.Name, next.Members[i].Name)
				}
			}
			for _, m := range next.Members[len(old.Members):] {
				if m.Offset < old.Size || m.Version != v+1 {
					t.Errorf("%s (version %d) at %d, inside version %d", m.Name, m.Version, m.Offset, v)
				}
			}
		})
	}
	t.Run("there is no version 0 or 4", func(t *testing.T) {
		for _, v := range []int{0, 4} {
			if _, err := LayoutVersion(v); err == nil {
				t.Errorf("version %d exists", v)
			}
		}
	})
}

func TestTheBTFDescribesTheLayout(t *testing.T) {
	for _, v := range []int{1, 2} {
		l := mustLayout(t, v)
		t.Run("a client reading version "+strconv.Itoa(v)+"'s BTF finds every member where the layout has it", func(t *testing.T) {
			c := mustClient(t, l)
			if c.Size() != l.Size {
				t.Fatalf("BTF size %d, layout %d", c.Size(), l.Size)
			}
			fields := c.Fields()
			if len(fields) != len(l.Members) {
				t.Fatalf("%d fields, %d members", len(fields), len(l.Members))
			}
			for i, m := range l.Members {
				f := fields[i]
				if f.Name != m.Name || f.Offset != m.Offset || f.Elem != m.Elem || f.Count != m.Count {
					t.Errorf("field %+v, member %s at %d (%d x %d)", f, m.Name, m.Offset, m.Elem, m.Count)
				}
			}
		})
	}
	t.Run("the committed header is what the layout generates", func(t *testing.T) {
		b, err := os.ReadFile("include/xdpsim_control.h")
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != Latest().CHeader() {
			t.Error("include/xdpsim_control.h is stale: run go generate ./sim/device")
		}
	})
	t.Run("the header declares every member with its C type, size and offset", func(t *testing.T) {
		h := Latest().CHeader()
		for _, m := range Latest().Members {
			decl := m.CType() + " " + m.Name
			if m.Count > 0 {
				decl += "[" + strconv.Itoa(m.Count) + "]"
			}
			if !strings.Contains(h, "\t"+decl+";") {
				t.Errorf("no declaration %q", decl)
			}
		}
	})
}

func TestClientTypesAreCheckedAgainstTheLayout(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	st := func(members ...btf.Member) *btf.Struct {
		return &btf.Struct{Name: StructName, Size: 8, Members: members}
	}
	cases := []struct {
		name string
		typ  btf.Type
		err  string
	}{
		{"the newest layout passes", Latest().Struct(), ""},
		{"the first layout passes: a client of an older layout", mustLayout(t, 1).Struct(), ""},
		{"a prefix of the first members passes", st(btf.Member{Name: "ifindex", Type: u32}, btf.Member{Name: "peer_ifindex", Type: u32, Offset: 32}), ""},
		{"a member past the layout belongs to a newer kernel and passes",
			&btf.Struct{Name: StructName, Size: uint32(Latest().Size + 8), Members: append(Latest().Struct().Members, btf.Member{Name: "future", Type: u32, Offset: btf.Bits(8 * Latest().Size)})}, ""},
		{"no BTF passes", nil, ""},
		{"a member at the wrong offset is refused", st(btf.Member{Name: "mtu", Type: u32}), "member mtu is 4 bytes at offset 0; the kernel's is 4 bytes at 8"},
		{"a member of the wrong size is refused", st(btf.Member{Name: "ifindex", Type: &btf.Int{Name: "long", Size: 8}}), "member ifindex is 8 bytes at offset 0; the kernel's is 4 bytes at 0"},
		{"an unknown member is refused with the kernel's members", st(btf.Member{Name: "speed", Type: u32}), `has no member "speed"; it has: ifindex, peer_ifindex, mtu`},
		{"another struct is refused", &btf.Struct{Name: "attrs", Size: 4}, "not struct if_xdp_attributes"},
		{"a scalar is refused", u32, "not struct if_xdp_attributes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Latest().CheckClientType(c.typ)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("error %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}

// The proposal's forward compatibility: "any extension should be done to the end of any value
// structure and on lookup we will only copy the size that the user already recognizes".
func TestClientsOfOlderAndNewerLayoutsWork(t *testing.T) {
	v1, v2 := mustLayout(t, 1), mustLayout(t, 2)
	d := mustNetdev(t, "mlx5")
	if err := setText(t, d, v2, "xsk_ring_size", "512", FromUser); err != nil {
		t.Fatal(err)
	}
	// A kernel of layout version 2 here, for its clients of version 1 (older) and 3 (newer).
	full := make([]byte, v2.Size)
	d.Lookup(v2, full)

	t.Run("a lookup of the old size copies exactly the old prefix", func(t *testing.T) {
		old := bytes.Repeat([]byte{0xaa}, v1.Size)
		d.Lookup(v2, old)
		if !bytes.Equal(old, full[:v1.Size]) {
			t.Error("the prefix differs from the full value's")
		}
	})
	t.Run("a lookup of a size between members copies the whole members it holds and the start of the next", func(t *testing.T) {
		b := bytes.Repeat([]byte{0xaa}, 10)
		d.Lookup(v2, b)
		if !bytes.Equal(b, full[:10]) {
			t.Errorf("% x, want % x", b, full[:10])
		}
	})
	t.Run("a newer client's lookup gets zeros past what the kernel knows", func(t *testing.T) {
		big := bytes.Repeat([]byte{0xaa}, v2.Size+16)
		d.Lookup(v2, big)
		if !bytes.Equal(big[:v2.Size], full) || !bytes.Equal(big[v2.Size:], make([]byte, 16)) {
			t.Error("not the value followed by zeros")
		}
	})
	t.Run("an old client's update changes what it knows and leaves the newer members alone", func(t *testing.T) {
		val := make([]byte, v1.Size)
		d.Lookup(v2, val)
		le.PutUint32(val[mustMember(t, v1, "rx_queues").Offset:], 4)
		if err := d.Update(v2, val, FromUser); err != nil {
			t.Fatal(err)
		}
		if got := getText(t, d, "rx_queues"); got != "4" {
			t.Errorf("rx_queues %s", got)
		}
		if got := getText(t, d, "xsk_ring_size"); got != "512" {
			t.Errorf("xsk_ring_size %s, want it untouched at 512", got)
		}
	})
	t.Run("a newer client's update with zeros past the layout is taken", func(t *testing.T) {
		val := make([]byte, v2.Size+8)
		d.Lookup(v2, val)
		if err := d.Update(v2, val, FromUser); err != nil {
			t.Error(err)
		}
	})
	t.Run("a newer client's update with anything else past the layout is E2BIG", func(t *testing.T) {
		val := make([]byte, v2.Size+8)
		d.Lookup(v2, val)
		val[v2.Size+3] = 1
		err := d.Update(v2, val, FromUser)
		if !errors.Is(err, syscall.E2BIG) || !strings.Contains(err.Error(), "byte 1171 is past the 1168 bytes") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("an update that ends inside a member is EINVAL", func(t *testing.T) {
		val := make([]byte, 10)
		d.Lookup(v2, val)
		if err := d.Update(v2, val, FromUser); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("a client that finds members by name reaches one added after it was built", func(t *testing.T) {
		// The proposal's bpftool example: "bpftool xdp set eth0 xsk-ring-size 128" by a bpftool
		// older than the member: it reads the offset from the kernel's BTF.
		if err := setText(t, d, v2, "xsk-ring-size", "128", FromUser); err != nil {
			t.Fatal(err)
		}
		if got := getText(t, d, "xsk_ring_size"); got != "128" {
			t.Errorf("xsk_ring_size %s", got)
		}
	})
	t.Run("on an older kernel the same name is an error naming what exists", func(t *testing.T) {
		err := setText(t, d, v1, "xsk-ring-size", "128", FromUser)
		var ue *UnknownFieldError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), `the kernel's struct if_xdp_attributes (1136 bytes) has no member "xsk-ring-size"; it has: ifindex, peer_ifindex, mtu,`) ||
			!strings.HasSuffix(err.Error(), "rss_key, rss_indir") {
			t.Errorf("error %v", err)
		}
		_, err = v1.Member("xsk_ring_size")
		if err == nil || !strings.Contains(err.Error(), "layout version 1, 1136 bytes") {
			t.Errorf("Member: %v", err)
		}
	})
	t.Run("an old kernel's lookup fills only its own layout", func(t *testing.T) {
		b := bytes.Repeat([]byte{0xaa}, v2.Size)
		d.Lookup(v1, b)
		if !bytes.Equal(b[v1.Size:], make([]byte, v2.Size-v1.Size)) {
			t.Error("bytes past the old layout are not zero")
		}
	})
}

func mustMember(t testing.TB, l *Layout, name string) *Member {
	t.Helper()
	m, err := l.Member(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUpdatesFollowWhoMayChangeWhat(t *testing.T) {
	cases := []struct {
		name, member, value string
		origin              Origin
		errno               syscall.Errno
	}{
		{"a read-only member is EACCES for user space", "max_mtu", "100", FromUser, syscall.EACCES},
		{"a read-only member is EACCES for a program", "xdp_features", "0", FromProgram, syscall.EACCES},
		{"the MTU is user space's to change", "mtu", "3000", FromUser, 0},
		{"a program asking for an MTU change gets EPERM", "mtu", "3000", FromProgram, syscall.EPERM},
		{"a program asking for more queues gets EPERM", "rx_queues", "2", FromProgram, syscall.EPERM},
		{"a program may change the RSS key", "rss_key", "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627", FromProgram, 0},
		{"a program may change the indirection table", "rss_indir", "0,0,0", FromProgram, 0},
		{"an MTU above the device's maximum is EINVAL", "mtu", "9979", FromUser, syscall.EINVAL},
		{"an MTU below its minimum is EINVAL", "mtu", "67", FromUser, syscall.EINVAL},
		{"more queues than the device has is EINVAL", "rx_queues", "65", FromUser, syscall.EINVAL},
		{"a table entry naming a queue the device lacks is EINVAL", "rss_indir", "0,1", FromProgram, syscall.EINVAL},
		{"a key longer than the device's is EINVAL", "rss_key", strings.Repeat("01", 41), FromProgram, syscall.EINVAL},
		{"a ring above the maximum is EINVAL", "rx_ring_size", "8193", FromUser, syscall.EINVAL},
		{"an AF_XDP ring size that is not a power of two is EINVAL", "xsk_ring_size", "1000", FromUser, syscall.EINVAL},
		{"an offload the device does not have is EOPNOTSUPP", "offloads", "4", FromUser, syscall.EOPNOTSUPP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustNetdev(t, "mlx5")
			before := d.Attributes()
			err := setText(t, d, Latest(), c.member, c.value, c.origin)
			if c.errno == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.errno) {
				t.Fatalf("error %v, want %s", err, errno.Errno(c.errno).Name())
			}
			if !strings.Contains(err.Error(), "mlx5: "+c.member+": ") {
				t.Errorf("error %q does not name the device and the member", err)
			}
			if !bytes.Equal(d.Attributes(), before) {
				t.Error("a refused update changed the device")
			}
		})
	}
	t.Run("an update is all or nothing", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		c := mustClient(t, Latest())
		val := d.Attributes()
		for _, kv := range [][2]string{{"mtu", "3000"}, {"rx_queues", "2"}, {"rx_ring_size", "99999"}} {
			f, _ := c.Field(kv[0])
			if err := c.Parse(val, f, kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		before := d.Attributes()
		if err := d.Update(Latest(), val, FromUser); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("error %v", err)
		}
		if !bytes.Equal(d.Attributes(), before) {
			t.Error("the MTU and queues changed although the ring size was refused")
		}
	})
	t.Run("a device without RSS refuses a key or a table", func(t *testing.T) {
		d := mustNetdev(t, "veth")
		if err := setText(t, d, Latest(), "rss_key", "01", FromProgram); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("key: %v", err)
		}
		if err := setText(t, d, Latest(), "rss_indir", "0,0", FromProgram); err != nil {
			t.Errorf("an all-zero table is no change: %v", err)
		}
	})
}

func TestWritesChangeWhatTheDeviceDoesWithLaterFrames(t *testing.T) {
	v := msVectors[0]
	tcp := eth(0x0800, ipv4(v, protoTCP, 0, 0))
	tagged := eth(0x0800, ipv4(v, protoTCP, 0, 0), 0x8100, 0x6064)
	t.Run("a new RSS key changes the hash and the queue", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		if err := setText(t, d, Latest(), "rx_queues", "4", FromUser); err != nil {
			t.Fatal(err)
		}
		if rx := d.Receive(tcp, 1); rx.Hints.Hash != v.withPort || rx.Queue != int(v.withPort%256)%4 {
			t.Fatalf("hash %#x queue %d with Microsoft's key", rx.Hints.Hash, rx.Queue)
		}
		key := bytes.Repeat([]byte{0x6d, 0x5a}, 20)
		if err := setText(t, d, Latest(), "rss_key", hexOf(key), FromProgram); err != nil {
			t.Fatal(err)
		}
		want := Toeplitz(key, v.input(true))
		if rx := d.Receive(tcp, 1); rx.Hints.Hash != want || rx.Queue != int(want%256)%4 {
			t.Errorf("hash %#x queue %d, want %#x and %d", rx.Hints.Hash, rx.Queue, want, int(want%256)%4)
		}
	})
	t.Run("a new indirection table moves the hash's entry to another queue", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		if err := setText(t, d, Latest(), "rx_queues", "4", FromUser); err != nil {
			t.Fatal(err)
		}
		if err := setText(t, d, Latest(), "rss_indir", "equal 2", FromProgram); err != nil {
			t.Fatal(err)
		}
		if rx := d.Receive(tcp, 1); rx.Queue != int(v.withPort%256)%2 {
			t.Errorf("queue %d, want %d", rx.Queue, int(v.withPort%256)%2)
		}
	})
	t.Run("fewer queues re-spread the default table", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		for _, q := range []string{"8", "3"} {
			if err := setText(t, d, Latest(), "rx_queues", q, FromUser); err != nil {
				t.Fatal(err)
			}
		}
		if got := getText(t, d, "rss_indir"); got != "equal 3 (256 entries)" {
			t.Errorf("rss_indir %s", got)
		}
	})
	t.Run("fewer queues than a configured table names is EINVAL", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		if err := setText(t, d, Latest(), "rx_queues", "4", FromUser); err != nil {
			t.Fatal(err)
		}
		if err := setText(t, d, Latest(), "rss_indir", "3,2,1,0", FromUser); err != nil {
			t.Fatal(err)
		}
		err := setText(t, d, Latest(), "rx_queues", "2", FromUser)
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "entry 0 names queue 3, and the device has 2 RX queues") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("VLAN stripping switched off leaves the tag in the frame, with no data for rx_vlan_tag", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		if rx := d.Receive(tagged, 1); len(rx.Frame) != len(tagged)-4 || rx.Hints.Valid&kfuncs.HintVLANTag == 0 {
			t.Fatal("mlx5 does not strip by default")
		}
		if err := setText(t, d, Latest(), "offloads", "0", FromUser); err != nil {
			t.Fatal(err)
		}
		rx := d.Receive(tagged, 1)
		if len(rx.Frame) != len(tagged) || rx.Hints.Valid&kfuncs.HintVLANTag != 0 || rx.Hints.Supported&kfuncs.HintVLANTag == 0 {
			t.Errorf("frame %d bytes, hints %+v", len(rx.Frame), rx.Hints)
		}
	})
	t.Run("veth cannot strip: its frames come as skbs from the peer", func(t *testing.T) {
		d := mustNetdev(t, "veth")
		if err := setText(t, d, Latest(), "offloads", "1", FromUser); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("error %v", err)
		}
	})
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// The xdp-features each simulated driver reports, without and with an XDP program (for veth: on
// its peer), from the drivers' xdp_set_features_flag and xdp_features_set_redirect_target calls
// (veth as measured on Linux 6.18 by package kernel's tests).
func TestEachDriverDeclaresItsXDPFeatures(t *testing.T) {
	cases := []struct {
		profile    string
		idle, prog XDPAct
		rxMeta     kfuncs.Hint
		xsk        XSKFlags
		zc         uint32
	}{
		{"veth", XDPActBasic | XDPActRedirect | XDPActRxSG, XDPActBasic | XDPActRedirect | XDPActRxSG | XDPActNdoXmit | XDPActNdoXmitSG,
			kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag, 0, 0},
		{"mlx5", XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActRxSG, XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActRxSG | XDPActNdoXmit | XDPActNdoXmitSG,
			kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag, XSKTxTimestamp | XSKTxChecksum, 1},
		{"ice", XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActRxSG, XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActRxSG | XDPActNdoXmit | XDPActNdoXmitSG,
			kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag, 0, 8},
		{"igc", XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy, XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActNdoXmit,
			kfuncs.HintTimestamp | kfuncs.HintHash, XSKTxTimestamp | XSKTxLaunchTime, 1},
		{"virtio_net", XDPActBasic | XDPActRedirect | XDPActRxSG, XDPActBasic | XDPActRedirect | XDPActRxSG | XDPActNdoXmit | XDPActNdoXmitSG,
			kfuncs.HintHash, 0, 0},
		{"none", 0, 0, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.profile+" reports its driver's features", func(t *testing.T) {
			d := mustNetdev(t, c.profile)
			target := d
			if c.profile == "veth" {
				d, target = NewVethPair(mustProfile(t, "veth"), "a", "b")
			}
			if got := d.XDPFeatures(); got != c.idle {
				t.Errorf("without a program %#x %v, want %#x", uint64(got), got.Names(), uint64(c.idle))
			}
			if err := target.AttachXDP(&XDPProgram{}); err != nil {
				t.Fatal(err)
			}
			if got := d.XDPFeatures(); got != c.prog {
				t.Errorf("with a program %#x %v, want %#x", uint64(got), got.Names(), uint64(c.prog))
			}
			if d.RxMetadataFeatures() != c.rxMeta || d.XSKFeatures() != c.xsk {
				t.Errorf("rx metadata %v, xsk %v", d.RxMetadataFeatures(), d.XSKFeatures())
			}
			if got := getText(t, d, "xdp_zc_max_segs"); got != strconv.Itoa(int(c.zc)) {
				t.Errorf("xdp_zc_max_segs %s, want %d", got, c.zc)
			}
		})
	}
	t.Run("GRO on a veth's peer makes the veth a redirect target", func(t *testing.T) {
		a, b := NewVethPair(mustProfile(t, "veth"), "a", "b")
		if err := setText(t, b, Latest(), "offloads", "4", FromUser); err != nil {
			t.Fatal(err)
		}
		if a.XDPFeatures()&XDPActNdoXmit == 0 || b.XDPFeatures()&XDPActNdoXmit != 0 {
			t.Errorf("a %v, b %v", a.XDPFeatures().Names(), b.XDPFeatures().Names())
		}
	})
	t.Run("a veth whose peer has more TX queues than it has RX queues reports no features", func(t *testing.T) {
		a, b := NewVethPair(mustProfile(t, "veth"), "a", "b")
		if err := setText(t, b, Latest(), "tx_queues", "2", FromUser); err != nil {
			t.Fatal(err)
		}
		if a.XDPFeatures() != 0 || b.XDPFeatures() == 0 {
			t.Errorf("a %v, b %v", a.XDPFeatures().Names(), b.XDPFeatures().Names())
		}
	})
	t.Run("the features print with their netlink names", func(t *testing.T) {
		if got := getText(t, mustNetdev(t, "igc"), "xdp_features"); got != "0xb (basic,redirect,xsk-zerocopy)" {
			t.Errorf("xdp_features %s", got)
		}
		if got := getText(t, mustNetdev(t, "igc"), "xsk_features"); got != "0x5 (tx-timestamp,tx-launch-time-fifo)" {
			t.Errorf("xsk_features %s", got)
		}
	})
}

// The MTU limits XDP imposes: each driver's linear-buffer limit for programs without frags
// support, the errno of its refusal, and veth's limit on the peer (measured on Linux 6.18).
func TestXDPLimitsTheMTU(t *testing.T) {
	cases := []struct {
		profile string
		limit   uint32
		errno   syscall.Errno
		frags   bool // a frags-aware program lifts the limit
	}{
		{"mlx5", 3498, syscall.EINVAL, true},
		{"ice", 3046, syscall.EOPNOTSUPP, true},
		{"igc", 1500, syscall.EOPNOTSUPP, false},
		{"virtio_net", 3506, syscall.EINVAL, true},
	}
	for _, c := range cases {
		t.Run(c.profile+" refuses a program without frags support above its limit", func(t *testing.T) {
			d := mustNetdev(t, c.profile)
			if err := setText(t, d, Latest(), "mtu", strconv.Itoa(int(c.limit)+1), FromUser); err != nil {
				t.Fatal(err)
			}
			err := d.AttachXDP(&XDPProgram{})
			if !errors.Is(err, c.errno) || !strings.Contains(err.Error(), "is above "+strconv.Itoa(int(c.limit))) {
				t.Errorf("error %v, want %s", err, errno.Errno(c.errno).Name())
			}
			if err := d.AttachXDP(&XDPProgram{Frags: true}); (err == nil) != c.frags {
				t.Errorf("frags-aware program: %v", err)
			}
		})
		t.Run(c.profile+" refuses an MTU above its limit while such a program is attached", func(t *testing.T) {
			d := mustNetdev(t, c.profile)
			if err := d.AttachXDP(&XDPProgram{}); err != nil {
				t.Fatal(err)
			}
			if err := setText(t, d, Latest(), "mtu", strconv.Itoa(int(c.limit)), FromUser); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			if err := setText(t, d, Latest(), "mtu", strconv.Itoa(int(c.limit)+1), FromUser); !errors.Is(err, c.errno) {
				t.Errorf("above the limit: %v", err)
			}
		})
	}
	t.Run("veth puts the limit on its peer's max_mtu: 3506, or 73138 for a frags-aware program", func(t *testing.T) {
		a, b := NewVethPair(mustProfile(t, "veth"), "a", "b")
		if err := a.AttachXDP(&XDPProgram{}); err != nil {
			t.Fatal(err)
		}
		if a.MaxMTU() != 65535 || b.MaxMTU() != 3506 {
			t.Errorf("max_mtu %d and %d", a.MaxMTU(), b.MaxMTU())
		}
		if err := setText(t, b, Latest(), "mtu", "3507", FromUser); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("peer MTU above the limit: %v", err)
		}
		if err := setText(t, a, Latest(), "mtu", "9000", FromUser); err != nil {
			t.Errorf("the program's own device: %v", err)
		}
		if err := a.AttachXDP(&XDPProgram{Frags: true}); err != nil || b.MaxMTU() != 73138 {
			t.Errorf("frags: %v, max_mtu %d", err, b.MaxMTU())
		}
		if err := a.AttachXDP(nil); err != nil || b.MaxMTU() != 65535 {
			t.Errorf("detached: %v, max_mtu %d", err, b.MaxMTU())
		}
	})
	t.Run("veth refuses a program when its peer's MTU is above the limit, with ERANGE", func(t *testing.T) {
		a, b := NewVethPair(mustProfile(t, "veth"), "a", "b")
		if err := setText(t, b, Latest(), "mtu", "3507", FromUser); err != nil {
			t.Fatal(err)
		}
		if err := a.AttachXDP(&XDPProgram{}); !errors.Is(err, syscall.ERANGE) {
			t.Errorf("error %v", err)
		}
		if err := b.AttachXDP(&XDPProgram{}); err != nil {
			t.Errorf("the other way round: %v", err)
		}
	})
	t.Run("veth refuses a program when the peer has more TX queues than it has RX queues, with ENOSPC", func(t *testing.T) {
		a, b := NewVethPair(mustProfile(t, "veth"), "a", "b")
		if err := setText(t, b, Latest(), "tx_queues", "2", FromUser); err != nil {
			t.Fatal(err)
		}
		if err := a.AttachXDP(&XDPProgram{}); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("lo has no MTU limit", func(t *testing.T) {
		if err := setText(t, NewLoopback(), Latest(), "mtu", "1000000", FromUser); err != nil {
			t.Error(err)
		}
	})
}
