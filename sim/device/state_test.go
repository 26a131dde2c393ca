package device

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAStateFileKeepsWhatWasSet(t *testing.T) {
	s := Builtin()
	mlx5, _ := s.ByName("mlx5")
	veth, _ := s.ByName("veth")
	c := latestClient()
	if err := c.SetAll(mlx5, map[string]string{"mtu": "3000", "rx_queues": "4", "rss_indir": "3,2,1,0*253", "xsk-ring-size": "256",
		"rss_key": "0102030405060708091011121314151617181920212223242526272829303132333435363738394041"[:80]}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAll(veth, map[string]string{"offloads": "4"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "devices.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("reading it back gives every device the same attributes", func(t *testing.T) {
		got, err := LoadState(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.All()) != len(s.All()) {
			t.Fatalf("%d devices, want %d", len(got.All()), len(s.All()))
		}
		for i, d := range s.All() {
			g := got.All()[i]
			if g.Name != d.Name || g.Ifindex != d.Ifindex || g.Profile.Name != d.Profile.Name {
				t.Errorf("device %d: %s/%d/%s, want %s/%d/%s", i, g.Name, g.Ifindex, g.Profile.Name, d.Name, d.Ifindex, d.Profile.Name)
			}
			if !bytes.Equal(g.Attributes(), d.Attributes()) {
				t.Errorf("%s: the attributes differ", d.Name)
			}
		}
		if v, _ := got.ByName("veth"); v.Peer() == nil || v.Peer().Name != "veth-peer" {
			t.Error("the veth lost its peer")
		}
	})
	t.Run("it keeps only what differs from the drivers' defaults, by name", func(t *testing.T) {
		text := buf.String()
		for _, want := range []string{`"mtu": "3000"`, `"rss_indir": "3,2,1,0*253"`, `"xsk_ring_size": "256"`, `"peer": "veth-peer"`, `"offloads": "0x4 (gro)"`} {
			if !strings.Contains(text, want) {
				t.Errorf("no %s in\n%s", want, text)
			}
		}
		if strings.Count(text, `"attrs"`) != 2 {
			t.Errorf("attributes of devices nobody changed:\n%s", text)
		}
	})
	t.Run("an indirection table nobody set follows the queue count and is not kept", func(t *testing.T) {
		s := Builtin()
		ice, _ := s.ByName("ice")
		if err := latestClient().SetAll(ice, map[string]string{"rx_queues": "8"}); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.WriteState(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "rss_indir") {
			t.Errorf("the default table was kept:\n%s", b.String())
		}
	})
}

func TestABadStateFileSaysWhatIsWrong(t *testing.T) {
	cases := []struct {
		name, json, err string
	}{
		{"an unknown profile", `{"devices":[{"name":"eth0","profile":"e1000","ifindex":2}]}`, `device eth0: unknown device profile "e1000"`},
		{"an unknown attribute", `{"devices":[{"name":"eth0","profile":"ice","ifindex":2,"attrs":{"speed":"100"}}]}`, `device eth0: the kernel's struct if_xdp_attributes (1192 bytes) has no member "speed"`},
		{"a value the device refuses", `{"devices":[{"name":"eth0","profile":"ice","ifindex":2,"attrs":{"mtu":"20000"}}]}`, "eth0: mtu: 20000 is outside the device's range 68 to 9702 (EINVAL)"},
		{"two devices with one ifindex", `{"devices":[{"name":"a","profile":"ice","ifindex":2},{"name":"b","profile":"ice","ifindex":2}]}`, "device b: ifindex 2 is a's"},
		{"a peer that is not there", `{"devices":[{"name":"a","profile":"veth","ifindex":2,"peer":"b"}]}`, `device a: peer "b" is not in the file`},
		{"a peer that is not a veth", `{"devices":[{"name":"a","profile":"ice","ifindex":2,"peer":"b"},{"name":"b","profile":"ice","ifindex":3}]}`, "device a: only veth devices have peers"},
		{"a device without an ifindex", `{"devices":[{"name":"a","profile":"ice"}]}`, "device a has no ifindex"},
		{"an unknown field", `{"devices":[{"name":"a","profile":"ice","ifindex":2,"speed":1}]}`, `unknown field "speed"`},
		{"not JSON", `devices: []`, "invalid character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "devices.json")
			if err := os.WriteFile(path, []byte(c.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadState(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want %s: ...%s", err, path, c.err)
			}
		})
	}
}

func TestValuesReadBackAsTheyPrint(t *testing.T) {
	c := latestClient()
	d := mustNetdev(t, "ice")
	if err := c.SetAll(d, map[string]string{"rx_queues": "6", "rss_indir": "5,4,3,2,1,0,0,0,0,1*503"}); err != nil {
		t.Fatal(err)
	}
	_, nk0, nk0p := netkitPair(t)
	for _, d := range append(Builtin().All(), d, nk0, nk0p) {
		for _, f := range c.Fields() {
			t.Run(d.Name+"'s "+f.Name+" parses back to the same bytes", func(t *testing.T) {
				v := d.Attributes()
				text := c.Format(v, f)
				w := bytes.Clone(v)
				for i := range w[f.Offset : f.Offset+f.Size] {
					w[f.Offset+i] = 0xa5
				}
				if err := c.Parse(w, f, text); err != nil {
					t.Fatalf("%q: %v", text, err)
				}
				if !bytes.Equal(w, v) {
					t.Errorf("%q parses to other bytes", text)
				}
			})
		}
	}
	t.Run("offloads take their names too", func(t *testing.T) {
		v := d.Attributes()
		f, _ := c.Field("offloads")
		if err := c.Parse(v, f, "rx-vlan,gro"); err != nil || c.Format(v, f) != "0x5 (rx-vlan,gro)" {
			t.Errorf("%v: %s", err, c.Format(v, f))
		}
	})
	t.Run("equal N spreads over N queues on the device's table", func(t *testing.T) {
		v := d.Attributes()
		f, _ := c.Field("rss_indir")
		if err := c.Parse(v, f, "equal 3"); err != nil {
			t.Fatal(err)
		}
		if got := c.Format(v, f); got != "equal 3 (512 entries)" {
			t.Errorf("%s", got)
		}
	})
	t.Run("too many entries are refused", func(t *testing.T) {
		v := d.Attributes()
		f, _ := c.Field("rss_indir")
		if err := c.Parse(v, f, "1*513"); err == nil || !strings.Contains(err.Error(), "more than the 512 entries it holds") {
			t.Errorf("error %v", err)
		}
	})
}
