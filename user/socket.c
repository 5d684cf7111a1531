// SPDX-License-Identifier: GPL-2.0
/*
 * lamport socket: the AF_LAMPORT sockets of the node of the current network
 * namespace, their Lamport clocks and queues, and the flows of the
 * SOCK_RDM ones; an ss(8) for AF_LAMPORT.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

#define SOCKET_HELP	"lamport socket help"

/* A dump the kernel marks as interrupted by a change is tried this often. */
#define SOCK_DUMP_TRIES	3

static const enum mnl_attr_data_type sock_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_SOCK_TYPE]	= MNL_TYPE_U8,
	[LAMPORT_A_SOCK_PORT]	= MNL_TYPE_U16,
	[LAMPORT_A_SOCK_INODE]	= MNL_TYPE_U64,
	[LAMPORT_A_SOCK_CLOCK]	= MNL_TYPE_U64,
	[LAMPORT_A_SOCK_STATS]	= MNL_TYPE_NESTED,
	[LAMPORT_A_SOCK_FLOW]	= MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type flow_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_FLOW_DIR]	= MNL_TYPE_U8,
	[LAMPORT_A_FLOW_NODE]	= MNL_TYPE_U32,
	[LAMPORT_A_FLOW_PORT]	= MNL_TYPE_U16,
	[LAMPORT_A_FLOW_STATS]	= MNL_TYPE_NESTED,
};

/* JSON keys of the counters: the enum names in lower case. */
static const char *const sock_stat_keys[LAMPORT_SOCK_STAT_MAX + 1] = {
	[LAMPORT_SOCK_STAT_TX]		= "tx",
	[LAMPORT_SOCK_STAT_RX]		= "rx",
	[LAMPORT_SOCK_STAT_RX_QUEUED]	= "rx_queued",
	[LAMPORT_SOCK_STAT_TX_QUEUED]	= "tx_queued",
	[LAMPORT_SOCK_STAT_RCVBUF]	= "rcvbuf",
	[LAMPORT_SOCK_STAT_SNDBUF]	= "sndbuf",
	[LAMPORT_SOCK_STAT_DROP_RCVBUF]	= "drop_rcvbuf",
	[LAMPORT_SOCK_STAT_DROP_FLOWS]	= "drop_flows",
};

static const char *const flow_stat_keys[LAMPORT_FLOW_STAT_MAX + 1] = {
	[LAMPORT_FLOW_STAT_SND_UNA]		= "snd_una",
	[LAMPORT_FLOW_STAT_SND_NXT]		= "snd_nxt",
	[LAMPORT_FLOW_STAT_QUEUED]		= "queued",
	[LAMPORT_FLOW_STAT_IN_FLIGHT]		= "in_flight",
	[LAMPORT_FLOW_STAT_CWND]		= "cwnd",
	[LAMPORT_FLOW_STAT_SSTHRESH]		= "ssthresh",
	[LAMPORT_FLOW_STAT_RWND]		= "rwnd",
	[LAMPORT_FLOW_STAT_SRTT_NS]		= "srtt_ns",
	[LAMPORT_FLOW_STAT_RTTVAR_NS]		= "rttvar_ns",
	[LAMPORT_FLOW_STAT_RTO_NS]		= "rto_ns",
	[LAMPORT_FLOW_STAT_RETRANSMITS]		= "retransmits",
	[LAMPORT_FLOW_STAT_TIMEOUTS]		= "timeouts",
	[LAMPORT_FLOW_STAT_FAST_RETRANSMITS]	= "fast_retransmits",
	[LAMPORT_FLOW_STAT_RCV_NXT]		= "rcv_nxt",
	[LAMPORT_FLOW_STAT_OUT_OF_ORDER]	= "out_of_order",
	[LAMPORT_FLOW_STAT_DUPLICATES]		= "duplicates",
	[LAMPORT_FLOW_STAT_DELIVERED]		= "delivered",
	[LAMPORT_FLOW_STAT_WINDOW_DROPS]	= "window_drops",
	[LAMPORT_FLOW_STAT_ZERO_WINDOW]		= "zero_window",
};

