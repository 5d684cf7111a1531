// SPDX-License-Identifier: GPL-2.0
/*
 * The pure parts of lamport bench msg: medians, ratios, the rows of the
 * table, the targets and their verdicts, number formatting, the command
 * line, and the files written from made-up results.
 */

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "tap.h"

#define MS 1000000ULL

static void test_median(void)
{
	const double one[] = { 7 }, two[] = { 4, 2 }, three[] = { 9, 1, 5 };
	const double four[] = { 10, 1, 4, 3 };

	tap_ok(isnan(msg_median(one, 0)), "no runs: no median");
	tap_ok(msg_median(one, 1) == 7, "one run is its own median");
	tap_ok(msg_median(two, 2) == 3, "two runs: their mean");
	tap_ok(msg_median(three, 3) == 5, "three runs: the middle one, unsorted input");
	tap_ok(msg_median(four, 4) == 3.5, "four runs: the mean of the middle two");
	tap_ok(three[0] == 9, "the runs keep their order");
}

static void test_ratio(void)
{
	tap_ok(msg_ratio(200, 180) == 0.9, "ratio = lamport / baseline");
	tap_ok(isnan(msg_ratio(0, 5)), "no baseline: no ratio");
	tap_ok(isnan(msg_ratio(-1, 5)), "a negative baseline: no ratio");
	tap_ok(isnan(msg_ratio(NAN, 5)) && isnan(msg_ratio(5, NAN)),
	       "a missing figure: no ratio");
	tap_ok(msg_ratio(5, 0) == 0, "nothing arrived over AF_LAMPORT: ratio 0");
}

static void test_run_rates(void)
{
	struct msg_run run = {
		.elapsed_ns = 2000 * MS, .tx_msgs = 3000, .rx_msgs = 1000,
		.rx_bytes = 1024000,
	};

	tap_ok(msg_run_rx_rate(&run) == 500, "received 1000 in 2 s: 500/s");
	tap_ok(msg_run_tx_rate(&run) == 1500, "sent 3000 in 2 s: 1500/s");
	tap_ok(msg_run_rx_bytes_rate(&run) == 512000, "goodput 512000 B/s");
	run.elapsed_ns = 0;
	tap_ok(isnan(msg_run_rx_rate(&run)), "a run of no time has no rate");
}

static void test_target_met(void)
{
	tap_ok(msg_target_met(0.9, 0.9, false), ">= target: exactly at it is met");
	tap_ok(!msg_target_met(0.899, 0.9, false), ">= target: just below is not");
	tap_ok(msg_target_met(1.1, 1.1, true), "<= target: exactly at it is met");
	tap_ok(!msg_target_met(1.11, 1.1, true), "<= target: just above is not");
	tap_ok(msg_target_met(0.5, 1.1, true), "<= target: well below is met");
	tap_ok(!msg_target_met(NAN, 0.9, false) && !msg_target_met(NAN, 1.1, true),
	       "no ratio: never met");
}

static void test_fmt(void)
{
	char buf[32];

	tap_ok(!strcmp(msg_fmt_value(NAN, buf, sizeof(buf)), "-"), "NaN prints -");
	tap_ok(!strcmp(msg_fmt_value(123456.7, buf, sizeof(buf)), "123457"),
	       "large values: whole numbers");
	tap_ok(!strcmp(msg_fmt_value(85.125, buf, sizeof(buf)), "85.1"),
	       "10..1000: one decimal");
	tap_ok(!strcmp(msg_fmt_value(1.25, buf, sizeof(buf)), "1.250"),
	       "below 10: three decimals");
	tap_ok(!strcmp(msg_fmt_value(0, buf, sizeof(buf)), "0.000"), "zero");
}

/* A run that received rx messages of size bytes in 1 s, sent tx. */
static void add_run(struct msg_side *s, uint64_t tx, uint64_t rx, uint32_t size)
{
	struct msg_run *run = &s->run[s->nrun++];

	memset(run, 0, sizeof(*run));
	run->elapsed_ns = 1000 * MS;
	run->tx_msgs = tx;
	run->rx_msgs = rx;
	run->rx_bytes = rx * size;
}

