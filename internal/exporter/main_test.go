package exporter_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain lets more parallel tests run at once than go test's default of
// GOMAXPROCS, unless -parallel says otherwise: the tests' goroutines spend
// much of their time handing requests to each other over in-memory
// connections, and two tests at a time leave a 2-core machine's cores
// idle for it.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "16")
	}
	os.Exit(m.Run())
}
