package profile

import (
	"math/rand/v2"
	"testing"
)

// TestSessionTable inserts, finds and removes keys at random (many
// colliding on their home slot) and checks the table against a map after
// every step.
func TestSessionTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tab sessionTable
	want := map[strKey]int64{}
	var keys []strKey
	for step := 0; step < 20000; step++ {
		if len(keys) > 0 && rng.IntN(3) == 0 {
			// Remove a random key.
			j := rng.IntN(len(keys))
			k := keys[j]
			keys[j] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			i, ok := tab.find(k)
			if !ok {
				t.Fatalf("step %d: key %v not found before removal", step, k)
			}
			tab.remove(i)
			delete(want, k)
		} else {
			// Few home slots: long probe runs that wrap around.
			k := strKey{uint64(rng.IntN(4096))<<1 | 1 | uint64(rng.Uint32())<<32, rng.Uint64()}
			if _, dup := want[k]; dup {
				continue
			}
			i, ok := tab.find(k)
			if ok {
				t.Fatalf("step %d: new key %v found", step, k)
			}
			tab.insert(i, k, session{count: int64(step)})
			want[k] = int64(step)
			keys = append(keys, k)
		}
		if step%1999 == 0 || step > 19990 {
			if tab.n != len(want) {
				t.Fatalf("step %d: table holds %d; want %d", step, tab.n, len(want))
			}
			for k, v := range want {
				i, ok := tab.find(k)
				if !ok || tab.slots[i].count != v {
					t.Fatalf("step %d: key %v = %v, %v; want %d", step, k, ok, tab.slots[i].count, v)
				}
			}
		}
	}
}
