package verifier

// The structs a program reads through a socket pointer (UAPI struct bpf_sock, bpf_tcp_sock and
// bpf_xdp_sock) and which of their bytes it may read at which size, as Linux 6.18 answers
// (bpf_sock_is_valid_access and its siblings; measured for every offset and size by
// TestSocketFieldReadsAgreeWithTheKernel).

// Offsets of struct bpf_sock.
const (
	bpfSockFamily         = 4
	bpfSockType           = 8
	bpfSockProtocol       = 12
	bpfSockPriority       = 20
	bpfSockSrcIP4         = 24 // src_ip4, then src_ip6[4] up to src_port
	bpfSockSrcPort        = 44
	bpfSockDstPort        = 48 // a __be16 and two bytes of padding
	bpfSockDstIP4         = 52 // dst_ip4, then dst_ip6[4] up to state
	bpfSockState          = 72
	bpfSockRxQueueMapping = 76
	bpfSockSize           = 80
)

// Offsets of struct bpf_tcp_sock: its two 64-bit counters, the rest are 32-bit.
const (
	bpfTCPSockBytesReceived = 80
	bpfTCPSockBytesAcked    = 88
	bpfTCPSockSize          = 112
)

// bpfXDPSockSize is struct bpf_xdp_sock: queue_id alone.
const bpfXDPSockSize = 4

// sockReadOK says whether a read of size bytes at off through a socket pointer of type t is
// allowed. Each field is read at its own size (4 bytes, 8 for bpf_tcp_sock's counters); the
// fields that bpf_sock's narrow-read rule covers (family, type, protocol, src_port, state,
// rx_queue_mapping at their first byte, any aligned part of the addresses and of dst_port) also
// in 1 and 2 bytes. A sock_common shows bpf_sock without type, protocol, mark and priority.
func sockReadOK(t regType, off, size int) bool {
	if off < 0 || off%size != 0 {
		return false
	}
	switch t {
	case ptrToSockCommon:
		if off >= bpfSockType && off < bpfSockPriority+4 {
			return false
		}
		fallthrough
	case ptrToSocket:
		switch {
		case off >= bpfSockSize, off >= bpfSockDstPort+2 && off < bpfSockDstIP4:
			return false
		case off == bpfSockFamily, off == bpfSockType, off == bpfSockProtocol, off == bpfSockSrcPort,
			off == bpfSockState, off == bpfSockRxQueueMapping,
			off >= bpfSockSrcIP4 && off < bpfSockSrcPort,
			off >= bpfSockDstPort && off < bpfSockState:
			return size <= 4
		}
		return size == 4
	case ptrToTCPSock:
		switch off {
		case bpfTCPSockBytesReceived, bpfTCPSockBytesAcked:
			return size == 8
		}
		return off < bpfTCPSockSize && size == 4
	case ptrToXDPSock:
		return off < bpfXDPSockSize && size == 4
	}
	return false
}

// sockReadUnconverted says the kernel lets the read through its check but has no rewrite for
// it: the upper halves of bpf_tcp_sock's 64-bit counters read with 4 bytes. Linux 6.18 then
// refuses the program after its analysis, as a bug of its own ("verifier bug: error during
// ctx access conversion (0)", EFAULT, with a kernel warning).
func sockReadUnconverted(t regType, off, size int) bool {
	return t == ptrToTCPSock && size == 4 && (off == bpfTCPSockBytesReceived+4 || off == bpfTCPSockBytesAcked+4)
}
