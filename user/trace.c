// SPDX-License-Identifier: GPL-2.0
/*
 * lamport trace { handshake | timewait | cong | conn | features }: the life
 * of TCP connections, live, from eBPF programs (bpf/trace.bpf.c).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "lamport.h"
#include "trace_tw.h"
#include "tracer.h"

#define TRACE_HELP	"lamport trace help"
#define POLL_MS		100
/* TCP_TIMEWAIT_LEN: how long Linux keeps a TIME_WAIT socket. */
#define TW_LEN_MS	60000
/* The largest groups shown: a busy host has a TIME_WAIT per local port. */
#define TW_TOP		10

static const char *const ca_names[] = {
	"Open", "Disorder", "CWR", "Recovery", "Loss",
};

static const char *const end_names[] = {
	[LT_END_CLOSE]		= "close",
	[LT_END_RESET]		= "reset",
	[LT_END_ABORT]		= "abort",
	[LT_END_TIMEOUT]	= "timeout",
	[LT_END_REFUSED]	= "refused",
	[LT_END_ERROR]		= "error",
};

static const char *const event_names[LT_EV_TYPES] = {
	[LT_EV_CONNECT]		= "connect",
	[LT_EV_ACCEPT]		= "accept",
	[LT_EV_REFUSED]		= "refused",
	[LT_EV_CONNECT_TIMEOUT]	= "connect_timeout",
	[LT_EV_SYN_RETRANS]	= "syn_retrans",
	[LT_EV_SYNACK_RETRANS]	= "synack_retrans",
	[LT_EV_TW_ENTER]	= "tw_enter",
	[LT_EV_TW_EXIT]		= "tw_exit",
	[LT_EV_CA_STATE]	= "state",
	[LT_EV_CWND]		= "cwnd",
	[LT_EV_RETRANS]		= "retrans",
	[LT_EV_CONN_END]	= "conn",
};

static const char *const counter_names[LT_COUNTERS] = {
	[LT_CNT_LOST]		= "lost",
	[LT_CNT_CONNECT]	= "connect",
	[LT_CNT_ACCEPT]		= "accept",
	[LT_CNT_REFUSED]	= "refused",
	[LT_CNT_CONNECT_TIMEOUT] = "connect_timeout",
	[LT_CNT_SYN_RETRANS]	= "syn_retrans",
	[LT_CNT_SYNACK_RETRANS]	= "synack_retrans",
	[LT_CNT_TW_ENTER]	= "tw_enter",
	[LT_CNT_TW_EXIT]	= "tw_exit",
	[LT_CNT_CA_STATE]	= "state",
	[LT_CNT_CWND]		= "cwnd",
	[LT_CNT_RETRANS]	= "retrans",
	[LT_CNT_RTO]		= "rto",
	[LT_CNT_CONN_END]	= "conn",
};

static const char *const hist_names[LT_HISTS] = {
	[LT_HIST_CONNECT]	= "connect latency",
	[LT_HIST_ACCEPT]	= "accept-side handshake latency",
	[LT_HIST_DURATION]	= "connection duration",
};

const char *trace_ca_state_name(unsigned int state)
{
	return state < ARRAY_SIZE(ca_names) ? ca_names[state] : "?";
}

const char *trace_end_name(unsigned int end)
{
	return end < ARRAY_SIZE(end_names) && end_names[end] ? end_names[end] : "?";
}

const char *trace_event_name(unsigned int type)
{
	return type < LT_EV_TYPES && event_names[type] ? event_names[type] : "?";
}

static void trace_usage(FILE *out)
{
	fprintf(out,
		"Usage: lamport trace { handshake | timewait | cong | conn } [ OPTIONS ]\n"
		"       lamport trace features [ -j ]\n"
		"OPTIONS := [ -p PID ] [ --port PORT ] [ --addr ADDR ] [ -4 | -6 ]\n"
		"           [ --netns { NAME | all } ] [ -d SECONDS ] [ -j ] [ -H ]\n"
		"timewait:  [ -i SECONDS ] [ --warn SHARE ] [ --snapshot ]\n"
		"handshake  connect and accept latency, SYN and SYN-ACK retransmits,\n"
		"           refused connections, connect timeouts\n"
		"timewait   TIME_WAIT sockets: entries, expiries, live population\n"
		"           (sock_diag), TcpExt counters, port exhaustion warnings\n"
		"cong       congestion state changes, cwnd/ssthresh/srtt, retransmits\n"
		"conn       one line per finished connection\n"
		"features   what this kernel offers: tracepoint-only or full mode\n"
		"The netns is the current one unless --netns names one (or all);\n"
		"-d ends after SECONDS, -j prints JSON lines, -H log2 histograms\n"
		"(kept in the kernel) instead of events.\n");
}

