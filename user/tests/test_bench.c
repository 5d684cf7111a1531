// SPDX-License-Identifier: GPL-2.0
/*
 * The arithmetic and the command line of lamport bench fd: percentiles,
 * the accuracy metrics, the loss floor, and condition parsing.
 */

#include <math.h>
#include <string.h>

#include "bench.h"
#include "tap.h"

#define MS 1000000ULL

static void test_percentiles(void)
{
	struct samples s = { 0 };
	uint64_t v;

	tap_ok(samples_pct(&s, 50) == 0 && samples_max(&s) == 0,
	       "no samples: percentiles and max are 0");
	/* 100, 99, ..., 1 ms: inserted in reverse to check the sort. */
	for (v = 100; v >= 1; v--)
		samples_add(&s, v * MS);
	tap_ok(samples_pct(&s, 50) == 50 * MS, "p50 of 1..100 is 50 (nearest rank)");
	tap_ok(samples_pct(&s, 90) == 90 * MS, "p90 of 1..100 is 90");
	tap_ok(samples_pct(&s, 99) == 99 * MS, "p99 of 1..100 is 99");
	tap_ok(samples_pct(&s, 100) == 100 * MS && samples_max(&s) == 100 * MS,
	       "p100 and max are 100");
	tap_ok(s.v[0] == 100 * MS, "percentiles leave the samples in their order");
	samples_free(&s);

	samples_add(&s, 7);
	tap_ok(samples_pct(&s, 1) == 7 && samples_pct(&s, 99) == 7,
	       "one sample is every percentile");
	samples_free(&s);

	for (v = 1; v <= 3; v++)
		samples_add(&s, v);
	tap_ok(samples_pct(&s, 50) == 2 && samples_pct(&s, 99) == 3,
	       "three samples: p50 2, p99 3");
	samples_free(&s);
}

static void test_qos(void)
{
	struct qos q = { 0 };

	qos_down(&q, 5 * MS);
	qos_suspect(&q);
	tap_ok(!q.mistakes && !q.suspicions,
	       "verdicts outside a window are not mistakes");

	qos_trust(&q, 1000 * MS);		/* window opens */
	qos_suspect(&q);
	qos_down(&q, 2000 * MS);		/* mistake 1, 100 ms */
	qos_down(&q, 2050 * MS);		/* same mistake */
	qos_trust(&q, 2100 * MS);
	qos_down(&q, 3000 * MS);		/* mistake 2, 300 ms */
	qos_trust(&q, 3300 * MS);
	qos_close(&q, 5000 * MS);		/* 4 s window */
	tap_ok(q.mistakes == 2, "two mistakes (a repeated down is one)");
	tap_ok(q.suspicions == 1, "one soft suspicion");
	tap_ok(q.window_ns == 4000 * MS, "window 4 s");
	tap_ok(q.mistake_ns == 400 * MS, "mistaken 400 ms");
	tap_ok(fabs(qos_recurrence_ns(&q) - 2000.0 * MS) < 1,
	       "T_MR = 4 s / 2 = 2 s");
	tap_ok(fabs(qos_duration_ns(&q) - 200.0 * MS) < 1, "T_M = 200 ms");
	tap_ok(fabs(qos_accuracy(&q) - 0.9) < 1e-12, "P_A = 0.9");
	/* 4 s at 10 ms nominal, 8.75 ms mean: 457.14 heartbeats. */
	tap_ok(fabs(qos_mistakes_per_1e5(&q, mean_interval_ns(10000)) -
		    2 * 1e5 / (4000.0 / 8.75)) < 1e-6,
	       "mistakes per 1e5 heartbeats use the mean jittered interval");

	/* A window closed during a mistake counts it up to the close. */
	qos_trust(&q, 6000 * MS);
	qos_down(&q, 6500 * MS);
	qos_close(&q, 7000 * MS);
	tap_ok(q.mistakes == 3 && q.mistake_ns == 900 * MS &&
	       q.window_ns == 5000 * MS,
	       "a mistake cut by the window's end counts until then");
	qos_trust(&q, 8000 * MS);
	tap_ok(q.open && !q.mistaken && q.opened_ns == 8000 * MS,
	       "a new window opens clean");

	memset(&q, 0, sizeof(q));
	tap_ok(isnan(qos_accuracy(&q)) && isnan(qos_recurrence_ns(&q)) &&
	       isnan(qos_mistakes_per_1e5(&q, 1)),
	       "no window: no figures");
	qos_trust(&q, 0);
	qos_close(&q, 10 * MS);
	tap_ok(isinf(qos_recurrence_ns(&q)) && qos_accuracy(&q) == 1.0 &&
	       isnan(qos_duration_ns(&q)),
	       "no mistake: T_MR infinite, P_A 1, no T_M");
}

