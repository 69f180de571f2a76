// Command sdbench measures Sessions Desk against a large organization and
// prints one table: platformd's read and write paths, the app's sync into its
// offline cache beside the floor of the same work, the UI in the real app, and
// memory. Every number is a median (or a quantile) of several runs made in
// this one process run, so numbers in one table are comparable with each
// other.
//
// It runs the real platformd binary as a separate process on loopback and
// talks to it over HTTP only. With -soak it also runs a bounded load test:
// many clients polling the delta feed and listing pages while an admin
// terminates sessions, checking that no client lost or saw twice an update.
//
// With -kratos it also measures the app's full sync from a real Ory Kratos
// seeded with 100,000 sessions, beside the floor of the same admin requests
// (kratos_bench.go, kratos_seed.go); -kratos-only measures that alone.
//
// -short shrinks everything so that the test suite can run the whole path and
// check its results without caring about its timings.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type config struct {
	platformd   string
	slug        string
	sessions    int
	devices     int
	runs        int
	samples     int
	soak        time.Duration
	soakClients int
	ui          string // the UI bench script, run with node; "" skips the UI rows
	appBinary   string
	postgres    string // admin URL of a PostgreSQL cluster; "" measures SQLite only
	live        liveConfig
	// faultClients ask for 1000-row pages at once for faultFor (the load
	// shedding row, faults_platform.go); 0 clients skips it.
	faultClients int
	faultFor     time.Duration
	syncFaults   bool // the app's sync through the fault-injecting proxy
	// appSync measures the app's sync, offline cache and overview (the "app"
	// rows); false measures platformd alone, which at a million sessions
	// saves the app's part of the run while platformd's rows are worked on.
	appSync    bool
	attack     attackConfig
	kratos     kratosConfig
	cpuprofile string // file for a CPU profile of the whole run; "" none
	// appGOGC is the GC target of this process, where the app's side (sync,
	// cache, index) runs; 0 leaves Go's default. Not GOGC in the
	// environment: the platformd processes would inherit it.
	appGOGC int
	short   bool
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sdbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if cfg.appGOGC != 0 {
		debug.SetGCPercent(cfg.appGOGC)
	}
	if cfg.cpuprofile != "" {
		f, err := os.OpenFile(cfg.cpuprofile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "sdbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	pg := map[int]string{}
	rows, err := measure(ctx, cfg, dir, pg)
	printTable(stdout, cfg, rows, pg)
	return err
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("sdbench", flag.ContinueOnError)
	cfg := config{slug: "bigcorp"}
	fs.StringVar(&cfg.platformd, "platformd", "build/bin/platformd", "the platformd binary to measure")
	fs.IntVar(&cfg.sessions, "sessions", 100_000, "active sessions in the large organization")
	fs.IntVar(&cfg.devices, "devices", 20_000, "devices in the large organization")
	fs.IntVar(&cfg.runs, "runs", 5, "runs of each long measurement (the table shows the median)")
	fs.IntVar(&cfg.samples, "samples", 200, "requests per latency measurement")
	fs.DurationVar(&cfg.soak, "soak", 0, "run the load soak for this long (0 skips it)")
	fs.IntVar(&cfg.soakClients, "soak-clients", 200, "concurrent clients in the soak")
	fs.StringVar(&cfg.ui, "ui", "", "node script of the UI bench (frontend/e2e/bench-ui.mjs); empty skips the UI rows")
	fs.StringVar(&cfg.appBinary, "app", "build/bin/sessiondesk-dev", "the dev app binary the UI bench drives")
	fs.StringVar(&cfg.postgres, "postgres", "", "admin `URL` of a PostgreSQL cluster: also measure platformd on PostgreSQL (side by side) and soak two replicas on it")
	cfg.live = liveConfig{signIns: 50, streams: 1000, soakFor: time.Minute, pollEvery: 30 * time.Second}
	fs.IntVar(&cfg.live.signIns, "live-signins", cfg.live.signIns, "sign-ins timed from the platform to the app's notification")
	fs.IntVar(&cfg.live.streams, "live-streams", cfg.live.streams, "event streams held on one organization in the streams soak")
	fs.DurationVar(&cfg.live.soakFor, "live-soak", cfg.live.soakFor, "how long an admin terminates sessions while the streams are held (0 skips the live rows)")
	fs.IntVar(&cfg.faultClients, "fault-clients", 1000, "concurrent clients asking for 1000-row pages in the load-shedding row (0 skips it)")
	fs.DurationVar(&cfg.faultFor, "fault-for", 10*time.Second, "how long the load-shedding row runs")
	cfg.attack = attackConfig{runFor: 30 * time.Second, slow: 50, busy: 200}
	fs.DurationVar(&cfg.attack.runFor, "attack-for", cfg.attack.runFor, "how long a well-behaved client signs in while slow and busy clients attack sign-in (0 skips the row)")
	fs.IntVar(&cfg.attack.slow, "attack-slow", cfg.attack.slow, "clients stalling sign-in bodies in the sign-in attack row")
	fs.IntVar(&cfg.attack.busy, "attack-busy", cfg.attack.busy, "clients hammering sign-in in the sign-in attack row")
	fs.BoolVar(&cfg.appSync, "app-sync", true, "measure the app's sync into its cache, offline and overview (the 'app' rows)")
	fs.BoolVar(&cfg.syncFaults, "sync-faults", true, "measure the app's full sync through resets and a 256 KB/s link (the 'faults' rows)")
	cfg.kratos = kratosConfig{sessions: 100_000, identities: 20_000}
	fs.StringVar(&cfg.kratos.bin, "kratos", "", "Ory Kratos v1.3.1 `binary` (build/scripts/lib.sh's ensure_kratos): also measure the app's sync from a seeded Kratos (the Kratos rows); empty skips them")
	fs.IntVar(&cfg.kratos.sessions, "kratos-sessions", cfg.kratos.sessions, "sessions seeded into Kratos")
	fs.IntVar(&cfg.kratos.identities, "kratos-identities", cfg.kratos.identities, "people (identities) the Kratos sessions belong to")
	fs.IntVar(&cfg.kratos.runs, "kratos-runs", 0, "runs of the Kratos full sync and its floor (0: -runs)")
	fs.BoolVar(&cfg.kratos.only, "kratos-only", false, "measure the Kratos rows only (with -kratos), skipping platformd's")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this `file`")
	fs.IntVar(&cfg.appGOGC, "app-gogc", 0, "GC target (GOGC) of the bench process, where the app's side runs; 0: Go's default")
	short := fs.Bool("short", false, "tiny sizes, one run: checks that the bench works, not how fast")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.short = *short
	if *short {
		cfg.sessions, cfg.devices, cfg.runs, cfg.samples = 2000, 400, 1, 10
		if cfg.live.soakFor > 0 {
			cfg.live.signIns, cfg.live.streams, cfg.live.soakFor = 3, 20, 2*time.Second
		}
		cfg.faultClients, cfg.faultFor = min(cfg.faultClients, 20), 2*time.Second
		if cfg.attack.runFor > 0 {
			cfg.attack = attackConfig{runFor: 2 * time.Second, slow: min(cfg.attack.slow, 6), busy: min(cfg.attack.busy, 20)}
		}
		if cfg.soak > 0 {
			cfg.soak, cfg.soakClients = 3*time.Second, 10
		}
		cfg.kratos.sessions, cfg.kratos.identities = min(cfg.kratos.sessions, 2000), min(cfg.kratos.identities, 400)
	}
	if cfg.kratos.runs <= 0 || cfg.short {
		cfg.kratos.runs = max(1, cfg.runs)
	}
	if cfg.kratos.only && cfg.kratos.bin == "" {
		return cfg, fmt.Errorf("-kratos-only needs -kratos")
	}
	return cfg, nil
}

// measure runs every measurement. pg receives, by row index, the
// PostgreSQL value of the platformd rows measured on both stores.
func measure(ctx context.Context, cfg config, dir string, pg map[int]string) ([]row, error) {
	m := &measurement{ctx: ctx, cfg: cfg, dir: dir, pg: pg}
	defer m.cleanup()
	if !cfg.kratos.only {
		if err := m.seed(); err != nil {
			return m.rows, err
		}
		for _, s := range m.steps() {
			if !s.on {
				continue
			}
			fmt.Fprintln(os.Stderr, s.say)
			if err := s.run(); err != nil {
				return m.rows, err
			}
		}
	}
	if cfg.kratos.bin != "" {
		if err := m.add(benchKratos(ctx, cfg, dir)); err != nil {
			return m.rows, err
		}
	}
	return m.rows, nil
}

// measurement is one process run's measurements, taken step by step, and
// what the steps share: the seeded organization, its platformd, and the
// PostgreSQL cluster (with -postgres).
type measurement struct {
	ctx     context.Context
	cfg     config
	dir     string
	pg      map[int]string
	rows    []row
	base    string // the seeded SQLite organization
	cluster *pgCluster
	p       *platformProc // on a copy of base, for the steps that read
	stops   []func()
}

func (m *measurement) cleanup() {
	for i := len(m.stops) - 1; i >= 0; i-- {
		m.stops[i]()
	}
}

// add appends a step's rows, whatever it returned, and passes its error on.
func (m *measurement) add(r []row, err error) error {
	m.rows = append(m.rows, r...)
	return err
}

func (m *measurement) sqliteFresh(name string) (string, error) {
	return freshCopy(m.base, m.dir, name+".db")
}
func (m *measurement) pgFresh(name string) (string, error) { return m.cluster.fresh(m.ctx, name) }

// start runs a platformd on db, stopped at the end of the measurement.
func (m *measurement) start(db string) (*platformProc, error) {
	p, err := startPlatform(m.ctx, m.cfg.platformd, db)
	if err == nil {
		m.stops = append(m.stops, p.stop)
	}
	return p, err
}

// seed seeds the large organization (into PostgreSQL too with -postgres)
// and starts the platformd the reading steps share.
func (m *measurement) seed() error {
	cfg := m.cfg
	m.base = filepath.Join(m.dir, "base.db")
	fmt.Fprintf(os.Stderr, "seeding %d sessions and %d devices…\n", cfg.sessions, cfg.devices)
	seedTook, err := seedLarge(m.ctx, cfg.platformd, m.base, cfg.slug, cfg.sessions, cfg.devices)
	if err != nil {
		return err
	}
	m.rows = append(m.rows, row{"seed", fmt.Sprintf("platformd seed of %d sessions + %d devices", cfg.sessions, cfg.devices), ms(seedTook), targetsFor(cfg.sessions).seed, "one run"})
	// With -postgres the platformd rows run on PostgreSQL too, on the same
	// organization, and the table shows both side by side.
	if cfg.postgres != "" {
		m.cluster = newPGCluster(cfg.postgres)
		m.stops = append(m.stops, m.cluster.dropAll)
		fmt.Fprintln(os.Stderr, "seeding the same organization into PostgreSQL…")
		took, err := m.cluster.seed(m.ctx, cfg)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		m.pg[0] = ms(took)
	}
	db, err := m.sqliteFresh("reads")
	if err != nil {
		return err
	}
	m.p, err = m.start(db)
	return err
}

// step is one measurement after the seed: whether it runs, what it says
// when it starts, and the run, which adds its rows.
type step struct {
	on  bool
	say string
	run func() error
}

// steps are the platformd measurements in the table's order.
func (m *measurement) steps() []step {
	ctx, cfg, a, l := m.ctx, m.cfg, m.cfg.attack, m.cfg.live
	pgOn := m.cluster != nil
	return []step{
		{true, "measuring platformd reads…", m.reads},
		{true, "measuring terminate-all…", m.terminateAll},
		{cfg.appSync, "measuring the app's sync into its cache…", func() error { return m.add(benchSync(ctx, cfg, m.p, m.dir)) }},
		{cfg.faultClients > 0, fmt.Sprintf("measuring load shedding: %d clients for %s…", cfg.faultClients, cfg.faultFor),
			func() error { return m.add(benchShedding(ctx, cfg, m.p)) }},
		{a.runFor > 0, fmt.Sprintf("measuring sign-in beside %d slow-body and %d busy clients for %s…", a.slow, a.busy, a.runFor), func() error {
			return m.add(onFreshPlatform(ctx, cfg, m.sqliteFresh, "attack", func(ap *platformProc) ([]row, error) { return benchSignInAttack(ctx, cfg, ap) }))
		}},
		{cfg.syncFaults, "measuring the app's sync through network faults…", func() error { return m.add(benchFaults(ctx, cfg, m.p, m.dir, cfg.short)) }},
		{cfg.ui != "", "measuring the UI in the real app…", func() error { return m.add(benchUI(ctx, cfg, m.p)) }},
		{l.soakFor > 0, fmt.Sprintf("measuring live changes: %d sign-ins, %d streams for %s…", l.signIns, l.streams, l.soakFor),
			func() error { return m.add(benchLive(ctx, cfg, l, m.dir)) }},
		{l.soakFor > 0 && pgOn, fmt.Sprintf("measuring live changes across two PostgreSQL replicas: %d terminations…", l.signIns),
			func() error { return m.add(benchCrossReplica(ctx, cfg, m.cluster, l.signIns)) }},
		{cfg.soak > 0, fmt.Sprintf("soaking: %d clients for %s…", cfg.soakClients, cfg.soak), m.soak},
		{cfg.soak > 0 && pgOn, fmt.Sprintf("soaking two PostgreSQL replicas: %d clients for %s…", cfg.soakClients, cfg.soak), m.soakReplicas},
	}
}

func (m *measurement) reads() error {
	r, err := benchPlatform(m.ctx, m.cfg, m.p)
	if err == nil && m.cluster != nil {
		fmt.Fprintln(os.Stderr, "measuring platformd reads on PostgreSQL…")
		err = sideBySide(m.pg, len(m.rows), r, func() ([]row, error) {
			return onFreshPlatform(m.ctx, m.cfg, m.pgFresh, "reads", func(pp *platformProc) ([]row, error) { return benchPlatform(m.ctx, m.cfg, pp) })
		})
	}
	return m.add(r, err)
}

func (m *measurement) terminateAll() error {
	r, err := benchTerminateAll(m.ctx, m.cfg, m.cfg.platformd, m.sqliteFresh)
	if err == nil && m.cluster != nil {
		err = sideBySide(m.pg, len(m.rows), r, func() ([]row, error) { return benchTerminateAll(m.ctx, m.cfg, m.cfg.platformd, m.pgFresh) })
	}
	return m.add(r, err)
}

// soak runs the load soak on a platformd of its own, the shared one
// stopped first.
func (m *measurement) soak() error {
	m.p.stop()
	db, err := m.sqliteFresh("soak")
	if err != nil {
		return err
	}
	sp, err := m.start(db)
	if err != nil {
		return err
	}
	defer sp.stop()
	return m.add(soakRows(m.ctx, m.cfg, "soak", []string{sp.URL}))
}

// soakReplicas runs the soak on two replicas on one PostgreSQL database;
// every client's requests alternate between them.
func (m *measurement) soakReplicas() error {
	db, err := m.pgFresh("soak")
	if err != nil {
		return err
	}
	var urls []string
	for range 2 {
		rp, err := m.start(db)
		if err != nil {
			return err
		}
		urls = append(urls, rp.URL)
	}
	r, err := soakRows(m.ctx, m.cfg, "soak, 2 PG replicas", urls)
	for i := range r { // its results belong in the PostgreSQL column
		m.pg[len(m.rows)+i], r[i].Value = r[i].Value, ""
	}
	return m.add(r, err)
}

// onFreshPlatform runs bench against a platformd of its own on a fresh
// copy (fresh, named name) of the seeded organization, stopped afterwards.
func onFreshPlatform(ctx context.Context, cfg config, fresh func(string) (string, error), name string, bench func(*platformProc) ([]row, error)) ([]row, error) {
	db, err := fresh(name)
	if err != nil {
		return nil, err
	}
	p, err := startPlatform(ctx, cfg.platformd, db)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	return bench(p)
}

// sideBySide runs the PostgreSQL twin of a set of rows (same measurements,
// same order) and records its values in pg beside the SQLite rows, which
// start at index at of the table.
func sideBySide(pg map[int]string, at int, sqliteRows []row, runPG func() ([]row, error)) error {
	pgRows, err := runPG()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if len(pgRows) != len(sqliteRows) {
		return fmt.Errorf("postgres: %d rows, want %d", len(pgRows), len(sqliteRows))
	}
	for i := range pgRows {
		pg[at+i] = pgRows[i].Value
	}
	return nil
}

// soakRows runs the soak against the platform(s) at urls and checks it.
func soakRows(ctx context.Context, cfg config, part string, urls []string) ([]row, error) {
	res, err := soak(ctx, cfg, urls, cfg.soakClients, cfg.soak)
	rows := []row{
		{part, fmt.Sprintf("%d clients × %s: requests served", cfg.soakClients, cfg.soak), fmt.Sprint(res.Requests), "", fmt.Sprintf("%.0f req/s", float64(res.Requests)/cfg.soak.Seconds())},
		{part, "request latency p50 / p99", ms(res.P50) + " / " + ms(res.P99), "", ""},
		{part, "sessions terminated meanwhile", fmt.Sprint(res.Terminated), "", ""},
		{part, "5xx / other errors", fmt.Sprintf("%d / %d", res.ServerErrs, res.OtherErrs), "0 / 0", ""},
		{part, "lost / duplicated updates", fmt.Sprintf("%d / %d", res.Lost, res.Duplicated), "0 / 0", "over every client's view"},
	}
	if err != nil {
		return rows, err
	}
	if res.ServerErrs+res.OtherErrs+res.Lost+res.Duplicated > 0 {
		return rows, fmt.Errorf("%s: %d 5xx, %d other errors, %d lost, %d duplicated", part, res.ServerErrs, res.OtherErrs, res.Lost, res.Duplicated)
	}
	if res.Terminated == 0 {
		return rows, fmt.Errorf("%s: the admin terminated nothing", part)
	}
	return rows, nil
}

func printTable(w io.Writer, cfg config, rows []row, pg map[int]string) {
	host, _ := os.Hostname()
	sizes := fmt.Sprintf("%d sessions, %d devices, %d runs", cfg.sessions, cfg.devices, cfg.runs)
	if k := cfg.kratos; k.only {
		sizes = fmt.Sprintf("Kratos only: %d sessions of %d people, %d runs", k.sessions, k.identities, k.runs)
	} else if k.bin != "" {
		sizes += fmt.Sprintf("; Kratos: %d sessions of %d people, %d runs", k.sessions, k.identities, k.runs)
	}
	fmt.Fprintf(w, "\nSessions Desk bench — %s; %s, %d CPUs, %s (%s)\n\n",
		sizes, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel(), host)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if cfg.postgres == "" {
		fmt.Fprintln(tw, "| part\t| measurement\t| result\t| target\t| note\t|")
		fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|")
		for _, r := range rows {
			fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t|\n", r.Section, r.Metric, r.Value, r.Target, r.Note)
		}
	} else {
		fmt.Fprintln(tw, "| part\t| measurement\t| SQLite\t| PostgreSQL\t| target\t| note\t|")
		fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|")
		for i, r := range rows {
			fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", r.Section, r.Metric, r.Value, pg[i], r.Target, r.Note)
		}
	}
	tw.Flush()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}
