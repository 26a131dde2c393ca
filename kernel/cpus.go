package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PossibleCPUs is the number of CPUs this machine may ever have online (the kernel's
// nr_cpu_ids), read from /sys/devices/system/cpu/possible ("0-1" is 2). The kernel's verifier
// bounds what bpf_get_smp_processor_id returns by it, so a verifier compared with this kernel
// needs it (verifier.Program.NrCPUs).
func PossibleCPUs() (int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0, fmt.Errorf("kernel: possible CPUs: %w", err)
	}
	return parseCPUList(strings.TrimSpace(string(b)))
}

// parseCPUList gives one more than the highest CPU of a list such as "0-3,8".
func parseCPUList(s string) (int, error) {
	highest := -1
	for _, part := range strings.Split(s, ",") {
		last := part
		if i := strings.IndexByte(part, '-'); i >= 0 {
			last = part[i+1:]
		}
		n, err := strconv.Atoi(last)
		if err != nil {
			return 0, fmt.Errorf("kernel: possible CPUs %q: %w", s, err)
		}
		highest = max(highest, n)
	}
	return highest + 1, nil
}
