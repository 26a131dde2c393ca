package device

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// netkit (drivers/net/netkit.c, Linux 6.18; the "meta" device of the seed's patch series, merged
// in 6.7): a pair of devices whose transmit routine runs BPF programs. This file holds what the
// device is (its mode, default policies, scrubbing, headroom) and the attach rules; package sim
// runs packets through it. The machine package kernel's tests run on is built without netkit, so
// every value here comes from the kernel source and the uapi header, not from a measurement.

// NetkitMode is IFLA_NETKIT_MODE (enum netkit_mode).
type NetkitMode uint32

// The netkit modes.
const (
	// NetkitL2: both devices get random Ethernet addresses (or the ones given) and do ARP.
	NetkitL2 NetkitMode = 0
	// NetkitL3 (the default): the devices have no address of their own (all zeroes) and
	// IFF_NOARP, so the stack addresses every frame to 00:00:00:00:00:00 from 00:00:00:00:00:00.
	NetkitL3 NetkitMode = 1
)

func (m NetkitMode) String() string {
	switch m {
	case NetkitL2:
		return "l2"
	case NetkitL3:
		return "l3"
	}
	return fmt.Sprintf("mode %d", uint32(m))
}

// NetkitAction is a netkit program's return value and a device's default policy
// (enum netkit_action; netkit_init checks they equal the tcx values).
type NetkitAction int32

// The netkit actions.
const (
	NetkitNext     NetkitAction = -1
	NetkitPass     NetkitAction = 0
	NetkitDrop     NetkitAction = 2
	NetkitRedirect NetkitAction = 7
)

func (a NetkitAction) String() string {
	switch a {
	case NetkitNext:
		return "NETKIT_NEXT"
	case NetkitPass:
		return "NETKIT_PASS"
	case NetkitDrop:
		return "NETKIT_DROP"
	case NetkitRedirect:
		return "NETKIT_REDIRECT"
	}
	return fmt.Sprintf("%d", int32(a))
}

// NetkitScrub is IFLA_NETKIT_SCRUB (enum netkit_scrub): what crossing into another network
// namespace clears besides what skb_scrub_packet does.
type NetkitScrub uint32

// The scrub settings.
const (
	// NetkitScrubNone leaves skb->mark and skb->priority to the BPF program.
	NetkitScrubNone NetkitScrub = 0
	// NetkitScrubDefault (the default) clears mark and priority when the peer is in another
	// network namespace.
	NetkitScrubDefault NetkitScrub = 1
)

func (s NetkitScrub) String() string {
	switch s {
	case NetkitScrubNone:
		return "none"
	case NetkitScrubDefault:
		return "default"
	}
	return fmt.Sprintf("scrub %d", uint32(s))
}

// NetkitConfig is what creating a netkit pair sets (the IFLA_NETKIT_* attributes of
// `ip link add NAME type netkit ... peer NAME ...`). Start from DefaultNetkitConfig: the kernel's
// defaults are not the zero values.
type NetkitConfig struct {
	Mode NetkitMode
	// Policy is the primary's default policy (IFLA_NETKIT_POLICY): the verdict for what the
	// primary transmits when no program is attached to it; PeerPolicy the peer's.
	Policy     NetkitAction
	PeerPolicy NetkitAction
	Scrub      NetkitScrub
	PeerScrub  NetkitScrub
	// Headroom and Tailroom (IFLA_NETKIT_HEADROOM, _TAILROOM, Linux 6.14) set both devices'
	// needed_headroom and needed_tailroom; 0 leaves them.
	Headroom uint16
	Tailroom uint16
	// MAC and PeerMAC are IFLA_ADDRESS of the primary and of the peer: only in L2 mode, where
	// the kernel otherwise draws random addresses (a simulation needs them given).
	MAC     net.HardwareAddr
	PeerMAC net.HardwareAddr
}

// DefaultNetkitConfig is what netkit_new_link uses for attributes not given: L3 mode, both
// policies NETKIT_PASS, both scrub settings NETKIT_SCRUB_DEFAULT.
func DefaultNetkitConfig() NetkitConfig {
	return NetkitConfig{Mode: NetkitL3, Policy: NetkitPass, PeerPolicy: NetkitPass, Scrub: NetkitScrubDefault, PeerScrub: NetkitScrubDefault}
}

// NetkitError is a refusal to create or change a netkit device: the errno and the extended ack
// message the kernel sets ("" where it sets none).
type NetkitError struct {
	Errno errno.Errno
	Msg   string
}

