// SPDX-License-Identifier: GPL-2.0
/*
 * lamport bench: measurements that boot nothing themselves; they run where
 * lamport.ko is loaded (the test VMs: make bench-fd, scripts/bench-msg).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bench.h"
#include "fmt.h"

#define BENCH_HELP	"lamport bench help"
#define DEFAULT_CONDITIONS "idle,cpu,cpu-fifo,mem,loss1,loss2,loss5,idle@300ms"

/* lamport bench failover ARGS (bench_failover.c): needs root and lamport.ko. */
int bench_failover_main(bool json, bool pretty, int argc, char **argv);

const char *const det_name[DET_COUNT] = { "lamport.ko", "twin", "bfdd" };
const char *const det_key[DET_COUNT] = { "kernel", "twin", "bfdd" };

static int bench_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	printf("Usage: lamport bench fd [ -o DIR ] [ cycles K ] [ conditions LIST ] [ mult M ]\n"
	       "                        [ soak DUR ] [ loss-soak DUR ] [ cost DUR ] [ probe N ]\n"
	       "                        [ seed N ]\n"
	       "       lamport bench help\n"
	       "where  LIST := COND[@INTERVAL],...  (default " DEFAULT_CONDITIONS ")\n"
	       "       COND := idle | cpu | cpu-fifo | mem | lossPCT (PCT 1..50)\n"
	       "       INTERVAL := heartbeat interval of all three detectors (default 10ms)\n"
	       "Detection time of lamport.ko, its userspace twin and FRR bfdd watching the\n"
	       "same peer over one veth link: K cycles of cutting the peer off with netem\n"
	       "loss 100%% per condition, after a soak that counts false suspicions.\n"
	       "cpu and cpu-fifo saturate every CPU with stress-ng hogs (SCHED_OTHER, or\n"
	       "SCHED_FIFO 50), mem runs stress-ng --vm, lossPCT adds netem delay 1ms 500us\n"
	       "and PCT%% loss both ways. cost DUR measures each detector's CPU time alone\n"
	       "(0: skip). probe N times how late N absolute 10 ms sleeps of the bench\n"
	       "(SCHED_FIFO) wake up, with no load: the VM's timer precision (0: skip).\n"
	       "-o DIR writes results.json, table.txt and td-COND-DET.dat there.\n"
	       "Needs root, lamport.ko, lamport-twin beside lamport, frr, stress-ng.\n"
	       "\n"
	       "Usage: lamport bench msg [ -o DIR ] [ duration SEC ] [ rtt N ] [ reps N ]\n"
	       "                         [ pin { split | same | none } ] [ quick ]\n"
	       "AF_LAMPORT against UDP and TCP between two network namespaces on one veth\n"
	       "link (nodes 1 and 2, heartbeats every 10 ms): DGRAM vs UDP messages/s at\n"
	       "64 B and 1 KiB (SEC seconds of sending, default 3) and ping-pong round trips\n"
	       "(N, default 2000); RDM vs TCP goodput of 1 KiB messages on a clean link and\n"
	       "with netem loss 1%% and 5%% (no delay) on both ends. Each side runs reps\n"
	       "times (default 4), interleaved, and the median counts. The sender runs on\n"
	       "CPU 0, the receiver on CPU 1 (split, the default), on CPU 0 too (same), or\n"
	       "where the scheduler puts them (none). quick: 0.5 s, 200 round trips, one\n"
	       "run each (a smoke test). -o DIR writes table.txt,\n"
	       "results.json and .dat files for scripts/bench-msg-plot. Needs root and\n"
	       "lamport.ko.\n"
	       "\n"
	       "Usage: lamport bench trace [ rounds N ] [ time MS ] [ bulk MIB ] [ tracers LIST ]\n"
	       "What lamport trace costs: loopback connect/write/read/close rate (MS ms\n"
	       "per round, default 3000) and one connection's bulk throughput (MIB MiB,\n"
	       "default 256), untraced and with handshake, timewait, cong and conn all\n"
	       "running, N interleaved rounds of each (default 5), medians; then each\n"
	       "eBPF program's ns per run (kernel.bpf_stats_enabled). LIST: which run,\n"
	       "e.g. conn,cong (default all four). Needs root; no module.\n"
	       "\n"
	       "Usage: lamport bench raft [ clients LIST ] [ time SECONDS ] [ quick ]\n"
	       "                          [ transport udp|lamport|auto ] [ dir DIR ] [ data DIR ]\n"
	       "Write throughput and latency p50/p99 of the Raft key-value store: 3 nodes\n"
	       "in network namespaces of this machine, each write durable on a majority,\n"
	       "SECONDS (default 5; quick: 1) of 64-byte puts by each number of concurrent\n"
	       "clients of LIST (default 1,8,64), and the fdatasync latency of the data\n"
	       "disk (data DIR, default /var/tmp/lamport-bench-raft) in the same run.\n"
	       "AF_LAMPORT when lamport.ko is loaded (auto), else UDP. Writes table.txt,\n"
	       "results.json, raft.dat and raft.svg (gnuplot) to DIR (default\n"
	       "build/bench/raft/<kernel>). Needs root.\n"
	       "\n"
	       "Usage: lamport bench failover [ kills N ] [ quick ] [ fault node|process ]\n"
	       "                              [ tick MS ] [ election TICKS ] [ dir DIR ]\n"
	       "                              [ data DIR ]\n"
	       "How fast a 3-node Raft cluster over AF_LAMPORT takes writes again after its\n"
	       "leader crashed, with the failure detector's hints (lamport raft serve's\n"
	       "default) and with the election timeout only (--no-hints), in one run:\n"
	       "nodes in network namespaces lbf1..lbf3 (198.18.11.0/24), lamport nodes 1..3\n"
	       "watching each other every 10 ms, mult 3, in both modes. N times per mode\n"
	       "(default 20; quick: 3) the leader is killed (SIGKILL) and its node cut off\n"
	       "(its link set down; fault process: the process only, so the detector\n"
	       "still hears the node), a put is resent every 5 ms to the survivors until\n"
	       "one takes it, and the node comes back and catches up. The nodes run with\n"
	       "--tick MS (default 10) --election TICKS (default 30: a timeout of\n"
	       "300..600 ms), their data in a temporary directory in DIR (data; default\n"
	       "$TMPDIR or /var/tmp). Prints p50/p90/p99/max of both modes and their\n"
	       "ratio; writes table.txt, results.json, failover-hints.dat,\n"
	       "failover-timeout.dat (ms, one kill a line), failover.gp and failover.svg\n"
	       "(gnuplot) and the nodes' logs to DIR (dir; default\n"
	       "/tmp/lamport-bench-failover). Needs root and lamport.ko.\n");
	return 0;
}