static int parse_seconds_ms(const char *key, const char *arg, uint64_t *ms)
{
	uint32_t milli;

	if (!arg)
		return needarg(key);
	if (parse_milli(arg, &milli))
		return invarg("not a number of seconds (e.g. 5 or 0.5)", arg);
	*ms = milli;
	return 0;
}

static int parse_one(struct trace_opts *o, int *i, int argc, char **argv)
{
	const char *key = argv[*i], *arg = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint32_t milli;

	if (!strcmp(key, "-4") || !strcmp(key, "-6")) {
		o->family = key[1] == '4' ? AF_INET : AF_INET6;
		return 0;
	}
	if (!strcmp(key, "-j") || !strcmp(key, "-json") || !strcmp(key, "--json")) {
		o->json = true;
		return 0;
	}
	if (!strcmp(key, "-H") || !strcmp(key, "--hist")) {
		o->hist = true;
		return 0;
	}
	if (!strcmp(key, "-h") || !strcmp(key, "-help") || !strcmp(key, "--help")) {
		trace_usage(stdout);
		return 1;
	}
	if (!strcmp(key, "--snapshot")) {
		o->snapshot = true;
		return 0;
	}
	(*i)++;
	if (!strcmp(key, "-p") || !strcmp(key, "--pid")) {
		if (!arg)
			return needarg(key);
		if (parse_u32(arg, &o->pid) || !o->pid || o->pid > 4194304)
			return invarg("not a process id", arg);
		return 0;
	}
	if (!strcmp(key, "--port")) {
		if (!arg)
			return needarg(key);
		if (parse_port(arg, &o->port))
			return invarg("not a port (1-65535)", arg);
		return 0;
	}
	if (!strcmp(key, "--addr")) {
		if (!arg)
			return needarg(key);
		if (parse_addr(arg, &o->addr))
			return invarg("not an IPv4 or IPv6 address", arg);
		return 0;
	}
	if (!strcmp(key, "--netns")) {
		if (!arg)
			return needarg(key);
		if (!*arg || strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, ".."))
			return invarg("not a network namespace name", arg);
		o->netns = arg;
		return 0;
	}
	if (!strcmp(key, "-d") || !strcmp(key, "--duration")) {
		o->have_duration = true;
		return parse_seconds_ms(key, arg, &o->duration_ms);
	}
	if (!strcmp(key, "-i") || !strcmp(key, "--interval")) {
		if (parse_seconds_ms(key, arg, &o->interval_ms))
			return -1;
		return o->interval_ms ? 0 : invarg("must be above 0", arg);
	}
	if (!strcmp(key, "--warn")) {
		if (!arg)
			return needarg(key);
		if (parse_milli(arg, &milli) || !milli || milli > 1000)
			return invarg("a share of the port range, above 0 and at most 1", arg);
		o->warn_share = milli / 1000.0;
		return 0;
	}
	(*i)--;
	return unknarg("option", key, TRACE_HELP);
}

int trace_parse(struct trace_opts *o, uint32_t features, int argc, char **argv)
{
	int i, err;

	memset(o, 0, sizeof(*o));
	o->features = features;
	o->interval_ms = 1000;
	o->warn_share = 0.8;
	for (i = 0; i < argc; i++) {
		err = parse_one(o, &i, argc, argv);
		if (err)
			return err;
	}
	if (o->family && o->addr.len && (o->addr.len == 4) != (o->family == AF_INET))
		return invarg("the address is not of the family asked for", o->family == AF_INET ? "-4" : "-6");
	if (o->addr.len && !o->family)
		o->family = o->addr.len == 4 ? AF_INET : AF_INET6;
	if (o->snapshot && features != LT_FEAT_TIMEWAIT)
		return invarg("only timewait has a snapshot", "--snapshot");
	return 0;
}

/* --- output ------------------------------------------------------------- */

struct trace_run {
	const struct trace_opts *o;
	struct json j;
	uint64_t start_ns;
	uint64_t events;
};

static volatile sig_atomic_t trace_stop;

static void on_signal(int sig)
{
	(void)sig;
	trace_stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static const char *addr_str(unsigned int family, const uint8_t *a, char *buf,
			    size_t size)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, size))
		snprintf(buf, size, "?");
	return buf;
}

