// SPDX-License-Identifier: GPL-2.0
/*
 * The results of lamport bench msg: medians of the runs, the ratio of each
 * AF_LAMPORT figure to its baseline's, the targets, and the table,
 * JSON and data files for the plots. Pure but for the output; host-tested.
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char *const kind_name[] = { "rate", "rtt", "goodput" };
static const char *const side_key[MSG_SIDES] = { "baseline", "lamport" };
static const char *const pin_name[] = { "same", "split", "none" };
static const char *const pin_text[] = {
	"both on CPU 0", "on CPU 0 and CPU 1", "where the scheduler puts them",
};

/* --- arithmetic ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double msg_median(const double *v, unsigned int n)
{
	double s[MSG_MAX_REPS];

	if (!n || n > MSG_MAX_REPS)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double msg_ratio(double base, double lamport)
{
	if (!isfinite(base) || !isfinite(lamport) || base <= 0)
		return NAN;
	return lamport / base;
}

static double per_s(uint64_t count, uint64_t ns)
{
	return ns ? (double)count * 1e9 / (double)ns : NAN;
}

double msg_run_rx_rate(const struct msg_run *run)
{
	return per_s(run->rx_msgs, run->elapsed_ns);
}

double msg_run_rx_bytes_rate(const struct msg_run *run)
{
	return per_s(run->rx_bytes, run->elapsed_ns);
}

double msg_run_tx_rate(const struct msg_run *run)
{
	return per_s(run->tx_msgs, run->elapsed_ns);
}

/* The median over a side's runs of f(run) * scale. */
static double side_median(const struct msg_side *s,
			  double (*f)(const struct msg_run *), double scale)
{
	double v[MSG_MAX_REPS];
	unsigned int i;

	for (i = 0; i < s->nrun && i < MSG_MAX_REPS; i++)
		v[i] = f(&s->run[i]) * scale;
	return msg_median(v, i);
}

static double rtt_us(const struct msg_side *s, double pct)
{
	return s->rtt.n ? (double)samples_pct(&s->rtt, pct) / 1e3 : NAN;
}

/* --- rows -------------------------------------------------------------------- */

static void size_name(uint32_t size, char *buf, size_t len)
{
	if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, len, "%u KiB", size / 1024);
	else
		snprintf(buf, len, "%u B", size);
}

static struct msg_row *add_row(struct msg_row *rows, unsigned int *n,
			       unsigned int max, const struct msg_meas *m,
			       const char *suffix)
{
	struct msg_row *row;

	if (*n >= max)
		return NULL;
	row = &rows[(*n)++];
	memset(row, 0, sizeof(*row));
	snprintf(row->key, sizeof(row->key), "%s%s", m->name, suffix);
	row->base_name = m->kind == MSG_TPUT ? "TCP" : "UDP";
	row->lamport_name = m->kind == MSG_TPUT ? "RDM" : "DGRAM";
	return row;
}

static void set_values(struct msg_row *row, double base, double lamport)
{
	row->base = base;
	row->lamport = lamport;
	row->ratio = msg_ratio(base, lamport);
}

static void rate_rows(const struct msg_meas *m, struct msg_row *rows,
		      unsigned int *n, unsigned int max)
{
	static const char *const what[2] = { "received", "sent" };
	double (*const f[2])(const struct msg_run *) = {
		msg_run_rx_rate, msg_run_tx_rate,
	};
	struct msg_row *row;
	char size[16];
	int i;

	size_name(m->size, size, sizeof(size));
	for (i = 0; i < 2; i++) {
		row = add_row(rows, n, max, m, i ? "-tx" : "-rx");
		if (!row)
			return;
		snprintf(row->label, sizeof(row->label), "%s messages %s", size, what[i]);
		row->unit = "msg/s";
		set_values(row, side_median(&m->side[MSG_BASE], f[i], 1),
			   side_median(&m->side[MSG_LAMPORT], f[i], 1));
	}
}

