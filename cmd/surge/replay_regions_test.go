package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// loopbackDNS is a miekg/dns server on 127.0.0.1 that answers every A
// question with ip.
func loopbackDNS(t *testing.T, ip string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(req)
			if q := req.Question[0]; q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
			}
			w.WriteMsg(m)
		})}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// twoTargets serves HTTP on 127.0.0.2 and 127.0.0.3 at one port and
// counts the requests each gets.
func twoTargets(t *testing.T) (port int, hits func(ip string) int) {
	t.Helper()
	var mu sync.Mutex
	n := map[string]int{}
	for try := 0; try < 20; try++ {
		a, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2: %v", err)
		}
		port = a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", net.JoinHostPort("127.0.0.3", strconv.Itoa(port)))
		if err != nil {
			a.Close()
			continue
		}
		for _, ln := range []net.Listener{a, b} {
			ip := ln.Addr().(*net.TCPAddr).IP.String()
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n[ip]++
				mu.Unlock()
			})}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })
		}
		return port, func(ip string) int { mu.Lock(); defer mu.Unlock(); return n[ip] }
	}
	t.Fatal("no port free on both 127.0.0.2 and 127.0.0.3")
	return 0, nil
}

// TestReplayRegions: surge replay with regions: in its config file sends
// each region's sessions where its DNS server says (recorded regions, or
// a region mix of shape:), and the summary splits by region.
func TestReplayRegions(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	var log strings.Builder
	for s := 0; s < 20; s++ {
		region := []string{"eu", "us"}[s%2]
		for i := 0; i < 2; i++ {
			fmt.Fprintf(&log, `{"time":"2026-11-21T20:00:%06.3fZ","session_id":"s%d","user_id":"u%d","method":"GET","host":"api.surge.test","path":"/play/%d","status":200,"region":"%s"}`+"\n",
				float64(s*50+i*10)/1000, s, s, i, region)
		}
	}
	in := filepath.Join(dir, "a.jsonl")
	if err := os.WriteFile(in, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	capture := filepath.Join(dir, "cap.parquet")
	mustSurge(t, "import", "jsonl", in, "-o", capture)
	port, hits := twoTargets(t)
	eu, us := loopbackDNS(t, "127.0.0.2"), loopbackDNS(t, "127.0.0.3")
	for _, tc := range []struct {
		name   string
		extra  string // more of the config file
		eu, us int    // requests each target gets
	}{
		// The recorded regions: 10 sessions of 2 requests each.
		{"recorded", "", 20, 20},
		// A mix that sends every session to us.
		{"mix", "shape:\n  regions: {mix: {us: 1}}\n", 0, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before2, before3 := hits("127.0.0.2"), hits("127.0.0.3")
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			yaml := fmt.Sprintf("regions:\n  eu: {resolvers: [%q], source: 127.0.0.5}\n  us: [%q]\ndns:\n  ttl: inf\n%s", eu, us, tc.extra)
			if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			sum := filepath.Join(t.TempDir(), "s.json")
			out, errs, err := surge(t, "replay", "--config", cfg, "--from", capture, "--target", "http://api.surge.test:"+strconv.Itoa(port),
				"--summary-json", sum, "--progress", "none")
			if err != nil && !strings.Contains(err.Error(), "generator fell behind") {
				// A loaded machine may make the generator late: the
				// split is what this test is about.
				t.Fatalf("surge replay: %v\n%s\n%s", err, out, errs)
			}
			if !strings.Contains(errs, "dns: eu 1 query (0 failed), us 1 query (0 failed)") {
				t.Errorf("stderr lacks the DNS counts (ttl inf: one query a region):\n%s", errs)
			}
			if got2, got3 := hits("127.0.0.2")-before2, hits("127.0.0.3")-before3; got2 != tc.eu || got3 != tc.us {
				t.Errorf("127.0.0.2 got %d, 127.0.0.3 %d; want %d and %d", got2, got3, tc.eu, tc.us)
			}
			b, err := os.ReadFile(sum)
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Regions []struct {
					Region string `json:"region"`
					OK     int64  `json:"ok"`
				} `json:"regions"`
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, r := range s.Regions {
				got[r.Region] = r.OK
			}
			if got["eu"] != int64(tc.eu) || got["us"] != int64(tc.us) {
				t.Errorf("summary regions %+v; want eu %d, us %d", s.Regions, tc.eu, tc.us)
			}
		})
	}
	// The plan names the regions; a dry run checks them, sending nothing
	// to the target.
	cfgDry := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfgDry, []byte(fmt.Sprintf("regions:\n  eu: {resolvers: [%q], source: 127.0.0.5, ecs: 198.51.100.7/24}\n", eu)), 0o644)
	before := hits("127.0.0.2") + hits("127.0.0.3")
	_, errs, err := surge(t, "replay", "--config", cfgDry, "--from", capture, "--target", "http://api.surge.test:"+strconv.Itoa(port), "--dry-run")
	if err != nil || !strings.Contains(errs, "region    eu: "+eu+" from 127.0.0.5, ecs 198.51.100.0/24") || !strings.Contains(errs, "dns ttl   ttl") {
		t.Errorf("dry run: %v\n%s", err, errs)
	}
	if hits("127.0.0.2")+hits("127.0.0.3") != before {
		t.Error("the dry run sent requests")
	}
	// A bad region names itself.
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("regions:\n  eu: {resolvers: [dns.example]}\n"), 0o644)
	_, _, err = surge(t, "replay", "--config", cfg, "--from", capture, "--target", "http://api.surge.test:1")
	if err == nil || !strings.Contains(err.Error(), `regions: eu: resolvers[0]: "dns.example"`) {
		t.Errorf("a resolver by name: %v; want it refused", err)
	}
}
