package exporter_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain lets more parallel tests run at once than go test's default of
// GOMAXPROCS, unless -parallel says otherwise: the fault matrix's tests
// spend their time waiting on the simulator's faults and deadlines, not on
// the CPU, and two at a time would take minutes on a 2-core machine.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "16")
	}
	os.Exit(m.Run())
}
