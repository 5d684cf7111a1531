// SPDX-License-Identifier: GPL-2.0
/*
 * The results of lamport bench fd: a table for people, JSON with every
 * sample, one data file per condition and detector for the plots, and the
 * verdict on each of the project's targets.
 */

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench.h"

#define TARGET_INTERVAL_US	10000
#define TARGET_MULT		3

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static const struct cond_result *find_cond(const struct bench_results *r,
					   const char *name)
{
	unsigned int i;

	for (i = 0; i < r->ncr; i++)
		if (!strcmp(r->cr[i].cond.name, name) &&
		    r->cr[i].cond.interval_us == TARGET_INTERVAL_US)
			return &r->cr[i];
	return NULL;
}

static uint64_t heartbeats_seen(const struct cond_result *cr, int d)
{
	uint64_t mean = mean_interval_ns(cr->cond.interval_us);

	return mean ? cr->det[d].qos.window_ns / mean : 0;
}

static double floor_per_1e5(const struct cond_result *cr, unsigned int mult)
{
	return cr->cond.loss_pct ?
	       loss_floor_per_1e5(cr->cond.loss_pct / 100.0, mult) : 0;
}

static int64_t overshoot_p99(const struct det_result *dr)
{
	struct samples s = { 0 };
	int64_t v;
	size_t i;

	/* Shifted to stay unsigned: overshoot can be negative. */
	for (i = 0; i < dr->ninfo; i++)
		samples_add(&s, (uint64_t)(dr->info[i].overshoot_ns + INT64_MAX / 2));
	v = s.n ? (int64_t)samples_pct(&s, 99) - INT64_MAX / 2 : 0;
	samples_free(&s);
	return v;
}

/*
 * One-sided 95 % upper bound of a Poisson mean given k events (exact for
 * k <= 10, a normal approximation above).
 */
static double poisson_upper95(uint32_t k)
{
	static const double exact[] = { 3.00, 4.74, 6.30, 7.75, 9.15, 10.51,
					11.84, 13.15, 14.43, 15.71, 16.96 };

	if (k < sizeof(exact) / sizeof(exact[0]))
		return exact[k];
	return k + 1.645 * sqrt((double)k) + 1.5;
}

/* --- targets --------------------------------------------------------------- */

static void add_target(struct bench_target *t, unsigned int *n, bool met,
		       const char *name, const char *detail)
{
	snprintf(t[*n].name, sizeof(t[*n].name), "%s", name);
	snprintf(t[*n].detail, sizeof(t[*n].detail), "%s", detail);
	t[*n].met = met;
	(*n)++;
}

static unsigned int eval_targets(const struct bench_results *r,
				 struct bench_target *t)
{
	static const char *const loaded[] = { "cpu", "cpu-fifo", "mem" };
	const struct det_result *k;
	const struct cond_result *cr;
	char name[96], detail[256];
	unsigned int n = 0, i;
	uint64_t p50, p99;

	if (r->opts->mult != TARGET_MULT)
		return 0;
	cr = find_cond(r, "idle");
	if (cr) {
		k = &cr->det[DET_KERNEL];
		p50 = samples_pct(&k->td, 50);
		p99 = samples_pct(&k->td, 99);
		snprintf(detail, sizeof(detail), "p50 %.2f ms, p99 %.2f ms, %zu samples, %u missed",
			 ms(p50), ms(p99), k->td.n, k->missed);
		add_target(t, &n, k->td.n && !k->missed && p50 <= 25500000 &&
			   p99 <= 30500000,
			   "lamport.ko idle: T_D p50 <= 25.5 ms and p99 <= 30.5 ms", detail);
	}
	for (i = 0; i < 3; i++) {
		cr = find_cond(r, loaded[i]);
		if (!cr)
			continue;
		k = &cr->det[DET_KERNEL];
		p99 = samples_pct(&k->td, 99);
		snprintf(name, sizeof(name),
			 "lamport.ko %s: p99 <= 31 ms and no false suspicion", loaded[i]);
		snprintf(detail, sizeof(detail),
			 "p99 %.2f ms, %u false suspicions in %.1f s trusted, %u soft, %u missed",
			 ms(p99), k->qos.mistakes, k->qos.window_ns / 1e9,
			 k->qos.suspicions, k->missed);
		add_target(t, &n, k->td.n && !k->missed && p99 <= 31000000 &&
			   !k->qos.mistakes, name, detail);
	}
	for (i = 0; i < r->ncr; i++) {
		double rate, floor;
		uint64_t hb;

		cr = &r->cr[i];
		if (!cr->cond.loss_pct || cr->cond.interval_us != TARGET_INTERVAL_US)
			continue;
		k = &cr->det[DET_KERNEL];
		rate = qos_mistakes_per_1e5(&k->qos, mean_interval_ns(cr->cond.interval_us));
		floor = floor_per_1e5(cr, r->opts->mult);
		snprintf(name, sizeof(name),
			 "lamport.ko %s: false suspicions <= 1.5x the floor", cr->cond.name);
		hb = heartbeats_seen(cr, DET_KERNEL);
		snprintf(detail, sizeof(detail),
			 "%u in %llu heartbeats = %.2f per 1e5 (95 %% bound %.2f); floor %.3f per 1e5 (%.2f expected)",
			 k->qos.mistakes, (unsigned long long)hb, rate,
			 hb ? poisson_upper95(k->qos.mistakes) * 1e5 / (double)hb : NAN,
			 floor, floor * (double)hb / 1e5);
		add_target(t, &n, isfinite(rate) && rate <= 1.5 * floor, name, detail);
	}
	for (i = 0; i < r->ncr; i++) {
		uint64_t kp, tp, bp;

		cr = &r->cr[i];
		if (cr->cond.interval_us != TARGET_INTERVAL_US)
			continue;
		kp = samples_pct(&cr->det[DET_KERNEL].td, 99);
		tp = samples_pct(&cr->det[DET_TWIN].td, 99);
		bp = samples_pct(&cr->det[DET_BFDD].td, 99);
		snprintf(name, sizeof(name),
			 "lamport.ko %s: p99 no worse than the twin's and bfdd's", cr->cond.name);
		snprintf(detail, sizeof(detail), "p99 %.2f ms vs twin %.2f ms, bfdd %.2f ms",
			 ms(kp), ms(tp), ms(bp));
		add_target(t, &n, cr->det[DET_KERNEL].td.n && tp && bp &&
			   !cr->det[DET_KERNEL].missed && kp <= tp && kp <= bp,
			   name, detail);
	}
	return n;
}

