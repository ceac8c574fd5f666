//go:build linux

package replay

import (
	"context"
	"net/netip"
)

// setNets gives the driver the run's regions: every connection then goes
// to its region's address, from its region's source address.
func (d *leanDriver) setNets(n *regionNets) {
	d.nets = n
	d.lookupCtx, d.lookupCancel = context.WithCancel(context.Background())
}

// dial connects c for p (on the dialer's goroutine): at once to the
// region's cached address, or after a lookup in a goroutine of its own,
// so one region's slow resolver never holds up another's dials.
func (d *leanDriver) dial(c *leanConn, p *pending) {
	if c.rnet == nil {
		c.connect(p)
		return
	}
	if ap, ok := c.rnet.cached(); ok {
		c.to = ap
		c.connect(p)
		return
	}
	c.looked, c.dialAt = true, d.now()
	d.lookups.Add(1)
	go func() {
		defer d.lookups.Done()
		ctx, cancel := context.WithTimeout(d.lookupCtx, d.timeout)
		ap, err := c.rnet.addr(ctx)
		cancel()
		if err != nil {
			d.failLookup(c, p, err)
			return
		}
		c.to = ap
		c.connect(p)
	}()
}

// failLookup fails c's requests when its region could not resolve the
// target: dns errors (dropped_abort after our stop), never the target's.
func (d *leanDriver) failLookup(c *leanConn, p *pending, err error) {
	d.mu.Lock()
	d.abandon(c, p, err, d.stopped || c.dead)
}

// source is the local address c is bound to: its region's, if any.
func (c *leanConn) source() netip.Addr {
	if c.rnet == nil {
		return netip.Addr{}
	}
	return c.rnet.source
}