static int parse_condition(const char *tok, struct condition *c)
{
	char name[16], *at;
	uint32_t pct;

	if (strlen(tok) >= sizeof(name) - 1)
		return invarg("no such condition", tok);
	snprintf(name, sizeof(name), "%s", tok);
	memset(c, 0, sizeof(*c));
	c->interval_us = 10000;
	at = strchr(name, '@');
	if (at) {
		*at++ = '\0';
		if (strlen(name) > 8)
			return invarg("no such condition", tok);
		if (parse_duration_us(at, &c->interval_us) ||
		    c->interval_us < 10000 || c->interval_us > 60000000 ||
		    c->interval_us % 1000)
			return invarg("an interval is whole milliseconds, 10ms..60s (bfdd's limits)",
				      tok);
	}
	if (!strcmp(name, "idle"))
		c->load = LOAD_NONE;
	else if (!strcmp(name, "cpu"))
		c->load = LOAD_CPU;
	else if (!strcmp(name, "cpu-fifo"))
		c->load = LOAD_CPU_FIFO;
	else if (!strcmp(name, "mem"))
		c->load = LOAD_MEM;
	else if (!strncmp(name, "loss", 4) && !parse_u32(name + 4, &pct) &&
		 pct >= 1 && pct <= 50)
		c->loss_pct = pct;
	else
		return invarg("a condition is idle, cpu, cpu-fifo, mem or loss1..loss50",
			      tok);
	if (c->interval_us == 10000)
		snprintf(c->name, sizeof(c->name), "%s", name);
	else
		snprintf(c->name, sizeof(c->name), "%s-%ums", name,
			 c->interval_us / 1000);
	return 0;
}

