// Package deadline bounds a blocking call that takes no context (go-keyring
// over D-Bus, a desktop notification over D-Bus or WinRT): neither can be
// cancelled, so a stuck call is abandoned and goes on in the background
// until the service answers.
package deadline

import (
	"context"
	"time"
)

// Call runs fn for at most limit (or until ctx ends). finished is false
// when it was abandoned; err is then ctx's.
func Call(ctx context.Context, limit time.Duration, fn func() error) (finished bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return true, err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
