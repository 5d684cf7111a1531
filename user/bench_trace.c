// SPDX-License-Identifier: GPL-2.0
/*
 * lamport bench trace: what `lamport trace` costs the TCP it watches.
 *
 * In a network namespace of its own, a client connects to a server on
 * loopback, writes a byte, reads a byte and closes, as fast as it can
 * (the connection rate); then one connection carries as much as it can
 * (the bulk throughput).  Each is measured with no tracer and with all
 * four commands running (handshake, timewait, cong, conn, each its own
 * `lamport trace -j` process writing to a file, as a user would run them),
 * in interleaved rounds; the medians give the ratios.  A last traced round
 * with kernel.bpf_stats_enabled gives each program's cost per run.
 *
 * Target: at most 3 % fewer connections per second with everything on,
 * and no event lost at that rate.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "args.h"
#include "bench.h"

#define BT_PORT		5800
#define BT_TRACERS	4
#define BT_MAX_PROGS	32
#define BT_CHUNK	65536

static const char *const tracer_cmds[BT_TRACERS] = {
	"handshake", "timewait", "cong", "conn",
};

struct bt_opts {
	uint32_t tracers;	/* bit i: tracer_cmds[i] runs in traced rounds */
	uint32_t rounds;
	uint64_t round_ms;
	uint64_t bulk_bytes;
	bool json;
	bool pretty;
};

struct bt_prog {
	char name[BPF_OBJ_NAME_LEN];
	uint64_t runs;
	uint64_t ns;
};

struct bt_result {
	double conn_off[64], conn_on[64];	/* connections/s per round */
	double bulk_off[64], bulk_on[64];	/* MB/s per round */
	uint32_t rounds;
	uint64_t lost;				/* events lost, all tracers */
	uint64_t events_bytes;			/* what the tracers wrote */
	uint64_t stats_conns;			/* connections of the stats round */
	struct bt_prog progs[BT_MAX_PROGS];
	int nprogs;
};

struct tracers {
	int n;
	const char *cmd[BT_TRACERS];
	pid_t pid[BT_TRACERS];
	char path[BT_TRACERS][64];
};

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* A netns of our own with lo up; TIME_WAIT ports reused on loopback. */
static int bt_netns(void)
{
	struct ifreq ifr = { 0 };
	int fd, err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	err = ioctl(fd, SIOCSIFFLAGS, &ifr) ? -errno : 0;
	close(fd);
	if (!err)
		err = write_file("/proc/sys/net/ipv4/tcp_tw_reuse", "1");
	if (!err)
		err = write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
	return err;
}

static int bt_listen(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1024)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int bt_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The server: one byte each way per connection, or drain (bulk). */
static void *bt_server(void *arg)
{
	int lfd = *(int *)arg, fd;
	static char buf[BT_CHUNK];
	char c;

	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		if (read(fd, &c, 1) == 1 && c == 'b') {
			while (read(fd, buf, sizeof(buf)) > 0)
				;
		} else if (write(fd, &c, 1) == 1) {
			while (read(fd, &c, 1) > 0)
				;
		}
		close(fd);
	}
}

/* Connections per second for ms milliseconds; client closes first. */
static int conn_round(uint64_t ms, double *rate)
{
	uint64_t start = now_ns(), end = start + ms * NSEC_PER_MSEC, n = 0;
	char c = 'x';
	int fd;

	while (now_ns() < end) {
		fd = bt_connect(BT_PORT);
		if (fd < 0)
			return -errno;
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
			close(fd);
			return -EIO;
		}
		close(fd);
		n++;
	}
	*rate = n * 1e9 / (now_ns() - start);
	return 0;
}

/* MB/s of one connection carrying bytes. */
static int bulk_round(uint64_t bytes, double *rate)
{
	static char buf[BT_CHUNK];
	uint64_t start = now_ns(), left = bytes;
	ssize_t n;
	int fd = bt_connect(BT_PORT);

	if (fd < 0)
		return -errno;
	buf[0] = 'b';
	while (left) {
		n = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		left -= n;
		buf[0] = 0;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, 1) > 0)
		;
	close(fd);
	*rate = bytes / 1e6 / ((now_ns() - start) / 1e9);
	return 0;
}

