//go:build amd64 && linux

#include "textflag.h"

// func jitcall(m unsafe.Pointer, entry, target uintptr)
//
// jitcall enters a program's native code: its entry stub loads the BPF registers from the machine m
// (kept in R15 throughout) and jumps to target; the code returns here with RET once it has stored
// them back. Native code uses no stack beyond the return address this CALL pushes.
TEXT ·jitcall(SB), NOSPLIT, $0-24
	MOVQ m+0(FP), R15
	MOVQ entry+8(FP), CX
	MOVQ target+16(FP), AX
	CALL CX
	RET

