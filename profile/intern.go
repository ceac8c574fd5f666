package profile

import "strings"

// interner gives labels small ids in order of first appearance. Past max
// labels, new ones share the id of overflow (added when first needed).
// Keys are cloned: the strings handed to id may point into an Arrow
// buffer that is reused.
type interner struct {
	ids      map[string]int32
	names    []string
	max      int
	overflow string
	other    int32 // id of overflow, -1 until used
}

func newInterner(max int, overflow string) *interner {
	return &interner{ids: map[string]int32{}, max: max, overflow: overflow, other: -1}
}

func (in *interner) id(s string) int32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	if len(in.names) >= in.max && in.max > 0 {
		if in.other < 0 {
			in.other = int32(len(in.names))
			in.names = append(in.names, in.overflow)
		}
		return in.other
	}
	id := int32(len(in.names))
	s = strings.Clone(s)
	in.ids[s] = id
	in.names = append(in.names, s)
	return id
}

// name returns the label of id, "unknown" for an empty one.
func (in *interner) name(id int32) string {
	if s := in.names[id]; s != "" {
		return s
	}
	return "unknown"
}