func (e *NetkitError) Error() string {
	if e.Msg == "" {
		return e.Errno.Error()
	}
	return e.Msg + " (" + e.Errno.Name() + ")"
}

func (e *NetkitError) Unwrap() error { return e.Errno }

// Check refuses a configuration as creating the pair would: the netlink policy first (a mode
// past NETKIT_L3 or a scrub setting past NETKIT_SCRUB_DEFAULT: "integer out of range", ERANGE),
// then a default policy other than NETKIT_PASS or NETKIT_DROP (EINVAL), then an address in L3
// mode (EOPNOTSUPP) or one that is not a valid unicast Ethernet address (EADDRNOTAVAIL).
func (c NetkitConfig) Check() error {
	if c.Mode > NetkitL3 || c.Scrub > NetkitScrubDefault || c.PeerScrub > NetkitScrubDefault {
		return &NetkitError{errno.ERANGE, "integer out of range"}
	}
	for _, p := range []NetkitAction{c.Policy, c.PeerPolicy} {
		if err := checkPolicy(p); err != nil {
			return err
		}
	}
	for _, mac := range []net.HardwareAddr{c.MAC, c.PeerMAC} {
		if mac == nil {
			continue
		}
		if c.Mode != NetkitL2 {
			return &NetkitError{errno.EOPNOTSUPP, ""}
		}
		if len(mac) != 6 {
			return &NetkitError{errno.EINVAL, ""}
		}
		if mac[0]&1 != 0 || string(mac) == "\x00\x00\x00\x00\x00\x00" {
			return &NetkitError{errno.EADDRNOTAVAIL, ""}
		}
	}
	return nil
}

// checkPolicy is netkit_check_policy.
func checkPolicy(p NetkitAction) error {
	if p != NetkitPass && p != NetkitDrop {
		return &NetkitError{errno.EINVAL, "Provided default xmit policy not supported"}
	}
	return nil
}

// netkitDev is a netkit device's private state (struct netkit).
type netkitDev struct {
	primary bool
	peer    uint32 // the other device's ifindex
	mode    NetkitMode
	policy  NetkitAction
	scrub   NetkitScrub
	// bundle is the device's bpf_mprog_bundle: it lives as long as the device, so its revision
	// keeps counting when the last program leaves (the active entry is then NULL).
	bundle *mprog
}

// point is the device's attach point: the bundle, which detach and query see only while it
// holds programs.
func (n *netkitDev) point() point { return point{slot: &n.bundle, keep: true} }

// AddNetkit creates a netkit pair (rtnetlink newlink): the primary and its peer with their
// ifindexes and names. The configuration is checked first (NetkitConfig.Check).
func (r *Registry) AddNetkit(primary, peer uint32, primaryName, peerName string, c NetkitConfig) error {
	if err := c.Check(); err != nil {
		return err
	}
	if primary == peer {
		return fmt.Errorf("netkit %s: the primary and the peer need two ifindexes", primaryName)
	}
	if err := r.AddDevice(peer, peerName); err != nil {
		return err
	}
	if err := r.AddDevice(primary, primaryName); err != nil {
		delete(r.devs, peer)
		return err
	}
	r.devs[primary].nk = &netkitDev{primary: true, peer: peer, mode: c.Mode, policy: c.Policy, scrub: c.Scrub, bundle: newMprog()}
	r.devs[peer].nk = &netkitDev{peer: primary, mode: c.Mode, policy: c.PeerPolicy, scrub: c.PeerScrub, bundle: newMprog()}
	return nil
}

// netkitDevice is netkit_dev_fetch: the device whose programs an attach, detach or query of type
// t through ifindex concerns. ENODEV for an unknown ifindex, ENXIO for a device that is not
// netkit, EACCES for a peer (programs are attached through the primary only), EINVAL for
// another attach type; BPF_NETKIT_PEER then means the primary's peer.
func (r *Registry) netkitDevice(ifindex uint32, t ebpf.AttachType) (*regDev, error) {
	if t != ebpf.AttachNetkitPrimary && t != ebpf.AttachNetkitPeer {
		return nil, errno.EINVAL
	}
	d := r.devs[ifindex]
	switch {
	case d == nil:
		return nil, errno.ENODEV
	case d.nk == nil:
		return nil, errno.ENXIO
	case !d.nk.primary:
		return nil, errno.EACCES
	}
	if t == ebpf.AttachNetkitPeer {
		if d = r.devs[d.nk.peer]; d == nil {
			return nil, errno.ENODEV
		}
	}
	return d, nil
}