static void add_rtts(struct msg_side *s, uint64_t base_us)
{
	uint64_t i;

	/* base+1 .. base+100 us: p50 base+50, p99 base+99. */
	for (i = 1; i <= 100; i++)
		samples_add(&s->rtt, (base_us + i) * 1000);
}

static void fake_meas(struct msg_results *r, const char *name,
		      enum msg_kind kind, uint32_t size, uint32_t loss)
{
	struct msg_meas *m = &r->m[r->nm++];

	snprintf(m->name, sizeof(m->name), "%s", name);
	m->kind = kind;
	m->size = size;
	m->loss_pct = loss;
}

/*
 * dgram-64: UDP 1000/s and 1200/s (median 1100), DGRAM 1000/s twice;
 * rtt-64: UDP 101..200 us, DGRAM 111..210 us;
 * rdm-clean: TCP 10000 KiB/s, RDM 7000; rdm-loss5: TCP 2000, RDM 2500.
 */
static void fake_results(struct msg_results *r, struct msg_opts *o)
{
	memset(r, 0, sizeof(*r));
	memset(o, 0, sizeof(*o));
	o->duration_ns = 1000 * MS;
	o->rtt = 100;
	o->reps = 2;
	r->opts = o;
	snprintf(r->sys.kernel, sizeof(r->sys.kernel), "test");
	fake_meas(r, "dgram-64", MSG_RATE, 64, 0);
	add_run(&r->m[0].side[MSG_BASE], 2000, 1000, 64);
	add_run(&r->m[0].side[MSG_BASE], 2000, 1200, 64);
	add_run(&r->m[0].side[MSG_LAMPORT], 3000, 1000, 64);
	add_run(&r->m[0].side[MSG_LAMPORT], 3000, 1000, 64);
	fake_meas(r, "rtt-64", MSG_RTT, 64, 0);
	add_rtts(&r->m[1].side[MSG_BASE], 100);
	add_rtts(&r->m[1].side[MSG_LAMPORT], 110);
	fake_meas(r, "rdm-clean", MSG_TPUT, 1024, 0);
	add_run(&r->m[2].side[MSG_BASE], 0, 10000, 1024);
	add_run(&r->m[2].side[MSG_LAMPORT], 0, 7000, 1024);
	fake_meas(r, "rdm-loss5", MSG_TPUT, 1024, 5);
	add_run(&r->m[3].side[MSG_BASE], 0, 2000, 1024);
	add_run(&r->m[3].side[MSG_LAMPORT], 0, 2500, 1024);
	r->m[2].side[MSG_LAMPORT].run[0].has_flow = true;
	r->m[2].side[MSG_LAMPORT].run[0].flow[LAMPORT_FLOW_STAT_RETRANSMITS] = 5;
	r->m[2].side[MSG_LAMPORT].run[0].flow[LAMPORT_FLOW_STAT_CWND] = 10;
	r->m[2].side[MSG_LAMPORT].run[0].flow[LAMPORT_FLOW_STAT_SRTT_NS] = 250000;
	r->m[3].side[MSG_LAMPORT].run[0].tx_errors = 3;
	r->m[3].side[MSG_LAMPORT].run[0].last_error = 112;	/* EHOSTDOWN */
}

