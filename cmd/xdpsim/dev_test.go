package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/corpus"
)

func TestDevReadsAndWritesAttributesByName(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "devices.json")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // a line it must contain
		stderr string
	}{
		{"list shows every built-in device with its features", []string{"dev", "list"}, 0,
			"4        mlx5        mlx5        -          1500   1          0x2b (basic,redirect,xsk-zerocopy,rx-sg)", ""},
		{"list shows a veth pair's peers", []string{"dev", "list"}, 0, "6        veth        veth        veth-peer", ""},
		{"get of one attribute prints its value alone", []string{"dev", "get", "igc", "xdp-features"}, 0, "0xb (basic,redirect,xsk-zerocopy)\n", ""},
		{"get of a device prints every member", []string{"dev", "get", "ice"}, 0, "xdp_zc_max_segs           8", ""},
		{"an unknown member is an error naming the members", []string{"dev", "get", "mlx5", "speed"}, 2, "",
			`mlx5: the kernel's struct if_xdp_attributes (1192 bytes) has no member "speed"; it has: ifindex, peer_ifindex, mtu`},
		{"an older kernel's layout lacks the newer members", []string{"dev", "--layout", "1", "get", "mlx5", "xsk_ring_size"}, 2, "",
			`(1136 bytes) has no member "xsk_ring_size"`},
		{"an older kernel's layout still has the older ones", []string{"dev", "--layout", "1", "get", "mlx5", "rss_key_size"}, 0, "40\n", ""},
		{"an unknown device is an error naming the devices", []string{"dev", "get", "eth0"}, 2, "", `no device "eth0" (devices: lo, ice, igc, mlx5, none, veth, veth-peer, virtio_net)`},
		{"set without a state file is refused: nothing would keep it", []string{"dev", "set", "mlx5", "mtu", "9000"}, 2, "", "set needs --devices FILE"},
		{"set writes the state file and prints the new values", []string{"dev", "--devices", state, "set", "mlx5", "rx_queues", "4", "mtu", "3000"}, 0, "mlx5 mtu 3000", ""},
		{"the state file keeps them for the next command", []string{"dev", "--devices", state, "get", "mlx5", "mtu", "rx_queues", "rss_indir"}, 0, "rss_indir                 equal 4 (256 entries)", ""},
		{"a read-only member cannot be set", []string{"dev", "--devices", state, "set", "mlx5", "xdp_features", "0"}, 2, "", "mlx5: xdp_features: read-only (EACCES)"},
		{"a value out of range is refused with the driver's range", []string{"dev", "--devices", state, "set", "mlx5", "mtu", "10000"}, 2, "", "mlx5: mtu: 10000 is outside the device's range 68 to 9978 (EINVAL)"},
		{"a value that is not a number is refused", []string{"dev", "--devices", state, "set", "mlx5", "mtu", "big"}, 2, "", `mlx5: mtu: "big" is not a 32-bit number`},
		{"the seed's example: set xsk-ring-size by name", []string{"dev", "--devices", state, "set", "mlx5", "xsk-ring-size", "128"}, 0, "mlx5 xsk_ring_size 128", ""},
		{"an indirection table set as a list reads back compactly", []string{"dev", "--devices", state, "set", "mlx5", "rss_indir", "3,2,1,0*253"}, 0, "mlx5 rss_indir 3,2,1,0*253", ""},
		{"btf prints the C declaration", []string{"dev", "btf"}, 0, "\t__u16 rss_indir[512];", ""},
		{"a topology's devices are listed, netkit pairs among them", []string{"dev", "--topology", "../../corpus/netkit/l3-policy.json", "list"}, 0,
			"10       nk0         netkit      nk0p       1500   1          0x0", ""},
		{"a netkit peer's settings read by name", []string{"dev", "--topology", "../../corpus/netkit/l3-policy.json", "get", "nk0p", "netkit", "netkit_policy"}, 0,
			"netkit                    2 (peer)\nnetkit_policy             2 (drop)\n", ""},
		{"a topology's devices are not set through dev", []string{"dev", "--topology", "../../corpus/netkit/l3-policy.json", "set", "nk0", "netkit_policy", "pass"}, 2, "",
			"--topology: a topology's devices are what its file says"},
		{"an unknown subcommand is a usage error", []string{"dev", "frob"}, 2, "", `unknown subcommand "frob"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, c.args...)
			if rc != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s", rc, c.code, stdout, stderr)
			}
		})
	}
	t.Run("a refused set leaves the state file as it was", func(t *testing.T) {
		before, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		if rc, _, _ := runCmd(t, "dev", "--devices", state, "set", "mlx5", "mtu", "3000", "rx_ring_size", "0"); rc != 2 {
			t.Fatalf("exit %d", rc)
		}
		after, _ := os.ReadFile(state)
		if string(after) != string(before) {
			t.Error("the file changed")
		}
	})
	t.Run("btf -o writes BTF that declares the struct", func(t *testing.T) {
		out := filepath.Join(dir, "attrs.btf")
		if rc, _, stderr := runCmd(t, "dev", "btf", "-o", out); rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		spec, err := btf.LoadSpec(out)
		if err != nil {
			t.Fatal(err)
		}
		var st *btf.Struct
		if err := spec.TypeByName("if_xdp_attributes", &st); err != nil || st.Size != 1192 {
			t.Errorf("struct %v, %v", st, err)
		}
	})
	t.Run("get --json gives the values by member name", func(t *testing.T) {
		rc, stdout, _ := runCmd(t, "dev", "--devices", state, "get", "--json", "mlx5", "mtu", "xsk_ring_size")
		var m map[string]string
		if err := json.Unmarshal([]byte(stdout), &m); rc != 0 || err != nil || m["mtu"] != "3000" || m["xsk_ring_size"] != "128" {
			t.Errorf("exit %d, %v: %s", rc, err, stdout)
		}
	})
}

func TestRunUsesTheDevicesOfAStateFile(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "devices.json")
	for _, args := range [][]string{
		{"dev", "--devices", state, "set", "mlx5", "rx_queues", "4"},
		{"dev", "--devices", state, "set", "igc", "mtu", "9000"},
	} {
		if rc, _, stderr := runCmd(t, args...); rc != 0 {
			t.Fatalf("%v: exit %d: %s", args, rc, stderr)
		}
	}
	obj := objectOf(t, "control_steer")
	trace := corpus.TracePath("mixed.pcap")
	t.Run("a control-map program needs the feature", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", obj, trace)
		if rc != 2 || !strings.Contains(stderr, "map devices: BPF_MAP_TYPE_CONTROL belongs to a proposal that never merged into Linux; enable it with --feature control-map") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
	t.Run("the run says the proposal never merged, and the packets arrive on the file's device and its ifindex", func(t *testing.T) {
		maps := filepath.Join(dir, "maps.json")
		rc, _, stderr := runCmd(t, "run", "--feature", "control-map", "--devices", state, "--device", "mlx5", "--maps", maps, "--maps-format", "btf", obj, trace)
		if rc != 0 || !strings.Contains(stderr, "BPF_MAP_TYPE_CONTROL is a 2019 proposal (Saeed Mahameed, \"BPF Control MAP\") that never merged into Linux") {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		b, err := os.ReadFile(maps)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Results []struct{ Key, Value int64 } `json:"results"`
			Devices []struct {
				Key   uint32         `json:"key"`
				Value map[string]any `json:"value"`
			} `json:"devices"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		res := map[int64]int64{}
		for _, r := range m.Results {
			res[r.Key] = r.Value
		}
		// R_NO_DEVICE, R_RX_QUEUES, R_XDP_FEATURES (with the program attached), R_DRAIN_RET,
		// R_MTU_RET (-EPERM), R_DRAINED (a quarter of the 256 entries).
		if res[1] != 0 || res[3] != 4 || res[4] != 0x6f || res[6] != 0 || res[7] != -1 || res[8] != 64 {
			t.Errorf("results %v", res)
		}
		if len(m.Devices) != 8 || m.Devices[3].Key != 4 || m.Devices[3].Value["rx_queues"] != float64(4) {
			t.Errorf("the devices map dumps %d devices: %v", len(m.Devices), m.Devices)
		}
	})
	t.Run("the driver refuses a program without frags support on a device whose MTU is too large", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", "--devices", state, "--device", "igc", objectOf(t, "udp_echo"), trace)
		if rc != 2 || !strings.Contains(stderr, "igc: cannot attach the XDP program: the MTU 9000 of igc is above 1500, the most an XDP program without frags support can take") ||
			!strings.Contains(stderr, "(EOPNOTSUPP)") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
	t.Run("--device names a device of the file", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", "--devices", state, "--device", "eth9", objectOf(t, "udp_echo"), trace)
		if rc != 2 || !strings.Contains(stderr, `no device "eth9"`) {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
}
