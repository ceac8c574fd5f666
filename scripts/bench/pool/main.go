// Command pool makes synthetic account pools and measures them, for
// scripts/bench.sh (section F, docs/BENCHMARKS.md):
//
//	pool views -users N -events E -o FILE   synthetic viewing events (E per user, in time order)
//	pool index -accounts N -per-user K -o DIR  a synthetic pool index (index.bin) of N accounts
//	pool load -pool DIR -lookups N -leases N   replay start-up: load time, resident bytes per
//	                                           account, lookup and lease cost
//
// User ids are "u_" and 16 hex digits of SplitMix64(i), i from 0, in both
// views and index, so load looks up users the pool has.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/internal/memstat"
	"github.com/surge-replay/surge/schema"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pool views|index|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "views":
		err = views(os.Args[2:])
	case "index":
		err = index(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

func splitmix(i uint64) uint64 {
	z := i*0x9e3779b97f4a7c15 + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func userID(i int) string { return fmt.Sprintf("u_%016x", splitmix(uint64(i))) }

// views writes users × events viewing events over one hour, in time order.
func views(args []string) error {
	fs := flag.NewFlagSet("views", flag.ExitOnError)
	users := fs.Int("users", 1_000_000, "recorded users")
	events := fs.Int("events", 4, "events per user")
	out := fs.String("o", "views.parquet", "output file")
	fs.Parse(args)
	w, err := eventlog.Create[schema.ViewingEvent](*out, eventlog.WriterConfig{Source: "bench"})
	if err != nil {
		return err
	}
	t0 := time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC)
	total := *users * *events
	step := time.Hour / time.Duration(max(total, 1))
	devices := []string{"tv", "web", "ios", "android"}
	regions := []string{"eu-central", "eu-west", "us-east", "ap-south"}
	batch := make([]schema.ViewingEvent, 0, 8192)
	for n := range total {
		u := (n * 7919) % *users // users interleaved in time
		e := n / *users
		batch = append(batch, schema.ViewingEvent{Time: t0.Add(time.Duration(n) * step), User: userID(u),
			Session: "s_" + strconv.Itoa(u) + "_" + strconv.Itoa(e/2), Content: "c" + strconv.Itoa(int(splitmix(uint64(u*31+e/2))%5000)),
			Type: schema.ViewHeartbeat, PositionMS: int64(e) * 60_000, Device: devices[u%4], Region: regions[u%3], Source: "views"})
		if len(batch) == cap(batch) {
			if err := w.Write(batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := w.Write(batch...); err != nil {
		return err
	}
	return w.Close()
}

// index writes a pool index of accounts accounts, perUser per user, with
// minted tokens (tok.{hmac}).
func index(args []string) error {
	fs := flag.NewFlagSet("index", flag.ExitOnError)
	n := fs.Int("accounts", 25_000_000, "accounts")
	perUser := fs.Int("per-user", 3, "accounts per user")
	out := fs.String("o", "pool", "output directory")
	fs.Parse(args)
	users := (*n + *perUser - 1) / *perUser
	type uh struct {
		hash uint64
		i    uint32
	}
	order := make([]uh, users)
	for i := range order {
		order[i] = uh{accounts.UserHash(userID(i)), uint32(i)}
	}
	slices.SortFunc(order, func(a, b uh) int {
		if a.hash < b.hash {
			return -1
		}
		if a.hash > b.hash {
			return 1
		}
		return 0
	})
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	w, err := accounts.NewIndexWriter(filepath.Join(*out, accounts.IndexFile))
	if err != nil {
		return err
	}
	acct, _ := accounts.ParseTemplate(accounts.DefaultAccountTemplate, accounts.FieldUser, accounts.FieldK)
	tok, _ := accounts.ParseTemplate("tok.{hmac}", accounts.FieldAccount, accounts.FieldUser, accounts.FieldK, accounts.FieldHMAC)
	m := &accounts.Minter{Account: acct, Token: tok, Key: []byte("bench")}
	made := 0
	for _, u := range order {
		if err := w.AddUser(u.hash); err != nil {
			return err
		}
		for k := 0; k < *perUser && made < *n; k++ {
			c, err := m.Mint(userID(int(u.i)), k)
			if err != nil {
				return err
			}
			if err := w.AddAccount(c.Account, c.Token); err != nil {
				return err
			}
			made++
		}
	}
	return w.Close()
}

// load measures what replay start-up does with a pool: accounts.Open, the
// resident memory it adds, lookups and leases.
func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	dir := fs.String("pool", "pool", "pool directory")
	lookups := fs.Int("lookups", 10_000_000, "lookups of random users")
	leases := fs.Int("leases", 0, "leases to new virtual users (0: a quarter of the accounts, at most 1M)")
	fs.Parse(args)
	runtime.GC()
	before := memstat.RSS()
	start, cpu0 := time.Now(), cpuTime()
	p, err := accounts.Open(*dir)
	if err != nil {
		return err
	}
	took, tookCPU := time.Since(start), cpuTime()-cpu0
	l, err := accounts.NewLender(p, accounts.LenderConfig{})
	if err != nil {
		return err
	}
	runtime.GC()
	after := memstat.RSS()
	n := p.Accounts()
	if *leases == 0 {
		*leases = min(1_000_000, n/4)
	}
	fmt.Printf("load: %d accounts of %d users in %.2f s (CPU %.2f s); resident +%d MiB (index and lender) = %.1f bytes/account\n",
		n, p.Users(), took.Seconds(), tookCPU.Seconds(), (after-before)>>20, float64(after-before)/float64(n))

	users := p.Users()
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = userID(int(splitmix(uint64(i)+7) % uint64(users)))
	}
	found := 0
	allocs := testing.AllocsPerRun(1000, func() { p.Lookup(ids[3]) })
	start, cpu0 = time.Now(), cpuTime()
	for i := range *lookups {
		if _, k := p.Lookup(ids[i&4095]); k > 0 {
			found++
		}
	}
	el, elCPU := time.Since(start), cpuTime()-cpu0
	fmt.Printf("lookup: %d lookups, %.0f ns each (CPU %.0f ns), %v allocs each, %d found\n", *lookups,
		float64(el.Nanoseconds())/float64(*lookups), float64(elCPU.Nanoseconds())/float64(*lookups), allocs, found)

	start, cpu0 = time.Now(), cpuTime()
	var b strings.Builder
	for i := range *leases {
		u := int(splitmix(uint64(i)) % uint64(users))
		b.Reset()
		b.WriteString("v")
		b.WriteString(strconv.Itoa(i))
		if _, err := l.Get(b.String(), userID(u), "s", i%3, time.Duration(i)*time.Microsecond); err != nil {
			return err
		}
	}
	el, elCPU = time.Since(start), cpuTime()-cpu0
	st := l.Stats()
	fmt.Printf("lease: %d new virtual users, %.0f ns each (CPU %.0f ns; index lookup, credential read from disk, lease), %d exhausted\n",
		*leases, float64(el.Nanoseconds())/float64(*leases), float64(elCPU.Nanoseconds())/float64(*leases), st.Exhausted)
	fmt.Printf("peak RSS %d MiB\n", memstat.PeakRSS()>>20)
	return nil
}

// cpuTime returns the CPU time (user + system) the process used so far: on
// a shared machine wall time per operation says more about the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