/* --- text ------------------------------------------------------------------ */

static void print_num(FILE *f, double v, const char *fmt, int width)
{
	if (isnan(v))
		fprintf(f, " %*s", width, "-");
	else if (isinf(v))
		fprintf(f, " %*s", width, "inf");
	else
		fprintf(f, fmt, width, v);
}

static void print_row(FILE *f, const struct cond_result *cr, int d,
		      unsigned int mult)
{
	const struct det_result *dr = &cr->det[d];
	const struct qos *q = &dr->qos;
	uint64_t mean = mean_interval_ns(cr->cond.interval_us);

	fprintf(f, "%-12s %-10s %5zu %4u", cr->cond.name, det_name[d], dr->td.n,
		dr->missed);
	print_num(f, dr->td.n ? ms(samples_pct(&dr->td, 50)) : NAN, " %*.2f", 7);
	print_num(f, dr->td.n ? ms(samples_pct(&dr->td, 90)) : NAN, " %*.2f", 7);
	print_num(f, dr->td.n ? ms(samples_pct(&dr->td, 99)) : NAN, " %*.2f", 7);
	print_num(f, dr->td.n ? ms(samples_max(&dr->td)) : NAN, " %*.2f", 7);
	print_num(f, dr->ninfo ? (double)overshoot_p99(dr) / 1e6 : NAN, " %*.2f", 7);
	fprintf(f, " %5u %4u", q->mistakes, q->suspicions);
	print_num(f, qos_mistakes_per_1e5(q, mean), " %*.2f", 8);
	print_num(f, cr->cond.loss_pct ? floor_per_1e5(cr, mult) : NAN, " %*.2f", 7);
	print_num(f, qos_recurrence_ns(q) / 1e9, " %*.1f", 7);
	print_num(f, qos_duration_ns(q) / 1e6, " %*.1f", 7);
	print_num(f, qos_accuracy(q), " %*.6f", 9);
	fputc('\n', f);
}

