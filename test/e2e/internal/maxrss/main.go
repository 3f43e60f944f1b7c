// Command maxrss runs a command and prints its peak resident set size in
// bytes on standard error's last line, as "maxrss <bytes>".
//
// A benchmark cannot read a child's ru_maxrss itself: Linux starts a
// child's high-water mark at its parent's RSS (os/exec forks with the
// parent's memory), and a benchmark's parent holds the simulated
// organisation. This small process is the parent instead.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: maxrss COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "maxrss:", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "maxrss %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10)
	os.Exit(cmd.ProcessState.ExitCode())
}