static char *endpoint_str(unsigned int family, const uint8_t *a, uint16_t port,
			  char *buf, size_t size)
{
	char addr[FMT_ADDR_SIZE];

	addr_str(family, a, addr, sizeof(addr));
	snprintf(buf, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, port);
	return buf;
}

static char *bytes_str(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = n;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, size, "%" PRIu64 "B", n);
	else
		snprintf(buf, size, "%.1f%s", v, units[u]);
	return buf;
}

static const char *pid_str(const struct lt_event *e, char *buf, size_t size)
{
	if (e->flags & LT_CONN_HAVE_PID)
		snprintf(buf, size, "%u", e->pid);
	else
		snprintf(buf, size, "-");
	return buf;
}

static void json_tuple(struct json *j, const struct lt_event *e)
{
	char a[FMT_ADDR_SIZE];

	json_kv_u32(j, "netns", e->netns);
	json_kv_str(j, "family", e->t.family == AF_INET6 ? "ipv6" : "ipv4");
	json_kv_str(j, "saddr", addr_str(e->t.family, e->t.saddr, a, sizeof(a)));
	json_kv_u32(j, "sport", e->t.sport);
	json_kv_str(j, "daddr", addr_str(e->t.family, e->t.daddr, a, sizeof(a)));
	json_kv_u32(j, "dport", e->t.dport);
}

static void json_event(struct trace_run *r, const struct lt_event *e)
{
	struct json *j = &r->j;

	json_obj_open(j);
	json_kv_double(j, "time", (e->ts_ns - r->start_ns) / 1e9);
	json_kv_str(j, "event", trace_event_name(e->type));
	if (e->flags & LT_CONN_HAVE_PID) {
		json_kv_u32(j, "pid", e->pid);
		json_kv_str(j, "comm", e->comm);
	} else {
		json_key(j, "pid");
		json_null(j);
	}
	json_tuple(j, e);
	switch (e->type) {
	case LT_EV_CONNECT:
	case LT_EV_ACCEPT:
		json_kv_u64(j, "latency_ns", e->hs_ns);
		json_kv_u32(j, "syn_retrans", e->syn_retrans);
		break;
	case LT_EV_REFUSED:
	case LT_EV_CONNECT_TIMEOUT:
		json_kv_u64(j, "after_ns", e->duration_ns);
		json_kv_u32(j, "syn_retrans", e->syn_retrans);
		json_kv_s64(j, "err", e->err);
		break;
	case LT_EV_SYN_RETRANS:
		json_kv_u32(j, "count", e->syn_retrans);
		json_kv_u64(j, "after_ns", e->duration_ns);
		break;
	case LT_EV_SYNACK_RETRANS:
		json_kv_u32(j, "count", e->syn_retrans);
		break;
	case LT_EV_TW_ENTER:
		json_kv_bool(j, "exact", !(e->flags & LT_CONN_INFERRED));
		break;
	case LT_EV_TW_EXIT:
		json_kv_u64(j, "age_ns", e->duration_ns);
		json_kv_str(j, "how", e->end ? "killed" : "expired");
		break;
	case LT_EV_CA_STATE:
		json_kv_str(j, "from", trace_ca_state_name(e->old_state));
		json_kv_str(j, "to", trace_ca_state_name(e->new_state));
		goto cong;
	case LT_EV_RETRANS:
	case LT_EV_CWND:
		json_kv_str(j, "state", trace_ca_state_name(e->new_state));
cong:
		json_kv_u32(j, "cwnd", e->cwnd);
		json_kv_u32(j, "ssthresh", e->ssthresh);
		json_kv_u32(j, "srtt_us", e->srtt_us);
		json_kv_u32(j, "retrans_total", e->retrans);
		break;
	case LT_EV_CONN_END:
		json_kv_str(j, "side", e->flags & LT_CONN_ACTIVE ? "client" : "server");
		json_kv_u64(j, "duration_ns", e->duration_ns);
		json_kv_u64(j, "tx_bytes", e->bytes_acked);
		json_kv_u64(j, "rx_bytes", e->bytes_received);
		json_kv_u64(j, "handshake_ns", e->hs_ns);
		json_kv_u32(j, "syn_retrans", e->syn_retrans);
		json_kv_u32(j, "retrans", e->retrans);
		json_kv_str(j, "end", trace_end_name(e->end));
		json_kv_bool(j, "time_wait", e->flags & LT_CONN_TIME_WAIT);
		break;
	}
	json_obj_close(j);
	fputc('\n', stdout);
}