static void test_rows(void)
{
	static struct msg_results r;
	struct msg_row rows[MSG_MAX_ROWS];
	struct msg_opts o;
	unsigned int n;

	fake_results(&r, &o);
	n = msg_rows(&r, rows, MSG_MAX_ROWS);
	tap_ok(n == 6, "rows: rate rx and tx, RTT p50 and p99, two goodputs (%u)", n);
	tap_ok(!strcmp(rows[0].key, "dgram-64-rx") && !strcmp(rows[1].key, "dgram-64-tx") &&
	       !strcmp(rows[2].key, "rtt-64-p50") && !strcmp(rows[3].key, "rtt-64-p99") &&
	       !strcmp(rows[4].key, "rdm-clean") && !strcmp(rows[5].key, "rdm-loss5"),
	       "row keys");
	tap_ok(rows[0].base == 1100 && rows[0].lamport == 1000 &&
	       fabs(rows[0].ratio - 1000.0 / 1100) < 1e-12,
	       "received: median of the runs per side, and their ratio");
	tap_ok(rows[1].base == 2000 && rows[1].lamport == 3000 && rows[1].ratio == 1.5,
	       "sent rates too");
	tap_ok(!strcmp(rows[0].base_name, "UDP") && !strcmp(rows[0].lamport_name, "DGRAM") &&
	       !strcmp(rows[4].base_name, "TCP") && !strcmp(rows[4].lamport_name, "RDM"),
	       "baselines: UDP for DGRAM, TCP for RDM");
	tap_ok(rows[2].base == 150 && rows[2].lamport == 160 && rows[2].lower_better &&
	       rows[3].base == 199 && rows[3].lamport == 209 && !strcmp(rows[2].unit, "us"),
	       "RTT p50 and p99 in us, lower is better");
	tap_ok(fabs(rows[4].base - 10.24) < 1e-9 && fabs(rows[4].lamport - 7.168) < 1e-9 &&
	       !strcmp(rows[4].unit, "MB/s"),
	       "goodput in MB/s from the bytes that arrived");
	tap_ok(!strcmp(rows[5].label, "1 KiB goodput, loss 5 %") &&
	       !strcmp(rows[0].label, "64 B messages received"),
	       "labels: \"%s\", \"%s\"", rows[5].label, rows[0].label);
	tap_ok(msg_rows(&r, rows, 3) == 3, "rows stop at the space given");
	msg_results_free(&r);
}

static void test_targets(void)
{
	static struct msg_results r;
	struct bench_target t[MSG_MAX_TARGETS];
	struct msg_row rows[MSG_MAX_ROWS];
	struct msg_opts o;
	unsigned int n;

	fake_results(&r, &o);
	n = msg_targets(rows, msg_rows(&r, rows, MSG_MAX_ROWS), t);
	tap_ok(n == 5, "targets for the rows present: rx, p50, p99, clean, loss5 (%u)", n);
	tap_ok(!strcmp(t[0].name, "DGRAM 64 B messages/s >= 0.9x UDP") && t[0].met,
	       "1000 vs 1100 msg/s (0.909x) meets >= 0.9x");
	tap_ok(!strcmp(t[0].detail, "0.909x: DGRAM 1000 vs UDP 1100 msg/s"),
	       "with the numbers: \"%s\"", t[0].detail);
	tap_ok(t[1].met && t[2].met, "RTT 160 vs 150 us (1.067x), 209 vs 199 (1.05x): met");
	tap_ok(!t[3].met && strstr(t[3].detail, "0.700x"),
	       "RDM 0.7x TCP on a clean link: NOT MET");
	tap_ok(t[4].met && !strcmp(t[4].name, "RDM goodput at 5 % loss >= TCP's"),
	       "RDM 1.25x TCP at 5 %% loss: met");

	/* The same RTT 20 % slower misses its target. */
	samples_free(&r.m[1].side[MSG_LAMPORT].rtt);
	add_rtts(&r.m[1].side[MSG_LAMPORT], 150);
	n = msg_targets(rows, msg_rows(&r, rows, MSG_MAX_ROWS), t);
	tap_ok(!t[1].met && !t[2].met, "RTT 200 vs 150 us: NOT MET");
	/* No baseline run: no ratio, not met. */
	r.m[0].side[MSG_BASE].nrun = 0;
	n = msg_targets(rows, msg_rows(&r, rows, MSG_MAX_ROWS), t);
	tap_ok(!t[0].met && !strcmp(t[0].detail, "no ratio: DGRAM 1000 vs UDP - msg/s"),
	       "no baseline: NOT MET, shown as -: \"%s\"", t[0].detail);
	msg_results_free(&r);
}

static bool file_has(const char *dir, const char *name, const char *text)
{
	char path[512], buf[16384];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	fclose(f);
	return strstr(buf, text) != NULL;
}

