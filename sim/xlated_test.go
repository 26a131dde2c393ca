package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/sim/corebtf"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// The kernel-side facts behind this file were measured on Linux 6.18 (root, JIT on): each program
// below was loaded as BPF_PROG_TYPE_XDP with cilium/ebpf and its xlated instructions read back
// (ebpf.Program.Info().Instructions(), and bpftool prog dump xlated), or its verifier log read
// when refused. The expected listings are written by hand from the kernel's rules
// (xdp_convert_ctx_access, xdp_is_valid_access); where a comment says "the kernel printed the
// same", the 6.18 kernel produced exactly that listing. Two notes on comparing: the kernel
// rewrites a bpf-to-bpf call after JIT so that its imm is the subprogram number and its off
// the distance (bpftool prints "call pc+N" from off), and bpftool 7.1 prints a movsx
// "r2 = (s32)r2" as "r2 = r2"; the kernel's own disassembler, like FormatKernel, prints (s32).

func TestKernelStructOffsetsMatchBTF(t *testing.T) {
	spec, err := corebtf.Spec()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ, member string
		want        int
	}{
		{"xdp_md", "data", verifier.XDPMdData},
		{"xdp_md", "data_end", verifier.XDPMdDataEnd},
		{"xdp_md", "data_meta", verifier.XDPMdDataMeta},
		{"xdp_md", "ingress_ifindex", verifier.XDPMdIngressIfindex},
		{"xdp_md", "rx_queue_index", verifier.XDPMdRxQueueIndex},
		{"xdp_md", "egress_ifindex", verifier.XDPMdEgressIfindex},
		{"xdp_buff", "data", verifier.XDPBuffData},
		{"xdp_buff", "data_end", verifier.XDPBuffDataEnd},
		{"xdp_buff", "data_meta", verifier.XDPBuffDataMeta},
		{"xdp_buff", "rxq", verifier.XDPBuffRxq},
		{"xdp_buff", "txq", verifier.XDPBuffTxq},
		{"xdp_rxq_info", "dev", verifier.XDPRxqInfoDev},
		{"xdp_rxq_info", "queue_index", verifier.XDPRxqInfoQueueIndex},
		{"xdp_txq_info", "dev", verifier.XDPTxqInfoDev},
		{"net_device", "ifindex", verifier.NetDeviceIfindex},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("offsetof(struct %s, %s) is %d", tt.typ, tt.member, tt.want), func(t *testing.T) {
			var st *btf.Struct
			if err := spec.TypeByName(tt.typ, &st); err != nil {
				t.Fatal(err)
			}
			for _, m := range st.Members {
				if m.Name == tt.member {
					if got := int(m.Offset.Bytes()); got != tt.want {
						t.Errorf("the 6.18 BTF says %d", got)
					}
					return
				}
			}
			t.Errorf("struct %s has no member %s", tt.typ, tt.member)
		})
	}
	var md *btf.Struct
	if err := spec.TypeByName("xdp_md", &md); err != nil {
		t.Fatal(err)
	}
	if md.Size != verifier.XDPMdSize {
		t.Errorf("sizeof(struct xdp_md) = %d, want %d", md.Size, verifier.XDPMdSize)
	}
}

// xlatedOf verifies insns as a program of type pt (attached as attach) and returns the
// verifier's result: its xlated program when accepted, else a *verifier.Error.
func xlatedOf(insns []vm.Instruction, pt ebpf.ProgramType, attach ebpf.AttachType, lines func(int) string) (*verifier.Result, error) {
	return verifier.Verify(&verifier.Program{Name: "test", Insns: insns, Type: pt, AttachType: attach, Lines: lines, GPL: true}, verifier.Options{})
}

func xdpAttach(devmap bool) ebpf.AttachType {
	if devmap {
		return ebpf.AttachXDPDevMap
	}
	return ebpf.AttachNone
}

func mustAssemble(t *testing.T, src string) []vm.Instruction {
	t.Helper()
	insns, err := assembly.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return insns
}

