// Package replay is the one replay loop of xdpsim: it reads pcap and pcapng traces into reused
// buffers, gives every packet its conditions (the record's time, the RX queue and its CPU), runs it on
// a Target (the simulator, or the real kernel through an adapter above this package), classifies
// the outcome, and hands it to sinks: JSON lines, per-verdict pcaps, map dumps, tcpdump-like lines,
// an instruction trace, a comparison with another target. xdpsim run, diff and test, the golden
// tests and users' own programs all replay through it, so every condition and output means the same
// everywhere.
//
// Outputs never hurt the user: files appear whole or not at all, devices and FIFOs are written in
// place, and new files get the permissions a shell redirection would give them (see File).
package replay