static const char *const sock_type_list[] = {
	[SOCK_DGRAM]	= "dgram",
	[SOCK_RDM]	= "rdm",
};

static const char *const flow_dir_list[] = {
	[LAMPORT_FLOW_TX]	= "tx",
	[LAMPORT_FLOW_RX]	= "rx",
};

static const struct fmt_names sock_type_names = {
	sock_type_list, ARRAY_SIZE(sock_type_list)
};
static const struct fmt_names flow_dir_names = {
	flow_dir_list, ARRAY_SIZE(flow_dir_list)
};

static int socket_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	printf("Usage: lamport socket [ show ]\n"
	       "       lamport socket help\n"
	       "\"show\" lists the AF_LAMPORT sockets of this node by type and port: the\n"
	       "Lamport clock, the bytes queued to receive (Recv-Q) and to send (Send-Q),\n"
	       "and the SOCK_RDM flows (one per pair of sockets and direction).\n"
	       "-s adds the counters of each socket and one line per flow.\n");
	return 0;
}

/* ---- decoding ---- */

/* A nest of u64 counters into stat[]; those without a key are skipped. */
static int get_stats(const struct nlattr *nest, const char *const *keys,
		     uint16_t max, bool *has_stat, uint64_t *stat)
{
	const struct nlattr *attr;
	uint16_t type;

	mnl_attr_for_each_nested(attr, nest) {
		type = mnl_attr_get_type(attr);
		if (type > max || !keys[type])
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;	/* errno is set */
		has_stat[type] = true;
		stat[type] = mnl_attr_get_u64(attr);
	}
	return MNL_CB_OK;
}

static int flow_decode(const struct nlattr *nest, struct flow_info *flow)
{
	const struct nlattr *tb[LAMPORT_A_MAX + 1];

	memset(flow, 0, sizeof(*flow));
	if (lnl_parse_nested(nest, flow_policy, tb, LAMPORT_A_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	if (!tb[LAMPORT_A_FLOW_DIR] || !tb[LAMPORT_A_FLOW_NODE] ||
	    !tb[LAMPORT_A_FLOW_PORT]) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	flow->dir = mnl_attr_get_u8(tb[LAMPORT_A_FLOW_DIR]);
	flow->node = mnl_attr_get_u32(tb[LAMPORT_A_FLOW_NODE]);
	flow->port = mnl_attr_get_u16(tb[LAMPORT_A_FLOW_PORT]);
	if (!tb[LAMPORT_A_FLOW_STATS])
		return MNL_CB_OK;
	return get_stats(tb[LAMPORT_A_FLOW_STATS], flow_stat_keys,
			 LAMPORT_FLOW_STAT_MAX, flow->has_stat, flow->stat);
}

static size_t count_flows(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;
	size_t count = 0;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(attr) == LAMPORT_A_SOCK_FLOW)
			count++;
	return count;
}

/* The repeated LAMPORT_A_SOCK_FLOW nests (lnl_parse() keeps the last). */
static int flows_decode(const struct nlmsghdr *nlh, struct sock_info *sock)
{
	size_t count = count_flows(nlh);
	const struct nlattr *attr;

	if (!count)
		return MNL_CB_OK;
	sock->flows = calloc(count, sizeof(*sock->flows));
	if (!sock->flows)
		return MNL_CB_ERROR;	/* errno is ENOMEM */
	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(attr) != LAMPORT_A_SOCK_FLOW)
			continue;
		if (flow_decode(attr, &sock->flows[sock->flow_count]) != MNL_CB_OK)
			return MNL_CB_ERROR;
		sock->flow_count++;
	}
	return MNL_CB_OK;
}

