package kernel_test

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
)

// tcpPacket is an Ethernet frame with an IPv4 or IPv6 header and a TCP header with the given
// options (padded to whole words), then 8 bytes for the test program's answer.
func tcpPacket(v6 bool, seq, ack uint32, flags byte, opts ...byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	eth := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}
	var ip []byte
	if v6 {
		eth[12], eth[13] = 0x86, 0xdd
		ip = make([]byte, 40)
		ip[0], ip[6], ip[7] = 0x60, 6, 64
		copy(ip[8:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
		copy(ip[24:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 2})
	} else {
		ip = []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7}
	}
	tcp := make([]byte, 20, 20+len(opts))
	binary.BigEndian.PutUint16(tcp[0:], 49999)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = byte((20+len(opts))/4) << 4
	tcp[13] = flags
	tcp = append(tcp, opts...)
	return append(append(append(eth, ip...), tcp...), make([]byte, 8)...)
}

const (
	tcpSYN = 0x02
	tcpACK = 0x10
)

// cookieSpec calls a raw SYN cookie helper on the packet's IP and TCP headers (thLen is the
// length it passes for the TCP header; the check helpers take none) and stores its 64-bit answer
// in the packet's last 8 bytes, at answer.
func cookieSpec(f asm.BuiltinFunc, v6 bool, thLen, answer int32) *ebpf.CollectionSpec {
	ipLen := int32(20)
	if v6 {
		ipLen = 40
	}
	insns := asm.Instructions{
		asm.LoadMem(asm.R6, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R7, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R6),
		asm.Add.Imm(asm.R2, answer+8),
		asm.JLE.Reg(asm.R2, asm.R7, "in"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		asm.Mov.Reg(asm.R1, asm.R6).WithSymbol("in"),
		asm.Add.Imm(asm.R1, 14),
		asm.Mov.Reg(asm.R2, asm.R6),
		asm.Add.Imm(asm.R2, 14+ipLen),
		asm.Mov.Imm(asm.R3, thLen),
		f.Call(),
		asm.StoreMem(asm.R6, int16(answer), asm.R0, asm.DWord),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	}
	return &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"cookie": {Name: "cookie", Type: ebpf.XDP, License: "GPL", Instructions: insns},
	}}
}

// cookieSides runs a cookie program in the simulator and, where there is one, in the kernel, and
// returns each side's 64-bit answer (hasKernel false without a kernel).
type cookieSides struct {
	x  *sim.XDP
	kp *kernel.Program
}

func newCookieSides(t *testing.T, spec func() *ebpf.CollectionSpec) *cookieSides {
	t.Helper()
	o, err := sim.LoadSpec("cookie", spec(), sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("cookie")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	c := &cookieSides{x: x}
	if kernel.Available() == nil {
		if c.kp, err = kernel.LoadSpec("cookie", spec(), kernel.Options{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.kp.Close() })
	}
	return c
}

func answer(t *testing.T, side string, ret uint32, data []byte, err string) uint64 {
	t.Helper()
	if err != "" || ret != 2 {
		t.Fatalf("%s: returned %d (%s), not the helper's answer", side, ret, err)
	}
	return binary.LittleEndian.Uint64(data[len(data)-8:])
}

func (c *cookieSides) run(t *testing.T, pkt []byte) (simAnswer, kernAnswer uint64, haveKernel bool) {
	t.Helper()
	s := c.x.Run(pkt, nil, sim.Conditions{TimeNs: 1_700_000_000_000_000_000})
	simAnswer = answer(t, "simulator", s.Ret, s.Data, s.Err)
	if c.kp == nil {
		return simAnswer, 0, false
	}
	k := c.kp.Run(pkt, nil, kernel.Context{})
	return simAnswer, answer(t, "kernel", k.Ret, k.Data, k.Err), true
}

func TestRawSyncookieGenerationAgreesWithTheKernel(t *testing.T) {
	mssOpt := func(v uint16) []byte { return []byte{2, 4, byte(v >> 8), byte(v)} }
	const eINVAL = -22
	for _, tc := range []struct {
		name  string
		v6    bool
		opts  []byte
		thLen int32 // 0: the header's own length
		// want is the MSS the cookie encodes, or a negative errno.
		want int64
	}{
		{"an IPv4 SYN asking for MSS 1460 gets it", false, mssOpt(1460), 0, 1460},
		{"an IPv4 SYN asking for 1459 gets 1440", false, mssOpt(1459), 0, 1440},
		{"an IPv4 SYN asking for 1350 gets 1300", false, append([]byte{1, 1, 4, 2}, mssOpt(1350)...), 0, 1300},
		{"an IPv4 SYN asking for 1000 gets 536", false, mssOpt(1000), 0, 536},
		{"an IPv4 SYN without an MSS option gets TCP_MSS_DEFAULT", false, []byte{1, 3, 3, 7}, 0, 536},
		{"an IPv6 SYN asking for 9000 gets 8940", true, mssOpt(9000), 0, 8940},
		{"an IPv6 SYN asking for 1480 gets 1440", true, mssOpt(1480), 0, 1440},
		{"an IPv6 SYN without an MSS option gets 1220", true, nil, 0, 1220},
		{"th_len shorter than doff*4 is refused", false, mssOpt(1460), 20, eINVAL},
		{"th_len longer than doff*4 is refused", false, nil, 24, eINVAL},
		{"th_len below a TCP header is refused", false, nil, 16, eINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := asm.FnTcpRawGenSyncookieIpv4
			if tc.v6 {
				f = asm.FnTcpRawGenSyncookieIpv6
			}
			pkt := tcpPacket(tc.v6, 0x11223344, 0, tcpSYN, tc.opts...)
			thLen := tc.thLen
			if thLen == 0 {
				thLen = int32(20 + (len(tc.opts)+3)/4*4)
			}
			c := newCookieSides(t, func() *ebpf.CollectionSpec { return cookieSpec(f, tc.v6, thLen, int32(len(pkt)-8)) })
			s, k, kernelToo := c.run(t, pkt)
			check := func(side string, v uint64) {
				if tc.want < 0 {
					if int64(v) != tc.want {
						t.Errorf("%s returned %d, want %d", side, int64(v), tc.want)
					}
					return
				}
				if mss := int64(v >> 32 & 0xffff); mss != tc.want || v>>48 != 0 {
					t.Errorf("%s returned %#x: MSS %d, want %d in bits 32..47 and nothing above", side, v, mss, tc.want)
				}
			}
			check("simulator", s)
			if kernelToo {
				check("kernel", k)
			} else {
				t.Log("kernel side skipped: ", kernel.Available())
			}
		})
	}
}

