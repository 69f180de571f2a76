package cache

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"sessiondesk/app/domain"
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

// rowKind is how the rows of one table are opened.
type rowKind[T any] struct {
	kind   string // the sealing's associated data (see sealer)
	decode func(string, *T) error
	// own, when set, gives a batch's decoded rows strings of their own:
	// repeated values shared through in, the rest copied. Without it every
	// row's strings are slices of its batch's plaintext, which they keep
	// alive whole (the user agent of every row, say).
	own func(in *domain.Interner, rows []T)
}

var (
	sessionRows = rowKind[domain.Session]{kind: "session", decode: decodeSession, own: func(in *domain.Interner, rows []domain.Session) {
		in.Sessions(rows)
		ownStrings(rows, func(s *domain.Session) [2]*string { return [2]*string{&s.ID, &s.IP} })
	}}
	deviceRows = rowKind[domain.Device]{kind: "device", decode: decodeDevice, own: func(in *domain.Interner, rows []domain.Device) {
		in.Devices(rows)
		ownStrings(rows, func(d *domain.Device) [2]*string { return [2]*string{&d.ID, &d.LastIP} })
	}}
	auditRows = rowKind[domain.AuditEvent]{kind: "audit", decode: decodeAudit}
)

// withoutOwn is rk for a reader that copies what it keeps of each batch
// (the index packs every field it keeps into its own records and tables):
// sharing and copying the strings first would be work thrown away.
func withoutOwn[T any](rk rowKind[T]) rowKind[T] {
	rk.own = nil
	return rk
}

// ownStrings copies the fields of rows that Interner leaves alone (id and
// address) into one new string, off the plaintext they were sliced from.
func ownStrings[T any](rows []T, fields func(*T) [2]*string) {
	n := 0
	for i := range rows {
		for _, f := range fields(&rows[i]) {
			n += len(*f)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i := range rows {
		for _, f := range fields(&rows[i]) {
			b.WriteString(*f)
		}
	}
	all, at := b.String(), 0
	for i := range rows {
		for _, f := range fields(&rows[i]) {
			*f, at = all[at:at+len(*f)], at+len(*f)
		}
	}
}

// loadRows runs query (selecting id, sealed) and returns every row of rk,
// opened, in the query's order. expect is how many rows the query is
// known to return (0: unknown), the size of the one slice they are copied
// into as their batches come.
func loadRows[T any](ctx context.Context, s *Store, rk rowKind[T], expect int, query string, args ...any) ([]T, error) {
	all := make([]T, 0, max(expect, 0))
	if err := eachRow(ctx, s, rk, func(rows []T) { all = append(all, rows...) }, query, args...); err != nil {
		return nil, err
	}
	return all[:len(all):len(all)], nil
}

// eachRow runs query (selecting id, sealed) with the file mapped
// (scanMapped), opens its rows of rk on every CPU while SQLite reads on
// another goroutine, and gives them to take in the query's order, a batch
// at a time, on the calling goroutine. take may keep the rows' strings
// (each batch's plaintext is its own) but not the slice: it is filled
// again. After an error take is not called again.
func eachRow[T any](ctx context.Context, s *Store, rk rowKind[T], take func([]T), query string, args ...any) error {
	return s.scanMapped(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("cache: load %s: %w", rk.kind, err)
		}
		defer rows.Close()
		return eachOpened(s, rk, rows, take)
	})
}

// eachOpened is eachRow over rows.
func eachOpened[T any](s *Store, rk rowKind[T], rows *sql.Rows, take func([]T)) error {
	workers := runtime.NumCPU()
	work := make(chan *openBatch, 4)
	// Opened batches come back to be filled again, and so do the rows
	// take is done with: a new buffer for each allocated (and zeroed)
	// another copy of every sealed row, as much again as the plaintext.
	spent := make(chan *openBatch, cap(work)+workers+1)
	free := make(chan []T, cap(work)+2*workers+1)
	opened := make(chan openedRows[T], workers)
	read := make(chan error, 1)
	go func() { read <- batchRows(rows, work, spent) }()
	openBatches(s, rk, workers, work, spent, free, opened)

	// Batches are opened out of order; take has them in order.
	var firstErr error
	ahead := map[int]openedRows[T]{}
	next := 0
	for o := range opened {
		ahead[o.seq] = o
		for b, ok := ahead[next]; ok; b, ok = ahead[next] {
			delete(ahead, next)
			next++
			if b.err != nil && firstErr == nil {
				firstErr = b.err
			}
			if firstErr == nil {
				take(b.rows)
			}
			select {
			case free <- b.rows:
			default:
			}
		}
	}
	if err := <-read; err != nil {
		return fmt.Errorf("cache: load %s: %w", rk.kind, err)
	}
	return firstErr
}

