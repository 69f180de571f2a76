package deadline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sessiondesk/app/internal/deadline"
)

// A call that answers in time gives its error; one that does not is
// abandoned at the limit.
func TestCallGivesTheAnswerOrGivesUpAtTheLimit(t *testing.T) {
	boom := errors.New("boom")
	if finished, err := deadline.Call(context.Background(), time.Second, func() error { return boom }); !finished || err != boom {
		t.Fatalf("answered call: finished %v, err %v", finished, err)
	}
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	finished, err := deadline.Call(context.Background(), 50*time.Millisecond, func() error { <-release; return nil })
	if finished || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck call: finished %v, err %v", finished, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("gave up after %v", took)
	}
}
