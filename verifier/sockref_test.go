package verifier_test

import (
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
)

// skLookup is the selftests' BPF_SK_LOOKUP(bpf_sk_lookup_tcp): a zeroed struct bpf_sock_tuple
// (36 bytes) on the stack and sk = bpf_sk_lookup_tcp(ctx, &tuple, sizeof(tuple), 0, 0), a
// referenced socket or NULL in r0 (instructions 0 to 12), which the program leaves when it is NULL
// and else goes on at 16 with r6 = sk.
var skLookup = skLookupWith(84)

// skLookupWith is skLookup with another lookup helper (bpf_skc_lookup_tcp, 99, gives a
// sock_common).
func skLookupWith(helper int) string {
	return `mov64 %r2, 0
stxw [%r10-8], %r2
stxdw [%r10-16], %r2
stxdw [%r10-24], %r2
stxdw [%r10-32], %r2
stxdw [%r10-40], %r2
stxdw [%r10-48], %r2
mov64 %r2, %r10
add64 %r2, -48
mov64 %r3, 36
mov64 %r4, 0
mov64 %r5, 0
call ` + strconv.Itoa(helper) + `
jne %r0, 0, found
exit
found:
mov64 %r6, %r0
`
}

// castThenRelease asks helper cast (a socket's view) of the socket, releases the socket, and
// reads the first word of the view.
func castThenRelease(cast string) string {
	return skLookup + `mov64 %r1, %r0
call ` + cast + `
jne %r0, 0, cast
mov64 %r1, %r6
call 86
exit
cast:
mov64 %r7, %r0
mov64 %r1, %r6
call 86
ldxw %r0, [%r7]
exit`
}

// A pointer that bpf_sk_fullsock, bpf_tcp_sock or a bpf_skc_to_*_sock cast gives from a
// referenced socket carries the socket's reference (ref_obj_id): releasing the socket kills
// it, and releasing it releases the socket. The selftests' verifier_ref_tracking.c
// bpf_sk_fullsock_after_release, bpf_tcp_sock_after_release, sk_fullsock_tp_after_release and
// after_bpf_sk_release_tp. bpf_get_listener_sock and bpf_skc_to_unix_sock are no such casts:
// what they give has no reference and outlives the release.
func TestASocketsViewsShareItsReference(t *testing.T) {
	checkKernelCases(t, ebpf.SchedCLS, nil, []kernelCase{
		{name: "bpf_sk_fullsock's socket is dead after the release", src: castThenRelease("95"), insn: 25, message: "R7 invalid mem access 'scalar'"},
		{name: "bpf_tcp_sock's socket is dead after the release", src: castThenRelease("96"), insn: 25, message: "R7 invalid mem access 'scalar'"},
		{name: "bpf_skc_to_tcp_sock's socket is dead after the release", src: castThenRelease("137"), insn: 25, message: "R7 invalid mem access 'scalar'"},
		{name: "bpf_skc_to_unix_sock's socket lives on", src: castThenRelease("178"), accept: true},
		{name: "bpf_get_listener_sock's socket lives on", src: castThenRelease("98"), accept: true},
		{name: "bpf_sk_fullsock of bpf_tcp_sock's socket dies with the socket", src: skLookup + `mov64 %r1, %r0
call 96
jne %r0, 0, tp
mov64 %r1, %r6
call 86
exit
tp:
mov64 %r1, %r0
call 95
mov64 %r1, %r6
mov64 %r6, %r0
call 86
jne %r6, 0, full
exit
full:
ldxw %r0, [%r6+8]
exit`, insn: 29, message: "R6 invalid mem access 'scalar'"},
		{name: "releasing bpf_tcp_sock's socket releases the socket", src: skLookup + `mov64 %r1, %r0
call 96
jne %r0, 0, tp
mov64 %r1, %r6
call 86
exit
tp:
mov64 %r1, %r0
call 86
ldxw %r0, [%r6+8]
exit`, insn: 24, message: "R6 invalid mem access 'scalar'"},
		{name: "releasing bpf_tcp_sock's socket leaves nothing to release", src: skLookup + `mov64 %r1, %r0
call 96
jne %r0, 0, tp
mov64 %r1, %r6
call 86
exit
tp:
mov64 %r1, %r0
call 86
mov64 %r0, 0
exit`, accept: true},
	})
}