// openedRows is one batch's rows, opened, or why they did not open.
type openedRows[T any] struct {
	seq  int
	rows []T
	err  error
}

// openBatches opens the batches sent to work on workers goroutines, into
// row slices from free when it has one, and sends them to opened, which it
// closes once work is closed and every batch is through.
func openBatches[T any](s *Store, rk rowKind[T], workers int, work <-chan *openBatch, spent chan<- *openBatch, free chan []T, opened chan<- openedRows[T]) {
	var wg sync.WaitGroup
	in := domain.NewInterner()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var aad []byte
			for b := range work {
				// b goes back to batchRows once opened: read what is
				// needed of it first.
				seq, n := b.seq, len(b.offs)/3
				var dst []T
				select {
				case dst = <-free:
					dst = dst[:n]
					clear(dst) // decoding sets only the fields a row has
				default:
					dst = make([]T, n, rowBatch)
				}
				err := openRowBatch(s.seal, rk, b, &aad, dst)
				select { // nothing opened from b refers to its buffer
				case spent <- b:
				default:
				}
				if err == nil && rk.own != nil {
					rk.own(in, dst)
				}
				opened <- openedRows[T]{seq: seq, rows: dst, err: err}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(opened)
	}()
}

// batchRows copies rows (id, sealed) into batches of rowBatch sent to
// work in order, numbered by seq, and closes work. It fills the batches
// spent gives back before it makes new ones.
func batchRows(rows *sql.Rows, work chan<- *openBatch, spent <-chan *openBatch) error {
	defer close(work)
	var id, sealed sql.RawBytes
	cur := &openBatch{}
	seq := 0
	next := func() *openBatch {
		select {
		case b := <-spent:
			b.seq, b.buf, b.offs = seq, b.buf[:0], b.offs[:0]
			return b
		default:
			return &openBatch{seq: seq, buf: make([]byte, 0, len(cur.buf)), offs: make([]int32, 0, 3*rowBatch)}
		}
	}
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
			cur = next()
		}
	}
	if len(cur.offs) > 0 {
		work <- cur
	}
	return rows.Err()
}

// openRowBatch decrypts and decodes one batch into out (one row each).
// Every row's plaintext goes into one buffer turned into one string, which
// the decoded fields slice (until rk.own gives them their own).
func openRowBatch[T any](sl *sealer, rk rowKind[T], b *openBatch, aad *[]byte, out []T) error {
	ns := sl.aead.NonceSize()
	n := len(b.offs) / 3
	plain := make([]byte, 0, len(b.buf))
	ends := make([]int, n)
	for i := range n {
		idLo, sLo, sHi := b.offs[3*i], b.offs[3*i+1], b.offs[3*i+2]
		sealed := b.buf[sLo:sHi]
		if len(sealed) < ns {
			return errSealBroken
		}
		*aad = append(append(append((*aad)[:0], rk.kind...), ':'), b.buf[idLo:sLo]...)
		var err error
		plain, err = sl.aead.Open(plain, sealed[:ns], sealed[ns:], *aad)
		if err != nil {
			return errSealBroken
		}
		ends[i] = len(plain)
	}
	// One string over the plaintext, not a copy of it: plain is this
	// batch's own and nothing writes to it from here on.
	text := unsafe.String(unsafe.SliceData(plain), len(plain))
	start := 0
	for i := range n {
		row := text[start:ends[i]]
		var err error
		if len(row) > 0 && row[0] == codecV2 {
			err = rk.decode(row, &out[i])
		} else {
			err = json.Unmarshal(plain[start:ends[i]], &out[i])
		}
		if err != nil {
			return fmt.Errorf("cache: decode %s: %w", rk.kind, err)
		}
		start = ends[i]
	}
	return nil
}
