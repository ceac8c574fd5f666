package capture

import "strings"

// Device classes, the values of Exchange.Device that DeviceClass returns.
const (
	DeviceTV      = "tv"      // smart TVs, streaming sticks and boxes
	DeviceConsole = "console" // game consoles
	DeviceMobile  = "mobile"  // phones, and native app HTTP stacks
	DeviceTablet  = "tablet"  // tablets and e-readers
	DeviceDesktop = "desktop" // desktop and laptop browsers
	DeviceBot     = "bot"     // crawlers, monitors, command-line and library HTTP clients
	DeviceOther   = "other"   // anything else, and an empty user agent
)

// DeviceClass classifies a User-Agent header value into one of the Device
// constants, by substrings that browsers, apps and crawlers write. The first
// matching class wins, in the order bot, console, TV, tablet, mobile,
// desktop, so that a crawler pretending to be a phone is a bot and a TV
// running Android is a TV. iPadOS asks for desktop sites with a Macintosh
// user agent and is then classed as desktop.
//
// It costs about a microsecond for a browser user agent; callers classifying
// many requests should cache the result per distinct user agent, as the
// access-log decoders do. It is safe for concurrent use.
func DeviceClass(userAgent string) string {
	ua := userAgent
	if ua == "" {
		return DeviceOther
	}
	// Library and command-line clients name themselves first; browsers
	// start with Mozilla/.
	if !strings.HasPrefix(ua, "Mozilla/") {
		for _, p := range toolPrefixes {
			if hasPrefixFold(ua, p) {
				return DeviceBot
			}
		}
	}
	for _, r := range deviceRules {
		if containsAny(ua, r.markers) {
			return r.class
		}
	}
	if strings.Contains(ua, "Android") {
		// Android browsers write "Mobile" on phones only; apps (Dalvik,
		// okhttp) say neither and are mostly on phones.
		if strings.Contains(ua, "Mobile") || !strings.HasPrefix(ua, "Mozilla/") {
			return DeviceMobile
		}
		return DeviceTablet
	}
	if containsAny(ua, mobileMarkers) {
		return DeviceMobile
	}
	if containsAny(ua, desktopMarkers) {
		return DeviceDesktop
	}
	return DeviceOther
}

// toolPrefixes start the user agents of HTTP libraries and tools (compared
// ignoring case).
var toolPrefixes = []string{
	"curl/", "wget/", "python-", "python/", "go-http-client", "java/", "apache-httpclient",
	"libwww-perl", "axios/", "node-fetch", "node/", "undici", "postmanruntime", "insomnia",
	"httpie/", "k6/", "vegeta", "ruby", "php/", "guzzlehttp", "scrapy", "aiohttp", "httpx",
	"kube-probe", "prometheus", "elb-healthchecker", "googlehc", "zgrab", "masscan", "nmap",
}

// deviceRules are checked in order; the first class with a marker in the
// user agent wins. Android and the plain mobile and desktop markers follow
// them in DeviceClass.
var deviceRules = []struct {
	class   string
	markers []string
}{
	{DeviceBot, []string{
		"bot", "Bot", "crawl", "Crawl", "spider", "Spider", "Slurp", "facebookexternalhit",
		"HeadlessChrome", "PhantomJS", "Lighthouse", "Pingdom", "Mediapartners-Google",
		"Google-InspectionTool", "GTmetrix",
	}},
	{DeviceConsole, []string{"PlayStation", "Xbox", "Nintendo"}},
	{DeviceTV, []string{
		"SmartTV", "SMART-TV", "Smart-TV", "SmartTv", "SMARTTV", "Tizen", "Web0S", "WebOS",
		"webOS", "NetCast", "Roku", "AppleTV", "Apple TV", "tvOS", "; AFT", "BRAVIA",
		"Android TV", "AndroidTV", "GoogleTV", "Google TV", "CrKey", "HbbTV", "VIDAA",
		"Opera TV", "OMI/", "DTV", "Large Screen", "TV Safari", "Viera", "AQUOS", "MiTV",
		"SHIELD", "FireTV", "Fire TV", "BeyondTV", "Chromecast",
	}},
	{DeviceTablet, []string{
		"iPad", "Tablet", "tablet", "Kindle", "Silk/", "PlayBook", "Nexus 7", "Nexus 9",
		"Nexus 10", "SM-T", "Lenovo TB", "KFAPWI",
	}},
}

var (
	// mobileMarkers are phones and phone app stacks.
	mobileMarkers = []string{
		"iPhone", "iPod", "Mobile", "Windows Phone", "BlackBerry", "BB10", "Opera Mini",
		"Dalvik", "okhttp", "CFNetwork", "KaiOS",
	}
	// desktopMarkers are desktop operating systems.
	desktopMarkers = []string{"Windows", "Macintosh", "Mac OS X", "X11", "Linux", "CrOS", "BSD"}
)

// containsAny reports whether s contains any of markers.
func containsAny(s string, markers []string) bool {
	for _, m := range markers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case prefix,
// ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