func TestXlatedXDPContextLoadsExpandAsTheKernelExpandsThem(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		devmap bool
		want   string
	}{
		{
			// The kernel printed the same.
			name: "every field an XDP program may read becomes the kernel's loads",
			src: `ldxw %r2, [%r1+0]
				ldxw %r3, [%r1+4]
				ldxw %r4, [%r1+8]
				ldxw %r5, [%r1+12]
				ldxw %r0, [%r1+16]
				exit`,
			want: `0: (79) r2 = *(u64 *)(r1 +0)
1: (79) r3 = *(u64 *)(r1 +8)
2: (79) r4 = *(u64 *)(r1 +16)
3: (79) r5 = *(u64 *)(r1 +32)
4: (79) r5 = *(u64 *)(r5 +0)
5: (61) r5 = *(u32 *)(r5 +224)
6: (79) r0 = *(u64 *)(r1 +32)
7: (61) r0 = *(u32 *)(r0 +8)
8: (95) exit
`,
		},
		{
			// The kernel printed the same.
			name:   "a devmap program reads egress_ifindex through the txq",
			devmap: true,
			src: `ldxw %r2, [%r1+20]
				ldxw %r3, [%r1+16]
				mov %r0, 2
				exit`,
			want: `0: (79) r2 = *(u64 *)(r1 +40)
1: (79) r2 = *(u64 *)(r2 +0)
2: (61) r2 = *(u32 *)(r2 +224)
3: (79) r3 = *(u64 *)(r1 +32)
4: (61) r3 = *(u32 *)(r3 +8)
5: (b7) r0 = 2
6: (95) exit
`,
		},
		{
			// The kernel printed the same, with "(bf) r2 = (s32)r2" in its own disassembler.
			name: "a sign-extending load of ingress_ifindex gets a movsx after it",
			src: `ldxsw %r2, [%r1+12]
				mov %r0, 2
				exit`,
			want: `0: (79) r2 = *(u64 *)(r1 +32)
1: (79) r2 = *(u64 *)(r2 +0)
2: (61) r2 = *(u32 *)(r2 +224)
3: (bf) r2 = (s32)r2
4: (b7) r0 = 2
5: (95) exit
`,
		},
		{
			// The kernel printed the same (its call had off 2, imm 1: see the note at the top).
			name: "jumps forward and back, gotol and calls are moved past the expanded loads",
			src: `mov %r6, %r1
				lddw %r7, 0x1122334455667788
				ldxw %r2, [%r6+0]
				ldxw %r3, [%r6+4]
				jgt %r2, %r3, out
				mov %r8, 4
			loop:
				ldxw %r4, [%r6+16]
				add %r7, %r4
				ldxw %r5, [%r6+12]
				sub %r8, 1
				jne %r8, 0, loop
				jeq %r4, 0, meta
				ja32 out
			meta:
				ldxw %r0, [%r6+8]
			out:
				mov %r1, %r6
				mov %r3, %r6
				call local fn
				mov %r0, 2
				exit
			fn:
				ldxw %r0, [%r3+12]
				ldxw %r0, [%r1+16]
				exit`,
			want: `0: (bf) r6 = r1
1: (18) r7 = 0x1122334455667788
3: (79) r2 = *(u64 *)(r6 +0)
4: (79) r3 = *(u64 *)(r6 +8)
5: (2d) if r2 > r3 goto pc+12
6: (b7) r8 = 4
7: (79) r4 = *(u64 *)(r6 +32)
8: (61) r4 = *(u32 *)(r4 +8)
9: (0f) r7 += r4
10: (79) r5 = *(u64 *)(r6 +32)
11: (79) r5 = *(u64 *)(r5 +0)
12: (61) r5 = *(u32 *)(r5 +224)
13: (17) r8 -= 1
14: (55) if r8 != 0x0 goto pc-8
15: (15) if r4 == 0x0 goto pc+1
16: (06) gotol pc+1
17: (79) r0 = *(u64 *)(r6 +16)
18: (bf) r1 = r6
19: (bf) r3 = r6
20: (85) call pc+2
21: (b7) r0 = 2
22: (95) exit
23: (79) r0 = *(u64 *)(r3 +32)
24: (79) r0 = *(u64 *)(r0 +0)
25: (61) r0 = *(u32 *)(r0 +224)
26: (79) r0 = *(u64 *)(r1 +32)
27: (61) r0 = *(u32 *)(r0 +8)
28: (95) exit
`,
		},
		{
			// The kernel printed the same (call: off 4, imm 1).
			name: "ctx spilled to the stack reaches a callee through a stack pointer and comes back in r0",
			src: `stxdw [%r10-8], %r1
				mov %r2, %r10
				add %r2, -8
				call local fn
				ldxw %r0, [%r0+16]
				mov %r0, 2
				exit
			fn:
				ldxdw %r1, [%r2+0]
				ldxw %r0, [%r1+12]
				mov %r0, %r1
				exit`,
			want: `0: (7b) *(u64 *)(r10 -8) = r1
1: (bf) r2 = r10
2: (07) r2 += -8
3: (85) call pc+4
4: (79) r0 = *(u64 *)(r0 +32)
5: (61) r0 = *(u32 *)(r0 +8)
6: (b7) r0 = 2
7: (95) exit
8: (79) r1 = *(u64 *)(r2 +0)
9: (79) r0 = *(u64 *)(r1 +32)
10: (79) r0 = *(u64 *)(r0 +0)
11: (61) r0 = *(u32 *)(r0 +224)
12: (bf) r0 = r1
13: (95) exit
`,
		},
		{
			// The kernel printed the same.
			name: "a ctx pointer moved and moved back is the ctx pointer again",
			src: `add %r1, 4
				add %r1, -4
				ldxw %r0, [%r1+16]
				exit`,
			want: `0: (07) r1 += 4
1: (07) r1 += -4
2: (79) r0 = *(u64 *)(r1 +32)
3: (61) r0 = *(u32 *)(r0 +8)
4: (95) exit
`,
		},
		{
			// The kernel printed the same.
			name: "a spill overwritten by a scalar no longer holds ctx",
			src: `stxdw [%r10-8], %r1
				stw [%r10-8], 0
				ldxdw %r2, [%r10-8]
				mov %r0, 2
				exit`,
			want: `0: (7b) *(u64 *)(r10 -8) = r1
1: (62) *(u32 *)(r10 -8) = 0
2: (79) r2 = *(u64 *)(r10 -8)
3: (b7) r0 = 2
4: (95) exit
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := xlatedOf(mustAssemble(t, tt.src), ebpf.XDP, xdpAttach(tt.devmap), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := res.Xlated
			if s := assembly.DumpKernel(got, nil); s != tt.want {
				t.Errorf("got\n%s\nwant\n%s", s, tt.want)
			}
			// The result must be a program the machine accepts: every jump lands on an instruction.
			if _, err := vm.NewProgram(got, vm.ProgramOptions{Helpers: map[int32]vm.Helper{}}); err != nil {
				t.Errorf("the xlated program does not prepare: %v", err)
			}
		})
	}
}

func TestXDPContextAccessesTheKernelRefusesAreRefused(t *testing.T) {
	// Every message is the one the 6.18 verifier printed for the same program.
	tests := []struct {
		name   string
		src    string
		devmap bool
		pc     int
		msg    string
	}{
		{"a narrow load", "ldxh %r2, [%r1+0]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=0 size=2"},
		{"a byte load", "ldxb %r0, [%r1+12]\nexit", false, 0, "invalid bpf_context access off=12 size=1"},
		{"an 8-byte load", "ldxdw %r2, [%r1+0]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=0 size=8"},
		{"a misaligned load", "ldxw %r2, [%r1+2]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=2 size=4"},
		{"a load past the end", "ldxw %r2, [%r1+24]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=24 size=4"},
		{"a load before the start", "ldxw %r2, [%r1-4]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=-4 size=4"},
		{"egress_ifindex outside a devmap program", "ldxw %r2, [%r1+20]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=20 size=4"},
		{"a sign-extending load of data", "ldxsw %r2, [%r1+0]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=0 size=4"},
		{"a sign-extending load of data_meta", "ldxsw %r2, [%r1+8]\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=8 size=4"},
		{"a store of an immediate", "stw [%r1+16], 1\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=16 size=4"},
		{"a store of an immediate in a devmap program", "stw [%r1+16], 1\nmov %r0, 2\nexit", true, 0, "invalid bpf_context access off=16 size=4"},
		{"a store of a register", "mov %r2, 1\nstxw [%r1+16], %r2\nmov %r0, 2\nexit", false, 1, "invalid bpf_context access off=16 size=4"},
		{"a store of the ctx pointer itself", "stxw [%r1+16], %r1\nmov %r0, 2\nexit", false, 0, "invalid bpf_context access off=16 size=4"},
		{"an atomic add", "mov %r2, 1\nlock add32 [%r1+16], %r2\nmov %r0, 2\nexit", false, 1, "BPF_ATOMIC stores into R1 ctx is not allowed"},
		{"a load through a moved ctx pointer", "add %r1, 4\nldxw %r2, [%r1+0]\nmov %r0, 2\nexit", false, 1, "dereference of modified ctx ptr R1 off=4 disallowed"},
		{"a moved ctx pointer even at a valid field", "add %r1, 4\nldxw %r0, [%r1+12]\nexit", false, 1, "dereference of modified ctx ptr R1 off=4 disallowed"},
		{"ctx moved by a known register", "mov %r2, 4\nadd %r2, %r1\nldxw %r0, [%r2+12]\nexit", false, 2, "dereference of modified ctx ptr R2 off=4 disallowed"},
		{
			"one load through ctx on one path and the stack on another",
			"mov %r6, %r1\nmov %r2, %r10\nadd %r2, -8\njeq %r6, 0, +1\nmov %r2, %r6\nldxw %r0, [%r2+0]\nmov %r0, 2\nexit",
			false, 5, "same insn cannot be used with different pointers",
		},
		{
			"one callee called with ctx and with a stack pointer",
			`stdw [%r10-8], 0
			mov %r6, %r1
			call local fn
			mov %r1, %r10
			add %r1, -8
			call local fn
			mov %r0, 2
			exit
		fn:
			ldxw %r0, [%r1+0]
			exit`,
			false, 8, "same insn cannot be used with different pointers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := func(pc int) string { return fmt.Sprintf("prog.c:%d", pc+10) }
			_, err := xlatedOf(mustAssemble(t, tt.src), ebpf.XDP, xdpAttach(tt.devmap), lines)
			var le *verifier.Error
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *verifier.Error", err)
			}
			if le.PC != tt.pc || le.Msg != tt.msg || le.Line != lines(tt.pc) {
				t.Errorf("got instruction %d %q at %q, want instruction %d %q", le.PC, le.Msg, le.Line, tt.pc, tt.msg)
			}
		})
	}
}

// loadRaw reads one program of an object in ctx/testdata as the loader encodes it (linked, all
// functions appended), with its source lines, without going through Object.Program, which
// refuses programs whose context accesses are bad.
func loadRaw(t *testing.T, path, name string) ([]vm.Instruction, func(int) string, *ebpf.ProgramSpec) {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := spec.Programs[name]
	if ps == nil {
		t.Fatalf("%s has no program %s", path, name)
	}
	var buf bytes.Buffer
	if err := ps.Instructions.Marshal(&buf, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	raw, err := vm.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(raw))
	iter := ps.Instructions.Iterate()
	for iter.Next() {
		if src := iter.Ins.Source(); src != nil {
			lines[iter.Offset] = formatLine(src)
		}
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] == "" {
			lines[i] = lines[i-1]
		}
	}
	return raw, func(pc int) string { return lines[pc] }, ps
}

// Hand-written listings of the test objects after rewriting. The kernel printed the same for
// fields.o and devmap.o; for callback.o it printed the same context loads but inlined bpf_loop
// (18 more instructions at the call), which is not a context rewrite.
var xlatedListings = map[string]string{
	"testdata/ctx/fields.o/xdp_fields": `0: (b4) w0 = 0
1: (79) r2 = *(u64 *)(r1 +0)
2: (79) r3 = *(u64 *)(r1 +16)
3: (2d) if r3 > r2 goto pc+31
4: (b4) w0 = 1
5: (07) r2 += 14
6: (79) r3 = *(u64 *)(r1 +8)
7: (2d) if r2 > r3 goto pc+27
8: (18) r2 = 0x1122334455667788
10: (b4) w3 = 4
11: (79) r4 = *(u64 *)(r1 +32)
12: (61) r4 = *(u32 *)(r4 +8)
13: (0f) r2 += r4
14: (04) w3 += -1
15: (56) if w3 != 0x0 goto pc-5
16: (b4) w0 = 2
17: (79) r3 = *(u64 *)(r1 +32)
18: (79) r3 = *(u64 *)(r3 +0)
19: (61) r3 = *(u32 *)(r3 +224)
20: (16) if w3 == 0x1 goto pc+14
21: (b4) w0 = 4
22: (18) r3 = 0x1122334455667790
24: (1d) if r2 == r3 goto pc+10
25: (bf) r6 = r1
26: (85) call pc+9
27: (bc) w7 = w0
28: (bf) r1 = r6
29: (85) call pc+10
30: (bc) w1 = w0
31: (0c) w1 += w7
32: (b4) w0 = 3
33: (16) if w1 == 0x7 goto pc+1
34: (b4) w0 = 2
35: (95) exit
36: (79) r0 = *(u64 *)(r1 +32)
37: (79) r0 = *(u64 *)(r0 +0)
38: (61) r0 = *(u32 *)(r0 +224)
39: (95) exit
40: (79) r0 = *(u64 *)(r1 +32)
41: (61) r0 = *(u32 *)(r0 +8)
42: (95) exit
`,
	"testdata/ctx/devmap.o/xdp_egress": `0: (b4) w0 = 1
1: (79) r2 = *(u64 *)(r1 +32)
2: (79) r2 = *(u64 *)(r2 +0)
3: (61) r2 = *(u32 *)(r2 +224)
4: (79) r3 = *(u64 *)(r1 +40)
5: (79) r3 = *(u64 *)(r3 +0)
6: (61) r3 = *(u32 *)(r3 +224)
7: (1e) if w3 == w2 goto pc+11
8: (79) r2 = *(u64 *)(r1 +32)
9: (79) r2 = *(u64 *)(r2 +0)
10: (61) r2 = *(u32 *)(r2 +224)
11: (bf) r2 = (s32)r2
12: (b4) w0 = 0
13: (c5) if r2 s< 0x0 goto pc+5
14: (79) r1 = *(u64 *)(r1 +32)
15: (61) r1 = *(u32 *)(r1 +8)
16: (b4) w0 = 1
17: (16) if w1 == 0x0 goto pc+1
18: (b4) w0 = 2
19: (95) exit
`,
	"testdata/ctx/callback.o/xdp_callback": `0: (7b) *(u64 *)(r10 -16) = r1
1: (62) *(u32 *)(r10 -8) = 0
2: (7b) *(u64 *)(r10 -24) = r1
3: (bf) r3 = r10
4: (07) r3 += -16
5: (b4) w1 = 4
6: (18) r2 = 0xe
8: (b7) r4 = 0
9: (85) call bpf_loop#181
10: (b4) w0 = 3
11: (61) r1 = *(u32 *)(r10 -8)
12: (16) if w1 == 0x6 goto pc+7
13: (79) r1 = *(u64 *)(r10 -24)
14: (79) r1 = *(u64 *)(r1 +32)
15: (79) r1 = *(u64 *)(r1 +0)
16: (61) r1 = *(u32 *)(r1 +224)
17: (b4) w0 = 1
18: (16) if w1 == 0x0 goto pc+1
19: (b4) w0 = 2
20: (95) exit
21: (79) r3 = *(u64 *)(r2 +0)
22: (79) r3 = *(u64 *)(r3 +32)
23: (61) r3 = *(u32 *)(r3 +8)
24: (0c) w3 += w1
25: (61) r1 = *(u32 *)(r2 +8)
26: (0c) w3 += w1
27: (63) *(u32 *)(r2 +8) = r3
28: (b4) w0 = 0
29: (95) exit
`,
}

func TestXlatedXDPTestObjects(t *testing.T) {
	for key, want := range xlatedListings {
		path, name, _ := strings.Cut(strings.Replace(key, ".o/", ".o\x00", 1), "\x00")
		t.Run(fmt.Sprintf("%s %s", path, name), func(t *testing.T) {
			raw, lines, ps := loadRaw(t, path, name)
			res, err := xlatedOf(raw, ebpf.XDP, ps.AttachType, lines)
			if err != nil {
				t.Fatal(err)
			}
			got, origin := res.Xlated, res.Origin
			if s := assembly.DumpKernel(got, nil); s != want {
				t.Errorf("got\n%s\nwant\n%s", s, want)
			}
			if len(origin) != len(got) {
				t.Fatalf("origin has %d entries for %d instructions", len(origin), len(got))
			}
			for i := 1; i < len(origin); i++ {
				if origin[i] < origin[i-1] || origin[i] > origin[i-1]+1 {
					t.Fatalf("origin %v is not a stretching of the program", origin)
				}
			}
		})
	}
	t.Run("Program.Xlated gives the same for a loaded object", func(t *testing.T) {
		obj, err := Load("testdata/ctx/devmap.o", LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := obj.Program("xdp_egress")
		if err != nil {
			t.Fatal(err)
		}
		got, origin, err := p.Xlated()
		if err != nil {
			t.Fatal(err)
		}
		if s := assembly.DumpKernel(got, nil); s != xlatedListings["testdata/ctx/devmap.o/xdp_egress"] {
			t.Errorf("got\n%s", s)
		}
		// The three instructions of the egress_ifindex load come from instruction 2.
		if origin[4] != 2 || origin[5] != 2 || origin[6] != 2 || origin[7] != 3 {
			t.Errorf("origin = %v", origin)
		}
	})
}

func TestTheBadXDPTestObjectIsRefused(t *testing.T) {
	// The kernel refused each of these programs with the same message at the same instruction
	// (bad.c; the pc counts instructions of the program with its callees appended).
	tests := []struct {
		prog, msg, line string
		pc              int
	}{
		{"narrow", "invalid bpf_context access off=12 size=1", "bad.c:12:", 0},
		{"wide", "invalid bpf_context access off=0 size=8", "bad.c:19:", 0},
		{"egress", "invalid bpf_context access off=20 size=4", "bad.c:26:", 0},
		{"write", "invalid bpf_context access off=16 size=4", "bad.c:32:", 0},
		{"ldsx", "invalid bpf_context access off=0 size=4", "bad.c:42:", 0},
		{"atomic", "BPF_ATOMIC stores into R1 ctx is not allowed", "bad.c:49:", 1},
		{"modified", "dereference of modified ctx ptr R1 off=16 disallowed", "bad.c:55:", 3},
		{"mixed", "same insn cannot be used with different pointers", "bad.c:74:", 6},
	}
	for _, tt := range tests {
		t.Run(tt.prog, func(t *testing.T) {
			raw, lines, _ := loadRaw(t, "testdata/ctx/bad.o", tt.prog)
			_, err := xlatedOf(raw, ebpf.XDP, ebpf.AttachNone, lines)
			var le *verifier.Error
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *verifier.Error", err)
			}
			if le.PC != tt.pc || le.Msg != tt.msg || !strings.HasPrefix(le.Line, tt.line) {
				t.Errorf("got instruction %d: %q at %q; want instruction %d: %q at %s", le.PC, le.Msg, le.Line, tt.pc, tt.msg, tt.line)
			}
		})
	}
}

// TestXlatedXDPAgreesWithTheLiveKernel repeats the measurement behind the listings above
// where a kernel lets this process load programs (root or CAP_BPF+CAP_PERFMON, and the kernel's
// struct offsets of this simulator: Linux 6.18).
func TestXlatedXDPAgreesWithTheLiveKernel(t *testing.T) {
	if os.Getenv("XDPSIM_NO_KERNEL") != "" {
		t.Skip("XDPSIM_NO_KERNEL is set")
	}
	probe, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
	if err != nil {
		t.Skipf("cannot load BPF programs here: %v", err)
	}
	probe.Close()
	kspec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	var nd *btf.Struct
	if err := kspec.TypeByName("net_device", &nd); err != nil {
		t.Skip(err)
	}
	for _, m := range nd.Members {
		if m.Name == "ifindex" && m.Offset.Bytes() != verifier.NetDeviceIfindex {
			t.Skipf("this kernel has net_device.ifindex at %d, not 6.18's %d", m.Offset.Bytes(), verifier.NetDeviceIfindex)
		}
	}
	normalize := func(insns []vm.Instruction, kernel bool) string {
		out := append([]vm.Instruction(nil), insns...)
		for i := range out {
			if out[i].Op == vm.OpCall && out[i].Src() == vm.PseudoCall && kernel {
				out[i].Imm, out[i].Off = int32(out[i].Off), 0
			}
		}
		return assembly.DumpKernel(out, nil)
	}
	for _, key := range []string{"testdata/ctx/fields.o/xdp_fields", "testdata/ctx/devmap.o/xdp_egress"} {
		path, name, _ := strings.Cut(strings.Replace(key, ".o/", ".o\x00", 1), "\x00")
		t.Run(fmt.Sprintf("%s %s", path, name), func(t *testing.T) {
			raw, lines, ps := loadRaw(t, path, name)
			res, err := xlatedOf(raw, ebpf.XDP, ps.AttachType, lines)
			if err != nil {
				t.Fatal(err)
			}
			mine, origin := res.Xlated, res.Origin
			p, err := ebpf.NewProgram(ps)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			info, err := p.Info()
			if err != nil {
				t.Fatal(err)
			}
			if n, err := info.JitedSize(); err != nil || n == 0 {
				t.Skip("the program is not JIT-compiled here: its calls are encoded differently")
			}
			// Line info: the kernel moves each record to where its instruction went, as the
			// comments of xdpsim dump --xlated are placed.
			if klines, err := info.LineInfos(); err == nil {
				var want, got []int
				for _, l := range klines {
					want = append(want, int(l.Offset))
				}
				iter := ps.Instructions.Iterate()
				for iter.Next() {
					if iter.Ins.Source() != nil {
						for i, o := range origin {
							if o == int(iter.Offset) {
								got = append(got, i)
								break
							}
						}
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("line info at %v, the kernel's at %v", got, want)
				}
				t.Logf("%d line-info records, at the same instructions as the kernel's", len(want))
			}
			xl, err := info.Instructions()
			if err != nil {
				t.Skipf("the kernel does not show xlated instructions here: %v", err)
			}
			var buf bytes.Buffer
			if err := xl.Marshal(&buf, binary.LittleEndian); err != nil {
				t.Fatal(err)
			}
			kernel, err := vm.Decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(mine, false), normalize(kernel, true); got != want {
				t.Errorf("simulator\n%s\nkernel\n%s", got, want)
			}
		})
	}
	t.Run("bad.o", func(t *testing.T) {
		spec, err := ebpf.LoadCollectionSpec("testdata/ctx/bad.o")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(spec.Programs) {
			raw, lines, ps := loadRaw(t, "testdata/ctx/bad.o", name)
			_, serr := xlatedOf(raw, ebpf.XDP, ebpf.AttachNone, lines)
			var le *verifier.Error
			if !errors.As(serr, &le) {
				t.Errorf("%s: simulator accepts", name)
				continue
			}
			p, kerr := ebpf.NewProgram(ps)
			if kerr == nil {
				p.Close()
				t.Errorf("%s: the kernel accepts", name)
				continue
			}
			var ve *ebpf.VerifierError
			if !errors.As(kerr, &ve) || !strings.Contains(strings.Join(ve.Log, "\n"), le.Msg) {
				t.Errorf("%s: the kernel said %v, the simulator %q", name, kerr, le.Msg)
			}
		}
	})
}

// FuzzXlatedXDP: any instruction stream is verified without a panic, and the xlated program of
// one the verifier accepts is one the machine accepts.
func FuzzXlatedXDP(f *testing.F) {
	for _, key := range []string{"testdata/ctx/fields.o/xdp_fields", "testdata/ctx/callback.o/xdp_callback", "testdata/ctx/devmap.o/xdp_egress"} {
		path, name, _ := strings.Cut(strings.Replace(key, ".o/", ".o\x00", 1), "\x00")
		spec, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := spec.Programs[name].Instructions.Marshal(&buf, binary.LittleEndian); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes(), false)
	}
	f.Fuzz(func(t *testing.T, code []byte, devmap bool) {
		insns, err := vm.Decode(code[:len(code)/vm.InstructionSize*vm.InstructionSize])
		if err != nil || len(insns) == 0 {
			return
		}
		opts := vm.ProgramOptions{Helpers: map[int32]vm.Helper{}, Kfuncs: map[int32]vm.Helper{},
			ResolveLdImm64: func(int, uint8, int32, int32) (uint64, error) { return 0, nil }}
		for _, in := range insns {
			// Helper numbers stay small: NewProgram sizes a table by the largest.
			if in.Op == vm.OpCall && in.Imm >= 0 && in.Imm < 512 {
				opts.Helpers[in.Imm] = func(*vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
				opts.Kfuncs[in.Imm] = opts.Helpers[in.Imm]
			}
		}
		_, inErr := vm.NewProgram(insns, opts)
		res, err := verifier.Verify(&verifier.Program{Name: "fuzz", Insns: insns, Type: ebpf.XDP, AttachType: xdpAttach(devmap), GPL: true},
			verifier.Options{MaxInsns: 100_000})
		if err != nil {
			return
		}
		out, origin := res.Xlated, res.Origin
		if len(origin) != len(out) || len(out) < len(insns) {
			t.Fatalf("%d instructions, %d origins, from %d", len(out), len(origin), len(insns))
		}
		if inErr == nil {
			if _, err := vm.NewProgram(out, opts); err != nil {
				t.Fatalf("the input prepares, the xlated program does not: %v\n%s", err, assembly.DumpKernel(out, nil))
			}
		}
	})
}
