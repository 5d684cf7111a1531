// SPDX-License-Identifier: GPL-2.0
/*
 * lamport bench raft: write throughput and latency of the Raft key-value
 * store, 3 nodes in network namespaces of this machine, for 1, 8 and 64
 * concurrent clients, with the fdatasync latency of the same disk measured
 * in the same run: the physical limit the figures are to be judged by.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "args.h"
#include "bench.h"
#include "json.h"
#include "raft/workload.h"

#define BR_NODES	3
#define BR_PORT		7400
#define BR_NS		"lbr"
#define BR_MAX_RUNS	8
#define BR_FSYNCS	400

struct br_opts {
	unsigned int clients[BR_MAX_RUNS];
	unsigned int n_runs;
	unsigned int seconds;
	const char *transport;		/* udp, lamport or auto */
	const char *dir;		/* results */
	const char *data;		/* the nodes' data directories */
	bool json;
	bool pretty;
};

struct br_run {
	unsigned int clients;
	struct raft_workload_result r;
};

struct br_results {
	char kernel[128];
	char transport[16];
	uint64_t fsync_p50_ns, fsync_p99_ns;
	struct br_run runs[BR_MAX_RUNS];
	unsigned int n_runs;
};

static uint64_t percentile(uint64_t *v, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
	return v[(rank ? rank : 1) - 1];
}

/* 4 KiB appended and fdatasync'd, as a node appends its log. */
static int measure_fsync(const char *dir, struct br_results *res)
{
	static uint64_t t[BR_FSYNCS];
	char path[512], block[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memset(block, 'f', sizeof(block));
	for (int i = 0; i < BR_FSYNCS; i++) {
		uint64_t t0 = now_ns();

		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block) ||
		    fdatasync(fd)) {
			close(fd);
			return -errno;
		}
		t[i] = now_ns() - t0;
	}
	close(fd);
	unlink(path);
	res->fsync_p50_ns = percentile(t, BR_FSYNCS, 50);
	res->fsync_p99_ns = percentile(t, BR_FSYNCS, 99);
	return 0;
}

/* Topology: nodes lbr1..3 and clients lbrc on a bridge in lbrsw. */

static void topo_down(void)
{
	bench_star_down(BR_NS, BR_NODES);
}

static int lamport_peers(void)
{
	for (int i = 1; i <= BR_NODES; i++) {
		if (run_quiet("ip netns exec " BR_NS "%d /proc/%d/exe node set id %d",
			      i, getpid(), i))
			return -1;
		for (int j = 1; j <= BR_NODES; j++)
			if (i != j &&
			    run_quiet("ip netns exec " BR_NS "%d /proc/%d/exe peer add %d 198.18.10.%d interval 50ms mult 5",
				      i, getpid(), j, j))
				return -1;
	}
	return 0;
}

static int topo_up(bool lamport)
{
	if (bench_star_up(BR_NS, "198.18.10.", BR_NODES))
		return -1;
	return lamport ? lamport_peers() : 0;
}

static pid_t start_node(const struct br_opts *o, int id, const char *log)
{
	char exe[64], ns[16], sid[8], data[512], peers[256];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", getpid());
	snprintf(ns, sizeof(ns), BR_NS "%d", id);
	snprintf(sid, sizeof(sid), "%d", id);
	snprintf(data, sizeof(data), "%s/d%d", o->data, id);
	snprintf(peers, sizeof(peers),
		 "1=198.18.10.1:%d,2=198.18.10.2:%d,3=198.18.10.3:%d",
		 BR_PORT, BR_PORT, BR_PORT);
	{
		char *const argv[] = {
			"ip", "netns", "exec", ns, exe, "raft", "serve",
			"--id", sid, "--peers", peers, "--data", data,
			"--transport", (char *)o->transport, NULL,
		};

		return spawn(argv, -1, log);
	}
}

/* The clients run in their own netns: the workload's threads inherit it. */
struct workload_call {
	struct raft_workload_opts *o;
	struct raft_workload_result *r;
};

static int run_workload(void *arg)
{
	struct workload_call *c = arg;

	return raft_workload_run(c->o, c->r);
}

struct progress {
	unsigned int clients;
	uint64_t t0, total_ns;
	bool tty;
};

