// Command staticmetrics is the scrape floor: it answers every GET /metrics
// with the same bytes, read once from a file, through the same Go HTTP
// stack as the exporter and uncompressed as the exporter answers, so that
// a scrape's latency against it is what any Go server could do on this
// machine under the same load. Run it with the exporter's GOMAXPROCS.
//
// Usage: staticmetrics FILE ADDR. It prints "ready" once it listens.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: staticmetrics FILE ADDR")
		os.Exit(2)
	}
	body, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	length := strconv.Itoa(len(body))
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	})
	fmt.Println("ready")
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
