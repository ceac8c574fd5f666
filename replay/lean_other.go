//go:build !linux

package replay

import (
	"errors"
	"time"
)

// leanSupported says the lean driver exists on this platform: it polls its
// sockets with epoll, so elsewhere DriverAuto picks net/http and Config
// refuses DriverLean.
const leanSupported = false

func newLeanDriver(addr string, now func() time.Duration, timeout, maxLate time.Duration, maxConns int, perUser bool, pipeline int) (driver, error) {
	return nil, errors.New("replay: the lean driver needs Linux")
}