static void show_progress(uint64_t ops, void *arg)
{
	struct progress *p = arg;
	uint64_t el = now_ns() - p->t0;
	unsigned int width = 30, done = (unsigned int)(el * width / p->total_ns);

	if (!p->tty)
		return;
	if (done > width)
		done = width;
	fprintf(stderr, "\r  %2u clients [%.*s%*s] %" PRIu64 " writes, %.0f/s ",
		p->clients, (int)done, "##############################",
		(int)(width - done), "", ops,
		el ? (double)ops * 1e9 / (double)el : 0.0);
}

static const char *servers(void)
{
	static char s[128];

	snprintf(s, sizeof(s), "198.18.10.1:%d,198.18.10.2:%d,198.18.10.3:%d",
		 BR_PORT + 1, BR_PORT + 1, BR_PORT + 1);
	return s;
}

static int wait_for_leader(void)
{
	struct raft_workload_opts o;
	struct raft_workload_result r;
	struct workload_call c = { &o, &r };

	/* One write that succeeds means a leader took it. */
	for (int i = 0; i < 50; i++) {
		raft_workload_defaults(&o);
		o.servers = servers();
		o.clients = 1;
		o.ops = 1;
		o.duration_ns = 0;
		memset(o.mix, 0, sizeof(o.mix));
		o.mix[RAFT_OP_PUT] = 1;
		o.deadline_ms = 1000;
		memset(&r, 0, sizeof(r));
		if (!netns_run(BR_NS "c", run_workload, &c) && r.by_op[RAFT_OP_PUT].ok)
			return 0;
		usleep(200000);
	}
	return -1;
}

static int one_run(const struct br_opts *o, struct br_run *run)
{
	struct raft_workload_opts w;
	struct progress p = {
		.clients = run->clients, .t0 = now_ns(),
		.total_ns = (uint64_t)o->seconds * NSEC_PER_SEC,
		.tty = isatty(STDERR_FILENO),
	};
	struct workload_call c = { &w, &run->r };
	int err;

	raft_workload_defaults(&w);
	w.servers = servers();
	w.clients = run->clients;
	w.duration_ns = p.total_ns;
	w.ops = 0;
	w.keys = 10000;
	memset(w.mix, 0, sizeof(w.mix));
	w.mix[RAFT_OP_PUT] = 1;
	w.value_size = 64;
	w.seed = run->clients;
	w.progress = show_progress;
	w.progress_arg = &p;
	err = netns_run(BR_NS "c", run_workload, &c);
	if (p.tty)
		fputc('\n', stderr);
	else
		fprintf(stderr, "  %u clients: %" PRIu64 " writes in %u s\n",
			run->clients, run->r.by_op[RAFT_OP_PUT].ok, o->seconds);
	return err;
}

static double run_rate(const struct br_run *run)
{
	const struct raft_workload_result *r = &run->r;

	return r->elapsed_ns ? (double)r->by_op[RAFT_OP_PUT].ok * 1e9 /
			       (double)r->elapsed_ns : 0;
}

static unsigned int targets(const struct br_results *res,
			    struct bench_target *t)
{
	static const struct { unsigned int clients; double rate; } want[] = {
		{ 1, 2000 }, { 64, 20000 },
	};
	unsigned int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		for (unsigned int j = 0; j < res->n_runs; j++) {
			const struct br_run *run = &res->runs[j];

			if (run->clients != want[i].clients)
				continue;
			snprintf(t[n].name, sizeof(t[n].name),
				 ">= %.0f writes/s with %u client%s (on the host)",
				 want[i].rate, want[i].clients,
				 want[i].clients > 1 ? "s" : "");
			snprintf(t[n].detail, sizeof(t[n].detail), "%.0f writes/s",
				 run_rate(run));
			t[n].met = run_rate(run) >= want[i].rate;
			n++;
		}
	return n;
}

