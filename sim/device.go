package sim

import (
	"fmt"
	"unsafe"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/traits"
	"github.com/xdpsim/xdpsim/vm"
)

// SetDevice makes packets arrive on d (nil: no device, BPF_PROG_TEST_RUN's conditions), with the
// program attached to it: d joins the object's devices (Object.Devices; without an ifindex it takes
// 1, the ingress ifindex of BPF_PROG_TEST_RUN, in place of lo), and d records the program as
// attached without applying its driver's checks (call d.AttachXDP first for those). A device
// without CPUs of its own maps its RX queues onto the object's simulated CPUs.
func (x *XDP) SetDevice(d *device.Netdev) {
	if d != nil {
		if d.CPUs == 0 {
			d.CPUs = x.rs.obj.opts.CPUs
		}
		if d.Ifindex == 0 {
			d.Ifindex = 1
		}
		if d.XDP() == nil {
			d.SetXDP(&device.XDPProgram{Frags: x.prog.Frags})
		}
		_ = x.rs.obj.Devices().Put(d)
	}
	x.dev = d
}

// HintResult is what one RX-metadata kfunc returned for a packet.
type HintResult struct {
	Ret       int64  `json:"ret"`
	Timestamp uint64 `json:"timestamp,omitempty"`
	Hash      uint32 `json:"hash,omitempty"`
	RSSType   uint32 `json:"rss_type,omitempty"`
	VLANProto uint16 `json:"vlan_proto,omitempty"`
	VLANTCI   uint16 `json:"vlan_tci,omitempty"`
}

// recordKfunc wraps a kfunc so the packet's outcome records what the RX-metadata hints returned.
func recordKfunc(k *kfuncs.Kfunc) vm.Helper {
	impl := k.Impl
	var which kfuncs.Hint
	switch k.Name {
	case "bpf_xdp_metadata_rx_timestamp":
		which = kfuncs.HintTimestamp
	case "bpf_xdp_metadata_rx_hash":
		which = kfuncs.HintHash
	case "bpf_xdp_metadata_rx_vlan_tag":
		which = kfuncs.HintVLANTag
	default:
		return impl
	}
	name := k.Name
	return func(m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		r0, err := impl(m, r1, r2, r3, r4, r5)
		if err != nil {
			return r0, err
		}
		rs, ok := m.Host.(*runState)
		if !ok || rs.xdp == nil || !rs.xdp.running {
			return r0, nil
		}
		s := rs.xdp
		res := HintResult{Ret: int64(r0)}
		if int64(r0) == 0 && s.hints != nil {
			h := s.hints
			switch which {
			case kfuncs.HintTimestamp:
				res.Timestamp = h.Timestamp
			case kfuncs.HintHash:
				res.Hash, res.RSSType = h.Hash, uint32(h.HashType)
			case kfuncs.HintVLANTag:
				res.VLANProto, res.VLANTCI = h.VLANProto, h.VLANTCI
			}
		}
		// The map is the XDP's own, cleared per packet: like Data, valid until the next Run.
		if s.hintMap == nil {
			s.hintMap = map[string]HintResult{}
		}
		s.hintMap[name] = res
		return r0, nil
	}
}

// The kfuncs.Frame side of the XDP state.

// Hints is what the device supplied for this frame.
func (s *xdpState) Hints() *kfuncs.RxHints { return s.hints }

// traitsLayout is the store layout the features select.
func (s *xdpState) traitsLayout() traits.Layout {
	if s.r.obj.opts.Features.TraitsV1 {
		return traits.V1
	}
	return traits.V2
}

// traitsArea is the store: from the end of the xdp_frame to data_meta (to data where metadata is
// not supported).
func (s *xdpState) traitsArea() []byte {
	end := s.dataMeta
	if !s.metaOK {
		end = s.data
	}
	return s.frame[XDPFrameSize:end]
}

