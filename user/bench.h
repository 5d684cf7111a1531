/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lamport bench fd: failure-detection latency and accuracy of lamport.ko, its
 * userspace twin and FRR's bfdd, side by side on one veth link.
 * lamport bench msg: AF_LAMPORT against UDP and TCP on the same link.
 *
 * bench_stats.c is pure (samples, percentiles, the accuracy metrics of Chen,
 * Toueg and Aguilera) and host-tested; bench_env.c builds the testbed
 * (namespaces, netem, daemons, load); bench_fd.c runs the conditions and
 * bench_report.c prints and writes the results.
 */
#ifndef LAMPORT_USER_BENCH_H
#define LAMPORT_USER_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lamport.h"

struct json;

/* A benchmark's target, judged: its name, met or not, and the numbers. */
struct bench_target {
	char name[96];
	char detail[256];
	bool met;
};

void bench_targets_print(FILE *f, const char *title,
			 const struct bench_target *t, unsigned int nt);
void bench_targets_json(struct json *j, const struct bench_target *t,
			unsigned int nt);

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* --- bench_stats.c ----------------------------------------------------- */

/* Detection times of one detector under one condition, in ns. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

int samples_add(struct samples *s, uint64_t v);
void samples_free(struct samples *s);
/* Nearest-rank percentile (pct in 0..100]; 0 when there are no samples. */
uint64_t samples_pct(const struct samples *s, double pct);
uint64_t samples_max(const struct samples *s);

/*
 * Accuracy while the target is reachable (Chen, Toueg, Aguilera 2002).
 * A window opens when the detector trusts the target and no fault is
 * injected, and closes when the next fault begins. A "down" verdict inside
 * a window is a mistake; it lasts until the detector trusts again.
 */
struct qos {
	bool open;
	bool mistaken;
	uint64_t opened_ns;
	uint64_t mistake_since_ns;
	uint64_t window_ns;	/* total time in windows */
	uint64_t mistake_ns;	/* total time in mistakes */
	uint32_t mistakes;
	uint32_t suspicions;	/* soft ones (lamport's "suspect") */
};

void qos_trust(struct qos *q, uint64_t now);	/* the detector says up */
void qos_down(struct qos *q, uint64_t now);	/* ... says down */
void qos_suspect(struct qos *q);		/* ... raises a soft suspicion */
void qos_close(struct qos *q, uint64_t now);	/* a fault begins, or the end */

/* Derived figures; NaN or infinity where they do not exist. */
double qos_mistakes_per_1e5(const struct qos *q, uint64_t mean_interval_ns);
double qos_recurrence_ns(const struct qos *q);	/* T_MR */
double qos_duration_ns(const struct qos *q);	/* T_M */
double qos_accuracy(const struct qos *q);	/* P_A */

/*
 * False suspicions no detector with multiplier mult avoids per 1e5
 * heartbeats at loss probability p: a run of mult losses after a success.
 */
double loss_floor_per_1e5(double p, unsigned int mult);

/* --- the run ------------------------------------------------------------ */

enum det_kind { DET_KERNEL, DET_TWIN, DET_BFDD, DET_COUNT };

enum load_kind { LOAD_NONE, LOAD_CPU, LOAD_CPU_FIFO, LOAD_MEM };

struct condition {
	char name[32];		/* e.g. "idle", "loss2", "idle-300ms" */
	enum load_kind load;
	unsigned int loss_pct;	/* netem loss both ways, with delay 1ms 500us */
	uint32_t interval_us;
};

struct sample_info {
	uint32_t cycle;
	uint64_t td_ns;		/* fault to verdict */
	uint64_t seen_ns;	/* fault to the verdict reaching the bench */
	int64_t overshoot_ns;	/* verdict past last heartbeat + detection time */
};

struct det_result {
	struct samples td;
	struct sample_info *info;
	size_t ninfo, info_cap;
	uint32_t missed;	/* cycles without a verdict in time */
	struct qos qos;
};

struct cond_result {
	struct condition cond;
	struct det_result det[DET_COUNT];
	uint32_t cycles;
	uint32_t stuck;		/* cycles where a detector never came back up */
	uint64_t soak_ns;
	struct samples call;	/* duration of the netem call that cut B off */
};

struct cpu_cost {
	bool measured;
	uint64_t window_ns;
	uint64_t busy_ns[DET_COUNT + 1];	/* [DET_COUNT]: none running */
	double heartbeats;			/* per window, both nodes */
};

