package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Page is one tab of a headless Chromium driven over the DevTools protocol
// (CDP): navigate, evaluate JavaScript, screenshot, and collect the page's
// console errors and uncaught exceptions. Close ends the browser.
type Page struct {
	cmd  *exec.Cmd
	conn *websocket.Conn

	mu      sync.Mutex
	id      int
	waiting map[int]chan cdpReply
	errs    []string
	done    chan struct{}
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://[^\s]+)`)

// Open starts b's chromium with remote debugging on a free loopback port
// and attaches to its first tab.
func (b *Browser) Open(ctx context.Context) (*Page, error) {
	cmd := exec.Command(b.Path, b.args("--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "about:blank")...)
	cmd.Env = append(os.Environ(), "HOME="+b.ProfileDir)
	ownGroup(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("browser: %s: %w", b.Path, err)
	}
	p := &Page{cmd: cmd, waiting: map[int]chan cdpReply{}, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() { // drain to the end, or chromium blocks on a full pipe
			if m := devtoolsURL.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
	}()
	var wsURL string
	select {
	case wsURL = <-found:
	case <-ctx.Done():
		p.Close()
		return nil, fmt.Errorf("browser: no DevTools address: %w", ctx.Err())
	}
	// The browser's address names its host:port; the first tab is listed
	// on /json/list.
	hostport := strings.TrimPrefix(wsURL, "ws://")
	hostport = hostport[:strings.IndexByte(hostport, '/')]
	var targets []struct{ Type, WebSocketDebuggerURL string }
	for range 50 {
		resp, err := http.Get("http://" + hostport + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		if err == nil && len(targets) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	page := ""
	for _, t := range targets {
		if t.Type == "page" {
			page = t.WebSocketDebuggerURL
			break
		}
	}
	if page == "" {
		p.Close()
		return nil, fmt.Errorf("browser: no page target at %s", hostport)
	}
	conn, _, err := websocket.Dial(ctx, page, nil)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("browser: devtools %s: %w", page, err)
	}
	conn.SetReadLimit(64 << 20)
	p.conn = conn
	go p.read()
	for _, m := range []string{"Runtime.enable", "Page.enable"} {
		if _, err := p.call(ctx, m, nil); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// read dispatches replies and records console errors and exceptions.
func (p *Page) read() {
	defer close(p.done)
	for {
		_, b, err := p.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			cdpReply
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch {
		case m.ID != 0:
			p.mu.Lock()
			ch := p.waiting[m.ID]
			delete(p.waiting, m.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- m.cdpReply
			}
		case m.Method == "Runtime.exceptionThrown":
			p.addErr("exception: " + string(m.Params))
		case m.Method == "Runtime.consoleAPICalled":
			var c struct {
				Type string `json:"type"`
				Args []struct {
					Value any `json:"value"`
				} `json:"args"`
			}
			if json.Unmarshal(m.Params, &c) == nil && (c.Type == "error" || c.Type == "assert") {
				p.addErr(fmt.Sprintf("console.%s: %v", c.Type, c.Args))
			}
		}
	}
}

func (p *Page) addErr(s string) {
	p.mu.Lock()
	p.errs = append(p.errs, s)
	p.mu.Unlock()
}

// Errors returns the console errors and uncaught exceptions seen so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

func (p *Page) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	p.mu.Lock()
	p.id++
	id := p.id
	ch := make(chan cdpReply, 1)
	p.waiting[id] = ch
	p.mu.Unlock()
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := p.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, fmt.Errorf("browser: %s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, fmt.Errorf("browser: %s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-p.done:
		return nil, fmt.Errorf("browser: %s: the browser went away", method)
	case <-ctx.Done():
		return nil, fmt.Errorf("browser: %s: %w", method, ctx.Err())
	}
}

// Navigate loads url in the tab (it returns once the navigation started).
func (p *Page) Navigate(ctx context.Context, url string) error {
	_, err := p.call(ctx, "Page.navigate", map[string]any{"url": url})
	return err
}

// Eval evaluates a JavaScript expression in the page and decodes its value
// into out (nil: ignore it).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	res, err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("browser: %s: %s", expr, r.ExceptionDetails.Text)
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// Screenshot writes a PNG of the whole page to path.
func (p *Page) Screenshot(ctx context.Context, path string) error {
	res, err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
	if err != nil {
		return err
	}
	var r struct{ Data string }
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Close ends the browser.
func (p *Page) Close() error {
	if p.conn != nil {
		p.conn.Close(websocket.StatusNormalClosure, "")
	}
	killGroup(p.cmd)
	return p.cmd.Wait()
}
