package capture

import "testing"

// deviceClassTests are real user agents and their class.
var deviceClassTests = []struct {
	ua   string
	want string
}{
	// Samsung Tizen smart TV.
	{"Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36", DeviceTV},
	// LG webOS TV.
	{"Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.128 Safari/537.36 WebAppManager", DeviceTV},
	// Older LG NetCast.
	{"Mozilla/5.0 (DirectFB; Linux armv7l) AppleWebKit/534.26+ (KHTML, like Gecko) Version/5.0 Safari/534.26+ LG Browser/5.00.00(+mouse+3D+SCREEN+TUNER; LGE; 42LM6700-ZA; 04.23.50; 0x00000001;); LG NetCast.TV-2012 0", DeviceTV},
	// Roku's player.
	{"Roku/DVP-13.0 (13.0.0.4170-46)", DeviceTV},
	// Apple TV media stack.
	{"AppleCoreMedia/1.0.0.21J354 (Apple TV; U; CPU OS 17_0 like Mac OS X; en_us)", DeviceTV},
	// Apple TV app.
	{"AppleTV11,1/11.1", DeviceTV},
	// Android TV (NVIDIA SHIELD), which also says Mobile.
	{"Mozilla/5.0 (Linux; Android 12; SHIELD Android TV Build/SR1A.211012.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36", DeviceTV},
	// Amazon Fire TV stick.
	{"Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7624; wv) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36", DeviceTV},
	// Sony BRAVIA Android TV.
	{"Mozilla/5.0 (Linux; Android 10; BRAVIA 4K UR3 Build/QTG3.200305.006.S43) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36", DeviceTV},
	// Chromecast.
	{"Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.225 Safari/537.36 CrKey/1.56.500000 DeviceType/AndroidTV", DeviceTV},
	// HbbTV set.
	{"HbbTV/1.5.1 (+DRM;Samsung;SmartTV2021;T-KSU2EDEUC-1506.1;;) Tizen/6.0 (+TVPLUS+SmartHubLink) Chrome/76", DeviceTV},
	// PlayStation 5.
	{"Mozilla/5.0 (PlayStation; PlayStation 5/8.40) AppleWebKit/605.1.15 (KHTML, like Gecko)", DeviceConsole},
	// PlayStation 4.
	{"Mozilla/5.0 (PlayStation 4 11.00) AppleWebKit/605.1.15 (KHTML, like Gecko)", DeviceConsole},
	// Xbox, which also says Windows.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02", DeviceConsole},
	// Nintendo Switch.
	{"Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393", DeviceConsole},
	// iPhone Safari.
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", DeviceMobile},
	// Chrome on iPhone.
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1", DeviceMobile},
	// Android phone Chrome.
	{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", DeviceMobile},
	// Firefox on an Android phone.
	{"Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0", DeviceMobile},
	// An Android app's HTTP stack.
	{"Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)", DeviceMobile},
	// OkHttp, mostly Android apps.
	{"okhttp/4.12.0", DeviceMobile},
	// An iOS app's HTTP stack.
	{"ExampleTV/5.2.1 (com.example.tv; build:5210; iOS 17.5.0) CFNetwork/1496.0.7 Darwin/23.5.0", DeviceMobile},
	// iPad Safari.
	{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", DeviceTablet},
	// Android tablet Chrome: no Mobile.
	{"Mozilla/5.0 (Linux; Android 13; Pixel Tablet) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DeviceTablet},
	// Samsung Galaxy Tab.
	{"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DeviceTablet},
	// Kindle Fire Silk.
	{"Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; KFAPWI Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36", DeviceTablet},
	// Firefox on an Android tablet.
	{"Mozilla/5.0 (Android 13; Tablet; rv:126.0) Gecko/126.0 Firefox/126.0", DeviceTablet},
	// Windows Chrome.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36", DeviceDesktop},
	// Windows Edge.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.51", DeviceDesktop},
	// Mac Safari (and iPadOS asking for the desktop site).
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", DeviceDesktop},
	// Linux Firefox.
	{"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", DeviceDesktop},
	// ChromeOS.
	{"Mozilla/5.0 (X11; CrOS x86_64 15633.69.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.212 Safari/537.36", DeviceDesktop},
	// Googlebot.
	{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", DeviceBot},
	// Googlebot smartphone, which looks like an Android phone.
	{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.60 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", DeviceBot},
	// Bingbot.
	{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", DeviceBot},
	// Baidu's spider.
	{"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", DeviceBot},
	// Facebook's link fetcher.
	{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", DeviceBot},
	// Headless Chrome.
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/125.0.0.0 Safari/537.36", DeviceBot},
	// curl.
	{"curl/8.5.0", DeviceBot},
	// Wget.
	{"Wget/1.21.4", DeviceBot},
	// Python requests.
	{"python-requests/2.31.0", DeviceBot},
	// Go's client.
	{"Go-http-client/2.0", DeviceBot},
	// Kubernetes probes.
	{"kube-probe/1.29", DeviceBot},
	// k6.
	{"k6/0.51.0 (https://k6.io/)", DeviceBot},
	// Empty.
	{"", DeviceOther},
	// Unrecognizable.
	{"SomethingElse/1.0", DeviceOther},
	// A bare Mozilla.
	{"Mozilla/5.0", DeviceOther},
}

func TestDeviceClass(t *testing.T) {
	for _, tt := range deviceClassTests {
		if got := DeviceClass(tt.ua); got != tt.want {
			t.Errorf("DeviceClass(%q) = %s; want %s", tt.ua, got, tt.want)
		}
	}
}

func BenchmarkDeviceClass(b *testing.B) {
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
		"curl/8.5.0",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		DeviceClass(uas[i%len(uas)])
	}
}