// The kernel's secret is random, so its cookies cannot be compared with the simulator's; what
// can be compared is how cookies behave: the kernel accepts its own cookie and rejects a changed
// one, the simulator its own; the sequence number adds to the cookie and the MSS index to its low
// 24 bits on both sides.
func TestRawSyncookiesRoundTripOnEachSide(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		fam, gen, chk := "IPv4", asm.FnTcpRawGenSyncookieIpv4, asm.FnTcpRawCheckSyncookieIpv4
		if v6 {
			fam, gen, chk = "IPv6", asm.FnTcpRawGenSyncookieIpv6, asm.FnTcpRawCheckSyncookieIpv6
		}
		t.Run(fam, func(t *testing.T) {
			mss := []byte{2, 4, 0x05, 0xb4} // 1460: index 3 of the IPv4 table, 2 of the IPv6 one
			mssIndex := uint32(3)
			if v6 {
				mssIndex = 2
			}
			syn, ackPkt := len(tcpPacket(v6, 0, 0, tcpSYN, mss...)), len(tcpPacket(v6, 0, 0, tcpACK))
			g := newCookieSides(t, func() *ebpf.CollectionSpec { return cookieSpec(gen, v6, 24, int32(syn-8)) })
			ck := newCookieSides(t, func() *ebpf.CollectionSpec { return cookieSpec(chk, v6, 0, int32(ackPkt-8)) })
			const seq = 0x5eed0001
			sGen, kGen, kernelToo := g.run(t, tcpPacket(v6, seq, 0, tcpSYN, mss...))
			sideCookies := map[string]uint32{"simulator": uint32(sGen)}
			if kernelToo {
				sideCookies["kernel"] = uint32(kGen)
			}
			for side, cookie := range sideCookies {
				for _, tc := range []struct {
					name string
					ack  uint32
					seq  uint32
					want int64
				}{
					{"the handshake's ACK carries a good cookie", cookie + 1, seq + 1, 0},
					{"an ACK with the cookie changed is refused", cookie + 1 + 1000, seq + 1, -13},
					{"an ACK with the sequence number changed is refused", cookie + 1, seq + 1 + 1000, -13},
				} {
					t.Run(side+": "+tc.name, func(t *testing.T) {
						s, k, _ := ck.run(t, tcpPacket(v6, tc.seq, tc.ack, tcpACK))
						got := int64(int32(s))
						if side == "kernel" {
							got = int64(int32(k))
						}
						if got != tc.want {
							t.Errorf("returned %d, want %d", got, tc.want)
						}
					})
				}
			}
			if !kernelToo {
				t.Log("kernel side skipped: ", kernel.Available())
				return
			}
			t.Run("the sequence number adds to the cookie and the MSS index to its low 24 bits, on both sides", func(t *testing.T) {
				s2, k2, _ := g.run(t, tcpPacket(v6, seq+500, 0, tcpSYN, mss...))
				if uint32(s2)-uint32(sGen) != 500 || uint32(k2)-uint32(kGen) != 500 {
					t.Errorf("seq+500 moved the cookie by %d (simulator) and %d (kernel)", uint32(s2)-uint32(sGen), uint32(k2)-uint32(kGen))
				}
				s3, k3, _ := g.run(t, tcpPacket(v6, seq, 0, tcpSYN, 2, 4, 0, 100)) // the table's smallest
				ds, dk := (uint32(sGen)-uint32(s3))&0xffffff, (uint32(kGen)-uint32(k3))&0xffffff
				if ds != mssIndex || dk != mssIndex {
					t.Errorf("MSS 1460 and the smallest differ by %d (simulator) and %d (kernel) in the low 24 bits, want %d", ds, dk, mssIndex)
				}
			})
		})
	}
}