static void rtt_rows(const struct msg_meas *m, struct msg_row *rows,
		     unsigned int *n, unsigned int max)
{
	static const double pct[2] = { 50, 99 };
	struct msg_row *row;
	char size[16];
	int i;

	size_name(m->size, size, sizeof(size));
	for (i = 0; i < 2; i++) {
		row = add_row(rows, n, max, m, i ? "-p99" : "-p50");
		if (!row)
			return;
		snprintf(row->label, sizeof(row->label), "%s round trip p%.0f", size, pct[i]);
		row->unit = "us";
		row->lower_better = true;
		set_values(row, rtt_us(&m->side[MSG_BASE], pct[i]),
			   rtt_us(&m->side[MSG_LAMPORT], pct[i]));
	}
}

static void tput_row(const struct msg_meas *m, struct msg_row *rows,
		     unsigned int *n, unsigned int max)
{
	struct msg_row *row = add_row(rows, n, max, m, "");
	char size[16];

	if (!row)
		return;
	size_name(m->size, size, sizeof(size));
	if (m->loss_pct)
		snprintf(row->label, sizeof(row->label), "%s goodput, loss %u %%",
			 size, m->loss_pct);
	else
		snprintf(row->label, sizeof(row->label), "%s goodput, clean", size);
	row->unit = "MB/s";
	set_values(row, side_median(&m->side[MSG_BASE], msg_run_rx_bytes_rate, 1e-6),
		   side_median(&m->side[MSG_LAMPORT], msg_run_rx_bytes_rate, 1e-6));
}

unsigned int msg_rows(const struct msg_results *r, struct msg_row *rows,
		      unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->nm; i++) {
		const struct msg_meas *m = &r->m[i];

		if (m->kind == MSG_RATE)
			rate_rows(m, rows, &n, max);
		else if (m->kind == MSG_RTT)
			rtt_rows(m, rows, &n, max);
		else
			tput_row(m, rows, &n, max);
	}
	return n;
}

/* --- targets ----------------------------------------------------------------- */

static const struct bench_target_spec {
	const char *key;
	double factor;
	const char *name;
} target_specs[] = {
	{ "dgram-64-rx", 0.9, "DGRAM 64 B messages/s >= 0.9x UDP" },
	{ "dgram-1024-rx", 0.9, "DGRAM 1 KiB messages/s >= 0.9x UDP" },
	{ "rtt-64-p50", 1.1, "DGRAM 64 B RTT p50 <= 1.1x UDP" },
	{ "rtt-64-p99", 1.1, "DGRAM 64 B RTT p99 <= 1.1x UDP" },
	{ "rtt-1024-p50", 1.1, "DGRAM 1 KiB RTT p50 <= 1.1x UDP" },
	{ "rtt-1024-p99", 1.1, "DGRAM 1 KiB RTT p99 <= 1.1x UDP" },
	{ "rdm-clean", 0.8, "RDM goodput >= 0.8x TCP, clean link" },
	{ "rdm-loss5", 1.0, "RDM goodput at 5 % loss >= TCP's" },
};

bool msg_target_met(double ratio, double factor, bool lower_better)
{
	if (isnan(ratio))
		return false;
	return lower_better ? ratio <= factor : ratio >= factor;
}

static const struct bench_target_spec *spec_of(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(target_specs); i++)
		if (!strcmp(target_specs[i].key, key))
			return &target_specs[i];
	return NULL;
}

char *msg_fmt_value(double v, char *buf, size_t size)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, a >= 1000 ? "%.0f" : a >= 10 ? "%.1f" : "%.3f", v);
	return buf;
}

unsigned int msg_targets(const struct msg_row *rows, unsigned int nrows,
			 struct bench_target *t)
{
	char base[32], lam[32], ratio[32];
	unsigned int i, n = 0;