static void print_table(FILE *f, const struct bench_results *r,
			const struct bench_target *t, unsigned int nt)
{
	const struct bench_opts *o = r->opts;
	unsigned int i;
	int d;

	fprintf(f, "lamport bench fd: kernel %s, %s, %u CPUs; M = %u, %u cycles per condition\n",
		r->kernel, r->machine, r->cpus, o->mult, o->cycles);
	fprintf(f, "T_D: from the cut to the down verdict (ms); over: p99 past the detector's own\n"
		"deadline (lamport.ko, twin: last heartbeat + T_D) or past t0 + M x I (bfdd);\n"
		"false: down verdicts while B was reachable, soft: lamport's suspect state;\n"
		"/1e5: false per 1e5 heartbeats; floor: (1-p) p^M per 1e5; T_MR (s), T_M (ms), P_A.\n\n");
	fprintf(f, "%-12s %-10s %5s %4s %7s %7s %7s %7s %7s %5s %4s %8s %7s %7s %7s %9s\n",
		"condition", "detector", "n", "miss", "p50", "p90", "p99", "max",
		"over", "false", "soft", "/1e5", "floor", "T_MR", "T_M", "P_A");
	for (i = 0; i < r->ncr; i++) {
		for (d = 0; d < DET_COUNT; d++)
			print_row(f, &r->cr[i], d, o->mult);
		if (r->cr[i].stuck)
			fprintf(f, "  (%u cycles where a detector did not come back up in 30 s)\n",
				r->cr[i].stuck);
	}
	if (r->cost.measured) {
		uint64_t base = r->cost.busy_ns[DET_COUNT];

		fprintf(f, "\nCPU per heartbeat (%u ms, alone for %.0f s each, both nodes, minus %.1f ms busy with none):",
			r->cost_interval_us / 1000, r->cost.window_ns / 1e9, ms(base));
		for (d = 0; d < DET_COUNT; d++)
			fprintf(f, " %s %.1f us%s", det_name[d],
				((double)r->cost.busy_ns[d] - (double)base) /
				r->cost.heartbeats / 1e3, d + 1 < DET_COUNT ? "," : "\n");
	}
	if (r->probe.n)
		fprintf(f, "\nTimer precision (absolute 10 ms sleeps, SCHED_FIFO, no load, %zu): late by p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
			r->probe.n, ms(samples_pct(&r->probe, 50)),
			ms(samples_pct(&r->probe, 99)), ms(samples_max(&r->probe)));
	bench_targets_print(f, "I = 10 ms, M = 3", t, nt);
}

void bench_targets_print(FILE *f, const char *title,
			 const struct bench_target *t, unsigned int nt)
{
	unsigned int i;

	if (nt)
		fprintf(f, "\nTargets (%s):\n", title);
	for (i = 0; i < nt; i++)
		fprintf(f, "  %-7s %s: %s\n", t[i].met ? "met" : "NOT MET",
			t[i].name, t[i].detail);
}

