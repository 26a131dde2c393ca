module github.com/xdpsim/xdpsim

go 1.26

require (
	github.com/cilium/ebpf v0.22.0
	github.com/google/gopacket v1.1.19
	github.com/spf13/pflag v1.0.10
	golang.org/x/sys v0.43.0
)

require golang.org/x/net v0.48.0 // indirect