	for (i = 0; i < nrows && n < MSG_MAX_TARGETS; i++) {
		const struct bench_target_spec *spec = spec_of(rows[i].key);
		const struct msg_row *row = &rows[i];

		if (!spec)
			continue;
		snprintf(t[n].name, sizeof(t[n].name), "%s", spec->name);
		if (isnan(row->ratio))
			snprintf(ratio, sizeof(ratio), "no ratio");
		else
			snprintf(ratio, sizeof(ratio), "%.3fx", row->ratio);
		snprintf(t[n].detail, sizeof(t[n].detail), "%s: %s %s vs %s %s %s",
			 ratio, row->lamport_name,
			 msg_fmt_value(row->lamport, lam, sizeof(lam)), row->base_name,
			 msg_fmt_value(row->base, base, sizeof(base)), row->unit);
		t[n].met = msg_target_met(row->ratio, spec->factor, row->lower_better);
		n++;
	}
	return n;
}

/* --- text -------------------------------------------------------------------- */

/* The RDM sender's counters over all runs, and its state after the last. */
static void print_flow_note(FILE *f, const struct msg_meas *m)
{
	const struct msg_side *side = &m->side[MSG_LAMPORT];
	const struct msg_run *last = NULL;
	uint64_t sum[LAMPORT_FLOW_STAT_MAX + 1] = { 0 };
	unsigned int k, i;

	for (k = 0; k < side->nrun; k++) {
		if (!side->run[k].has_flow)
			continue;
		last = &side->run[k];
		for (i = 0; i <= LAMPORT_FLOW_STAT_MAX; i++)
			sum[i] += last->flow[i];
	}
	if (!last)
		return;
	fprintf(f, "  %s RDM sender: %llu retransmits (%llu fast), %llu timeouts, %llu zero windows; then cwnd %llu, srtt %.0f us\n",
		m->name, (unsigned long long)sum[LAMPORT_FLOW_STAT_RETRANSMITS],
		(unsigned long long)sum[LAMPORT_FLOW_STAT_FAST_RETRANSMITS],
		(unsigned long long)sum[LAMPORT_FLOW_STAT_TIMEOUTS],
		(unsigned long long)sum[LAMPORT_FLOW_STAT_ZERO_WINDOW],
		(unsigned long long)last->flow[LAMPORT_FLOW_STAT_CWND],
		(double)last->flow[LAMPORT_FLOW_STAT_SRTT_NS] / 1e3);
}

static void print_notes(FILE *f, const struct msg_results *r)
{
	unsigned int i, k;
	int s;

	for (i = 0; i < r->nm; i++) {
		if (r->m[i].kind == MSG_TPUT)
			print_flow_note(f, &r->m[i]);
		for (s = 0; s < MSG_SIDES; s++) {
			const struct msg_side *side = &r->m[i].side[s];
			uint64_t errors = 0;
			int last = 0;

			for (k = 0; k < side->nrun; k++) {
				errors += side->run[k].tx_errors;
				last = side->run[k].last_error ?: last;
			}
			if (errors)
				fprintf(f, "  %s %s: %llu failed sends (last: %s)\n",
					r->m[i].name, side_key[s],
					(unsigned long long)errors, strerror(last));
			if (side->rtt_lost)
				fprintf(f, "  %s %s: %u round trips lost\n", r->m[i].name,
					side_key[s], side->rtt_lost);
		}
	}
}