static void print_table(FILE *f, const struct br_opts *o,
			const struct br_results *res)
{
	struct bench_target t[4];
	unsigned int nt = targets(res, t);

	fprintf(f, "lamport bench raft: kernel %s, 3 nodes over %s in netns on one machine, %u s per run\n",
		res->kernel, res->transport, o->seconds);
	fprintf(f, "fdatasync of 4 KiB on the nodes' disk: p50 %.1f us, p99 %.1f us (a write waits for at least one)\n",
		(double)res->fsync_p50_ns / 1e3, (double)res->fsync_p99_ns / 1e3);
	fprintf(f, "  clients   writes/s   p50 ms   p99 ms   max ms   unknown\n");
	for (unsigned int i = 0; i < res->n_runs; i++) {
		const struct br_run *run = &res->runs[i];

		fprintf(f, "  %7u %10.0f %8.2f %8.2f %8.2f %9" PRIu64 "\n",
			run->clients, run_rate(run),
			(double)run->r.writes.p50_ns / 1e6,
			(double)run->r.writes.p99_ns / 1e6,
			(double)run->r.writes.max_ns / 1e6, run->r.unknown);
	}
	bench_targets_print(f, "Raft writes, each durable on a majority", t, nt);
	if (strcmp(res->transport, "UDP"))
		fprintf(f, "(the targets are set for the host over UDP; over %s they are shown for comparison)\n",
			res->transport);
}

static void print_json(FILE *f, const struct br_opts *o,
		       const struct br_results *res)
{
	struct bench_target t[4];
	unsigned int nt = targets(res, t);
	struct json j;

	json_init(&j, f, o->pretty);
	json_obj_open(&j);
	json_kv_str(&j, "kernel", res->kernel);
	json_kv_str(&j, "transport", res->transport);
	json_kv_u32(&j, "seconds", o->seconds);
	json_kv_u64(&j, "fsync_p50_ns", res->fsync_p50_ns);
	json_kv_u64(&j, "fsync_p99_ns", res->fsync_p99_ns);
	json_key(&j, "runs");
	json_arr_open(&j);
	for (unsigned int i = 0; i < res->n_runs; i++) {
		const struct br_run *run = &res->runs[i];

		json_obj_open(&j);
		json_kv_u32(&j, "clients", run->clients);
		json_key(&j, "writes_per_sec");
		json_double(&j, run_rate(run));
		json_kv_u64(&j, "writes", run->r.by_op[RAFT_OP_PUT].ok);
		json_kv_u64(&j, "p50_ns", run->r.writes.p50_ns);
		json_kv_u64(&j, "p99_ns", run->r.writes.p99_ns);
		json_kv_u64(&j, "max_ns", run->r.writes.max_ns);
		json_kv_u64(&j, "unknown", run->r.unknown);
		json_kv_u64(&j, "errors", run->r.errors);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	bench_targets_json(&j, t, nt);
	json_obj_close(&j);
}

/* raft.dat and raft.gp: throughput and latency against clients. */
static void write_plot(const char *dir, const struct br_results *res)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/raft.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "# clients writes/s p50_ms p99_ms\n");
	for (unsigned int i = 0; i < res->n_runs; i++)
		fprintf(f, "%u %.1f %.3f %.3f\n", res->runs[i].clients,
			run_rate(&res->runs[i]),
			(double)res->runs[i].r.writes.p50_ns / 1e6,
			(double)res->runs[i].r.writes.p99_ns / 1e6);
	fclose(f);
	snprintf(path, sizeof(path), "%s/raft.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"set terminal svg size 800,480\n"
		"set output 'raft.svg'\n"
		"set title 'lamport raft: 3 nodes over %s, kernel %s (fdatasync p50 %.0f us)'\n"
		"set logscale x 2\n"
		"set xlabel 'concurrent clients'\n"
		"set ylabel 'writes/s'\n"
		"set y2label 'latency, ms'\n"
		"set ytics nomirror\n"
		"set y2tics\n"
		"set key left top\n"
		"plot 'raft.dat' using 1:2 with linespoints title 'writes/s', \\\n"
		"     '' using 1:3 axes x1y2 with linespoints title 'p50 latency', \\\n"
		"     '' using 1:4 axes x1y2 with linespoints title 'p99 latency'\n",
		res->transport, res->kernel, (double)res->fsync_p50_ns / 1e3);
	fclose(f);
	run_quiet("cd %s && command -v gnuplot >/dev/null && gnuplot raft.gp", dir);
}