/* Conditions are run grouped by interval, each group in the given order. */
static int parse_conditions(struct bench_opts *o, const char *list)
{
	char buf[512], *tok, *save = NULL;
	struct condition parsed[16];
	unsigned int n = 0, i, j;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == ARRAY_SIZE(parsed))
			return invarg("at most 16 conditions", list);
		if (parse_condition(tok, &parsed[n]))
			return -1;
		for (i = 0; i < n; i++)
			if (!strcmp(parsed[i].name, parsed[n].name))
				return duparg("conditions", tok);
		n++;
	}
	if (!n)
		return invarg("no condition", list);
	o->ncond = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < o->ncond; j++)
			if (o->cond[j].interval_us == parsed[i].interval_us)
				break;
		if (j < o->ncond)
			continue;	/* its group is already placed */
		for (j = i; j < n; j++)
			if (parsed[j].interval_us == parsed[i].interval_us)
				o->cond[o->ncond++] = parsed[j];
	}
	return 0;
}

static int parse_ns(const char *key, const char *val, uint64_t *ns, bool zero_ok)
{
	uint32_t us;

	if (!val)
		return needarg(key);
	if (parse_duration_us(val, &us) || (!us && !zero_ok))
		return invarg("not a duration (like 500ms or 10s)", val);
	*ns = (uint64_t)us * 1000;
	return 0;
}

int bench_fd_parse(struct bench_opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->cycles = 20;
	o->mult = 3;
	o->soak_ns = 5 * NSEC_PER_SEC;
	o->loss_soak_ns = 30 * NSEC_PER_SEC;
	o->cost_ns = 5 * NSEC_PER_SEC;
	o->probe = 500;
	o->seed = 1978;
	if (parse_conditions(o, DEFAULT_CONDITIONS))
		return -1;

	/* Every option is a key and its value. */
	for (i = 0; i < argc; i += 2) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t v;

		if (!strcmp(key, "-o") || !strcmp(key, "out")) {
			if (!val)
				return needarg(key);
			if (strlen(val) >= sizeof(o->outdir))
				return invarg("path too long", val);
			snprintf(o->outdir, sizeof(o->outdir), "%s", val);
		} else if (matches(key, "cycles")) {
			if (!val)
				return needarg(key);
			if (parse_u32(val, &v) || !v || v > 1000000)
				return invarg("cycles is 1..1000000", val);
			o->cycles = v;
		} else if (matches(key, "conditions")) {
			if (!val)
				return needarg(key);
			if (parse_conditions(o, val))
				return -1;
		} else if (matches(key, "mult")) {
			if (!val)
				return needarg(key);
			if (parse_u32(val, &v) || v < 2 || v > 255)
				return invarg("mult is 2..255", val);
			o->mult = v;
		} else if (!strcmp(key, "soak")) {
			if (parse_ns(key, val, &o->soak_ns, true))
				return -1;
		} else if (!strcmp(key, "loss-soak")) {
			if (parse_ns(key, val, &o->loss_soak_ns, true))
				return -1;
		} else if (!strcmp(key, "cost")) {
			if (parse_ns(key, val, &o->cost_ns, true))
				return -1;
		} else if (!strcmp(key, "probe")) {
			if (!val)
				return needarg(key);
			if (parse_u32(val, &v) || v > 1000000)
				return invarg("probe is 0..1000000 sleeps", val);
			o->probe = v;
		} else if (!strcmp(key, "seed")) {
			if (!val)
				return needarg(key);
			if (parse_u32(val, &v))
				return invarg("not a number", val);
			o->seed = v;
		} else {
			return unknarg("argument", key, BENCH_HELP);
		}
	}
	return 0;
}

static int bench_fd(struct ctx *ctx, int argc, char **argv)
{
	static struct bench_results r;
	static struct bench_opts o;
	int err;

	if (bench_fd_parse(&o, argc, argv))
		return -1;
	o.json = ctx->json;
	o.pretty = ctx->pretty;
	err = bench_fd_run(&o, &r);
	if (!err || r.ncr)
		err = bench_report(&r) ?: err;
	bench_results_free(&r);
	return err;
}

/* SEC: seconds ("3", "0.5") or a duration with its unit ("500ms"). */
static int parse_seconds(const char *val, uint64_t *ns)
{
	char buf[32];
	size_t len = val ? strlen(val) : 0;
	uint32_t us;

	if (!len || len + 2 > sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s%s", val,
		 val[len - 1] >= '0' && val[len - 1] <= '9' ? "s" : "");
	if (parse_duration_us(buf, &us))
		return -EINVAL;
	*ns = (uint64_t)us * 1000;
	return 0;
}