/* Until the first loss, ssthresh is "infinite" (TCP_INFINITE_SSTHRESH). */
static const char *ssthresh_str(uint32_t ssthresh, char *buf, size_t size)
{
	if (ssthresh >= 0x7fffffff)
		return "inf";
	snprintf(buf, size, "%u", ssthresh);
	return buf;
}

static void text_details(const struct lt_event *e, char *buf, size_t size)
{
	char d1[FMT_VALUE_SIZE], d2[FMT_VALUE_SIZE], d3[FMT_VALUE_SIZE];

	switch (e->type) {
	case LT_EV_CONNECT:
	case LT_EV_ACCEPT:
		snprintf(buf, size, "latency %s%s%.0u%s",
			 fmt_duration(e->hs_ns, d1, sizeof(d1)),
			 e->syn_retrans ? " after " : "", e->syn_retrans,
			 e->syn_retrans ? (e->type == LT_EV_CONNECT ?
					   " SYN retransmits" : " SYN-ACK retransmits") : "");
		break;
	case LT_EV_REFUSED:
	case LT_EV_CONNECT_TIMEOUT:
		snprintf(buf, size, "after %s, %u SYN retransmits (%s)",
			 fmt_duration(e->duration_ns, d1, sizeof(d1)), e->syn_retrans,
			 strerror(e->err));
		break;
	case LT_EV_SYN_RETRANS:
		snprintf(buf, size, "#%u, %s after the first SYN", e->syn_retrans,
			 fmt_duration(e->duration_ns, d1, sizeof(d1)));
		break;
	case LT_EV_SYNACK_RETRANS:
		snprintf(buf, size, "#%u", e->syn_retrans);
		break;
	case LT_EV_TW_ENTER:
		snprintf(buf, size, "TIME_WAIT%s",
			 e->flags & LT_CONN_INFERRED ? " (inferred from FIN_WAIT2/CLOSING -> CLOSE)" : "");
		break;
	case LT_EV_TW_EXIT:
		snprintf(buf, size, "%s after %s", e->end ? "killed" : "expired",
			 e->duration_ns ? fmt_duration(e->duration_ns, d1, sizeof(d1)) : "?");
		break;
	case LT_EV_CA_STATE:
		snprintf(buf, size, "%s -> %s cwnd %u ssthresh %s srtt %s",
			 trace_ca_state_name(e->old_state), trace_ca_state_name(e->new_state),
			 e->cwnd, ssthresh_str(e->ssthresh, d2, sizeof(d2)),
			 fmt_duration(e->srtt_us * 1000ull, d1, sizeof(d1)));
		break;
	case LT_EV_CWND:
	case LT_EV_RETRANS:
		snprintf(buf, size, "cwnd %u ssthresh %s srtt %s in %s",
			 e->cwnd, ssthresh_str(e->ssthresh, d2, sizeof(d2)),
			 fmt_duration(e->srtt_us * 1000ull, d1, sizeof(d1)),
			 trace_ca_state_name(e->new_state));
		break;
	case LT_EV_CONN_END:
		snprintf(buf, size, "%s tx %s rx %s for %s hs %s rtx %u %s%s",
			 e->flags & LT_CONN_ACTIVE ? "client" : "server",
			 bytes_str(e->bytes_acked, d1, sizeof(d1)),
			 bytes_str(e->bytes_received, d2, sizeof(d2)),
			 fmt_duration(e->duration_ns, d3, sizeof(d3)),
			 fmt_duration(e->hs_ns, d3 + 16, sizeof(d3) - 16),
			 e->retrans, trace_end_name(e->end),
			 e->flags & LT_CONN_TIME_WAIT ? " +TIME_WAIT" : "");
		break;
	default:
		buf[0] = '\0';
	}
}

static void text_event(struct trace_run *r, const struct lt_event *e)
{
	char local[FMT_ADDR_SIZE + 8], remote[FMT_ADDR_SIZE + 8], pid[16];
	char details[160];

	if (!r->events++)
		printf("%-10s %-15s %-7s %-15s %-22s %-22s %s\n", "TIME(s)", "EVENT",
		       "PID", "COMM", "LOCAL", "REMOTE", "DETAILS");
	text_details(e, details, sizeof(details));
	printf("%-10.6f %-15s %-7s %-15s %-22s %-22s %s\n",
	       (e->ts_ns - r->start_ns) / 1e9, trace_event_name(e->type),
	       pid_str(e, pid, sizeof(pid)),
	       e->flags & LT_CONN_HAVE_PID ? e->comm : "-",
	       endpoint_str(e->t.family, e->t.saddr, e->t.sport, local, sizeof(local)),
	       endpoint_str(e->t.family, e->t.daddr, e->t.dport, remote, sizeof(remote)),
	       details);
}

