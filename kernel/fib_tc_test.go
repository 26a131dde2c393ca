package kernel_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// TestTCFibLookupAgreesWithKernel runs the corpus tc router (bpf_fib_lookup and bpf_check_mtu
// for skbs, then bpf_redirect) over packets toward every kind of destination, on loopback and on
// the router's own device, with corpus/hosts/router.json built in the kernel's test namespace and
// given to the simulator, and requires full agreement: return values, packets, the __sk_buff
// given back and the counts of every answer and reported MTU.
func TestTCFibLookupAgreesWithKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	host, err := sim.LoadHost(filepath.Join(corpus.Dir(), "hosts", "router.json"))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(corpus.TCPrograms(), func(p corpus.Program) bool { return p.Name == "tc_fib" })
	if i < 0 {
		t.Fatal("no tc_fib in the corpus")
	}
	p := corpus.TCPrograms()[i]
	for _, cpu := range corpus.CPUs {
		t.Run(cpu, func(t *testing.T) {
			kp, err := kernel.Load(p.Object(cpu), kernel.Options{Program: p.Entry, HostSetup: host.Commands()})
			if err != nil {
				t.Fatal(err)
			}
			defer kp.Close()
			obj, err := sim.Load(p.Object(cpu), sim.LoadOptions{CPUs: kp.NumCPU()})
			if err != nil {
				t.Fatal(err)
			}
			prog, err := obj.FindProgram(p.Entry)
			if err != nil {
				t.Fatal(err)
			}
			tc, err := sim.NewTC(prog)
			if err != nil {
				t.Fatal(err)
			}
			tc.SetHost(host)
			n, redirected := 0, 0
			for _, ifindex := range []uint32{1, 2} { // loopback, and the router's eth0
				for _, dst := range []string{"192.0.2.7", "198.51.100.9", "203.0.113.5", "198.18.1.1", "100.64.1.1", "10.1.0.2",
					"10.1.0.77", "8.8.8.8", "10.1.0.1", "127.0.0.1", "2001:db8:99::5", "2001:db8:1::2", "2001:db8:1::9", "2001:db8:77::1", "ff02::1"} {
					for _, size := range []int{100, 1357, 1358, 1500} {
						n++
						pkt := routedPacket(t, dst, size)
						ctx := sim.SkbContext{Ifindex: ifindex}
						s := tc.Run(pkt, &ctx, sim.Conditions{})
						k := kp.RunTC(pkt, ctx.Marshal(), kernel.Context{})
						where := fmt.Sprintf("on ifindex %d to %s, %d bytes of payload", ifindex, dst, size)
						for _, d := range result.ComparePackets(n, s.Packet, k) {
							t.Errorf("%s: %s", where, d)
						}
						if s.Ret == sim.TCActRedirect {
							redirected++
						}
					}
				}
			}
			sm, _ := obj.DumpMaps()
			km, _ := kp.DumpMaps()
			for _, d := range result.CompareMaps(sm, km) {
				t.Error(d)
			}
			if redirected == 0 {
				t.Error("no packet was forwarded: the host's routes did not take part")
			}
			// The answers are many: each family's lookup codes, MTUs, check_mtu results.
			if len(sm["tc_fib_results"]) < 12 {
				t.Errorf("only %d distinct answers: %v", len(sm["tc_fib_results"]), sm["tc_fib_results"])
			}
			t.Logf("%d packets, %d forwarded, %d distinct answers counted, both sides agree", n, redirected, len(sm["tc_fib_results"]))
		})
	}
}
