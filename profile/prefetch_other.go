//go:build !amd64

package profile

import "unsafe"

// prefetch does nothing where no prefetch instruction is wired up.
func prefetch(addr unsafe.Pointer) {}