void bench_targets_json(struct json *j, const struct bench_target *t,
			unsigned int nt)
{
	unsigned int i;

	json_key(j, "targets");
	json_arr_open(j);
	for (i = 0; i < nt; i++) {
		json_obj_open(j);
		json_kv_str(j, "target", t[i].name);
		json_kv_bool(j, "met", t[i].met);
		json_kv_str(j, "measured", t[i].detail);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* --- JSON ------------------------------------------------------------------ */

static void json_det(struct json *j, const struct cond_result *cr, int d,
		     unsigned int mult)
{
	const struct det_result *dr = &cr->det[d];
	const struct qos *q = &dr->qos;
	size_t i;

	json_obj_open(j);
	json_kv_str(j, "detector", det_name[d]);
	json_kv_str(j, "key", det_key[d]);
	json_kv_u32(j, "missed", dr->missed);
	json_key(j, "td_ns");
	json_obj_open(j);
	json_kv_u64(j, "p50", samples_pct(&dr->td, 50));
	json_kv_u64(j, "p90", samples_pct(&dr->td, 90));
	json_kv_u64(j, "p99", samples_pct(&dr->td, 99));
	json_kv_u64(j, "max", samples_max(&dr->td));
	json_obj_close(j);
	json_kv_s64(j, "overshoot_p99_ns", overshoot_p99(dr));
	json_kv_u32(j, "false_suspicions", q->mistakes);
	json_kv_u32(j, "soft_suspicions", q->suspicions);
	json_kv_u64(j, "trusted_ns", q->window_ns);
	json_kv_u64(j, "mistaken_ns", q->mistake_ns);
	json_kv_u64(j, "heartbeats", heartbeats_seen(cr, d));
	json_kv_double(j, "false_per_1e5", qos_mistakes_per_1e5(q,
				mean_interval_ns(cr->cond.interval_us)));
	json_kv_double(j, "floor_per_1e5", floor_per_1e5(cr, mult));
	json_kv_double(j, "t_mr_ns", qos_recurrence_ns(q));
	json_kv_double(j, "t_m_ns", qos_duration_ns(q));
	json_kv_double(j, "p_a", qos_accuracy(q));
	json_key(j, "samples");
	json_arr_open(j);
	for (i = 0; i < dr->ninfo; i++) {
		json_obj_open(j);
		json_kv_u32(j, "cycle", dr->info[i].cycle);
		json_kv_u64(j, "td_ns", dr->info[i].td_ns);
		json_kv_u64(j, "seen_ns", dr->info[i].seen_ns);
		json_kv_s64(j, "overshoot_ns", dr->info[i].overshoot_ns);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

static int write_json(FILE *f, bool pretty, const struct bench_results *r,
		      const struct bench_target *t, unsigned int nt)
{
	static const char *const loads[] = { "none", "cpu", "cpu-fifo", "mem" };
	const struct bench_opts *o = r->opts;
	struct json j;
	unsigned int i;
	int d;

	json_init(&j, f, pretty);
	json_obj_open(&j);
	json_kv_str(&j, "bench", "fd");
	json_kv_str(&j, "kernel", r->kernel);
	json_kv_str(&j, "cpu_model", r->machine);
	json_kv_u32(&j, "cpus", r->cpus);
	json_kv_u32(&j, "mult", o->mult);
	json_kv_u32(&j, "cycles", o->cycles);
	json_kv_u32(&j, "seed", o->seed);
	json_key(&j, "conditions");
	json_arr_open(&j);
	for (i = 0; i < r->ncr; i++) {
		const struct cond_result *cr = &r->cr[i];

		json_obj_open(&j);
		json_kv_str(&j, "name", cr->cond.name);
		json_kv_u32(&j, "interval_us", cr->cond.interval_us);
		json_kv_str(&j, "load", loads[cr->cond.load]);
		json_kv_u32(&j, "loss_pct", cr->cond.loss_pct);
		json_kv_u32(&j, "cycles", cr->cycles);
		json_kv_u32(&j, "stuck", cr->stuck);
		json_kv_u64(&j, "soak_ns", cr->soak_ns);
		json_kv_u64(&j, "cut_call_p99_ns", samples_pct(&cr->call, 99));
		json_key(&j, "detectors");
		json_arr_open(&j);
		for (d = 0; d < DET_COUNT; d++)
			json_det(&j, cr, d, o->mult);
		json_arr_close(&j);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	if (r->cost.measured) {
		json_key(&j, "cpu_cost");
		json_obj_open(&j);
		json_kv_u32(&j, "interval_us", r->cost_interval_us);
		json_kv_u64(&j, "window_ns", r->cost.window_ns);
		json_kv_double(&j, "heartbeats", r->cost.heartbeats);
		json_kv_u64(&j, "baseline_busy_ns", r->cost.busy_ns[DET_COUNT]);
		for (d = 0; d < DET_COUNT; d++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_ns_per_heartbeat", det_key[d]);
			json_kv_double(&j, key, ((double)r->cost.busy_ns[d] -
				       (double)r->cost.busy_ns[DET_COUNT]) /
				       r->cost.heartbeats);
		}
		json_obj_close(&j);
	}
	if (r->probe.n) {
		json_key(&j, "timer_probe_late_ns");
		json_obj_open(&j);
		json_kv_u64(&j, "samples", r->probe.n);
		json_kv_u64(&j, "p50", samples_pct(&r->probe, 50));
		json_kv_u64(&j, "p99", samples_pct(&r->probe, 99));
		json_kv_u64(&j, "max", samples_max(&r->probe));
		json_obj_close(&j);
	}
	bench_targets_json(&j, t, nt);
	json_obj_close(&j);
	return json_finish(&j);
}

/* --- files ----------------------------------------------------------------- */

static int write_dat(const char *dir, const struct cond_result *cr, int d)
{
	char path[512];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/td-%s-%s.dat", dir, cr->cond.name,
		 det_key[d]);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# %s, %s: detection time (ms) of each cycle, then how far\n"
		"# past its own deadline (last heartbeat + detection time) it decided\n",
		cr->cond.name, det_name[d]);
	for (i = 0; i < cr->det[d].td.n; i++) {
		fprintf(f, "%.3f", ms(cr->det[d].td.v[i]));
		if (i < cr->det[d].ninfo)
			fprintf(f, " %.3f", (double)cr->det[d].info[i].overshoot_ns / 1e6);
		fputc('\n', f);
	}
	return fclose(f) ? -errno : 0;
}

static int write_files(const struct bench_results *r, const struct bench_target *t,
		       unsigned int nt)
{
	const char *dir = r->opts->outdir;
	char path[512];
	unsigned int i;
	FILE *f;
	int d, err = 0;

	snprintf(path, sizeof(path), "%s/results.json", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (write_json(f, true, r, t, nt))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	snprintf(path, sizeof(path), "%s/table.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	print_table(f, r, t, nt);
	if (fclose(f) && !err)
		err = -errno;
	for (i = 0; i < r->ncr && !err; i++)
		for (d = 0; d < DET_COUNT && !err; d++)
			err = write_dat(dir, &r->cr[i], d);
	return err;
}

int bench_report(const struct bench_results *r)
{
	struct bench_target t[48];
	unsigned int nt = eval_targets(r, t);
	int err;

	if (r->opts->json)
		err = write_json(stdout, r->opts->pretty, r, t, nt);
	else
		print_table(stdout, r, t, nt), err = 0;
	if (r->opts->outdir[0]) {
		int ferr = write_files(r, t, nt);

		if (ferr) {
			fprintf(stderr, "Error: bench: cannot write the results to %s: %s\n",
				r->opts->outdir, strerror(-ferr));
			err = -1;
		}
	}
	return err ? -1 : 0;
}
