package sim

import "github.com/xdpsim/xdpsim/errno"

// PullData is bpf_xdp_pull_data for the kfunc (kfuncs.PacketPuller), on an XDP program's frame.
func (s *runState) PullData(n uint32) errno.Errno {
	if s.xdp == nil {
		return errno.EINVAL
	}
	return s.xdp.pullData(int(n))
}

// pullData makes the packet's first n bytes linear as bpf_xdp_pull_data does (net/core/filter.c,
// Linux 6.18): when the tailroom of the linear part is short, the metadata and data move down
// into the headroom (above the xdp_frame) by what it lacks; then the bytes come out of the
// fragments' heads, each fragment's offset in its page moving past them, and fragments left empty
// are freed.
func (s *xdpState) pullData(n int) errno.Errno {
	dataLen := int(s.dataEnd - s.data)
	if n <= dataLen {
		return 0
	}
	if n > dataLen+s.fragsSize() {
		return errno.EINVAL
	}
	start := int(s.data)
	if s.metaOK {
		start = int(s.dataMeta)
	}
	headroom := start - s.headroomFloor()
	tailroom := hardEnd - int(s.dataEnd)
	delta := n - dataLen
	if delta > tailroom+headroom {
		return errno.EINVAL
	}
	if shift := delta - tailroom; shift > 0 {
		copy(s.frame[start-shift:], s.frame[start:s.dataEnd])
		s.data -= uint32(shift)
		s.dataEnd -= uint32(shift)
		if s.metaOK {
			s.dataMeta -= uint32(shift)
		} else {
			s.dataMeta = s.data
		}
	}
	freed := 0
	for i := 0; i < len(s.frags) && delta > 0; i++ {
		k := min(delta, len(s.frags[i]))
		copy(s.frame[s.dataEnd:], s.frags[i][:k])
		s.dataEnd += uint32(k)
		delta -= k
		s.frags[i] = s.frags[i][k:]
		s.fragOff[i] += k
		if len(s.frags[i]) == 0 {
			freed++
		}
	}
	if freed > 0 {
		// The fragments left keep their pages: fragment i lives in fragStore[i].
		for i := freed; i < len(s.frags); i++ {
			j := i - freed
			s.fragStore[j] = s.fragStore[i]
			s.fragOff[j] = s.fragOff[i]
			s.frags[j] = s.fragStore[j][s.fragOff[j] : s.fragOff[j]+len(s.frags[i])]
		}
		s.frags = s.frags[:len(s.frags)-freed]
	}
	s.window()
	return 0
}
