package sim

import (
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// kernelNotation prints calls of helpers by their C names.
var kernelNotation = assembly.KernelOptions{CallName: func(in vm.Instruction) string {
	if in.Src() == 0 {
		return HelperName(in.Imm)
	}
	return ""
}}

// Disassemble writes instruction pc of p in the kernel's verifier-log notation ("r1 = *(u8 *)(r7
// +16)", "call bpf_map_lookup_elem#1"), helpers by their C names.
func Disassemble(p *vm.Program, pc int) string {
	return assembly.FormatKernel(p.Instructions(), pc, &kernelNotation)
}