/* --- the tracers ------------------------------------------------------- */

static bool file_has(const char *path, const char *what)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

static void tracers_kill(struct tracers *t)
{
	int i;

	for (i = 0; i < t->n && t->pid[i] > 0; i++) {
		kill(t->pid[i], SIGKILL);
		waitpid(t->pid[i], NULL, 0);
		unlink(t->path[i]);
	}
}

static int tracers_start(struct tracers *t, uint32_t mask, uint32_t round)
{
	int i, fd, tries;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < BT_TRACERS; i++)
		if (mask & (1u << i))
			t->cmd[t->n++] = tracer_cmds[i];
	for (i = 0; i < t->n; i++) {
		snprintf(t->path[i], sizeof(t->path[i]), "/tmp/lamport-bench-trace.%d.%u.%s",
			 (int)getpid(), round, t->cmd[i]);
		fd = open(t->path[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		t->pid[i] = fork();
		if (t->pid[i] < 0)
			return -errno;
		if (!t->pid[i]) {
			dup2(fd, STDOUT_FILENO);
			execl("/proc/self/exe", "lamport", "trace", t->cmd[i], "-j",
			      (char *)NULL);
			_exit(127);
		}
		close(fd);
	}
	for (i = 0; i < t->n; i++)
		for (tries = 0; !file_has(t->path[i], "\"event\":\"start\""); tries++) {
			if (tries > 3000 || waitpid(t->pid[i], NULL, WNOHANG)) {
				fprintf(stderr, "Error: lamport trace %s did not start\n",
					t->cmd[i]);
				tracers_kill(t);
				return -1;
			}
			usleep(20000);
		}
	return 0;
}

/* Stops them; adds up their lost events and output. */
static int tracers_stop(struct tracers *t, struct bt_result *r)
{
	char line[1024], *p;
	int i, status, ret = 0;
	FILE *f;

	for (i = 0; i < t->n; i++)
		kill(t->pid[i], SIGINT);
	for (i = 0; i < t->n; i++) {
		bool summary = false;

		if (waitpid(t->pid[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ret = -1;
		f = fopen(t->path[i], "r");
		while (f && fgets(line, sizeof(line), f)) {
			r->events_bytes += strlen(line);
			p = strstr(line, "\"event\":\"summary\"");
			if (p && (p = strstr(line, "\"lost\":"))) {
				r->lost += strtoull(p + 7, NULL, 10);
				summary = true;
			}
		}
		if (f)
			fclose(f);
		unlink(t->path[i]);
		if (!summary) {
			fprintf(stderr, "Error: lamport trace %s ended without its summary\n",
				t->cmd[i]);
			ret = -1;
		}
	}
	return ret;
}

/* Every loaded program named lt_*: runs and run time, summed by name. */
static void prog_stats(struct bt_prog *p, int *n)
{
	struct bpf_prog_info info;
	uint32_t id = 0, len;
	int fd, i;

	*n = 0;
	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "lt_", 3)) {
			for (i = 0; i < *n && strcmp(p[i].name, info.name); i++)
				;
			if (i == *n && *n < BT_MAX_PROGS)
				snprintf(p[(*n)++].name, sizeof(p[i].name), "%s", info.name);
			if (i < *n) {
				p[i].runs += info.run_cnt;
				p[i].ns += info.run_time_ns;
			}
		}
		close(fd);
	}
}

static int stats_round(const struct bt_opts *o, struct bt_result *r)
{
	struct bt_prog before[BT_MAX_PROGS] = { 0 };
	struct tracers t;
	int nbefore, i, j, err;
	double rate;

	err = write_file("/proc/sys/kernel/bpf_stats_enabled", "1");
	if (err)
		return err;
	err = tracers_start(&t, o->tracers, o->rounds);
	if (!err) {
		prog_stats(before, &nbefore);
		err = conn_round(o->round_ms, &rate);
		prog_stats(r->progs, &r->nprogs);
		r->stats_conns = rate * o->round_ms / 1000;
		for (i = 0; i < r->nprogs; i++)
			for (j = 0; j < nbefore; j++)
				if (!strcmp(r->progs[i].name, before[j].name)) {
					r->progs[i].runs -= before[j].runs;
					r->progs[i].ns -= before[j].ns;
				}
	}
	write_file("/proc/sys/kernel/bpf_stats_enabled", "0");
	if (tracers_stop(&t, r) && !err)
		err = -1;
	return err;
}

static int bt_rounds(const struct bt_opts *o, struct bt_result *r)
{
	struct tracers t;
	uint32_t i;
	int err, k;

	for (i = 0; i < o->rounds; i++) {
		/* Alternate which goes first, so drift favours neither. */
		for (k = 0; k < 2; k++) {
			bool on = (k == 0) == (i % 2 == 1);

			fprintf(stderr, "\rround %u/%u %s  ", i + 1, o->rounds, on ? "traced" : "untraced");
			if (on && tracers_start(&t, o->tracers, i))
				return -1;
			err = conn_round(o->round_ms, on ? &r->conn_on[i] : &r->conn_off[i]);
			if (!err)
				err = bulk_round(o->bulk_bytes, on ? &r->bulk_on[i] : &r->bulk_off[i]);
			if (on && tracers_stop(&t, r))
				return -1;
			if (err) {
				fprintf(stderr, "\nError: the %s round failed: %s\n",
					on ? "traced" : "untraced", strerror(-err));
				return -1;
			}
		}
		r->rounds = i + 1;
	}
	fprintf(stderr, "\rcosts per program (kernel.bpf_stats_enabled)\n");
	return stats_round(o, r);
}

/* --- report ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, uint32_t n)
{
	double s[64];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int bt_report(const struct bt_opts *o, const struct bt_result *r)
{
	double c_off = median(r->conn_off, r->rounds), c_on = median(r->conn_on, r->rounds);
	double b_off = median(r->bulk_off, r->rounds), b_on = median(r->bulk_on, r->rounds);
	struct bench_target tg[2];
	struct json j;
	int i;

	snprintf(tg[0].name, sizeof(tg[0].name), "connection rate with all tracers >= 0.97x");
	snprintf(tg[0].detail, sizeof(tg[0].detail), "%.0f/s vs %.0f/s: %.3fx", c_on, c_off,
		 c_on / c_off);
	tg[0].met = c_on / c_off >= 0.97;
	snprintf(tg[1].name, sizeof(tg[1].name), "no event lost");
	snprintf(tg[1].detail, sizeof(tg[1].detail), "%" PRIu64 " lost", r->lost);
	tg[1].met = !r->lost;
	if (o->json) {
		json_init(&j, stdout, o->pretty);
		json_obj_open(&j);
		json_kv_u32(&j, "rounds", r->rounds);
		json_kv_double(&j, "conn_per_s_untraced", c_off);
		json_kv_double(&j, "conn_per_s_traced", c_on);
		json_kv_double(&j, "conn_ratio", c_on / c_off);
		json_kv_double(&j, "bulk_mb_per_s_untraced", b_off);
		json_kv_double(&j, "bulk_mb_per_s_traced", b_on);
		json_kv_double(&j, "bulk_ratio", b_on / b_off);
		json_kv_u64(&j, "events_lost", r->lost);
		json_kv_u64(&j, "output_bytes", r->events_bytes);
		json_key(&j, "programs");
		json_arr_open(&j);
		for (i = 0; i < r->nprogs; i++) {
			json_obj_open(&j);
			json_kv_str(&j, "name", r->progs[i].name);
			json_kv_u64(&j, "runs", r->progs[i].runs);
			json_kv_double(&j, "ns_per_run", r->progs[i].runs ?
				       (double)r->progs[i].ns / r->progs[i].runs : 0);
			json_kv_double(&j, "runs_per_conn", r->stats_conns ?
				       (double)r->progs[i].runs / r->stats_conns : 0);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		bench_targets_json(&j, tg, 2);
		json_obj_close(&j);
		fputc('\n', stdout);
		return json_finish(&j);
	}
	printf("lamport bench trace: loopback, %u rounds of each, medians\n", r->rounds);
	printf("  %-28s %12s %12s %8s\n", "", "untraced", "traced", "ratio");
	printf("  %-28s %12.0f %12.0f %8.3f\n", "connections/s", c_off, c_on, c_on / c_off);
	printf("  %-28s %12.1f %12.1f %8.3f\n", "bulk MB/s", b_off, b_on, b_on / b_off);
	printf("  events lost: %" PRIu64 ", tracer output: %" PRIu64 " bytes\n",
	       r->lost, r->events_bytes);
	printf("\n  %-24s %12s %10s %10s\n", "program (all tracers)", "runs", "ns/run", "runs/conn");
	for (i = 0; i < r->nprogs; i++)
		printf("  %-24s %12" PRIu64 " %10.0f %10.2f\n", r->progs[i].name, r->progs[i].runs,
		       r->progs[i].runs ? (double)r->progs[i].ns / r->progs[i].runs : 0.0,
		       r->stats_conns ? (double)r->progs[i].runs / r->stats_conns : 0.0);
	printf("\n");
	bench_targets_print(stdout, "targets", tg, 2);
	return 0;
}

/* "handshake,conn": which commands run in the traced rounds. */
static int parse_tracers(const char *list, uint32_t *mask)
{
	char buf[128], *word, *save = NULL;
	int i;

	snprintf(buf, sizeof(buf), "%s", list);
	*mask = 0;
	for (word = strtok_r(buf, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < BT_TRACERS && strcmp(word, tracer_cmds[i]); i++)
			;
		if (i == BT_TRACERS)
			return invarg("not handshake, timewait, cong or conn", word);
		*mask |= 1u << i;
	}
	return *mask ? 0 : invarg("names no tracer", list);
}

static int bench_trace_parse(struct bt_opts *o, int argc, char **argv)
{
	uint32_t v;
	int i;

	*o = (struct bt_opts){ .tracers = (1u << BT_TRACERS) - 1, .rounds = 5,
			       .round_ms = 3000, .bulk_bytes = 256 << 20 };
	for (i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			return needarg(argv[i]);
		if (matches(argv[i], "tracers")) {
			if (parse_tracers(argv[++i], &o->tracers))
				return -1;
			continue;
		}
		if (parse_u32(argv[i + 1], &v) || !v)
			return invarg("not a positive number", argv[i + 1]);
		if (matches(argv[i], "rounds")) {
			if (v > 64)
				return invarg("at most 64 rounds", argv[i + 1]);
			o->rounds = v;
		} else if (matches(argv[i], "time")) {
			o->round_ms = v;
		} else if (matches(argv[i], "bulk")) {
			o->bulk_bytes = (uint64_t)v << 20;
		} else {
			return unknarg("argument", argv[i], "lamport bench help");
		}
		i++;
	}
	return 0;
}

int bench_trace_main(bool json, bool pretty, int argc, char **argv)
{
	static struct bt_result r;
	struct bt_opts o;
	pthread_t server;
	int lfd, err;

	if (bench_trace_parse(&o, argc, argv))
		return -1;
	o.json = json;
	o.pretty = pretty;
	/* Other tracers would slow the untraced rounds and add to the costs. */
	prog_stats(r.progs, &r.nprogs);
	if (r.nprogs) {
		fprintf(stderr, "Error: a lamport trace is already running (eBPF program %s is "
			"loaded): stop it first\n", r.progs[0].name);
		return -1;
	}
	err = bt_netns();
	if (err) {
		fprintf(stderr, "Error: cannot make the benchmark's network namespace: %s "
			"(run as root)\n", strerror(-err));
		return -1;
	}
	lfd = bt_listen(BT_PORT);
	if (lfd < 0 || pthread_create(&server, NULL, bt_server, &lfd)) {
		fprintf(stderr, "Error: cannot start the server: %s\n", strerror(errno));
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (bt_rounds(&o, &r))
		return -1;
	return bt_report(&o, &r);
}