struct bench_opts {
	char outdir[256];	/* "": no files */
	uint32_t cycles;
	uint32_t mult;
	uint64_t soak_ns;
	uint64_t loss_soak_ns;
	uint64_t cost_ns;	/* 0: no CPU cost phase */
	uint32_t probe;		/* timer probe sleeps; 0: none */
	unsigned int seed;
	struct condition cond[16];
	unsigned int ncond;
	bool json, pretty;
};

struct bench_results {
	const struct bench_opts *opts;
	struct cond_result cr[16];
	unsigned int ncr;
	struct cpu_cost cost;
	uint32_t cost_interval_us;
	struct samples probe;	/* lateness of absolute 10 ms sleeps, ns */
	char kernel[128];
	char machine[128];
	unsigned int cpus;
};

extern const char *const det_name[DET_COUNT];	/* "lamport.ko", ... */
extern const char *const det_key[DET_COUNT];	/* "kernel", ... */

int bench_fd_parse(struct bench_opts *o, int argc, char **argv);
int bench_fd_run(const struct bench_opts *o, struct bench_results *r);
int bench_report(const struct bench_results *r);
void bench_results_free(struct bench_results *r);

/* The mean heartbeat interval with 0-25 % jitter: 7/8 of the nominal. */
static inline uint64_t mean_interval_ns(uint32_t interval_us)
{
	return (uint64_t)interval_us * 875;
}

/* --- lamport bench msg (bench_msg.c runs it, bench_msg_report.c reports) - */

/*
 * Each measurement compares a baseline (UDP or TCP) with AF_LAMPORT (DGRAM
 * or RDM) on the same path, their runs interleaved: base, lamport, base,
 * lamport, ...
 */
enum msg_kind {
	MSG_RATE,	/* messages/s: UDP vs DGRAM blast */
	MSG_RTT,	/* ping-pong round trips: UDP vs DGRAM */
	MSG_TPUT,	/* goodput of 1 KiB messages: TCP vs RDM */
};

enum { MSG_BASE, MSG_LAMPORT, MSG_SIDES };

/* Where the two ends run: A on CPU 0, B on CPU 0 too, on CPU 1, or anywhere. */
enum msg_pin { MSG_PIN_SAME, MSG_PIN_SPLIT, MSG_PIN_NONE };

#define MSG_MAX_REPS	9
#define MSG_MAX_MEAS	8
#define MSG_MAX_ROWS	16
#define MSG_MAX_TARGETS	12

struct msg_opts {
	char outdir[256];	/* "": no files */
	uint64_t duration_ns;	/* of each blast or goodput run */
	uint32_t rtt;		/* round trips per RTT run */
	uint32_t reps;		/* runs of each side */
	enum msg_pin pin;
	bool quick;
	bool json, pretty;
};

/* One run of one side; rates come from what arrived within elapsed_ns. */
struct msg_run {
	uint64_t elapsed_ns;
	uint64_t tx_msgs, tx_bytes, tx_errors;
	uint64_t rx_msgs, rx_bytes;
	int last_error;		/* errno of the last failed send; 0: none */
	/* RDM: the sending flow's LAMPORT_FLOW_STAT_* as the run ended. */
	bool has_flow;
	uint64_t flow[LAMPORT_FLOW_STAT_MAX + 1];
};

struct msg_side {
	struct msg_run run[MSG_MAX_REPS];
	unsigned int nrun;
	struct samples rtt;	/* MSG_RTT: every round trip of every run, ns */
	uint32_t rtt_lost;	/* round trips with no answer within 1 s */
	int rcvbuf;		/* SO_RCVBUF of the receiving socket, read back */
};

struct msg_meas {
	char name[24];		/* "dgram-64", "rtt-1024", "rdm-loss5", ... */
	enum msg_kind kind;
	uint32_t size;		/* message bytes */
	uint32_t loss_pct;	/* netem loss on both veth ends */
	struct msg_side side[MSG_SIDES];
};

struct sys_info {
	char kernel[128];
	char machine[128];
	unsigned int cpus;
};

struct msg_results {
	const struct msg_opts *opts;
	struct msg_meas m[MSG_MAX_MEAS];
	unsigned int nm;
	struct sys_info sys;
};

