package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// poolOut writes users' accounts, in hash order, to the Parquet file and
// the index.
type poolOut struct {
	b     *builder
	pw    *parquet.GenericWriter[Row]
	iw    *IndexWriter
	rows  []Row
	hist  []Viewing
	short int64 // accounts the credentials CSV had no row for
	uniq  *uniqueSpill
}

// bucket writes the accounts of the users of one bucket.
func (o *poolOut) bucket(views []view) error {
	slices.SortFunc(views, func(a, b view) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), strings.Compare(a.user, b.user),
			cmp.Compare(a.time, b.time), strings.Compare(a.session, b.session), strings.Compare(a.content, b.content))
	})
	for len(views) > 0 {
		n := 1
		for n < len(views) && views[n].user == views[0].user {
			n++
		}
		if err := o.user(views[:n]); err != nil {
			return err
		}
		views = views[n:]
	}
	return o.flush()
}

// user writes the accounts of one user whose views (in time order) are vs.
func (o *poolOut) user(vs []view) error {
	b := o.b
	latest := vs[len(vs)-1]
	o.hist = fold(vs, o.hist[:0], time.Duration(b.meta.ShiftNS))
	b.meta.Users++
	b.meta.Viewings += int64(len(o.hist))
	if err := o.iw.AddUser(vs[0].hash); err != nil {
		return err
	}
	// The rows share one history slice: it is copied once per user, as the
	// Parquet writer may keep the rows until flush.
	hist := slices.Clone(o.hist)
	for k := range b.meta.PerUser {
		cred, err := o.credential(vs[0].user, k)
		if errors.Is(err, io.EOF) {
			o.short++
			continue
		}
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		if err := o.iw.AddAccount(cred.Account, cred.Token); err != nil {
			return err
		}
		o.rows = append(o.rows, Row{Account: cred.Account, User: vs[0].user, Credential: cred.Token,
			Region: latest.region, Device: latest.device, History: hist})
	}
	if len(o.rows) >= 4096 {
		return o.flush()
	}
	return nil
}

func (o *poolOut) credential(user string, k int) (Credential, error) {
	if o.short > 0 {
		return Credential{}, io.EOF // counting how many more are needed
	}
	if c := o.b.cfg.Credentials; c != nil {
		cred, err := c.Next()
		if err == nil {
			err = o.uniq.add(cred, c.Line())
		}
		return cred, err
	}
	return o.b.cfg.Minter.Mint(user, k)
}

// credentialErrors reports what was wrong with the credentials CSV once
// every account was given one: rows that repeat an earlier row's account
// or token, and too few rows.
func (o *poolOut) credentialErrors(ctx context.Context) error {
	var errs []error
	if o.uniq != nil {
		if err := o.uniq.find(ctx); err != nil {
			if !errors.As(err, new(*DuplicateError)) {
				return err
			}
			errs = append(errs, fmt.Errorf("accounts: %w", err))
		}
	}
	if o.short > 0 {
		b := o.b
		errs = append(errs, fmt.Errorf("accounts: %s has %d credentials; the pool needs %d (%d users × %d): give more, a lower --ratio-max, or --token-template",
			b.cfg.CredentialsName, o.iw.Accounts(), o.iw.Accounts()+o.short, b.meta.Users, b.meta.PerUser))
	}
	return errors.Join(errs...)
}

func (o *poolOut) flush() error {
	if len(o.rows) == 0 || o.short > 0 {
		o.rows = o.rows[:0]
		return nil
	}
	if _, err := o.pw.Write(o.rows); err != nil {
		return fmt.Errorf("accounts: %s: %w", ParquetFile, err)
	}
	clear(o.rows)
	o.rows = o.rows[:0]
	return nil
}

// fold makes a user's history from its views (sorted by time): the events
// of one recorded session for one content become one Viewing at the first
// event's time (plus shift) and device, with the furthest position reached.
// Viewings are in time order (then content).
func fold(vs []view, dst []Viewing, shift time.Duration) []Viewing {
	type key struct{ session, content string }
	at := make(map[key]int, len(vs))
	for i := range vs {
		v := &vs[i]
		k := key{v.session, v.content}
		if j, ok := at[k]; ok {
			dst[j].PositionMS = max(dst[j].PositionMS, v.position)
			continue
		}
		at[k] = len(dst)
		dst = append(dst, Viewing{Content: strings.Clone(v.content), Time: time.Unix(0, v.time).Add(shift).UTC(),
			PositionMS: v.position, Device: strings.Clone(v.device)})
	}
	// Appended at first events, in time order; equal times by content.
	slices.SortStableFunc(dst, func(a, b Viewing) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Content, b.Content))
	})
	return dst
}