static void print_table(FILE *f, const struct msg_results *r,
			const struct msg_row *rows, unsigned int nrows,
			const struct bench_target *t, unsigned int nt)
{
	const struct msg_opts *o = r->opts;
	char base[32], lam[32];
	unsigned int i;

	fprintf(f, "lamport bench msg: kernel %s, %s, %u CPUs\n", r->sys.kernel,
		r->sys.machine, r->sys.cpus);
	fprintf(f, "%.1f s per rate run, %u round trips per RTT run, %u runs of each side\n"
		"interleaved (baseline first), median of the runs (RTT: all round trips);\n"
		"netns " BENCH_NS_A " -> " BENCH_NS_B " over veth, lamport nodes 1 and 2, heartbeats\n"
		"every 10 ms; loss: netem on both veth ends, no delay. Rates count what arrived.\n"
		"Sender (A) and receiver (B) %s.\n\n",
		(double)o->duration_ns / 1e9, o->rtt, o->reps, pin_text[o->pin]);
	fprintf(f, "%-28s %-6s %-5s %10s  %-5s %10s  %6s\n", "measurement", "unit",
		"base", "", "AF_LAMPORT", "", "ratio");
	for (i = 0; i < nrows; i++) {
		const struct msg_row *row = &rows[i];

		fprintf(f, "%-28s %-6s %-5s %10s  %-5s %10s  ", row->label, row->unit,
			row->base_name, msg_fmt_value(row->base, base, sizeof(base)),
			row->lamport_name,
			msg_fmt_value(row->lamport, lam, sizeof(lam)));
		if (isnan(row->ratio))
			fprintf(f, "%6s\n", "-");
		else
			fprintf(f, "%6.3f\n", row->ratio);
	}
	print_notes(f, r);
	bench_targets_print(f, "ratio = AF_LAMPORT / baseline", t, nt);
}

/* --- JSON -------------------------------------------------------------------- */

static void json_flow(struct json *j, const uint64_t *flow)
{
	static const struct { const char *key; int stat; } keys[] = {
		{ "retransmits", LAMPORT_FLOW_STAT_RETRANSMITS },
		{ "fast_retransmits", LAMPORT_FLOW_STAT_FAST_RETRANSMITS },
		{ "timeouts", LAMPORT_FLOW_STAT_TIMEOUTS },
		{ "zero_windows", LAMPORT_FLOW_STAT_ZERO_WINDOW },
		{ "cwnd", LAMPORT_FLOW_STAT_CWND },
		{ "ssthresh", LAMPORT_FLOW_STAT_SSTHRESH },
		{ "rwnd", LAMPORT_FLOW_STAT_RWND },
		{ "in_flight", LAMPORT_FLOW_STAT_IN_FLIGHT },
		{ "srtt_ns", LAMPORT_FLOW_STAT_SRTT_NS },
		{ "rto_ns", LAMPORT_FLOW_STAT_RTO_NS },
	};
	size_t i;

	json_key(j, "rdm_tx_flow");
	json_obj_open(j);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		json_kv_u64(j, keys[i].key, flow[keys[i].stat]);
	json_obj_close(j);
}

static void json_run(struct json *j, const struct msg_run *run)
{
	json_obj_open(j);
	json_kv_u64(j, "elapsed_ns", run->elapsed_ns);
	json_kv_u64(j, "tx_msgs", run->tx_msgs);
	json_kv_u64(j, "tx_bytes", run->tx_bytes);
	json_kv_u64(j, "tx_errors", run->tx_errors);
	json_kv_str(j, "last_error", run->last_error ? strerror(run->last_error) : NULL);
	json_kv_u64(j, "rx_msgs", run->rx_msgs);
	json_kv_u64(j, "rx_bytes", run->rx_bytes);
	json_kv_double(j, "rx_msgs_per_s", msg_run_rx_rate(run));
	json_kv_double(j, "rx_bytes_per_s", msg_run_rx_bytes_rate(run));
	json_kv_double(j, "tx_msgs_per_s", msg_run_tx_rate(run));
	if (run->has_flow)
		json_flow(j, run->flow);
	json_obj_close(j);
}