/* One line of the table: a figure of both sides and their ratio. */
struct msg_row {
	char key[32];		/* "dgram-64-rx", "rtt-64-p99", "rdm-loss5" */
	char label[48];
	const char *unit;	/* "msg/s", "us", "MB/s" */
	const char *base_name;	/* "UDP" or "TCP" */
	const char *lamport_name;	/* "DGRAM" or "RDM" */
	double base, lamport;
	double ratio;		/* lamport / base; NaN without both */
	bool lower_better;
};


int bench_msg_parse(struct msg_opts *o, int argc, char **argv);
/* -1 on a failure; r->nm is 0 when nothing could start, else r holds what ran. */
int bench_msg_run(const struct msg_opts *o, struct msg_results *r);
int bench_msg_report(const struct msg_results *r);
void msg_results_free(struct msg_results *r);

/* The median of n values (the mean of the middle two for even n); NaN for none. */
double msg_median(const double *v, unsigned int n);
/* lamport / base, NaN unless both are finite and base is positive. */
double msg_ratio(double base, double lamport);
/* Per second of the run: messages and bytes that arrived, messages sent. */
double msg_run_rx_rate(const struct msg_run *run);
double msg_run_rx_bytes_rate(const struct msg_run *run);
double msg_run_tx_rate(const struct msg_run *run);
/* The rows of the table, in measurement order; returns how many. */
unsigned int msg_rows(const struct msg_results *r, struct msg_row *rows,
		      unsigned int max);
/* ratio within the target: >= factor, or <= factor when lower is better. */
bool msg_target_met(double ratio, double factor, bool lower_better);
/* The targets for the rows present; returns how many. */
unsigned int msg_targets(const struct msg_row *rows, unsigned int nrows,
			 struct bench_target *t);
/* A figure for the table: 6 significant digits at most, "-" for NaN. */
char *msg_fmt_value(double v, char *buf, size_t size);

/* --- bench_env.c --------------------------------------------------------- */

#define BENCH_NS_A	"lpbench-a"
#define BENCH_NS_B	"lpbench-b"
#define BENCH_DEV_A	"lpb-a"
#define BENCH_DEV_B	"lpb-b"
#define BENCH_ADDR_A	"198.18.0.1"
#define BENCH_ADDR_B	"198.18.0.2"
#define BENCH_TWIN_PORT	1979

uint64_t now_ns(void);
int run_quiet(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int topo_create(void);
void topo_destroy(void);
/*
 * A star of namespaces on a bridge in PREFIXsw: PREFIXc at NET100 (the
 * clients) and PREFIX1..NODES at NET1..: NET is "198.18.10." and the like.
 */
int bench_star_up(const char *prefix, const char *net, int nodes);
void bench_star_down(const char *prefix, int nodes);
/* Runs fn(arg) inside the named netns; its result, or -errno of setns. */
int netns_run(const char *ns, int (*fn)(void *), void *arg);
/* Opens a socket of domain/type/protocol inside the named netns. */
int netns_socket(const char *ns, int domain, int type, int protocol);
int netns_ifindex(const char *ns, const char *dev);

struct netem {
	struct mnl_socket *nl;
	int ifindex;
	uint32_t seq;
};

int netem_open(struct netem *n, const char *ns, const char *dev);
void netem_close(struct netem *n);
/* Root netem on the device: delay and jitter in us, loss in 1e-6 parts. */
int netem_set(struct netem *n, bool create, uint32_t delay_us,
	      uint32_t jitter_us, uint32_t loss_ppm);
int netem_del(struct netem *n);

/* A child in its own process group; out_fd: its stdout (-1: /dev/null). */
pid_t spawn(char *const argv[], int out_fd, const char *log);
void reap(pid_t pid);		/* SIGTERM to its group, then wait */
void reap_all_children(void);

/* The running kernel, the CPU model and the CPUs online. */
void sys_info_read(struct sys_info *s);

/* Idle (and iowait) time of all CPUs so far, in ns, USER_HZ resolution. */
int cpu_idle_ns(uint64_t *ns);

/* --- bench_trace.c ----------------------------------------------------- */

/* lamport bench trace ARGS: needs root; prints its report. */
int bench_trace_main(bool json, bool pretty, int argc, char **argv);

/* --- bench_raft.c ------------------------------------------------------ */

int bench_raft_main(bool json, bool pretty, int argc, char **argv);

#endif /* LAMPORT_USER_BENCH_H */
