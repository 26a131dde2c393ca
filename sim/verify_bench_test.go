package sim_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/verifier"
)

// BenchmarkVerifyLoadBalancer verifies the 3,742-instruction load balancer of sim/testdata
// (lb.o): the time and memory of one verification. The states it keeps are reported beside the
// kernel's figures for the same object on Linux 6.18 (processed 8184 insns, total_states 332,
// peak_states 332, max_states_per_insn 3, measured with log level 4).
func BenchmarkVerifyLoadBalancer(b *testing.B) {
	obj, err := sim.Load("testdata/lb.o", sim.LoadOptions{NoVerify: true})
	if err != nil {
		b.Fatal(err)
	}
	in, err := obj.VerifierInput("xdp_lb")
	if err != nil {
		b.Fatal(err)
	}
	var res *verifier.Result
	b.ReportAllocs()
	for b.Loop() {
		res, err = verifier.Verify(in, verifier.Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Stats.Processed), "processed")
	b.ReportMetric(float64(res.Stats.TotalStates), "states")
	b.ReportMetric(float64(res.Stats.PeakStates), "peak_states")
	b.ReportMetric(float64(res.Stats.TotalStates)/float64(len(in.Insns)), "states/insn")
}
