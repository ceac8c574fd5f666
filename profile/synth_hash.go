package profile

import (
	"math/bits"

	"github.com/surge-replay/surge/internal/keyhash"
)

// Every random-looking choice of Synth (which sessions a minute copies,
// where a repeated copy starts, a copy's ids) is a keyed hash of what it is
// about and the seed, as the shaper's are: 64-bit FNV-1a over the seed, two
// numbers and a key, finished with the SplitMix64 mixer. It is not
// cryptographic.

const (
	fnvOffset = keyhash.FNVOffset
	fnvPrime  = keyhash.FNVPrime
)

// Hash domains, so that choices about the same thing are independent.
const (
	domainDraw    = 'd' // the systematic sample's start in a minute
	domainOffset  = 'o' // a repeated copy's start within its minute
	domainSession = 's' // a copy's session id
	domainUser    = 'u' // a copy's user id
)

// synthHash returns the keyed hash of (domain, seed, a, b, key).
func synthHash(domain byte, seed, a, b uint64, key string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(domain)) * fnvPrime
	for _, v := range [3]uint64{seed, a, b} {
		for i := 0; i < 64; i += 8 {
			h = (h ^ (v >> i & 0xff)) * fnvPrime
		}
	}
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * fnvPrime
	}
	return keyhash.Mix(h)
}

// below maps a hash to [0, n) for n > 0.
func below(h uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}