int sock_decode(const struct nlmsghdr *nlh, struct sock_info *sock)
{
	static const int required[] = {
		LAMPORT_A_SOCK_TYPE, LAMPORT_A_SOCK_PORT, LAMPORT_A_SOCK_INODE,
		LAMPORT_A_SOCK_CLOCK,
	};
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	unsigned int i;
	int err;

	memset(sock, 0, sizeof(*sock));
	if (lnl_parse(nlh, sock_policy, tb, LAMPORT_A_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		if (!tb[required[i]]) {
			errno = EPROTO;
			return MNL_CB_ERROR;
		}
	}
	sock->type = mnl_attr_get_u8(tb[LAMPORT_A_SOCK_TYPE]);
	sock->port = mnl_attr_get_u16(tb[LAMPORT_A_SOCK_PORT]);
	sock->inode = mnl_attr_get_u64(tb[LAMPORT_A_SOCK_INODE]);
	sock->clock = mnl_attr_get_u64(tb[LAMPORT_A_SOCK_CLOCK]);
	if (tb[LAMPORT_A_SOCK_STATS] &&
	    get_stats(tb[LAMPORT_A_SOCK_STATS], sock_stat_keys,
		      LAMPORT_SOCK_STAT_MAX, sock->has_stat,
		      sock->stat) != MNL_CB_OK)
		return MNL_CB_ERROR;

	if (flows_decode(nlh, sock) == MNL_CB_OK)
		return MNL_CB_OK;
	err = errno;
	sock_free(sock);
	errno = err;
	return MNL_CB_ERROR;
}

void sock_free(struct sock_info *sock)
{
	free(sock->flows);
	sock->flows = NULL;
	sock->flow_count = 0;
}

/* ---- text ---- */

static void sock_print_header(FILE *out)
{
	fprintf(out, "%-5s %5s %10s %8s %8s %5s\n",
		"Type", "Port", "Clock", "Recv-Q", "Send-Q", "Flows");
}

/* "*" for an unbound socket, as ss(8) has it. */
static const char *fmt_port(uint16_t port, char *buf, size_t size)
{
	if (!port)
		return "*";
	snprintf(buf, size, "%u", port);
	return buf;
}

static void sock_print_row(const struct sock_info *s, FILE *out)
{
	char type[FMT_NAME_SIZE], port[8];

	fprintf(out, "%-5s %5s %10llu %8llu %8llu %5zu\n",
		fmt_name(&sock_type_names, s->type, type, sizeof(type)),
		fmt_port(s->port, port, sizeof(port)),
		(unsigned long long)s->clock,
		(unsigned long long)s->stat[LAMPORT_SOCK_STAT_RX_QUEUED],
		(unsigned long long)s->stat[LAMPORT_SOCK_STAT_TX_QUEUED],
		s->flow_count);
}

/* A counter the kernel did not send prints as 0. */
static void sock_print_stats_text(const struct sock_info *s, FILE *out)
{
	const uint64_t *st = s->stat;

	fprintf(out, "  inode %llu tx %llu rx %llu rcvbuf %llu sndbuf %llu dropped: rcvbuf %llu",
		(unsigned long long)s->inode,
		(unsigned long long)st[LAMPORT_SOCK_STAT_TX],
		(unsigned long long)st[LAMPORT_SOCK_STAT_RX],
		(unsigned long long)st[LAMPORT_SOCK_STAT_RCVBUF],
		(unsigned long long)st[LAMPORT_SOCK_STAT_SNDBUF],
		(unsigned long long)st[LAMPORT_SOCK_STAT_DROP_RCVBUF]);
	if (s->type == SOCK_RDM)
		fprintf(out, " flows %llu",
			(unsigned long long)st[LAMPORT_SOCK_STAT_DROP_FLOWS]);
	fputc('\n', out);
}

static void flow_print_tx(const struct flow_info *f, FILE *out)
{
	const uint64_t *st = f->stat;
	char buf[FMT_VALUE_SIZE];

	fprintf(out, "  cwnd %llu ssthresh %llu rwnd %llu",
		(unsigned long long)st[LAMPORT_FLOW_STAT_CWND],
		(unsigned long long)st[LAMPORT_FLOW_STAT_SSTHRESH],
		(unsigned long long)st[LAMPORT_FLOW_STAT_RWND]);
	fprintf(out, " srtt %s", st[LAMPORT_FLOW_STAT_SRTT_NS] ?
		fmt_duration(st[LAMPORT_FLOW_STAT_SRTT_NS], buf, sizeof(buf)) :
		"none");
	fprintf(out, " rto %s",
		fmt_duration(st[LAMPORT_FLOW_STAT_RTO_NS], buf, sizeof(buf)));
	fprintf(out, " in-flight %llu queued %llu retrans %llu timeouts %llu fast %llu zero-window %llu",
		(unsigned long long)st[LAMPORT_FLOW_STAT_IN_FLIGHT],
		(unsigned long long)st[LAMPORT_FLOW_STAT_QUEUED],
		(unsigned long long)st[LAMPORT_FLOW_STAT_RETRANSMITS],
		(unsigned long long)st[LAMPORT_FLOW_STAT_TIMEOUTS],
		(unsigned long long)st[LAMPORT_FLOW_STAT_FAST_RETRANSMITS],
		(unsigned long long)st[LAMPORT_FLOW_STAT_ZERO_WINDOW]);
}

static void flow_print_rx(const struct flow_info *f, FILE *out)
{
	const uint64_t *st = f->stat;

	fprintf(out, "  rcv-nxt %llu ooo %llu dups %llu delivered %llu window-drops %llu",
		(unsigned long long)st[LAMPORT_FLOW_STAT_RCV_NXT],
		(unsigned long long)st[LAMPORT_FLOW_STAT_OUT_OF_ORDER],
		(unsigned long long)st[LAMPORT_FLOW_STAT_DUPLICATES],
		(unsigned long long)st[LAMPORT_FLOW_STAT_DELIVERED],
		(unsigned long long)st[LAMPORT_FLOW_STAT_WINDOW_DROPS]);
}

/* "  tx -> node 2 port 5000  cwnd ...": one line per flow. */
static void flow_print_text(const struct flow_info *f, FILE *out)
{
	char dir[FMT_NAME_SIZE];

	fprintf(out, "  %s %s node %u port %u",
		fmt_name(&flow_dir_names, f->dir, dir, sizeof(dir)),
		f->dir == LAMPORT_FLOW_TX ? "->" : f->dir == LAMPORT_FLOW_RX ? "<-" : "--",
		f->node, f->port);
	if (f->dir == LAMPORT_FLOW_TX)
		flow_print_tx(f, out);
	else if (f->dir == LAMPORT_FLOW_RX)
		flow_print_rx(f, out);
	fputc('\n', out);
}

static void sock_print_text(const struct sock_info *s, const struct view *v)
{
	size_t i;

	sock_print_row(s, v->out);
	if (!v->stats)
		return;
	sock_print_stats_text(s, v->out);
	for (i = 0; i < s->flow_count; i++)
		flow_print_text(&s->flows[i], v->out);
}

/* ---- JSON ---- */

static void json_stats(struct json *j, const char *const *keys, uint16_t max,
		       const bool *has_stat, const uint64_t *stat)
{
	unsigned int i;

	json_key(j, "stats");
	json_obj_open(j);
	for (i = 0; i <= max; i++)
		if (has_stat[i])
			json_kv_u64(j, keys[i], stat[i]);
	json_obj_close(j);
}

static void flow_print_json(const struct flow_info *f, const struct view *v)
{
	char dir[FMT_NAME_SIZE];
	struct json *j = v->json;

	json_obj_open(j);
	json_kv_str(j, "dir", fmt_name(&flow_dir_names, f->dir, dir, sizeof(dir)));
	json_kv_u32(j, "node", f->node);
	json_kv_u32(j, "port", f->port);
	if (v->stats)
		json_stats(j, flow_stat_keys, LAMPORT_FLOW_STAT_MAX, f->has_stat,
			   f->stat);
	json_obj_close(j);
}

static void sock_print_json(const struct sock_info *s, const struct view *v)
{
	char type[FMT_NAME_SIZE];
	struct json *j = v->json;
	size_t i;

	json_obj_open(j);
	json_kv_str(j, "type", fmt_name(&sock_type_names, s->type, type, sizeof(type)));
	json_kv_u32(j, "port", s->port);
	json_kv_u64(j, "inode", s->inode);
	json_kv_u64(j, "clock", s->clock);
	json_kv_u64(j, "recv_q", s->stat[LAMPORT_SOCK_STAT_RX_QUEUED]);
	json_kv_u64(j, "send_q", s->stat[LAMPORT_SOCK_STAT_TX_QUEUED]);
	if (v->stats)
		json_stats(j, sock_stat_keys, LAMPORT_SOCK_STAT_MAX, s->has_stat,
			   s->stat);
	json_key(j, "flows");
	json_arr_open(j);
	for (i = 0; i < s->flow_count; i++)
		flow_print_json(&s->flows[i], v);
	json_arr_close(j);
	json_obj_close(j);
}

static int sock_cmp(const void *a, const void *b)
{
	const struct sock_info *sa = a, *sb = b;

	if (sa->type != sb->type)
		return sa->type < sb->type ? -1 : 1;
	if (sa->port != sb->port)
		return sa->port < sb->port ? -1 : 1;
	return (sa->inode > sb->inode) - (sa->inode < sb->inode);
}

void sock_print_list(struct sock_info *socks, size_t count,
		     const struct view *v)
{
	size_t i;

	if (count > 1)
		qsort(socks, count, sizeof(*socks), sock_cmp);
	if (v->json)
		json_arr_open(v->json);
	else
		sock_print_header(v->out);
	for (i = 0; i < count; i++) {
		if (v->json)
			sock_print_json(&socks[i], v);
		else
			sock_print_text(&socks[i], v);
	}
	if (v->json)
		json_arr_close(v->json);
}

/* ---- the dump ---- */

/* The sockets of a dump, gathered to be sorted. */
struct sock_list {
	struct sock_info *socks;
	size_t count, size;
};

static void sock_list_clear(struct sock_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		sock_free(&list->socks[i]);
	list->count = 0;
}

static int sock_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sock_list *list = data;
	struct sock_info *more;
	size_t size;

	if (list->count == list->size) {
		size = list->size ? 2 * list->size : 16;
		more = realloc(list->socks, size * sizeof(*more));
		if (!more)
			return MNL_CB_ERROR;	/* errno is ENOMEM */
		list->socks = more;
		list->size = size;
	}
	if (sock_decode(nlh, &list->socks[list->count]) != MNL_CB_OK)
		return MNL_CB_ERROR;
	list->count++;
	return MNL_CB_OK;
}

