package sim

import (
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// More base helpers XDP programs may call (bpf_base_func_proto and bpf_sk_base_func_proto).

func init() {
	registerBase(asm.FnMapLookupPercpuElem, mapLookupPercpu)
	// bpf_probe_read_kernel(_str) copies from any address without faulting; in the simulator an
	// address is a region and an offset, so it reads what a program could reach, and fails as the
	// kernel does for anything else, the destination zeroed: -ERANGE below the kernel's half of
	// the address space, -EFAULT in it. There is no user memory: the _user variants fail with
	// -EFAULT.
	registerBase(asm.FnProbeReadKernel, func(s *runState, m *vm.Machine, dst, size, src, _, _ uint64) (uint64, error) {
		return probeRead(m, dst, size, src, true)
	})
	registerBase(asm.FnProbeReadUser, func(s *runState, m *vm.Machine, dst, size, src, _, _ uint64) (uint64, error) {
		return probeRead(m, dst, size, src, false)
	})
	registerBase(asm.FnProbeReadKernelStr, func(s *runState, m *vm.Machine, dst, size, src, _, _ uint64) (uint64, error) {
		return probeReadStr(m, dst, size, src, true)
	})
	registerBase(asm.FnProbeReadUserStr, func(s *runState, m *vm.Machine, dst, size, src, _, _ uint64) (uint64, error) {
		return probeReadStr(m, dst, size, src, false)
	})
	// The socket casts take a socket a lookup returned; the simulated host has no sockets, so no
	// program reaches them with one, and they answer NULL as they would for a socket of another kind.
	none := func(*runState, *vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
	for _, f := range []asm.BuiltinFunc{asm.FnSkcToTcp6Sock, asm.FnSkcToTcpSock, asm.FnSkcToTcpTimewaitSock,
		asm.FnSkcToTcpRequestSock, asm.FnSkcToUdp6Sock, asm.FnSkcToUnixSock, asm.FnSkcToMptcpSock} {
		registerBase(f, none)
	}
}

// mapLookupPercpu is bpf_map_lookup_percpu_elem: the element's value on CPU cpu, NULL when there
// is none or no such CPU.
func mapLookupPercpu(s *runState, m *vm.Machine, mp, key, cpu, _, _ uint64) (uint64, error) {
	mm, k, err := s.mapArg(m, mp, key, false, false)
	if err != nil {
		return 0, err
	}
	c := uint32(cpu)
	if !mm.PerCPU() || int(c) >= mm.NumCPU() {
		return 0, nil
	}
	v, err := mm.Lookup(k, int(c))
	if err != nil || v == nil {
		return 0, nil
	}
	id, _ := vm.SplitAddress(mp)
	return m.AddTempData(v, s.valueNames[id-vm.FirstHostRegion], false), nil
}

func probeRead(m *vm.Machine, dst, size, src uint64, kernel bool) (uint64, error) {
	n := int(uint32(size))
	out, err := m.Bytes(dst, n, true)
	if err != nil || n == 0 {
		return 0, err
	}
	if kernel {
		if in, err := m.Bytes(src, n, false); err == nil {
			copy(out, in)
			return 0, nil
		}
	}
	clear(out)
	return probeFault(src, kernel), nil
}

// userTop is TASK_SIZE_MAX on x86_64: the kernel's nofault copies refuse source addresses below it
// with -ERANGE (copy_from_kernel_nofault_allowed), and fail on unmapped kernel addresses with
// -EFAULT (measured on 6.18).
const userTop = 0x00007ffffffff000

func probeFault(src uint64, kernel bool) uint64 {
	if kernel && src < userTop {
		return errno.ERANGE.Return()
	}
	return errno.EFAULT.Return()
}

// probeReadStr copies a NUL-terminated string of at most size-1 bytes and a NUL, returning its
// length with the NUL, or -EFAULT (with an empty string) when the source cannot be read.
func probeReadStr(m *vm.Machine, dst, size, src uint64, kernel bool) (uint64, error) {
	n := int(uint32(size))
	out, err := m.Bytes(dst, n, true)
	if err != nil || n == 0 {
		return 0, err
	}
	if kernel {
		for i := 0; i < n-1; i++ {
			c, err := m.Bytes(src+uint64(i), 1, false)
			if err != nil {
				break
			}
			out[i] = c[0]
			if c[0] == 0 {
				return uint64(i + 1), nil
			}
			if i == n-2 {
				out[n-1] = 0
				return uint64(n), nil
			}
		}
		if n == 1 {
			out[0] = 0
			return 1, nil
		}
	}
	clear(out)
	return probeFault(src, kernel), nil
}