static void on_event(const struct lt_event *e, void *arg)
{
	struct trace_run *r = arg;

	if (r->o->json)
		json_event(r, e);
	else
		text_event(r, e);
}

static void print_hists(struct trace_run *r, struct tracer *t)
{
	static uint64_t h[LT_HISTS][LT_HIST_SLOTS];
	unsigned int i, s, top, w;
	uint64_t max;

	tracer_hists(t, h);
	for (i = 0; i < LT_HISTS; i++) {
		for (top = 0, max = 0, s = 0; s < LT_HIST_SLOTS; s++)
			if (h[i][s]) {
				top = s + 1;
				max = h[i][s] > max ? h[i][s] : max;
			}
		if (!top)
			continue;
		if (r->o->json) {
			json_obj_open(&r->j);
			json_kv_str(&r->j, "event", "histogram");
			json_kv_str(&r->j, "name", hist_names[i]);
			json_kv_str(&r->j, "unit", "us");
			json_key(&r->j, "log2_buckets");
			json_arr_open(&r->j);
			for (s = 0; s < top; s++)
				json_u64(&r->j, h[i][s]);
			json_arr_close(&r->j);
			json_obj_close(&r->j);
			fputc('\n', stdout);
			continue;
		}
		printf("\n%s (us):\n", hist_names[i]);
		for (s = 0; s < top; s++) {
			w = max ? h[i][s] * 40 / max : 0;
			printf("%10llu -> %-10llu : %-8" PRIu64 " |%-40.*s|\n",
			       s ? 1ull << s : 0ull, (1ull << (s + 1)) - 1, h[i][s], w,
			       "****************************************");
		}
	}
}

static void print_summary(struct trace_run *r, struct tracer *t)
{
	uint64_t c[LT_COUNTERS], missed;
	unsigned int i;

	tracer_counters(t, c);
	missed = tracer_missed(t);
	if (r->o->json) {
		json_obj_open(&r->j);
		json_kv_str(&r->j, "event", "summary");
		for (i = 0; i < LT_COUNTERS; i++)
			json_kv_u64(&r->j, counter_names[i], c[i]);
		json_kv_u64(&r->j, "missed", missed);
		json_obj_close(&r->j);
		fputc('\n', stdout);
	} else {
		printf("\n# summary:");
		for (i = 1; i < LT_COUNTERS; i++)
			if (c[i])
				printf(" %s %" PRIu64, counter_names[i], c[i]);
		printf(" events lost %" PRIu64 " missed %" PRIu64 "\n", c[LT_CNT_LOST], missed);
	}
	if (c[LT_CNT_LOST])
		fprintf(stderr, "Warning: %" PRIu64 " events were lost (the ring buffer was full)\n",
			c[LT_CNT_LOST]);
	if (missed)
		fprintf(stderr, "Warning: the kernel skipped %" PRIu64 " program runs "
			"(nested on a CPU): what they saw is missing\n", missed);
}

/* --- timewait: the authoritative population ------------------------------ */

struct tw_state {
	struct tw_counters base;
	uint32_t port_lo, port_hi;
	size_t last_count;
	bool shown;
};

static void tw_print_groups(struct trace_run *r, const char *key,
			    struct tw_group *g, size_t n, bool remote)
{
	char ep[FMT_ADDR_SIZE + 8];
	size_t i;

