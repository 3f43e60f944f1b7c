// Command scrapeload scrapes a /metrics URL as a set of Prometheus servers
// would: each scraper asks every interval, from a random start, with
// Prometheus's Accept header. It runs in a process of its own so that the
// latencies it reports are the exporter's and the machine's, not those of
// a benchmark process that also holds a large simulated organisation.
//
// Usage: scrapeload URL SCRAPERS INTERVAL DURATION. It prints, as JSON, the
// scrapes made and their p50 and p99 latency in milliseconds, and exits
// non-zero if any scrape failed or answered other than 200.
package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asana-exporter/asana_exporter/internal/testutil/latency"
)

// accept is what Prometheus 3 sends; net/http adds Accept-Encoding: gzip.
const accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

func main() {
	if len(os.Args) != 5 {
		fail("usage: scrapeload URL SCRAPERS INTERVAL DURATION")
	}
	url := os.Args[1]
	scrapers, err1 := strconv.Atoi(os.Args[2])
	interval, err2 := time.ParseDuration(os.Args[3])
	d, err3 := time.ParseDuration(os.Args[4])
	if err1 != nil || err2 != nil || err3 != nil || scrapers < 1 || interval <= 0 {
		fail("usage: scrapeload URL SCRAPERS INTERVAL DURATION (e.g. 50 100ms 5s)")
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: scrapers}, Timeout: 10 * time.Second}
	var lat latency.Recorder
	var failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for range scrapers {
		wg.Go(func() {
			time.Sleep(rand.N(interval))
			var mine []time.Duration
			for next := time.Now(); next.Before(stop); next = next.Add(interval) {
				time.Sleep(time.Until(next))
				start := time.Now()
				if err := scrape(client, url); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, time.Since(start))
			}
			lat.Add(mine)
		})
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		fail(fmt.Sprintf("%d scrape(s) failed, the first: %v", n, firstErr.Load()))
	}
	if lat.Len() == 0 {
		fail("no scrapes")
	}
	q := lat.Quantiles(0.50, 0.99)
	fmt.Printf(`{"scrapes":%d,"p50_ms":%g,"p99_ms":%g}`+"\n", lat.Len(), q[0], q[1])
}

func scrape(client *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "scrapeload:", msg)
	os.Exit(1)
}