// SetNetkitPolicy changes default policies (rtnetlink changelink with IFLA_NETKIT_POLICY and
// IFLA_NETKIT_PEER_POLICY; nil leaves one as it is): only through the primary (EACCES, "netkit
// link settings can be changed only through the primary device"), only to NETKIT_PASS or
// NETKIT_DROP (EINVAL). ENODEV and ENXIO as for an attach.
func (r *Registry) SetNetkitPolicy(ifindex uint32, policy, peerPolicy *NetkitAction) error {
	d := r.devs[ifindex]
	switch {
	case d == nil:
		return errno.ENODEV
	case d.nk == nil:
		return errno.ENXIO
	case !d.nk.primary:
		return &NetkitError{errno.EACCES, "netkit link settings can be changed only through the primary device"}
	}
	if policy != nil {
		if err := checkPolicy(*policy); err != nil {
			return err
		}
		d.nk.policy = *policy
	}
	if peerPolicy != nil {
		if err := checkPolicy(*peerPolicy); err != nil {
			return err
		}
		r.devs[d.nk.peer].nk.policy = *peerPolicy
	}
	return nil
}

// SetNetkitMode is a changelink with IFLA_NETKIT_MODE: always refused, the mode is fixed when
// the pair is created (EACCES on the primary; the peer refuses any change first).
func (r *Registry) SetNetkitMode(ifindex uint32, _ NetkitMode) error {
	d := r.devs[ifindex]
	switch {
	case d == nil:
		return errno.ENODEV
	case d.nk == nil:
		return errno.ENXIO
	case !d.nk.primary:
		return &NetkitError{errno.EACCES, "netkit link settings can be changed only through the primary device"}
	}
	return &NetkitError{errno.EACCES, "netkit link operating mode cannot be changed after device creation"}
}

// NetkitInfo is what the data path needs of a netkit device.
type NetkitInfo struct {
	Primary bool         `json:"primary"`
	Peer    uint32       `json:"peer"`
	Mode    NetkitMode   `json:"mode"`
	Policy  NetkitAction `json:"policy"`
	Scrub   NetkitScrub  `json:"scrub"`
}

// Netkit describes the netkit device with ifindex (false for another device).
func (r *Registry) Netkit(ifindex uint32) (NetkitInfo, bool) {
	d := r.devs[ifindex]
	if d == nil || d.nk == nil {
		return NetkitInfo{}, false
	}
	n := d.nk
	return NetkitInfo{Primary: n.primary, Peer: n.peer, Mode: n.mode, Policy: n.policy, Scrub: n.scrub}, true
}

// MarshalJSON writes a mode as "l2" or "l3".
func (m NetkitMode) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads "l2" or "l3".
func (m *NetkitMode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("netkit mode: want \"l2\" or \"l3\": %w", err)
	}
	switch strings.ToLower(s) {
	case "l2":
		*m = NetkitL2
	case "l3":
		*m = NetkitL3
	default:
		return fmt.Errorf("netkit mode %q: want l2 or l3", s)
	}
	return nil
}

// MarshalJSON writes an action as "pass", "drop", "redirect" or "next" (a number otherwise).
func (a NetkitAction) MarshalJSON() ([]byte, error) {
	switch a {
	case NetkitPass, NetkitDrop, NetkitRedirect, NetkitNext:
		return json.Marshal(strings.ToLower(strings.TrimPrefix(a.String(), "NETKIT_")))
	}
	return json.Marshal(int32(a))
}

// UnmarshalJSON reads "pass", "drop", "redirect", "next" (with or without NETKIT_) or a number,
// which Check may then refuse as a policy.
func (a *NetkitAction) UnmarshalJSON(b []byte) error {
	var n int32
	if err := json.Unmarshal(b, &n); err == nil {
		*a = NetkitAction(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("netkit policy: want \"pass\" or \"drop\": %w", err)
	}
	switch strings.TrimPrefix(strings.ToLower(s), "netkit_") {
	case "pass":
		*a = NetkitPass
	case "drop":
		*a = NetkitDrop
	case "redirect":
		*a = NetkitRedirect
	case "next":
		*a = NetkitNext
	default:
		return fmt.Errorf("netkit policy %q: want pass or drop", s)
	}
	return nil
}

// MarshalJSON writes a scrub setting as "none" or "default".
func (s NetkitScrub) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads "none" or "default".
func (s *NetkitScrub) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("netkit scrub: want \"none\" or \"default\": %w", err)
	}
	switch strings.ToLower(v) {
	case "none":
		*s = NetkitScrubNone
	case "default":
		*s = NetkitScrubDefault
	default:
		return fmt.Errorf("netkit scrub %q: want none or default", v)
	}
	return nil
}