	if (r->o->json) {
		snprintf(ep, sizeof(ep), "%s_groups", key);
		json_kv_u64(&r->j, ep, n);
		json_key(&r->j, key);
		json_arr_open(&r->j);
		for (i = 0; i < n && i < TW_TOP; i++) {
			json_obj_open(&r->j);
			if (remote) {
				addr_str(g[i].family, g[i].addr, ep, sizeof(ep));
				json_kv_str(&r->j, "addr", ep);
			}
			json_kv_u32(&r->j, "port", g[i].port);
			json_kv_u32(&r->j, "count", g[i].count);
			json_kv_u32(&r->j, "min_remaining_ms", g[i].min_remaining_ms);
			json_kv_u32(&r->j, "max_remaining_ms", g[i].max_remaining_ms);
			json_obj_close(&r->j);
		}
		json_arr_close(&r->j);
		return;
	}
	for (i = 0; i < n && i < TW_TOP; i++) {
		if (remote)
			endpoint_str(g[i].family, g[i].addr, g[i].port, ep, sizeof(ep));
		else
			snprintf(ep, sizeof(ep), "local port %u", g[i].port);
		printf("  %-30s %6u  remaining %.1f-%.1fs  age %.1f-%.1fs\n", ep, g[i].count,
		       g[i].min_remaining_ms / 1e3, g[i].max_remaining_ms / 1e3,
		       (TW_LEN_MS - (int)g[i].max_remaining_ms) / 1e3,
		       (TW_LEN_MS - (int)g[i].min_remaining_ms) / 1e3);
	}
	if (n > TW_TOP)
		printf("  ... %zu more\n", n - TW_TOP);
}

static void tw_warn(struct trace_run *r, struct tw_state *s, struct tw_group *g,
		    size_t n)
{
	char ep[FMT_ADDR_SIZE + 8];
	double share;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!tw_exhaustion_near(g[i].count, s->port_lo, s->port_hi,
					r->o->warn_share, &share))
			continue;
		endpoint_str(g[i].family, g[i].addr, g[i].port, ep, sizeof(ep));
		if (r->o->json) {
			json_obj_open(&r->j);
			json_kv_str(&r->j, "event", "warning");
			json_kv_str(&r->j, "what", "port_exhaustion");
			json_kv_str(&r->j, "remote", ep);
			json_kv_u32(&r->j, "time_wait", g[i].count);
			json_kv_u32(&r->j, "port_range", s->port_hi - s->port_lo + 1);
			json_kv_double(&r->j, "share", share);
			json_obj_close(&r->j);
			fputc('\n', stdout);
		} else {
			printf("WARNING: %u TIME_WAIT sockets toward %s hold %.0f%% of the "
			       "ephemeral ports (%u-%u): new connections to it will fail\n",
			       g[i].count, ep, share * 100, s->port_lo, s->port_hi);
		}
	}
}

static int tw_show(struct trace_run *r, struct tw_state *s, bool force)
{
	struct tw_filter f = { .family = r->o->family, .port = r->o->port };
	struct tw_group *by_port = NULL, *by_remote = NULL;
	size_t nport = 0, nremote = 0;
	struct tw_snapshot snap = { 0 };
	struct tw_counters c;
	int err;

	if (r->o->addr.len) {
		f.have_addr = true;
		f.addr_family = r->o->addr.len == 4 ? AF_INET : AF_INET6;
		memcpy(f.addr, r->o->addr.bytes, r->o->addr.len);
	}
	err = tw_snapshot_take(&f, &snap);
	if (!err)
		err = tw_counters_read(&c);
	if (err) {
		fprintf(stderr, "Error: cannot read the TIME_WAIT sockets: %s\n",
			err == -ENOENT ? "the kernel has no TCP sock_diag (module tcp_diag)" :
			strerror(-err));
		tw_snapshot_free(&snap);
		return -1;
	}
	if (!force && s->shown && snap.count == s->last_count) {
		tw_snapshot_free(&snap);
		return 0;
	}
	s->shown = true;
	s->last_count = snap.count;
	if (tw_group_by_local_port(&snap, &by_port, &nport) ||
	    tw_group_by_remote(&snap, &by_remote, &nremote)) {
		tw_snapshot_free(&snap);
		return -1;
	}
	if (r->o->json) {
		json_obj_open(&r->j);
		json_kv_double(&r->j, "time", (mono_ns() - r->start_ns) / 1e9);
		json_kv_str(&r->j, "event", "tw_snapshot");
		json_kv_u64(&r->j, "count", snap.count);
		json_kv_u64(&r->j, "sockstat_tw", c.sockstat_tw);
		tw_print_groups(r, "by_remote", by_remote, nremote, true);
		tw_print_groups(r, "by_local_port", by_port, nport, false);
		json_key(&r->j, "tcpext");
		json_obj_open(&r->j);
		json_kv_u64(&r->j, "TW", c.tw - s->base.tw);
		json_kv_u64(&r->j, "TWKilled", c.tw_killed - s->base.tw_killed);
		json_kv_u64(&r->j, "TWRecycled", c.tw_recycled - s->base.tw_recycled);
		json_kv_u64(&r->j, "TCPTimeWaitOverflow", c.tw_overflow - s->base.tw_overflow);
		json_obj_close(&r->j);
		json_obj_close(&r->j);
		fputc('\n', stdout);
	} else {
		printf("TIME_WAIT at %.3fs: %zu sockets (sockstat tw %" PRIu64 "); TcpExt since start: "
		       "TW +%" PRIu64 " TWKilled +%" PRIu64 " TWRecycled +%" PRIu64
		       " TCPTimeWaitOverflow +%" PRIu64 "\n",
		       (mono_ns() - r->start_ns) / 1e9, snap.count, c.sockstat_tw,
		       c.tw - s->base.tw, c.tw_killed - s->base.tw_killed,
		       c.tw_recycled - s->base.tw_recycled, c.tw_overflow - s->base.tw_overflow);
		if (snap.count) {
			printf(" by remote endpoint:\n");
			tw_print_groups(r, NULL, by_remote, nremote, true);
			printf(" by local port:\n");
			tw_print_groups(r, NULL, by_port, nport, false);
		}
	}
	tw_warn(r, s, by_remote, nremote);
	free(by_port);
	free(by_remote);
	tw_snapshot_free(&snap);
	return 0;
}