static int save(const struct br_opts *o, const struct br_results *res)
{
	char path[600];
	FILE *f;

	if (run_quiet("mkdir -p %s", o->dir)) {
		fprintf(stderr, "Error: cannot create %s\n", o->dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/table.txt", o->dir);
	f = fopen(path, "w");
	if (f) {
		print_table(f, o, res);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/results.json", o->dir);
	f = fopen(path, "w");
	if (f) {
		struct br_opts pretty = *o;

		pretty.pretty = true;	/* for people and for line tools */
		print_json(f, &pretty, res);
		fclose(f);
	}
	write_plot(o->dir, res);
	return 0;
}

static int parse_clients(struct br_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int rc = 0;

	o->n_runs = 0;
	for (char *w = strtok_r(copy, ",", &save); w && !rc;
	     w = strtok_r(NULL, ",", &save)) {
		uint32_t n;

		if (o->n_runs == BR_MAX_RUNS)
			rc = invarg("at most 8 client counts", list);
		else if (parse_u32(w, &n) || !n || n > RAFT_WORKLOAD_MAX_CLIENTS)
			rc = invarg("client counts are 1..1024", w);
		else
			o->clients[o->n_runs++] = n;
	}
	free(copy);
	return rc || !o->n_runs ? -1 : 0;
}

static int parse(struct br_opts *o, int argc, char **argv)
{
	static char dir[256];
	struct utsname u;

	uname(&u);
	snprintf(dir, sizeof(dir), "build/bench/raft/%s", u.release);
	o->clients[0] = 1;
	o->clients[1] = 8;
	o->clients[2] = 64;
	o->n_runs = 3;
	o->seconds = 5;
	o->transport = "auto";
	o->dir = dir;
	o->data = "/var/tmp/lamport-bench-raft";
	for (int i = 0; i < argc; i++) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t n;

		if (matches(key, "quick")) {
			o->seconds = 1;
			continue;
		}
		if (!val)
			return needarg(key);
		i++;
		if (matches(key, "clients")) {
			if (parse_clients(o, val))
				return -1;
		} else if (matches(key, "time")) {
			if (parse_u32(val, &n) || !n || n > 3600)
				return invarg("time is 1..3600 seconds", val);
			o->seconds = n;
		} else if (matches(key, "transport")) {
			if (strcmp(val, "udp") && strcmp(val, "lamport") && strcmp(val, "auto"))
				return invarg("transport is udp, lamport or auto", val);
			o->transport = val;
		} else if (matches(key, "dir")) {
			o->dir = val;
		} else if (matches(key, "data")) {
			o->data = val;
		} else {
			return unknarg("argument", key, "lamport bench help");
		}
	}
	return 0;
}

static int bench(const struct br_opts *o, struct br_results *res)
{
	bool lamport = !strcmp(o->transport, "lamport") ||
		       (!strcmp(o->transport, "auto") &&
			!access("/sys/module/lamport/parameters/family", F_OK));
	pid_t nodes[BR_NODES] = { 0 };
	char log[600];
	int err;

	snprintf(res->transport, sizeof(res->transport), "%s",
		 lamport ? "AF_LAMPORT" : "UDP");
	run_quiet("rm -rf %s", o->data);
	if (run_quiet("mkdir -p %s", o->data) || measure_fsync(o->data, res)) {
		fprintf(stderr, "Error: bench raft: cannot write in %s\n", o->data);
		return -1;
	}
	if (topo_up(lamport)) {
		fprintf(stderr, "Error: bench raft: the network namespaces could not be set up\n");
		topo_down();
		return -1;
	}
	for (int i = 0; i < BR_NODES; i++) {
		snprintf(log, sizeof(log), "%s/node%d.log", o->data, i + 1);
		nodes[i] = start_node(o, i + 1, log);
	}
	err = wait_for_leader();
	if (err)
		fprintf(stderr, "Error: bench raft: no leader elected in 10 s (logs in %s)\n",
			o->data);
	for (unsigned int i = 0; !err && i < o->n_runs; i++) {
		res->runs[i].clients = o->clients[i];
		err = one_run(o, &res->runs[i]);
		res->n_runs = i + 1;
	}
	for (int i = 0; i < BR_NODES; i++)
		reap(nodes[i]);
	topo_down();
	return err;
}

int bench_raft_main(bool json, bool pretty, int argc, char **argv)
{
	static struct br_results res;
	struct br_opts o = { 0 };
	struct utsname u;
	int err;

	if (parse(&o, argc, argv))
		return -1;
	o.json = json;
	o.pretty = pretty;
	uname(&u);
	snprintf(res.kernel, sizeof(res.kernel), "%s", u.release);
	err = bench(&o, &res);
	if (!res.n_runs)
		return -1;
	if (o.json)
		print_json(stdout, &o, &res);
	else
		print_table(stdout, &o, &res);
	save(&o, &res);
	return err ? -1 : 0;
}