// UseTraits gives a trait kfunc the store; in the v2 RFC traits then exclude metadata.
func (s *xdpState) UseTraits() []byte {
	if !s.traitsOK {
		return nil
	}
	if !s.r.obj.opts.Features.TraitsV1 && s.metaOK {
		s.metaOK = false
		s.dataMeta = s.data
		s.window()
	}
	s.traitsUsed = true
	return s.traitsArea()
}

// GrowMeta grows the metadata for bpf_xdp_metadata_export_to_skb.
func (s *xdpState) GrowMeta(n int) ([]byte, error) {
	if !s.metaOK {
		return nil, errno.Errno(errno.EOPNOTSUPP)
	}
	if s.exported {
		return nil, errno.Errno(errno.EEXIST)
	}
	meta := int(s.dataMeta) - n
	if meta < s.headroomFloor() || int(s.data)-meta > 252 {
		return nil, errno.Errno(errno.ENOSPC)
	}
	s.dataMeta = uint32(meta)
	s.exported = true
	if !s.r.obj.opts.Features.TraitsV1 {
		s.traitsOK = false
	}
	s.window()
	if o := s.x.obs; o != nil {
		m := s.r.m
		o.FrameMoved(s.x.Frame(), FrameMove{PC: m.PC(), Program: m.Program(), Helper: "bpf_xdp_metadata_export_to_skb", Offset: int32(-n)})
	}
	return s.frame[meta : meta+n], nil
}

// headroomFloor is the lowest offset metadata or pushed headers may reach: the end of the
// xdp_frame, or with traits the end of the traits store (the RFC moves adjust_head's bound there).
func (s *xdpState) headroomFloor() int {
	floor := XDPFrameSize
	if s.traitsOK {
		floor += s.traitsLayout().Len(s.frame[XDPFrameSize:s.dataMeta])
	}
	return floor
}

// deviceSetup runs before a packet: the device's hints, VLAN stripping and RSS queue.
func (x *XDP) deviceSetup(pkt []byte, cond *Conditions) []byte {
	s := x.st
	s.hints = nil
	d := x.dev
	if d == nil {
		if x.plan == nil && x.prog.DevBound {
			// A device-bound program runs on the simulated device even when none was chosen.
			d = device.NewNetdev(defaultProfile())
			x.dev = d
		} else {
			return pkt
		}
	}
	var rx device.Rx
	if cond.steered != nil && cond.steered == unsafe.SliceData(pkt) && cond.steeredLen == len(pkt) && cond.steeredOn == d {
		// Steer hashed this packet already.
		rx = d.ReceiveHashed(pkt, cond.TimeNs, cond.rssHash)
	} else {
		rx = d.Receive(pkt, cond.TimeNs)
	}
	s.hintStore = rx.Hints
	s.hints = &s.hintStore
	if rx.Spread {
		cond.RxQueue = uint32(rx.Queue)
		cond.CPU = rx.Queue % max(d.CPUs, 1)
	}
	return rx.Frame
}

func defaultProfile() *device.Profile {
	p, err := device.LookupProfile(device.DefaultProfile)
	if err != nil {
		panic(fmt.Sprintf("sim: default device profile: %v", err))
	}
	return p
}

// TraitKV is one packet trait after the run.
type TraitKV struct {
	Key   uint64 `json:"key"`
	Value string `json:"value"`
}

// The kfuncs find the frame through the machine's Host, the run state: its XDP packet answers.

// Hints is what the device supplied for the frame (nil outside an XDP program).
func (s *runState) Hints() *kfuncs.RxHints {
	if s.xdp == nil {
		return nil
	}
	return s.xdp.Hints()
}

// UseTraits gives a trait kfunc the frame's store (nil outside an XDP program).
func (s *runState) UseTraits() []byte {
	if s.xdp == nil {
		return nil
	}
	return s.xdp.UseTraits()
}

// GrowMeta grows the frame's metadata for bpf_xdp_metadata_export_to_skb.
func (s *runState) GrowMeta(n int) ([]byte, error) {
	if s.xdp == nil {
		return nil, errno.Errno(errno.EOPNOTSUPP)
	}
	return s.xdp.GrowMeta(n)
}
