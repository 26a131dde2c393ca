package replay

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapTrace maps a regular file into memory for the pcap reader, or gives nil (then the reader
// reads it). The mapping is private and writable, as the read buffer was: a record's bytes may
// be changed in place without changing the file.
func mapTrace(f *os.File) []byte {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < pcapHeaderLen || st.Size() != int64(int(st.Size())) {
		return nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	// The records are read in order, once: read ahead, and drop pages behind.
	_ = unix.Madvise(m, unix.MADV_SEQUENTIAL)
	return m
}

// unmapTrace undoes mapTrace.
func unmapTrace(m []byte) { _ = unix.Munmap(m) }
