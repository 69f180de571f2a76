package cache

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
)

// Sealing and opening many rows. A full sync seals 100,000+ rows and opening
// the cache opens them all again, so both are spread over the CPUs: SQLite
// reads or writes on one goroutine while workers encrypt or decrypt batches.
// Nonces stay random (one crypto/rand read per batch instead of one per row).

// rowBatch is the unit of work: enough rows that a worker's hand-off costs
// nothing beside the AES and the decoding, few enough to keep all CPUs busy.
const rowBatch = 512

// sealRows encodes and seals rows [0, n) of kind; enc appends row i's
// plaintext to b and returns it, id gives its id. blobs[i] is row i's
// nonce || ciphertext.
func (s *sealer) sealRows(kind string, n int, id func(i int) string, enc func(b []byte, i int) []byte) ([][]byte, error) {
	blobs := make([][]byte, n)
	workers := min(runtime.NumCPU(), (n+rowBatch-1)/rowBatch)
	if workers <= 1 {
		return blobs, s.sealRange(kind, blobs, 0, n, id, enc)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	per := (n + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = s.sealRange(kind, blobs, lo, hi, id, enc)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return blobs, nil
}

func (s *sealer) sealRange(kind string, blobs [][]byte, lo, hi int, id func(i int) string, enc func(b []byte, i int) []byte) error {
	ns, over := s.aead.NonceSize(), s.aead.Overhead()
	var plain, aad []byte
	for b := lo; b < hi; b += rowBatch {
		end := min(b+rowBatch, hi)
		nonces := make([]byte, ns*(end-b))
		if _, err := rand.Read(nonces); err != nil {
			return fmt.Errorf("cache: nonce: %w", err)
		}
		var arena []byte
		for i := b; i < end; i++ {
			plain = enc(plain[:0], i)
			aad = append(append(append(aad[:0], kind...), ':'), id(i)...)
			if cap(arena)-len(arena) < ns+len(plain)+over {
				arena = make([]byte, 0, max(64<<10, ns+len(plain)+over))
			}
			start := len(arena)
			nonce := nonces[(i-b)*ns : (i-b+1)*ns]
			arena = append(arena, nonce...)
			arena = s.aead.Seal(arena, nonce, plain, aad)
			blobs[i] = arena[start:len(arena):len(arena)]
		}
	}
	return nil
}

// openBatch is rows read from SQLite awaiting decryption: ids and sealed
// blobs copied into one buffer.
type openBatch struct {
	seq  int
	buf  []byte
	offs []int32 // per row: id start, sealed start, sealed end (id ends where sealed starts)
}

// loadRows runs query (selecting id, sealed) and opens every row with
// decode (the binary codec) or JSON (rows from an older build), in
// parallel, keeping the query's order.
func loadRows[T any](ctx context.Context, s *Store, query, kind string, decode func(string, *T) error, args ...any) ([]T, error) {
	rows, err := s.conn().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cache: load %s: %w", kind, err)
	}
	defer rows.Close()

	work := make(chan *openBatch, 4)
	wait := openBatches(s, kind, work, decode)
	scanErr := batchRows(rows, work)
	results, firstErr := wait()
	if scanErr != nil {
		return nil, fmt.Errorf("cache: load %s: %w", kind, scanErr)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	n := 0
	for _, r := range results {
		n += len(r)
	}
	out := make([]T, 0, n)
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// openBatches opens the batches sent to work on every CPU; wait (after
// work is closed) returns the rows of each batch by its seq and the first
// error.
func openBatches[T any](s *Store, kind string, work <-chan *openBatch, decode func(string, *T) error) (wait func() ([][]T, error)) {
	var (
		mu       sync.Mutex
		results  [][]T
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var aad []byte
			for b := range work {
				out, err := openRowBatch(s.seal, kind, b, &aad, decode)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				for len(results) <= b.seq {
					results = append(results, nil)
				}
				results[b.seq] = out
				mu.Unlock()
			}
		}()
	}
	return func() ([][]T, error) {
		wg.Wait()
		return results, firstErr
	}
}

// batchRows copies rows (id, sealed) into batches of rowBatch sent to
// work in order, numbered by seq, and closes work.
func batchRows(rows *sql.Rows, work chan<- *openBatch) error {
	defer close(work)
	var id, sealed sql.RawBytes
	cur := &openBatch{}
	seq := 0
	for rows.Next() {
		if err := rows.Scan(&id, &sealed); err != nil {
			return err
		}
		cur.offs = append(cur.offs, int32(len(cur.buf)))
		cur.buf = append(cur.buf, id...)
		cur.offs = append(cur.offs, int32(len(cur.buf)))
		cur.buf = append(cur.buf, sealed...)
		cur.offs = append(cur.offs, int32(len(cur.buf)))
		if len(cur.offs) == 3*rowBatch {
			work <- cur
			seq++
			cur = &openBatch{seq: seq, buf: make([]byte, 0, len(cur.buf)), offs: make([]int32, 0, 3*rowBatch)}
		}
	}
	if len(cur.offs) > 0 {
		work <- cur
	}
	return rows.Err()
}

// openRowBatch decrypts and decodes one batch. Every row's plaintext goes
// into one buffer turned into one string, which the decoded fields slice.
func openRowBatch[T any](sl *sealer, kind string, b *openBatch, aad *[]byte, decode func(string, *T) error) ([]T, error) {
	ns := sl.aead.NonceSize()
	n := len(b.offs) / 3
	plain := make([]byte, 0, len(b.buf))
	ends := make([]int, n)
	for i := range n {
		idLo, sLo, sHi := b.offs[3*i], b.offs[3*i+1], b.offs[3*i+2]
		sealed := b.buf[sLo:sHi]
		if len(sealed) < ns {
			return nil, errSealBroken
		}
		*aad = append(append(append((*aad)[:0], kind...), ':'), b.buf[idLo:sLo]...)
		var err error
		plain, err = sl.aead.Open(plain, sealed[:ns], sealed[ns:], *aad)
		if err != nil {
			return nil, errSealBroken
		}
		ends[i] = len(plain)
	}
	text := string(plain)
	out := make([]T, n)
	start := 0
	for i := range n {
		row := text[start:ends[i]]
		var err error
		if len(row) > 0 && row[0] == codecV2 {
			err = decode(row, &out[i])
		} else {
			err = json.Unmarshal(plain[start:ends[i]], &out[i])
		}
		if err != nil {
			return nil, fmt.Errorf("cache: decode %s: %w", kind, err)
		}
		start = ends[i]
	}
	return out, nil
}
