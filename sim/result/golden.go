package result

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// GoldenLine is a packet's result in the compact form golden files keep: the return value, and the
// length and a SHA-256 prefix of the output data and metadata. A packet the run refused is
// "N refused", whatever the reason's wording on either side.
func GoldenLine(p Packet) string {
	if p.Err != "" {
		return fmt.Sprintf("%d refused", p.Index)
	}
	return fmt.Sprintf("%d ret=%d data=%d:%s meta=%d:%s", p.Index, p.Ret, len(p.Data), digest(p.Data), len(p.Meta), digest(p.Meta))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
