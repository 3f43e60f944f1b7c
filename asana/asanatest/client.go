package asanatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/asana-exporter/asana_exporter/asana"
)

// The test plumbing a Server hands out, as httptest.Server.Client does.

// NewClient returns an asana.Client for the server with DefaultToken, as
// httptest.Server.Client does for HTTP; tune adjusts its options first.
func (s *Server) NewClient(tune func(*asana.Options)) *asana.Client {
	bearer, err := asana.BearerToken(DefaultToken, s.Transport)
	if err != nil {
		panic(err)
	}
	opts := asana.Options{BaseURL: s.BaseURL, Transport: bearer, UserAgent: "asanatest"}
	if tune != nil {
		tune(&opts)
	}
	c, err := asana.New(opts)
	if err != nil {
		panic(err)
	}
	return c
}

// Response is one answer of the simulated API, read whole, for tests that
// look at Asana's JSON itself rather than through a client.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any // Raw decoded
}

// Get sends GET BaseURL+pathAndQuery, with token as the bearer token
// unless it is empty, and reads the answer, which must be JSON.
func (s *Server) Get(token, pathAndQuery string) (Response, error) {
	return s.send(http.MethodGet, token, pathAndQuery, nil)
}

// Post sends POST BaseURL+pathAndQuery with body as JSON, as Get sends a
// GET.
func (s *Server) Post(token, pathAndQuery string, body []byte) (Response, error) {
	return s.send(http.MethodPost, token, pathAndQuery, body)
}

func (s *Server) send(method, token, pathAndQuery string, body []byte) (Response, error) {
	req, err := http.NewRequest(method, s.BaseURL+pathAndQuery, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	r := Response{Status: resp.StatusCode, Header: resp.Header}
	if r.Raw, err = io.ReadAll(resp.Body); err != nil {
		return r, err
	}
	if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
		return r, fmt.Errorf("%s %s: the body is not JSON: %w: %q", method, pathAndQuery, err, r.Raw)
	}
	return r, nil
}