static void json_side(struct json *j, const struct msg_meas *m, int s)
{
	static const char *const proto[2][MSG_SIDES] = {
		{ "udp", "dgram" }, { "tcp", "rdm" },
	};
	const struct msg_side *side = &m->side[s];
	unsigned int k;

	json_key(j, side_key[s]);
	json_obj_open(j);
	json_kv_str(j, "proto", proto[m->kind == MSG_TPUT][s]);
	json_kv_s64(j, "rcvbuf", side->rcvbuf);
	if (m->kind == MSG_RTT) {
		json_kv_u64(j, "round_trips", side->rtt.n);
		json_kv_u32(j, "lost", side->rtt_lost);
		json_kv_u64(j, "rtt_p50_ns", samples_pct(&side->rtt, 50));
		json_kv_u64(j, "rtt_p90_ns", samples_pct(&side->rtt, 90));
		json_kv_u64(j, "rtt_p99_ns", samples_pct(&side->rtt, 99));
		json_kv_u64(j, "rtt_max_ns", samples_max(&side->rtt));
	}
	json_key(j, "runs");
	json_arr_open(j);
	for (k = 0; k < side->nrun; k++)
		json_run(j, &side->run[k]);
	json_arr_close(j);
	json_obj_close(j);
}

static void json_meas(struct json *j, const struct msg_results *r)
{
	unsigned int i;
	int s;

	json_key(j, "measurements");
	json_arr_open(j);
	for (i = 0; i < r->nm; i++) {
		const struct msg_meas *m = &r->m[i];

		json_obj_open(j);
		json_kv_str(j, "name", m->name);
		json_kv_str(j, "kind", kind_name[m->kind]);
		json_kv_u32(j, "size", m->size);
		json_kv_u32(j, "loss_pct", m->loss_pct);
		for (s = 0; s < MSG_SIDES; s++)
			json_side(j, m, s);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void json_rows(struct json *j, const struct msg_row *rows,
		      unsigned int nrows)
{
	unsigned int i;

	json_key(j, "rows");
	json_arr_open(j);
	for (i = 0; i < nrows; i++) {
		json_obj_open(j);
		json_kv_str(j, "key", rows[i].key);
		json_kv_str(j, "label", rows[i].label);
		json_kv_str(j, "unit", rows[i].unit);
		json_kv_str(j, "baseline_proto", rows[i].base_name);
		json_kv_double(j, "baseline", rows[i].base);
		json_kv_str(j, "lamport_proto", rows[i].lamport_name);
		json_kv_double(j, "lamport", rows[i].lamport);
		json_kv_double(j, "ratio", rows[i].ratio);
		json_kv_bool(j, "lower_is_better", rows[i].lower_better);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static int write_json(FILE *f, bool pretty, const struct msg_results *r,
		      const struct msg_row *rows, unsigned int nrows,
		      const struct bench_target *t, unsigned int nt)
{
	struct json j;

	json_init(&j, f, pretty);
	json_obj_open(&j);
	json_kv_str(&j, "bench", "msg");
	json_kv_str(&j, "kernel", r->sys.kernel);
	json_kv_str(&j, "cpu_model", r->sys.machine);
	json_kv_u32(&j, "cpus", r->sys.cpus);
	json_kv_u64(&j, "duration_ns", r->opts->duration_ns);
	json_kv_u32(&j, "rtt_round_trips", r->opts->rtt);
	json_kv_u32(&j, "reps", r->opts->reps);
	json_kv_bool(&j, "quick", r->opts->quick);
	json_kv_str(&j, "pin", pin_name[r->opts->pin]);
	json_kv_u32(&j, "netem_delay_us", 0);
	json_meas(&j, r);
	json_rows(&j, rows, nrows);
	bench_targets_json(&j, t, nt);
	json_obj_close(&j);
	return json_finish(&j);
}

/* --- files ------------------------------------------------------------------- */

static FILE *open_in(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "w");
}

static int close_file(FILE *f)
{
	return fclose(f) ? -errno : 0;
}

/* "N key ratio target met" a line: met is 1, 0, or -1 without a target. */
static int write_ratios(const char *dir, const struct msg_row *rows,
			unsigned int nrows)
{
	FILE *f = open_in(dir, "ratios.dat");
	unsigned int i;

	if (!f)
		return -errno;
	fprintf(f, "# n key ratio(AF_LAMPORT/baseline) target met(1/0, -1: none)\n");
	for (i = 0; i < nrows; i++) {
		const struct bench_target_spec *spec = spec_of(rows[i].key);
		char ratio[32] = "NaN", target[32] = "NaN";

		if (!isnan(rows[i].ratio))
			snprintf(ratio, sizeof(ratio), "%.6f", rows[i].ratio);
		if (spec)
			snprintf(target, sizeof(target), "%.2f", spec->factor);
		fprintf(f, "%u %s %s %s %d\n", i, rows[i].key, ratio, target,
			spec ? msg_target_met(rows[i].ratio, spec->factor,
					      rows[i].lower_better) : -1);
	}
	return close_file(f);
}

static int write_values(const char *dir, const struct msg_row *rows,
			unsigned int nrows)
{
	FILE *f = open_in(dir, "values.dat");
	unsigned int i;

	if (!f)
		return -errno;
	fprintf(f, "# key unit baseline AF_LAMPORT ratio\n");
	for (i = 0; i < nrows; i++)
		fprintf(f, "%s %s %.6g %.6g %.6f\n", rows[i].key, rows[i].unit,
			rows[i].base, rows[i].lamport, rows[i].ratio);
	return close_file(f);
}

/* rtt-SIZE-{udp,dgram}.dat: every round trip, in microseconds. */
static int write_rtts(const char *dir, const struct msg_meas *m)
{
	static const char *const proto[MSG_SIDES] = { "udp", "dgram" };
	char name[64];
	size_t i;
	FILE *f;
	int s, err = 0;

	for (s = 0; s < MSG_SIDES && !err; s++) {
		snprintf(name, sizeof(name), "rtt-%u-%s.dat", m->size, proto[s]);
		f = open_in(dir, name);
		if (!f)
			return -errno;
		fprintf(f, "# %s, %u B: round trip (us), one per line\n", proto[s], m->size);
		for (i = 0; i < m->side[s].rtt.n; i++)
			fprintf(f, "%.3f\n", (double)m->side[s].rtt.v[i] / 1e3);
		err = close_file(f);
	}
	return err;
}

static int write_text(const char *dir, const struct msg_results *r,
		      const struct msg_row *rows, unsigned int nrows,
		      const struct bench_target *t, unsigned int nt)
{
	FILE *f = open_in(dir, "results.json");
	int err;

	if (!f)
		return -errno;
	err = write_json(f, true, r, rows, nrows, t, nt) ? -EIO : 0;
	err = close_file(f) ?: err;
	if (err)
		return err;
	f = open_in(dir, "table.txt");
	if (!f)
		return -errno;
	print_table(f, r, rows, nrows, t, nt);
	return close_file(f);
}

static int write_files(const struct msg_results *r, const struct msg_row *rows,
		       unsigned int nrows, const struct bench_target *t,
		       unsigned int nt)
{
	const char *dir = r->opts->outdir;
	unsigned int i;
	int err;

	err = write_text(dir, r, rows, nrows, t, nt);
	if (!err)
		err = write_ratios(dir, rows, nrows);
	if (!err)
		err = write_values(dir, rows, nrows);
	for (i = 0; i < r->nm && !err; i++)
		if (r->m[i].kind == MSG_RTT)
			err = write_rtts(dir, &r->m[i]);
	return err;
}

int bench_msg_report(const struct msg_results *r)
{
	struct msg_row rows[MSG_MAX_ROWS];
	struct bench_target t[MSG_MAX_TARGETS];
	unsigned int nrows = msg_rows(r, rows, MSG_MAX_ROWS);
	unsigned int nt = msg_targets(rows, nrows, t);
	int err = 0;

	if (r->opts->json)
		err = write_json(stdout, r->opts->pretty, r, rows, nrows, t, nt);
	else
		print_table(stdout, r, rows, nrows, t, nt);
	if (r->opts->outdir[0]) {
		int ferr = write_files(r, rows, nrows, t, nt);

		if (ferr) {
			fprintf(stderr, "Error: bench: cannot write the results to %s: %s\n",
				r->opts->outdir, strerror(-ferr));
			err = -1;
		}
	}
	return err ? -1 : 0;
}
