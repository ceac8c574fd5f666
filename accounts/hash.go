package accounts

import "github.com/surge-replay/surge/internal/keyhash"

// UserHash is the 64-bit key of a recorded user id in a pool's index:
// FNV-1a over the id's bytes, finished with the SplitMix64 mixer so that
// the high bits (which order the index) depend on every byte. It does not
// allocate. Two ids with one hash share an index entry (Meta.Collisions
// counts them; their virtual users draw on both users' accounts).
func UserHash(user string) uint64 {
	h := uint64(keyhash.FNVOffset)
	for i := 0; i < len(user); i++ {
		h = (h ^ uint64(user[i])) * keyhash.FNVPrime
	}
	return keyhash.Mix(h)
}