/* Nothing is printed unless the whole dump arrived. */
static int sock_dump(struct lnl *nl, struct sock_list *list)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	int err, tries = 0;

	do {
		sock_list_clear(list);
		nlh = lnl_msg(nl, buf, LAMPORT_CMD_SOCK_GET, NLM_F_DUMP);
		err = lnl_talk(nl, nlh, sock_reply_cb, list);
	} while (err == -EINTR && ++tries < SOCK_DUMP_TRIES);

	if (err == -EINTR) {
		fprintf(stderr, "Error: the sockets kept changing during the dump, try again.\n");
		return -1;
	}
	if (err)
		return nl_error(nl, err);
	return 0;
}

static int socket_show(struct ctx *ctx, int argc, char **argv)
{
	struct view v = { .out = stdout, .stats = ctx->stats };
	struct sock_list list = { 0 };
	struct lnl *nl;
	struct json j;
	int ret;

	if (argc > 0 && matches(argv[0], "help"))
		return socket_help(ctx, 0, argv);
	if (argc > 0)
		return unknarg("argument", argv[0], SOCKET_HELP);

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	ret = sock_dump(nl, &list);
	if (!ret) {
		if (ctx->json) {
			ctx_json(ctx, &j, stdout);
			v.json = &j;
		}
		sock_print_list(list.socks, list.count, &v);
	}
	sock_list_clear(&list);
	free(list.socks);
	return ret;
}

static const struct cmd socket_cmds[] = {
	{ "show",	socket_show },
	{ "help",	socket_help },
	{ NULL, NULL },
};

int do_socket(struct ctx *ctx, int argc, char **argv)
{
	if (!argc)
		return socket_show(ctx, 0, argv);
	return run_cmd(ctx, socket_cmds, "command", SOCKET_HELP, argc, argv);
}
