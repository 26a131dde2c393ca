//go:build !linux

package replay

import "os"

// mapTrace maps nothing outside Linux: the pcap reader reads the file.
func mapTrace(*os.File) []byte { return nil }

// unmapTrace undoes mapTrace.
func unmapTrace([]byte) {}
