// Package corpus holds the shared fixtures of xdpsim's tests: XDP programs in C with their objects
// compiled for -mcpu=v3 and -mcpu=v4, and pcap traces made by a deterministic generator.
package corpus
