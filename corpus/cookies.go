package corpus

import (
	"encoding/binary"
	"errors"
)

// MaskCookies prepares a frame a program with Cookies set sent with XDP_TX for comparison with the
// other side's: when it is a TCP SYN-ACK over IPv4 or IPv6 (no VLAN, no IPv4 options, no IPv6 extension
// headers), it checks its TCP checksum and returns a copy with the sequence number (the SYN
// cookie) and the checksum zeroed; any other frame comes back as it is. A SYN-ACK whose checksum
// is wrong is an error: masking must not hide a bad answer.
func MaskCookies(frame []byte) ([]byte, error) {
	if len(frame) < 14 {
		return frame, nil
	}
	var tcp, pseudo []byte
	switch binary.BigEndian.Uint16(frame[12:]) {
	case 0x0800:
		ip := frame[14:]
		if len(ip) < 20 || ip[0] != 0x45 || ip[9] != 6 {
			return frame, nil
		}
		tcp = ip[20:]
		pseudo = append(append(append([]byte{}, ip[12:20]...), 0, 6), byte(len(tcp)>>8), byte(len(tcp)))
	case 0x86dd:
		ip := frame[14:]
		if len(ip) < 40 || ip[6] != 6 {
			return frame, nil
		}
		tcp = ip[40:]
		pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, byte(len(tcp)>>8), byte(len(tcp)), 0, 0, 0, 6)
	default:
		return frame, nil
	}
	if len(tcp) < 20 || tcp[13]&0x3f != 0x12 { // SYN|ACK, nothing else
		return frame, nil
	}
	if sum16(pseudo, uint32(sum16(tcp, 0))) != 0xffff {
		return nil, errors.New("SYN-ACK with a bad TCP checksum")
	}
	out := append([]byte(nil), frame...)
	off := len(frame) - len(tcp)
	clear(out[off+4 : off+8])   // sequence number: the cookie
	clear(out[off+16 : off+18]) // checksum over it
	return out, nil
}

// sum16 is the one's complement sum of b's 16-bit big-endian words, added to s.
func sum16(b []byte, s uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// SynproxyFrame is a frame for synproxy's tests and benchmarks: Ethernet, IPv4 from 192.0.2.1 to
// 198.51.100.7 (no checksum: the proxy does not check it) and TCP from sport to port 80 with seq,
// ack and flags and an MSS option of 1460, as in synproxy.pcap.
func SynproxyFrame(sport uint16, seq, ack uint32, flags byte) []byte {
	f := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7}
	tcp := make([]byte, 24)
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12], tcp[13] = 6<<4, flags
	copy(tcp[20:], []byte{2, 4, 0x05, 0xb4})
	return append(f, tcp...)
}