static int msg_arg(struct msg_opts *o, const char *key, const char *val,
		   bool *dur, bool *rtt, bool *reps)
{
	bool known = !strcmp(key, "-o") || !strcmp(key, "out") ||
		     matches(key, "duration") || !strcmp(key, "rtt") ||
		     matches(key, "reps") || !strcmp(key, "pin");
	uint32_t v;

	if (!known)
		return unknarg("argument", key, BENCH_HELP);
	if (!val)
		return needarg(key);
	if (!strcmp(key, "-o") || !strcmp(key, "out")) {
		if (strlen(val) >= sizeof(o->outdir))
			return invarg("path too long", val);
		snprintf(o->outdir, sizeof(o->outdir), "%s", val);
	} else if (matches(key, "duration")) {
		if (parse_seconds(val, &o->duration_ns) ||
		    o->duration_ns < 100 * NSEC_PER_MSEC ||
		    o->duration_ns > 3600 * NSEC_PER_SEC)
			return invarg("duration is 0.1..3600 seconds", val);
		*dur = true;
	} else if (!strcmp(key, "pin")) {
		if (!strcmp(val, "same"))
			o->pin = MSG_PIN_SAME;
		else if (!strcmp(val, "split"))
			o->pin = MSG_PIN_SPLIT;
		else if (!strcmp(val, "none"))
			o->pin = MSG_PIN_NONE;
		else
			return invarg("pin is same, split or none", val);
	} else if (!strcmp(key, "rtt")) {
		if (parse_u32(val, &v) || !v || v > 1000000)
			return invarg("rtt is 1..1000000 round trips", val);
		o->rtt = v;
		*rtt = true;
	} else {
		if (parse_u32(val, &v) || !v || v > MSG_MAX_REPS)
			return invarg("reps is 1..9", val);
		o->reps = v;
		*reps = true;
	}
	return 0;
}

int bench_msg_parse(struct msg_opts *o, int argc, char **argv)
{
	bool dur = false, rtt = false, reps = false;
	int i;

	memset(o, 0, sizeof(*o));
	o->pin = MSG_PIN_SPLIT;
	for (i = 0; i < argc; i++) {
		if (matches(argv[i], "quick")) {
			o->quick = true;
			continue;
		}
		if (msg_arg(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL,
			    &dur, &rtt, &reps))
			return -1;
		i++;
	}
	/* quick gives other defaults; what is given explicitly stays. */
	if (!dur)
		o->duration_ns = o->quick ? 500 * NSEC_PER_MSEC : 3 * NSEC_PER_SEC;
	if (!rtt)
		o->rtt = o->quick ? 200 : 2000;
	if (!reps)
		o->reps = o->quick ? 1 : 4;
	return 0;
}

static int bench_msg(struct ctx *ctx, int argc, char **argv)
{
	static struct msg_results r;
	static struct msg_opts o;
	int err;

	if (argc && matches(argv[0], "help"))
		return bench_help(ctx, 0, argv);
	if (bench_msg_parse(&o, argc, argv))
		return -1;
	o.json = ctx->json;
	o.pretty = ctx->pretty;
	err = bench_msg_run(&o, &r);
	/* After a failed run, what was measured until then. */
	if (r.nm)
		err = bench_msg_report(&r) ?: err;
	msg_results_free(&r);
	return err;
}

static int bench_trace(struct ctx *ctx, int argc, char **argv)
{
	if (argc && matches(argv[0], "help"))
		return bench_help(ctx, 0, argv);
	return bench_trace_main(ctx->json, ctx->pretty, argc, argv);
}

static int bench_raft(struct ctx *ctx, int argc, char **argv)
{
	if (argc && matches(argv[0], "help"))
		return bench_help(ctx, 0, argv);
	return bench_raft_main(ctx->json, ctx->pretty, argc, argv);
}

static int bench_failover(struct ctx *ctx, int argc, char **argv)
{
	if (argc && matches(argv[0], "help"))
		return bench_help(ctx, 0, argv);
	return bench_failover_main(ctx->json, ctx->pretty, argc, argv);
}

int do_bench(struct ctx *ctx, int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "fd",		bench_fd },
		{ "failover",	bench_failover },
		{ "msg",	bench_msg },
		{ "trace",	bench_trace },
		{ "raft",	bench_raft },
		{ "help",	bench_help },
		{ NULL, NULL },
	};

	if (!argc) {
		fprintf(stderr, "Error: which benchmark? Try \"%s\".\n", BENCH_HELP);
		return -1;
	}
	return run_cmd(ctx, cmds, "command", BENCH_HELP, argc, argv);
}
