/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lamport trace: eBPF tracing of TCP connections (handshakes, TIME_WAIT,
 * congestion, whole connections).  trace.c parses and prints, trace_bpf.c
 * loads bpf/trace.bpf.c, trace_tw.c asks sock_diag and /proc.
 */
#ifndef LAMPORT_USER_TRACER_H
#define LAMPORT_USER_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fmt.h"
#include "../bpf/trace.h"

struct trace_opts {
	uint32_t features;	/* LT_FEAT_* */
	uint32_t pid;		/* 0: any */
	uint16_t port;		/* 0: any */
	int family;		/* 0, AF_INET, AF_INET6 */
	struct lp_addr addr;	/* len 0: any */
	const char *netns;	/* NULL: the current netns; "all"; a name */
	bool have_duration;
	uint64_t duration_ms;
	uint64_t interval_ms;	/* timewait: snapshot period */
	bool snapshot;		/* timewait: one snapshot, no eBPF */
	bool json;
	bool hist;		/* -H: histograms instead of events */
	double warn_share;	/* timewait: exhaustion warning threshold */
};

/*
 * Parses the words after "lamport trace COMMAND" into o (zeroed and given
 * defaults first).  Prints the error and returns -1 on a mistake; prints
 * the usage and returns 1 for -h.
 */
int trace_parse(struct trace_opts *o, uint32_t features, int argc, char **argv);

/* What this kernel offers the tracer. */
enum trace_tp {
	TP_SET_STATE,
	TP_RETRANSMIT,
	TP_RETRANSMIT_SYNACK,
	TP_PROBE,
	TP_CONG_STATE,
	TP_RECEIVE_RESET,
	TP_ACCEPT,
	TP_COUNT,
};

enum trace_kp {
	KP_TIME_WAIT,
	KP_TWSK_KILL,
	KP_CLONE,
	KP_TW_SCHEDULE,
	KP_COUNT,
};

struct trace_features {
	bool btf;
	char btf_path[256];
	bool tracefs;
	bool kprobe_pmu;	/* the kernel has kprobes */
	bool tp[TP_COUNT];
	bool kp[KP_COUNT];
	bool full;		/* every kprobe target is there */
	bool forced;		/* LAMPORT_TRACE_MODE chose the mode */
};

extern const char *const trace_tp_names[TP_COUNT];
extern const char *const trace_kp_names[KP_COUNT];

/* Looks at the running kernel; never fails, says what is missing. */
void trace_features_probe(struct trace_features *f);

/* Missing privileges as a message, or NULL when the caller has them. */
const char *trace_missing_privilege(void);

struct tracer;
typedef void (*trace_event_fn)(const struct lt_event *e, void *arg);

/*
 * Loads and attaches the programs that o->features need on this kernel
 * (features from trace_features_probe), filtering on netns (0: all).
 * Prints the reason and returns NULL on failure.
 */
struct tracer *tracer_open(const struct trace_opts *o,
			   const struct trace_features *f, uint32_t netns);
/* Hands every waiting event to fn; waits up to timeout_ms for the first. */
int tracer_poll(struct tracer *t, int timeout_ms, trace_event_fn fn, void *arg);
void tracer_counters(struct tracer *t, uint64_t out[LT_COUNTERS]);
void tracer_hists(struct tracer *t, uint64_t out[LT_HISTS][LT_HIST_SLOTS]);

/*
 * Runs the kernel skipped because the program was already running on that
 * CPU (a softirq interrupting it): what they would have seen is missing.
 */
uint64_t tracer_missed(struct tracer *t);
void tracer_close(struct tracer *t);

/* The inode of a netns: NULL the current one, else /run/netns/NAME. */
int trace_netns_inode(const char *name, uint32_t *inum);
/* Moves the calling thread into /run/netns/NAME. */
int trace_enter_netns(const char *name);

const char *trace_ca_state_name(unsigned int state);
const char *trace_end_name(unsigned int end);
const char *trace_event_name(unsigned int type);

#endif /* LAMPORT_USER_TRACER_H */
