package shaper

import (
	"math/bits"
	"time"

	"github.com/surge-replay/surge/internal/keyhash"
)

// Every random-looking decision of the shaper (how many clones a session
// gets, a clone's jitter, virtual session and user ids) is a keyed hash of
// what it is about and the run's seed, so it is the same on every machine and
// every run with that seed. The hash is 64-bit FNV-1a over a fixed
// little-endian encoding of (domain, seed, loop, clone, key), finished with
// the SplitMix64 mixer so that every output bit depends on every input bit
// (FNV-1a alone mixes the last bytes poorly into the high bits that unit and
// below use). It is not cryptographic: the seed keys the decisions, it does
// not hide them.

// Hash domains: one per decision, so decisions about the same session are
// independent of each other.
const (
	domainClones  = 'n' // clone count of a session
	domainJitter  = 'j' // start offset of a clone
	domainSession = 's' // virtual session id
	domainUser    = 'u' // virtual user id
	domainExit    = 'x' // whether an exit ends a virtual session
	domainFollow  = 'f' // the follow-up session after an exit
	domainContent = 'c' // the content id of a virtual session
)

const (
	fnvOffset = keyhash.FNVOffset
	fnvPrime  = keyhash.FNVPrime
)

// keyed returns the keyed hash of (domain, seed, loop, clone, key).
func keyed(domain byte, seed uint64, loop, clone int32, key string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(domain)) * fnvPrime
	for i := 0; i < 64; i += 8 {
		h = (h ^ (seed >> i & 0xff)) * fnvPrime
	}
	for _, v := range [2]uint32{uint32(loop), uint32(clone)} {
		for i := 0; i < 32; i += 8 {
			h = (h ^ uint64(v>>i&0xff)) * fnvPrime
		}
	}
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * fnvPrime
	}
	return keyhash.Mix(h)
}

// below maps a hash to [0, n) for n > 0: the high word of h × n, which is
// uniform to within 2⁻⁶⁴.
func below(h uint64, n time.Duration) time.Duration {
	hi, _ := bits.Mul64(h, uint64(n))
	return time.Duration(hi)
}
