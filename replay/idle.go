//go:build linux

package replay

import "container/list"

// idleSet holds idle connections by owner key, with the order they became
// idle (to recycle the one idle longest).
type idleSet struct {
	byKey map[string][]*leanConn
	lru   *list.List
}

func (s *idleSet) push(c *leanConn) {
	s.byKey[c.key] = append(s.byKey[c.key], c)
	c.elem = s.lru.PushBack(c)
}

// pop takes an idle connection of key, or returns nil.
func (s *idleSet) pop(key string) *leanConn {
	cs := s.byKey[key]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	s.remove(c)
	return c
}

// evictOldest removes and returns the connection idle longest, or nil.
func (s *idleSet) evictOldest() *leanConn {
	e := s.lru.Front()
	if e == nil {
		return nil
	}
	c := e.Value.(*leanConn)
	s.remove(c)
	return c
}

func (s *idleSet) remove(c *leanConn) {
	cs := s.byKey[c.key]
	for i, x := range cs {
		if x == c {
			cs = append(cs[:i], cs[i+1:]...)
			break
		}
	}
	if len(cs) == 0 {
		delete(s.byKey, c.key)
	} else {
		s.byKey[c.key] = cs
	}
	s.lru.Remove(c.elem)
	c.elem = nil
}
