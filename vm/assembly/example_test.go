package assembly_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/vm/assembly"
)

func ExampleAssemble() {
	prog, err := assembly.Assemble(`
		mov32 %r0, 0
		ldxb %r2, [%r1+12]   # a byte of the input
		jne %r2, 0x08, out
		mov32 %r0, 1
	out:
		exit
	`)
	if err != nil {
		panic(err)
	}
	for _, ins := range prog {
		fmt.Printf("%02x %02x %d %d\n", ins.Op, ins.Regs, ins.Off, ins.Imm)
	}
	// Output:
	// b4 00 0 0
	// 71 12 12 0
	// 55 02 1 8
	// b4 00 0 1
	// 95 00 0 0
}

func ExampleAssemble_error() {
	_, err := assembly.Assemble("mov %r0, 1\nmov %r11, %r16")
	fmt.Println(err)
	// Output:
	// line 2: "mov %r11, %r16": invalid register "%r16"
}

func ExampleDisassemble() {
	prog, _ := assembly.Assemble("lddw %r0, 0x1122334455667788\nja exit\nlock fetch add [%r10-8], %r1\nexit")
	text, _ := assembly.Disassemble(prog)
	fmt.Print(text)
	// Output:
	// lddw %r0, 0x1122334455667788
	// ja +1
	// lock fetch add [%r10-8], %r1
	// exit
}

func ExampleDumpKernel() {
	prog, _ := assembly.Assemble(`
		lddw %r1, map_fd 3
		mov %r2, %r10
		add %r2, -4
		call 1
		movsx864 %r3, %r0
		jeq %r0, 0, +1
		lock add32 [%r0], %r1
		exit
	`)
	fmt.Print(assembly.DumpKernel(prog, &assembly.KernelOptions{Imm: assembly.BPFToolImm}))
	// Output:
	// 0: (18) r1 = map[id:3]
	// 2: (bf) r2 = r10
	// 3: (07) r2 += -4
	// 4: (85) call bpf_map_lookup_elem#1
	// 5: (bf) r3 = (s8)r0
	// 6: (15) if r0 == 0x0 goto pc+1
	// 7: (c3) lock *(u32 *)(r0 +0) += r1
	// 8: (95) exit
}