static int tw_prepare(struct trace_run *r, struct tw_state *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = tw_counters_read(&s->base);
	if (!err)
		err = tw_port_range(&s->port_lo, &s->port_hi);
	if (err) {
		fprintf(stderr, "Error: cannot read the TCP counters of the netns: %s\n",
			strerror(-err));
		return -1;
	}
	(void)r;
	return 0;
}

/* --- the run ------------------------------------------------------------ */

static void print_start(struct trace_run *r, const struct trace_features *f,
			uint32_t netns)
{
	const char *mode = f->full ? "full" : "tracepoint-only";

	if (r->o->json) {
		json_obj_open(&r->j);
		json_kv_str(&r->j, "event", "start");
		json_kv_str(&r->j, "mode", mode);
		json_kv_u32(&r->j, "netns", netns);
		json_obj_close(&r->j);
		fputc('\n', stdout);
	}
	fprintf(stderr, "Tracing TCP (%s mode%s)%s. Ctrl-C to end.\n", mode,
		netns ? "" : ", every netns", r->o->hist ? ", histograms" : "");
	fflush(stdout);
}

static int trace_loop(struct trace_run *r, struct tracer *t, struct tw_state *tw)
{
	uint64_t end = r->o->have_duration ? r->start_ns + r->o->duration_ms * 1000000 : 0;
	uint64_t next_tw = r->start_ns, now;
	int err;

	while (!trace_stop) {
		now = mono_ns();
		if (end && now >= end)
			break;
		if (tw && now >= next_tw) {
			if (tw_show(r, tw, false))
				return -1;
			next_tw = now + r->o->interval_ms * 1000000;
		}
		err = tracer_poll(t, POLL_MS, on_event, r);
		if (err) {
			fprintf(stderr, "Error: reading the ring buffer: %s\n", strerror(-err));
			return -1;
		}
		fflush(stdout);
	}
	tracer_poll(t, 0, on_event, r);
	return 0;
}

static int trace_snapshot(struct trace_run *r)
{
	struct tw_state s;

	if (tw_prepare(r, &s))
		return -1;
	return tw_show(r, &s, true);
}

static int trace_run(struct ctx *ctx, uint32_t features, int argc, char **argv)
{
	struct trace_features f;
	struct trace_opts o;
	struct trace_run r = { .o = &o };
	struct tw_state tw;
	struct tracer *t;
	uint32_t netns = 0;
	const char *why;
	int err, ret;

	err = trace_parse(&o, features, argc, argv);
	if (err)
		return err < 0 ? -1 : 0;
	o.json = o.json || ctx->json;
	json_init(&r.j, stdout, false);
	if (o.netns && strcmp(o.netns, "all")) {
		err = trace_netns_inode(o.netns, &netns);
		if (err)
			return invarg(err == -ENOENT ? "no such network namespace in /run/netns" :
				      strerror(-err), o.netns);
	} else if (!o.netns) {
		trace_netns_inode(NULL, &netns);
	}
	why = trace_missing_privilege();
	if (why && !o.snapshot) {
		fprintf(stderr, "Error: %s.\n", why);
		return -1;
	}
	if (o.netns && strcmp(o.netns, "all") && (features & LT_FEAT_TIMEWAIT)) {
		err = trace_enter_netns(o.netns);
		if (err) {
			fprintf(stderr, "Error: cannot enter network namespace \"%s\": %s\n",
				o.netns, strerror(-err));
			return -1;
		}
	}
	r.start_ns = mono_ns();
	if (o.snapshot)
		return trace_snapshot(&r);
	if ((features & LT_FEAT_TIMEWAIT) && tw_prepare(&r, &tw))
		return -1;
	trace_features_probe(&f);
	t = tracer_open(&o, &f, netns);
	if (!t)
		return -1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	print_start(&r, &f, netns);
	ret = trace_loop(&r, t, features & LT_FEAT_TIMEWAIT ? &tw : NULL);
	if (!ret && (features & LT_FEAT_TIMEWAIT))
		ret = tw_show(&r, &tw, true);
	if (o.hist)
		print_hists(&r, t);
	print_summary(&r, t);
	tracer_close(t);
	return ret;
}