static void test_floor(void)
{
	/* 1e5 (1 - p) p^3 */
	tap_ok(fabs(loss_floor_per_1e5(0.01, 3) - 0.099) < 1e-9, "floor at 1 %% is 0.099");
	tap_ok(fabs(loss_floor_per_1e5(0.02, 3) - 0.784) < 1e-9, "floor at 2 %% is 0.784");
	tap_ok(fabs(loss_floor_per_1e5(0.05, 3) - 11.875) < 1e-9,
	       "floor at 5 %% is 11.875");
	tap_ok(loss_floor_per_1e5(0, 3) == 0, "no loss, no floor");
}

static int parse(const char *line, struct bench_opts *o)
{
	char buf[256], *argv[16], *tok, *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 16;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	return bench_fd_parse(o, argc, argv);
}

static void test_parse(void)
{
	static struct bench_opts o;
	unsigned int i;

	tap_ok(!parse("", &o) && o.cycles == 20 && o.mult == 3 && o.ncond == 8,
	       "defaults: 20 cycles, M 3, 8 conditions");
	tap_ok(!strcmp(o.cond[0].name, "idle") && o.cond[0].interval_us == 10000 &&
	       !strcmp(o.cond[7].name, "idle-300ms") &&
	       o.cond[7].interval_us == 300000,
	       "the default ends with idle at 300 ms");
	tap_ok(o.cond[4].loss_pct == 1 && o.cond[6].loss_pct == 5 &&
	       o.cond[2].load == LOAD_CPU_FIFO && o.cond[3].load == LOAD_MEM,
	       "loss and load conditions");

	tap_ok(!parse("conditions idle@300ms,cpu,loss2@300ms,mem cycles 5 -o /tmp/x", &o) &&
	       o.ncond == 4 && o.cycles == 5 && !strcmp(o.outdir, "/tmp/x"),
	       "conditions, cycles and -o");
	tap_ok(!strcmp(o.cond[0].name, "idle-300ms") &&
	       !strcmp(o.cond[1].name, "loss2-300ms") &&
	       !strcmp(o.cond[2].name, "cpu") && !strcmp(o.cond[3].name, "mem"),
	       "conditions are grouped by interval, in order of first use");

	tap_ok(o.probe == 500, "the timer probe is on by default");
	tap_ok(!parse("soak 0 loss-soak 2s cost 500ms seed 7 mult 5 probe 0", &o) &&
	       o.soak_ns == 0 && o.loss_soak_ns == 2000 * MS &&
	       o.cost_ns == 500 * MS && o.seed == 7 && o.mult == 5 && !o.probe,
	       "soak, loss-soak, cost, seed, mult, probe");

	static const char *const bad[] = {
		"conditions idle,idle", "conditions loss0", "conditions loss51",
		"conditions idle@5ms", "conditions idle@10500us", "conditions nap",
		"cycles 0", "cycles x", "mult 1", "mult 256", "soak", "soak 1h",
		"frobnicate 1", "conditions ,", "-o", "probe", "probe -1",
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(parse(bad[i], &o) == -1, "rejected: \"%s\"", bad[i]);
}

int main(void)
{
	test_percentiles();
	test_qos();
	test_floor();
	test_parse();
	return tap_done();
}
