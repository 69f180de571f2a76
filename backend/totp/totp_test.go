package totp

import (
	"encoding/base32"
	"testing"
	"time"
)

// RFC 6238 appendix B (SHA-1), last six digits of the eight-digit values.
func TestRFC6238Vectors(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		got, err := Code(secret, time.Unix(v.unix, 0))
		if err != nil || got != v.code {
			t.Errorf("Code at %d = %q %v, want %q", v.unix, got, err, v.code)
		}
	}
}

func TestVerifySkewAndFormats(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Unix(1764230400, 0)
	for d, want := range map[time.Duration]bool{-2 * Period: false, -Period: true, 0: true, Period: true, 2 * Period: false} {
		c, _ := Code(secret, now.Add(d))
		if _, ok := Verify(secret, c, now); ok != want {
			t.Errorf("code from %v: ok=%v, want %v", d, ok, want)
		}
	}
	c, _ := Code("jbsw y3dp ehpk 3pxp", now)
	if step, ok := Verify(secret, c, now); !ok || step != Step(now) {
		t.Errorf("lower-case spaced secret: %v %v", step, ok)
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := Verify(secret, bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, ok := Verify("not base32!", "123456", now); ok {
		t.Error("bad secret accepted")
	}
	s, err := NewSecret()
	if err != nil || len(s) != 32 {
		t.Errorf("NewSecret = %q %v", s, err)
	}
}