/* --- features ----------------------------------------------------------- */

static int trace_features(struct ctx *ctx, int argc, char **argv)
{
	struct trace_features f;
	struct trace_opts o;
	struct json j;
	int i;

	i = trace_parse(&o, 0, argc, argv);
	if (i)
		return i < 0 ? -1 : 0;
	trace_features_probe(&f);
	if (o.json || ctx->json) {
		json_init(&j, stdout, ctx->pretty);
		json_obj_open(&j);
		json_kv_str(&j, "mode", !f.btf ? "none" : f.full ? "full" : "tracepoint-only");
		json_kv_bool(&j, "btf", f.btf);
		json_kv_bool(&j, "kprobes", f.kprobe_pmu);
		json_kv_bool(&j, "forced", f.forced);
		json_key(&j, "tracepoints");
		json_obj_open(&j);
		for (i = 0; i < TP_COUNT; i++)
			json_kv_bool(&j, trace_tp_names[i], f.tp[i]);
		json_obj_close(&j);
		json_key(&j, "kprobes_targets");
		json_obj_open(&j);
		for (i = 0; i < KP_COUNT; i++)
			json_kv_bool(&j, trace_kp_names[i], f.kp[i]);
		json_obj_close(&j);
		json_obj_close(&j);
		fputc('\n', stdout);
		return json_finish(&j);
	}
	printf("mode: %s%s\n", !f.btf ? "none (no BTF)" : f.full ? "full" : "tracepoint-only",
	       f.forced ? " (forced by LAMPORT_TRACE_MODE)" : "");
	printf("btf: %s (%s)\n", f.btf ? "yes" : "no", f.btf_path);
	printf("kprobes: %s\n", f.kprobe_pmu ? "yes" : "no");
	for (i = 0; i < TP_COUNT; i++)
		printf("tracepoint %-28s %s\n", trace_tp_names[i], f.tp[i] ? "yes" : "no");
	for (i = 0; i < KP_COUNT; i++)
		printf("kprobe %-32s %s\n", trace_kp_names[i],
		       f.kp[i] ? "yes" : f.kprobe_pmu ? "no (not in kallsyms)" : "no");
	return 0;
}

static int trace_handshake(struct ctx *ctx, int argc, char **argv)
{
	return trace_run(ctx, LT_FEAT_HANDSHAKE, argc, argv);
}

static int trace_timewait(struct ctx *ctx, int argc, char **argv)
{
	return trace_run(ctx, LT_FEAT_TIMEWAIT, argc, argv);
}

static int trace_cong(struct ctx *ctx, int argc, char **argv)
{
	return trace_run(ctx, LT_FEAT_CONG, argc, argv);
}

static int trace_conn(struct ctx *ctx, int argc, char **argv)
{
	return trace_run(ctx, LT_FEAT_CONN, argc, argv);
}

static int trace_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	trace_usage(stdout);
	return 0;
}

int do_trace(struct ctx *ctx, int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "handshake",	trace_handshake },
		{ "timewait",	trace_timewait },
		{ "cong",	trace_cong },
		{ "conn",	trace_conn },
		{ "features",	trace_features },
		{ "help",	trace_help },
		{ NULL, NULL },
	};

	if (!argc) {
		trace_usage(stderr);
		return -1;
	}
	if (argv[0][0] == '-' && trace_parse(&(struct trace_opts){ 0 }, 0, 1, argv) > 0)
		return 0;
	return run_cmd(ctx, cmds, "command", TRACE_HELP, argc, argv);
}
