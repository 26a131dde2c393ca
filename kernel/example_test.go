package kernel_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
)

// Replaying many packets in the kernel: inside OnTestThread every Run is one BPF_PROG_TEST_RUN
// system call on the program's test thread, pinned to the CPU each packet asks for.
func ExampleProgram_OnTestThread() {
	p, err := kernel.Load(corpus.Dir()+"/eth_stats.v4.o", kernel.Options{})
	if err != nil {
		fmt.Println(err) // kernel.ErrNoKernel where there is no kernel to use
		return
	}
	defer p.Close()
	frame := make([]byte, 60)
	frame[12], frame[13] = 0x08, 0x00 // an IPv4 EtherType
	verdicts := map[uint32]int{}
	err = p.OnTestThread(func() error {
		for cpu := range 2 {
			r := p.Run(frame, nil, kernel.Context{CPU: cpu})
			if r.Err != "" {
				return fmt.Errorf("%s", r.Err)
			}
			verdicts[r.Ret]++
		}
		return nil
	})
	fmt.Println(verdicts, err)
}
