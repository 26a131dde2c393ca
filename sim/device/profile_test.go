package device

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestProfilesListWhatEachDeviceSupplies(t *testing.T) {
	// The driver support list of spec/xdp-kernel.md §4.
	want := map[string][]string{
		"igc":        {"rx_timestamp", "rx_hash"},
		"ice":        {"rx_timestamp", "rx_hash", "rx_vlan_tag"},
		"mlx5":       {"rx_timestamp", "rx_hash", "rx_vlan_tag"},
		"none":       {},
		"veth":       {"rx_timestamp", "rx_hash", "rx_vlan_tag"},
		"virtio_net": {"rx_hash"},
	}
	infos := Profiles()
	if len(infos) != len(want) {
		t.Fatalf("%d profiles, want %d", len(infos), len(want))
	}
	for _, info := range infos {
		t.Run("the "+info.Name+" profile supplies its driver's hints", func(t *testing.T) {
			if strings.Join(info.Hints, ",") != strings.Join(want[info.Name], ",") {
				t.Errorf("hints %v, want %v", info.Hints, want[info.Name])
			}
			if info.RSSKey != "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa" {
				t.Errorf("key %s is not Microsoft's", info.RSSKey)
			}
		})
	}
	t.Run("the listing encodes to JSON with empty lists, not nulls", func(t *testing.T) {
		p := mustProfile(t, "none")
		j, err := json.Marshal(p.Info())
		if err != nil {
			t.Fatal(err)
		}
		const w = `{"name":"none","description":"a device without XDP metadata ops (tap, say): every hint returns -EOPNOTSUPP; one queue, no RSS","hints":[],"vlan_strip":[],"rss_fields":[],"rss_key":"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa","max_queues":1}`
		if string(j) != w {
			t.Errorf("JSON\n%s\nwant\n%s", j, w)
		}
	})
	t.Run("the most RX queues are the driver's, and SetRxQueues holds a device to them", func(t *testing.T) {
		p := mustProfile(t, "igc")
		if got := p.Info().MaxQueues; got != 4 {
			t.Errorf("igc's max_queues %d, want 4", got)
		}
		d := NewNetdev(p)
		for _, n := range []int{0, -1, 5} {
			if err := d.SetRxQueues(n); err == nil || err.Error() != fmt.Sprintf("%d is outside 1 to 4 (igc's most)", n) {
				t.Errorf("SetRxQueues(%d): %v", n, err)
			}
		}
		if err := d.SetRxQueues(4); err != nil || d.Queues != 4 {
			t.Errorf("SetRxQueues(4): %v, Queues %d", err, d.Queues)
		}
	})
	t.Run("mlx5 lists the tag it strips", func(t *testing.T) {
		if got := mustProfile(t, "mlx5").Info().VLANStrip; len(got) != 1 || got[0] != "802.1Q (0x8100)" {
			t.Errorf("vlan_strip %v", got)
		}
	})
	t.Run("an unknown profile is an error that lists the known ones", func(t *testing.T) {
		_, err := LookupProfile("e1000")
		if err == nil || err.Error() != `unknown device profile "e1000" (known: ice, igc, mlx5, none, veth, virtio_net)` {
			t.Errorf("error %v", err)
		}
	})
	t.Run("changing a profile's copy leaves the built-in alone", func(t *testing.T) {
		p := mustProfile(t, "mlx5")
		p.StripVLAN[0] = 0x88a8
		p.Key = []byte{1}
		if q := mustProfile(t, "mlx5"); q.StripVLAN[0] != 0x8100 || q.Key != nil {
			t.Error("the built-in profile changed")
		}
	})
}
