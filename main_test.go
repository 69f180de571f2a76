package main

import (
	"path/filepath"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	f, err := parseFlags([]string{"-server", "https://p.example", "-data-dir", "/tmp/x", "-sync-interval", "5s",
		"-demo-new-device-every", "0", "-assetdir", "frontend/dist", "-devserver", "localhost:34115"})
	if err != nil {
		t.Fatal(err)
	}
	if f.server != "https://p.example" || f.dataDir != "/tmp/x" || f.syncInterval != 5*time.Second || f.newDeviceEvery != 0 {
		t.Fatalf("flags = %+v", f)
	}
	f, err = parseFlags(nil)
	if err != nil || f.server != "" || f.syncInterval != 30*time.Second || f.newDeviceEvery != time.Minute {
		t.Fatalf("defaults = %+v %v", f, err)
	}
	if f, err := parseFlags([]string{"-version"}); err != nil || !f.version {
		t.Fatalf("-version = %+v %v", f, err)
	}
	if _, err := parseFlags([]string{"-sync-interval", "1ms"}); err == nil {
		t.Fatal("accepted a 1ms sync interval")
	}
	d, _ := resolveDirs("/data")
	if d.config != "/data" || d.cache != filepath.Join("/data", "cache") || d.demoDB != filepath.Join("/data", "demo-platform.db") {
		t.Fatalf("dirs = %+v", d)
	}
}
