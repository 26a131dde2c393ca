package sim

import (
	"encoding/binary"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/syncookie"
	"github.com/xdpsim/xdpsim/vm"
)

// The raw SYN cookie helpers (#204-#207, net/core/filter.c): cookies for a SYN and their check on
// the handshake's ACK without a listening socket, as XDP and tc SYN proxies use them. The cookie
// algorithm is the kernel's (package syncookie); its secret is the run's (SetSyncookieSecret, or
// derived from the seed), where the kernel's is random.

func init() {
	registerXDPAndTC(asm.FnTcpRawGenSyncookieIpv4, func(s *runState, m *vm.Machine, iph, th, thLen, _, _ uint64) (uint64, error) {
		return s.rawGenSyncookie(m, iph, ipv4HdrLen, th, thLen)
	})
	registerXDPAndTC(asm.FnTcpRawGenSyncookieIpv6, func(s *runState, m *vm.Machine, iph, th, thLen, _, _ uint64) (uint64, error) {
		return s.rawGenSyncookie(m, iph, ipv6HdrLen, th, thLen)
	})
	registerXDPAndTC(asm.FnTcpRawCheckSyncookieIpv4, func(s *runState, m *vm.Machine, iph, th, _, _, _ uint64) (uint64, error) {
		return s.rawCheckSyncookie(m, iph, ipv4HdrLen, th)
	})
	registerXDPAndTC(asm.FnTcpRawCheckSyncookieIpv6, func(s *runState, m *vm.Machine, iph, th, _, _, _ uint64) (uint64, error) {
		return s.rawCheckSyncookie(m, iph, ipv6HdrLen, th)
	})
}

const (
	ipv4HdrLen = 20 // sizeof(struct iphdr)
	ipv6HdrLen = 40 // sizeof(struct ipv6hdr)
	tcpHdrLen  = 20 // sizeof(struct tcphdr)
)

// cookieConn reads the connection a cookie is bound to from the IP and TCP headers.
func cookieConn(ip, tcp []byte) syncookie.Conn {
	c := syncookie.Conn{SrcPort: [2]byte(tcp[0:2]), DstPort: [2]byte(tcp[2:4])}
	if len(ip) == ipv6HdrLen {
		c.Src, c.Dst = ip[8:24], ip[24:40]
	} else {
		c.Src, c.Dst = ip[12:16], ip[16:20]
	}
	return c
}

// cookieCounter is tcp_cookie_time() on the virtual clock, in the jiffies bpf_jiffies64 counts.
func (s *runState) cookieCounter() uint32 {
	return syncookie.Counter(s.cond.TimeNs/(1e9/jiffiesHZ), jiffiesHZ)
}

// rawGenSyncookie is bpf_tcp_raw_gen_syncookie_ipv4/6: the cookie in the low 32 bits, the MSS it
// encodes in the next 16; -EINVAL unless th_len is the TCP header's length (doff * 4, at least 20).
func (s *runState) rawGenSyncookie(m *vm.Machine, iph uint64, ipLen int, th, thLen uint64) (uint64, error) {
	ip, err := m.Bytes(iph, ipLen, false)
	if err != nil {
		return 0, err
	}
	n := uint32(thLen)
	tcp, err := m.Bytes(th, int(n), false)
	if err != nil {
		return 0, err
	}
	if n < tcpHdrLen || n != uint32(tcp[12]>>4)*4 {
		return errno.EINVAL.Return(), nil
	}
	mss := syncookie.ParseMSSOption(tcp)
	if mss == 0 {
		mss = syncookie.DefaultMSS4
		if ipLen == ipv6HdrLen {
			mss = syncookie.DefaultMSS6
		}
	}
	cookie, enc := s.cookies.Generate(cookieConn(ip, tcp), binary.BigEndian.Uint32(tcp[4:]), mss, s.cookieCounter())
	return uint64(cookie) | uint64(enc)<<32, nil
}

// rawCheckSyncookie is bpf_tcp_raw_check_syncookie_ipv4/6: 0 when the ACK's acknowledgment number
// is a cookie of this connection from this minute or the last, -EACCES otherwise.
func (s *runState) rawCheckSyncookie(m *vm.Machine, iph uint64, ipLen int, th uint64) (uint64, error) {
	ip, err := m.Bytes(iph, ipLen, false)
	if err != nil {
		return 0, err
	}
	tcp, err := m.Bytes(th, tcpHdrLen, false)
	if err != nil {
		return 0, err
	}
	seq, ack := binary.BigEndian.Uint32(tcp[4:]), binary.BigEndian.Uint32(tcp[8:])
	if s.cookies.Check(cookieConn(ip, tcp), seq, ack, s.cookieCounter()) > 0 {
		return 0, nil
	}
	return errno.EACCES.Return(), nil
}

// SetSyncookieSecret sets the keys SYN cookies are made with; without it they derive from the seed
// (syncookie.SecretFromSeed of SetSeed's seed, 1 by default).
func (x *XDP) SetSyncookieSecret(sec syncookie.Secret) {
	for _, rs := range x.runStates() {
		rs.cookies = sec
		rs.cookiesSet = true
	}
}

// bpf_tcp_gen_syncookie and bpf_tcp_check_syncookie (#110, #100) work through a listening TCP
// socket a program found with bpf_sk_lookup_tcp or bpf_skc_lookup_tcp. The simulated host has no
// sockets (those lookups answer NULL), so a program the kernel's verifier accepts never reaches
// them with a socket; reached at all, they answer -EINVAL, the kernel's answer for anything but a
// listening TCP socket. Programs that call them load and run as they would on a host where no
// socket listens.
func init() {
	noListener := func(*runState, *vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return errno.EINVAL.Return(), nil
	}
	registerXDPAndTC(asm.FnTcpGenSyncookie, noListener)
	registerXDPAndTC(asm.FnTcpCheckSyncookie, noListener)
}
