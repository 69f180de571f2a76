package index_test

import (
	"slices"
	"testing"
	"time"

	"sessiondesk/app/index"
	"sessiondesk/app/internal/scaledata"
)

// BenchmarkScaleAdopt is the index's part of an offline start: the cache's
// decrypted sessions adopted by a new table (search text, facets, ids),
// which the bench's "until every row is decrypted and searchable" waits
// for after the decryption.
func BenchmarkScaleAdopt(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			rows := scaledata.Sessions(sz.sessions, scaledata.People(sz.people), true, time.Now())
			for b.Loop() {
				b.StopTimer()
				mine := slices.Clone(rows)
				b.StartTimer()
				index.NewSessions().Adopt(mine)
			}
		})
	}
}
