package kernel

import (
	"fmt"
	"testing"
)

// Logs as Linux 6.18 wrote them (kernel addresses shortened).
const (
	logPacket = `Global function pkt() doesn't return scalar. Only those are supported.
0: R1=ctx() R10=fp0
; asm volatile (PKT NEED(14) "r0 = *(u16 *)(r2 + 13);" OUT ::: __clobber_all); @ pkt.c:30
0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)
1: (61) r3 = *(u32 *)(r1 +4)          ; R1=ctx() R3=pkt_end()
2: (bf) r4 = r2                       ; R2=pkt(r=0) R4=pkt(r=0)
3: (07) r4 += 14                      ; R4=pkt(off=14,r=0)
4: (2d) if r4 > r3 goto pc+2          ; R3=pkt_end() R4=pkt(off=14,r=14)
5: (69) r0 = *(u16 *)(r2 +13)
invalid access to packet, off=13 size=2, R2(id=0,off=13,r=14)
R2 offset is outside of the packet
processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	logCFG = `jump out of range from insn 1 to 7
processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	logUnreachable = `unreachable insn 2
processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	logLddwMiddle = `jump into the middle of ldimm64 insn 2
processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	logOpcode = `unknown opcode 8d
processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	logLoop = `Global function infinite() doesn't return scalar. Only those are supported.
0: R1=ctx() R10=fp0
0: (b7) r0 = 0                        ; R0=0
1: (07) r0 += 0                       ; R0=0
2: (05) goto pc-2
1: (07) r0 += 0                       ; R0=0
2: (05) goto pc-2
infinite loop detected at insn 1
cur state: R0=0 R1=ctx() R10=fp0
old state: R0=0 R1=ctx() R10=fp0
processed 10 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
`
	// Level 2: the live-register table (indented) comes first, and precision marking prints
	// lines with instructions in them between the failing instruction and the error.
	logLevel2 = `func#0 @0
Live regs before insn:
      0: .......... (b7) r1 = 0
     12: ......67.. (37) r6 /= 3
0: R1=ctx() R10=fp0
12: (37) r6 /= 3                      ; R6=scalar()
13: (0f) r7 += r6
mark_precise: frame0: last_idx 13 first_idx 10 subseq_idx -1
mark_precise: frame0: regs=r6 stack= before 12: (37) r6 /= 3
math between map_value pointer and register with unbounded min value is not allowed
processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
`
	// A message without its newline runs into the final line.
	logGlued = `Global function tail_call_array() doesn't return scalar. Only those are supported.
0: R1=ctx() R10=fp0
0: (18) r2 = 0xffff888107a8d000       ; R2=map_ptr(map=notprogs,ks=4,vs=4)
2: (b7) r3 = 0                        ; R3=0
3: (85) call bpf_tail_call#12
expected prog array map for tail callprocessed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	// At level 2 the log keeps the walk's lines before an error raised after the walk.
	logAfterWalk = `0: R1=ctx() R10=fp0
4: (85) call pc+3
13: (95) exit
combined stack size of 3 calls is 528. Too large
processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
`
	logAccepted = `processed 15 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 2 mark_read 0
`
	// A lddw takes two slots: the instruction after it is numbered two on.
	logLddw = `0: R1=ctx() R10=fp0
4: (18) r1 = 0xffff8881398da400       ; R1=map_ptr(map=h,ks=4,vs=8)
6: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,map=h,ks=4,vs=8)
7: (18) r1 = 0x123456789              ; R1=0x123456789
9: (79) r0 = *(u64 *)(r0 +0)
R0 invalid mem access 'map_value_or_null'
processed 8 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
)

func TestTheBlamedInstructionAndMessageAreReadOffTheLog(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		insn      int
		msg       string
	}{
		{"an error during the walk blames the last instruction line", logPacket, 5,
			"invalid access to packet, off=13 size=2, R2(id=0,off=13,r=14)\nR2 offset is outside of the packet"},
		{"a jump out of range blames the jump the message names", logCFG, 1, "jump out of range from insn 1 to 7"},
		{"an unreachable instruction is blamed by its index", logUnreachable, 2, "unreachable insn 2"},
		{"a jump into an lddw blames the lddw the message names", logLddwMiddle, 2, "jump into the middle of ldimm64 insn 2"},
		{"an error before the walk that names no instruction blames none", logOpcode, -1, "unknown opcode 8d"},
		{"an infinite loop blames the last instruction printed, not the one named", logLoop, 2,
			"infinite loop detected at insn 1\ncur state: R0=0 R1=ctx() R10=fp0\nold state: R0=0 R1=ctx() R10=fp0"},
		{"level 2 reads the same as level 1 despite the live-register table and precision marks", logLevel2, 13,
			"math between map_value pointer and register with unbounded min value is not allowed"},
		{"indexes count an lddw as two instructions", logLddw, 9, "R0 invalid mem access 'map_value_or_null'"},
		{"an empty log blames nothing", "", -1, ""},
		{"an error after the walk blames nothing", logAfterWalk, -1, "combined stack size of 3 calls is 528. Too large"},
		{"a message that lacks its newline is cut off the final line", logGlued, 3, "expected prog array map for tail call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BlamedInsn(tc.log); got != tc.insn {
				t.Errorf("BlamedInsn = %d, want %d", got, tc.insn)
			}
			if got := ErrorMessage(tc.log); got != tc.msg {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.msg)
			}
		})
	}
}

func TestTheFinalFiguresAreReadOffTheLog(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		want      Stats
	}{
		{"an accepted program's log", logAccepted, Stats{Found: true, Processed: 15, MaxStatesPerInsn: 1, TotalStates: 2, PeakStates: 2}},
		{"a rejected program's log", logLoop, Stats{Found: true, Processed: 10, TotalStates: 1, PeakStates: 1}},
		{"a log without the line", "invalid argument\n", Stats{}},
		{"a line a message ran into", logGlued, Stats{Found: true, Processed: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseStats(tc.log); got != tc.want {
				t.Errorf("ParseStats = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func ExampleBlamedInsn() {
	log := `0: R1=ctx() R10=fp0
0: (b7) r1 = 2                        ; R1=2
1: (95) exit
R0 !read_ok
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`
	fmt.Println(BlamedInsn(log), ErrorMessage(log), ParseStats(log).Processed)
	// Output: 1 R0 !read_ok 2
}
