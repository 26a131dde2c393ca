// Package assembly turns eBPF programs into text and back.
//
// It speaks two dialects:
//
//   - The assembly of the bpf_conformance suite (uBPF style), which [Assemble] reads and
//     [Disassemble] writes, such that Assemble(Disassemble(p)) gives p back for every valid
//     program.
//   - The kernel's own rendering of instructions, as the verifier log and `bpftool prog dump
//     xlated` print them ([FormatKernel], [DumpKernel]). This one is write-only.
//
// # Assembly syntax
//
// One instruction per line. `#` starts a comment that runs to the end of the line. A label is an
// identifier followed by a colon, alone on its line or in front of an instruction; it names the
// slot of the next instruction. Registers are written %r0 to %r10 (%r11 to %r15 are accepted so
// that invalid programs can be written down; the bare form r0 is accepted too). Numbers are
// decimal or 0x-prefixed hexadecimal, optionally signed; 32-bit fields take any value from -2^31
// to 2^32-1 and keep its low 32 bits (so 0xffffffff and -1 are the same immediate).
//
//	ALU      add sub mul div sdiv or and lsh rsh mod smod xor mov arsh   (64-bit; suffix 32 for
//	         the 32-bit class, suffix 64 accepted):   add %r1, %r2   add32 %r1, 5
//	         neg %r1   neg32 %r1
//	         movsx832 movsx1632 (32-bit) movsx864 movsx1664 movsx3264 (64-bit): movsx864 %r1, %r2
//	         le16 le32 le64 be16 be32 be64 %r0   bswap16 bswap32 bswap64 %r0 (alias swap16 ...)
//	loads    ldxb ldxh ldxw ldxdw %r1, [%r2+4]   ldxsb ldxsh ldxsw %r1, [%r10-8]
//	stores   stb sth stw stdw [%r1-8], 5         stxb stxh stxw stxdw [%r1+2], %r2
//	atomics  lock [fetch] add|or|and|xor[32] [%r10-8], %r1
//	         lock xchg[32] [%r10-8], %r1         lock cmpxchg[32] [%r10-8], %r1
//	lddw     lddw %r0, 0x1122334455667788
//	         lddw %r1, map_fd 3     map_value 3, 16     btf_id 7     func LABEL|+N
//	         map_idx 0     map_idx_value 0, 16     (the pseudo sources 1 to 6; a second number
//	         after a comma is the immediate of the second word)
//	jumps    ja LABEL|+N   ja32 LABEL|+N (gotol, the offset in imm)
//	         jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle, suffix 32 for JMP32:
//	         jne %r1, 0x81, LABEL   jeq32 %r1, %r2, -2
//	calls    call 5 (helper by id; also call helper 5)   call local LABEL|+N (bpf-to-bpf)
//	         call kfunc 1234 (also call runtime 1234; a second number after a comma is the
//	         offset field, the kfunc's module BTF slot)   call %r2 (callx)
//	         exit
//	legacy   ldabsb ldabsh ldabsw 12   ldindb ldindh ldindw %r1, 12
//
// A jump target is a label or a signed offset (+3, -2) counted in instruction slots from the
// instruction after the jump, as in the encoding. As in the conformance suite's assembler, the
// label exit names the first exit instruction unless the program defines it.
//
// # Validity
//
// [Disassemble] accepts exactly the instructions it can write down so that they assemble back
// to the same words: known opcodes whose unused fields are zero, as the kernel's verifier
// demands of them ("uses reserved fields"). It does not check what only a verifier checks, such
// as register numbers above 10, shift amounts, or jump targets.
package assembly