static void test_files(void)
{
	static struct msg_results r;
	char dir[] = "/tmp/test_bench_msg.XXXXXX";
	struct msg_opts o;
	int out, null, err;

	fake_results(&r, &o);
	if (!mkdtemp(dir)) {
		tap_ok(false, "mkdtemp");
		return;
	}
	snprintf(o.outdir, sizeof(o.outdir), "%s", dir);
	o.json = true;
	/* The JSON on stdout would break the TAP stream. */
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	err = bench_msg_report(&r);
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	close(null);
	tap_ok(!err, "report written");
	tap_ok(file_has(dir, "table.txt", "NOT MET RDM goodput >= 0.8x TCP, clean link: 0.700x"),
	       "table.txt marks the missed target with its numbers");
	tap_ok(file_has(dir, "table.txt", "rdm-loss5 lamport: 3 failed sends"),
	       "table.txt notes failed sends");
	tap_ok(file_has(dir, "table.txt",
			"rdm-clean RDM sender: 5 retransmits (0 fast), 0 timeouts, 0 zero windows; then cwnd 10, srtt 250 us"),
	       "table.txt notes the RDM sender's flow");
	tap_ok(file_has(dir, "results.json", "\"retransmits\": 5"),
	       "results.json has the RDM sender's flow");
	tap_ok(file_has(dir, "results.json", "\"bench\": \"msg\"") &&
	       file_has(dir, "results.json", "\"ratio\": 0.7"),
	       "results.json has the bench and the ratios");
	tap_ok(file_has(dir, "ratios.dat", "4 rdm-clean 0.700000 0.80 0\n") &&
	       file_has(dir, "ratios.dat", "1 dgram-64-tx 1.500000 NaN -1\n"),
	       "ratios.dat: ratio, target and verdict per row");
	tap_ok(file_has(dir, "rtt-64-udp.dat", "\n101.000\n102.000\n") &&
	       file_has(dir, "rtt-64-dgram.dat", "\n111.000\n"),
	       "rtt-64-{udp,dgram}.dat: the round trips in us");
	tap_ok(file_has(dir, "values.dat", "rdm-loss5 MB/s 2.048 2.56 1.250000"),
	       "values.dat: both figures and the ratio");
	run_quiet("rm -rf %s", dir);
	msg_results_free(&r);
}

static int parse(const char *line, struct msg_opts *o)
{
	char buf[256], *argv[16], *tok, *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 16;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	return bench_msg_parse(o, argc, argv);
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"duration", "duration 0.05", "duration 3601", "duration x",
		"duration -1", "rtt 0", "rtt x", "reps 0", "reps 10", "-o",
		"frobnicate 1", "rtt", "frobnicate", "pin", "pin both",
	};
	struct msg_opts o;
	unsigned int i;

	tap_ok(!parse("", &o) && o.duration_ns == 3000 * MS && o.rtt == 2000 &&
	       o.reps == 4 && !o.quick && !o.outdir[0] && o.pin == MSG_PIN_SPLIT,
	       "defaults: 3 s, 2000 round trips, 4 runs each, split CPUs");
	tap_ok(!parse("pin same", &o) && o.pin == MSG_PIN_SAME &&
	       !parse("pin none", &o) && o.pin == MSG_PIN_NONE,
	       "pin same, pin none");
	tap_ok(!parse("quick", &o) && o.quick && o.duration_ns == 500 * MS &&
	       o.rtt == 200 && o.reps == 1, "quick: 0.5 s, 200 round trips, 1 run");
	tap_ok(!parse("duration 2 quick rtt 50", &o) && o.quick &&
	       o.duration_ns == 2000 * MS && o.rtt == 50 && o.reps == 1,
	       "explicit values win over quick's, in any order");
	tap_ok(!parse("duration 1.5 reps 3 -o /tmp/x", &o) &&
	       o.duration_ns == 1500 * MS && o.reps == 3 && !strcmp(o.outdir, "/tmp/x"),
	       "fractional seconds, reps, -o");
	tap_ok(!parse("dur 500ms", &o) && o.duration_ns == 500 * MS,
	       "a duration with its unit, abbreviated key");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fflush(stdout);
		tap_ok(parse(bad[i], &o) == -1, "rejected: \"%s\"", bad[i]);
	}
}

int main(void)
{
	test_median();
	test_ratio();
	test_run_rates();
	test_target_met();
	test_fmt();
	test_rows();
	test_targets();
	test_files();
	test_parse();
	return tap_done();
}
