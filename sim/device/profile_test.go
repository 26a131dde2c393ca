package device

import (
	"encoding/json"
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
		const w = `{"name":"none","description":"a device without XDP metadata ops (tap, say): every hint returns -EOPNOTSUPP; one queue, no RSS","hints":[],"vlan_strip":[],"rss_fields":[],"rss_key":"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"}`
		if string(j) != w {
			t.Errorf("JSON\n%s\nwant\n%s", j, w)
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
