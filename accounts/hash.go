package accounts

// UserHash is the 64-bit key of a recorded user id in a pool's index:
// FNV-1a over the id's bytes, finished with the SplitMix64 mixer so that
// the high bits (which order the index) depend on every byte. It does not
// allocate. Two ids with one hash share an index entry (Meta.Collisions
// counts them; their virtual users draw on both users' accounts).
func UserHash(user string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(user); i++ {
		h = (h ^ uint64(user[i])) * 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
