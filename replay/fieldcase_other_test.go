//go:build !linux

package replay

import (
	"errors"
	"net"
)

func listenBacklog(int) (net.Listener, error) { return nil, errors.New("needs Linux") }
