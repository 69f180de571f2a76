package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"sessiondesk/backend/api"
)

// The sign-in attack's clients: each from an address of its own on
// loopback, and the slow one written by hand on a raw connection.

// newAPIClientFrom is a client whose connections come from source, an
// address on loopback.
func newAPIClientFrom(base, source string) *apiClient {
	c := newAPIClient(base, 2)
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	c.http.Transport.(*http.Transport).DialContext = d.DialContext
	return c
}

// signInStatus signs in once and returns the answer's status.
func signInStatus(ctx context.Context, c *apiClient, org, email, password string) (int, error) {
	_, err := c.do(ctx, http.MethodPost, api.BasePath+"/auth/login", api.LoginRequest{
		Org: org, Email: email, Password: password, Device: api.LoginDevice{Name: "sdbench", Platform: "Linux"}}, nil)
	var se *statusError
	switch {
	case err == nil:
		return http.StatusOK, nil
	case errors.As(err, &se):
		return se.Status, nil
	default:
		return 0, err
	}
}

// stallSignIn sends a sign-in's headers and the first byte of its body from
// slowAddr, then waits for the answer: "408" for a request_timeout, else a
// description of what came; "" when the run ended before it was sent.
func stallSignIn(ctx context.Context, addr string) string {
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(slowAddr)}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return ""
		}
		return "dial: " + err.Error()
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST "+api.BasePath+"/auth/login HTTP/1.1\r\nHost: platformd\r\n"+
		"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"); err != nil {
		return "write: " + err.Error()
	}
	// No answer within three times the contract's limit is a failure.
	conn.SetReadDeadline(time.Now().Add(3 * api.BodyReadTimeout))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer: " + err.Error()
	}
	res.Body.Close()
	if res.StatusCode == http.StatusRequestTimeout {
		return "408"
	}
	return res.Status
}
