// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of "lamport socket show" without a kernel: hand-built
 * LAMPORT_CMD_SOCK_GET replies (u64s padded as the kernel's
 * nla_put_u64_64bit() does) are decoded, sorted and printed to memory, as
 * the table, with -s, and as JSON, to be compared with what the command
 * must print.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>

#include "../lamport.h"
#include "tap.h"

#define FAKE_FAMILY	0x2a

/* ---- building replies ---- */

static struct nlmsghdr *kernel_msg(void *buf)
{
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	memset(buf, 0, LNL_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = FAKE_FAMILY;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = LAMPORT_CMD_SOCK_GET;
	genl->version = LAMPORT_GENL_VERSION;
	return nlh;
}

/* nla_put_u64_64bit(): a pad attribute first if the u64 would be unaligned. */
static void put_u64(struct nlmsghdr *nlh, uint16_t type, uint64_t val,
		    uint16_t pad)
{
	static const char nothing[1];

	if ((nlh->nlmsg_len + MNL_ATTR_HDRLEN) % 8)
		mnl_attr_put(nlh, pad, 0, nothing);
	mnl_attr_put_u64(nlh, type, val);
}

/* The counters of stat[] that are not ~0 (absent), in a nest. */
static void put_stats(struct nlmsghdr *nlh, uint16_t type, uint16_t pad,
		      const uint64_t *stat, unsigned int max)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);
	unsigned int i;

	for (i = pad + 1; i <= max; i++)
		if (stat[i] != UINT64_MAX)
			put_u64(nlh, i, stat[i], pad);
	mnl_attr_nest_end(nlh, nest);
}

struct flow_spec {
	uint8_t dir;
	uint32_t node;
	uint16_t port;
	uint64_t stat[LAMPORT_FLOW_STAT_MAX + 1];
};

struct sock_spec {
	uint8_t type;
	uint16_t port;
	uint64_t inode, clock;
	uint64_t stat[LAMPORT_SOCK_STAT_MAX + 1];
	unsigned int flow_count;
	const struct flow_spec *flows;
};

#define NO	UINT64_MAX	/* a counter left out */

static void put_flow(struct nlmsghdr *nlh, const struct flow_spec *f)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, LAMPORT_A_SOCK_FLOW);

	mnl_attr_put_u8(nlh, LAMPORT_A_FLOW_DIR, f->dir);
	mnl_attr_put_u32(nlh, LAMPORT_A_FLOW_NODE, f->node);
	mnl_attr_put_u16(nlh, LAMPORT_A_FLOW_PORT, f->port);
	put_stats(nlh, LAMPORT_A_FLOW_STATS, LAMPORT_FLOW_STAT_PAD, f->stat,
		  LAMPORT_FLOW_STAT_MAX);
	mnl_attr_nest_end(nlh, nest);
}

static struct nlmsghdr *sock_msg(void *buf, const struct sock_spec *s)
{
	struct nlmsghdr *nlh = kernel_msg(buf);
	unsigned int i;

	mnl_attr_put_u8(nlh, LAMPORT_A_SOCK_TYPE, s->type);
	mnl_attr_put_u16(nlh, LAMPORT_A_SOCK_PORT, s->port);
	put_u64(nlh, LAMPORT_A_SOCK_INODE, s->inode, LAMPORT_A_PAD);
	put_u64(nlh, LAMPORT_A_SOCK_CLOCK, s->clock, LAMPORT_A_PAD);
	put_stats(nlh, LAMPORT_A_SOCK_STATS, LAMPORT_SOCK_STAT_PAD, s->stat,
		  LAMPORT_SOCK_STAT_MAX);
	for (i = 0; i < s->flow_count; i++)
		put_flow(nlh, &s->flows[i]);
	return nlh;
}

/* ---- the sockets of the tests ---- */

static const struct flow_spec rdm_flows[] = {
	{ LAMPORT_FLOW_TX, 2, 5000, {
		[LAMPORT_FLOW_STAT_UNSPEC] = NO, [LAMPORT_FLOW_STAT_PAD] = NO,
		[LAMPORT_FLOW_STAT_SND_UNA] = 38, [LAMPORT_FLOW_STAT_SND_NXT] = 43,
		[LAMPORT_FLOW_STAT_QUEUED] = 5, [LAMPORT_FLOW_STAT_IN_FLIGHT] = 3,
		[LAMPORT_FLOW_STAT_CWND] = 10, [LAMPORT_FLOW_STAT_SSTHRESH] = 64,
		[LAMPORT_FLOW_STAT_RWND] = 212992,
		[LAMPORT_FLOW_STAT_SRTT_NS] = 210000,
		[LAMPORT_FLOW_STAT_RTTVAR_NS] = 50000,
		[LAMPORT_FLOW_STAT_RTO_NS] = 5000000,
		[LAMPORT_FLOW_STAT_RETRANSMITS] = 1, [LAMPORT_FLOW_STAT_TIMEOUTS] = 2,
		[LAMPORT_FLOW_STAT_FAST_RETRANSMITS] = 3,
		[LAMPORT_FLOW_STAT_RCV_NXT] = NO, [LAMPORT_FLOW_STAT_OUT_OF_ORDER] = NO,
		[LAMPORT_FLOW_STAT_DUPLICATES] = NO, [LAMPORT_FLOW_STAT_DELIVERED] = NO,
		[LAMPORT_FLOW_STAT_WINDOW_DROPS] = NO,
		[LAMPORT_FLOW_STAT_ZERO_WINDOW] = 4,
	} },
	{ LAMPORT_FLOW_RX, 3, 49153, {
		[LAMPORT_FLOW_STAT_UNSPEC] = NO, [LAMPORT_FLOW_STAT_PAD] = NO,
		[LAMPORT_FLOW_STAT_SND_UNA] = NO, [LAMPORT_FLOW_STAT_SND_NXT] = NO,
		[LAMPORT_FLOW_STAT_QUEUED] = NO, [LAMPORT_FLOW_STAT_IN_FLIGHT] = NO,
		[LAMPORT_FLOW_STAT_CWND] = NO, [LAMPORT_FLOW_STAT_SSTHRESH] = NO,
		[LAMPORT_FLOW_STAT_RWND] = NO, [LAMPORT_FLOW_STAT_SRTT_NS] = NO,
		[LAMPORT_FLOW_STAT_RTTVAR_NS] = NO, [LAMPORT_FLOW_STAT_RTO_NS] = NO,
		[LAMPORT_FLOW_STAT_RETRANSMITS] = NO, [LAMPORT_FLOW_STAT_TIMEOUTS] = NO,
		[LAMPORT_FLOW_STAT_FAST_RETRANSMITS] = NO,
		[LAMPORT_FLOW_STAT_RCV_NXT] = 42, [LAMPORT_FLOW_STAT_OUT_OF_ORDER] = 1,
		[LAMPORT_FLOW_STAT_DUPLICATES] = 2, [LAMPORT_FLOW_STAT_DELIVERED] = 41,
		[LAMPORT_FLOW_STAT_WINDOW_DROPS] = 3,
		[LAMPORT_FLOW_STAT_ZERO_WINDOW] = NO,
	} },
	/* Before the first RTT sample, in slow start. */
	{ LAMPORT_FLOW_TX, 4000000000U, 1, {
		[LAMPORT_FLOW_STAT_UNSPEC] = NO, [LAMPORT_FLOW_STAT_PAD] = NO,
		[LAMPORT_FLOW_STAT_SND_UNA] = 1, [LAMPORT_FLOW_STAT_SND_NXT] = 2,
		[LAMPORT_FLOW_STAT_QUEUED] = 1, [LAMPORT_FLOW_STAT_IN_FLIGHT] = 1,
		[LAMPORT_FLOW_STAT_CWND] = 4, [LAMPORT_FLOW_STAT_SSTHRESH] = 1024,
		[LAMPORT_FLOW_STAT_RWND] = 0, [LAMPORT_FLOW_STAT_SRTT_NS] = 0,
		[LAMPORT_FLOW_STAT_RTTVAR_NS] = 0, [LAMPORT_FLOW_STAT_RTO_NS] = 1000000000,
		[LAMPORT_FLOW_STAT_RETRANSMITS] = 0, [LAMPORT_FLOW_STAT_TIMEOUTS] = 0,
		[LAMPORT_FLOW_STAT_FAST_RETRANSMITS] = 0,
		[LAMPORT_FLOW_STAT_RCV_NXT] = NO, [LAMPORT_FLOW_STAT_OUT_OF_ORDER] = NO,
		[LAMPORT_FLOW_STAT_DUPLICATES] = NO, [LAMPORT_FLOW_STAT_DELIVERED] = NO,
		[LAMPORT_FLOW_STAT_WINDOW_DROPS] = NO,
		[LAMPORT_FLOW_STAT_ZERO_WINDOW] = 0,
	} },
};

#define SOCK_STATS(tx, rx, rxq, txq, drop_rcvbuf, drop_flows) {		\
	[LAMPORT_SOCK_STAT_UNSPEC] = NO, [LAMPORT_SOCK_STAT_PAD] = NO,	\
	[LAMPORT_SOCK_STAT_TX] = tx, [LAMPORT_SOCK_STAT_RX] = rx,	\
	[LAMPORT_SOCK_STAT_RX_QUEUED] = rxq,				\
	[LAMPORT_SOCK_STAT_TX_QUEUED] = txq,				\
	[LAMPORT_SOCK_STAT_RCVBUF] = 212992,				\
	[LAMPORT_SOCK_STAT_SNDBUF] = 106496,				\
	[LAMPORT_SOCK_STAT_DROP_RCVBUF] = drop_rcvbuf,			\
	[LAMPORT_SOCK_STAT_DROP_FLOWS] = drop_flows }

/* In the kernel's order, which is not the printed one. */
static const struct sock_spec dump[] = {
	{ SOCK_RDM, 5000, 4242, 42, SOCK_STATS(10, 41, 768, 3072, 0, 7),
	  3, rdm_flows },
	{ SOCK_DGRAM, 7000, 100, 5, SOCK_STATS(2, 3, 0, 0, 1, NO), 0, NULL },
	{ SOCK_DGRAM, 0, 101, 0, SOCK_STATS(0, 0, 0, 0, 0, NO), 0, NULL },
	{ SOCK_DGRAM, 1024, 99, 18446744073709551615ULL,
	  SOCK_STATS(0, 1, 1280, 0, 0, NO), 0, NULL },
};

#define N_DUMP	(sizeof(dump) / sizeof(dump[0]))

/* ---- printing to memory ---- */

struct printed {
	char *text;
	size_t len;
};

enum print_as { AS_TEXT, AS_JSON };

static FILE *view_open(struct view *v, struct json *j, struct printed *p,
		       enum print_as as, bool stats)
{
	*v = (struct view){ .stats = stats };
	p->text = NULL;
	v->out = open_memstream(&p->text, &p->len);
	if (v->out && as == AS_JSON) {
		json_init(j, v->out, false);
		v->json = j;
	}
	return v->out;
}

/* Every line of text as a diagnostic, after a label. */
static void diag_lines(const char *label, const char *text)
{
	const char *end;

	tap_diag("%s", label);
	for (; text && *text; text = *end ? end + 1 : end) {
		end = strchrnul(text, '\n');
		tap_diag("  %.*s", (int)(end - text), text);
	}
}

/* Closes the stream; checks the text and frees it. */
static void view_check(struct view *v, struct printed *p, const char *want,
		       const char *what)
{
	bool json_ok = !v->json || json_finish(v->json) == 0;

	fclose(v->out);
	if (!tap_ok(p->text && json_ok && !strcmp(p->text, want), "%s", what)) {
		diag_lines("got:", p->text ? p->text : "(null)");
		diag_lines("want:", want);
	}
	free(p->text);
}

/* Decodes the dump into socks[]; false if any message failed. */
static bool decode_dump(struct sock_info *socks)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	bool ok = true;
	size_t i;

	for (i = 0; i < N_DUMP; i++)
		ok &= sock_decode(sock_msg(buf, &dump[i]), &socks[i]) == MNL_CB_OK;
	return ok;
}

static void free_dump(struct sock_info *socks)
{
	size_t i;

	for (i = 0; i < N_DUMP; i++)
		sock_free(&socks[i]);
}

/* Prints the dump as asked and checks it against want. */
static void check_print(enum print_as as, bool stats, const char *want,
			const char *what)
{
	struct sock_info socks[N_DUMP];
	struct printed p;
	struct view v;
	struct json j;

	if (!tap_ok(decode_dump(socks), "sock_decode: the dump, for %s", what))
		return;
	if (view_open(&v, &j, &p, as, stats)) {
		sock_print_list(socks, N_DUMP, &v);
		view_check(&v, &p, want, what);
	}
	free_dump(socks);
}

/* ---- tests ---- */

static void test_decode(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	const struct flow_info *f;
	struct sock_info s;
	int ret;

	ret = sock_decode(sock_msg(buf, &dump[0]), &s);
	if (!tap_ok(ret == MNL_CB_OK, "sock_decode: an RDM socket with 3 flows"))
		return;
	tap_ok(s.type == SOCK_RDM && s.port == 5000 && s.inode == 4242 &&
	       s.clock == 42, "sock_decode: type, port, inode, clock");
	tap_ok(s.has_stat[LAMPORT_SOCK_STAT_RX_QUEUED] &&
	       s.stat[LAMPORT_SOCK_STAT_RX_QUEUED] == 768 &&
	       s.stat[LAMPORT_SOCK_STAT_TX_QUEUED] == 3072 &&
	       s.stat[LAMPORT_SOCK_STAT_DROP_FLOWS] == 7 &&
	       !s.has_stat[LAMPORT_SOCK_STAT_PAD],
	       "sock_decode: the socket counters, not the pads");
	f = s.flows;
	tap_ok(s.flow_count == 3 && f[0].dir == LAMPORT_FLOW_TX &&
	       f[0].node == 2 && f[0].port == 5000 &&
	       f[0].stat[LAMPORT_FLOW_STAT_CWND] == 10 &&
	       f[1].dir == LAMPORT_FLOW_RX && f[1].node == 3 &&
	       f[1].port == 49153 && f[1].stat[LAMPORT_FLOW_STAT_DELIVERED] == 41 &&
	       !f[1].has_stat[LAMPORT_FLOW_STAT_CWND] &&
	       f[2].node == 4000000000U,
	       "sock_decode: every repeated flow nest, in order");
	sock_free(&s);
	tap_ok(!s.flows && !s.flow_count, "sock_free leaves no flows");
}

static void test_decode_errors(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct sock_info s;

	nlh = kernel_msg(buf);
	mnl_attr_put_u8(nlh, LAMPORT_A_SOCK_TYPE, SOCK_DGRAM);
	mnl_attr_put_u16(nlh, LAMPORT_A_SOCK_PORT, 1);
	put_u64(nlh, LAMPORT_A_SOCK_INODE, 1, LAMPORT_A_PAD);
	errno = 0;
	tap_ok(sock_decode(nlh, &s) == MNL_CB_ERROR && errno == EPROTO,
	       "sock_decode: a socket without its clock is EPROTO");

	put_u64(nlh, LAMPORT_A_SOCK_CLOCK, 1, LAMPORT_A_PAD);
	nest = mnl_attr_nest_start(nlh, LAMPORT_A_SOCK_FLOW);
	mnl_attr_put_u8(nlh, LAMPORT_A_FLOW_DIR, LAMPORT_FLOW_TX);
	mnl_attr_put_u16(nlh, LAMPORT_A_FLOW_PORT, 1);
	mnl_attr_nest_end(nlh, nest);
	errno = 0;
	tap_ok(sock_decode(nlh, &s) == MNL_CB_ERROR && errno == EPROTO && !s.flows,
	       "sock_decode: a flow without its node is EPROTO, nothing kept");

	nlh = kernel_msg(buf);
	mnl_attr_put_u16(nlh, LAMPORT_A_SOCK_TYPE, SOCK_DGRAM);
	errno = 0;
	tap_ok(sock_decode(nlh, &s) == MNL_CB_ERROR && errno,
	       "sock_decode: a u16 type is an error");

	nlh = sock_msg(buf, &dump[1]);
	nest = mnl_attr_nest_start(nlh, LAMPORT_A_SOCK_STATS);
	mnl_attr_put_u32(nlh, LAMPORT_SOCK_STAT_RX, 1);
	mnl_attr_nest_end(nlh, nest);
	errno = 0;
	tap_ok(sock_decode(nlh, &s) == MNL_CB_ERROR && errno,
	       "sock_decode: a u32 counter where a u64 belongs is an error");

	/* Newer kernels may add attributes and counters: they are skipped. */
	nlh = sock_msg(buf, &dump[1]);
	nest = mnl_attr_nest_start(nlh, LAMPORT_A_SOCK_STATS);
	put_u64(nlh, LAMPORT_SOCK_STAT_MAX + 1, 9, LAMPORT_SOCK_STAT_PAD);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, LAMPORT_A_MAX + 1, 1);
	tap_ok(sock_decode(nlh, &s) == MNL_CB_OK && s.port == 7000 &&
	       !s.flow_count, "sock_decode skips unknown attributes and counters");
	sock_free(&s);
}

static void test_print(void)
{
	check_print(AS_TEXT, false,
		    "Type   Port      Clock   Recv-Q   Send-Q Flows\n"
		    "dgram     *          0        0        0     0\n"
		    "dgram  1024 18446744073709551615     1280        0     0\n"
		    "dgram  7000          5        0        0     0\n"
		    "rdm    5000         42      768     3072     3\n",
		    "socket show: the table, by type then port");

	check_print(AS_TEXT, true,
		    "Type   Port      Clock   Recv-Q   Send-Q Flows\n"
		    "dgram     *          0        0        0     0\n"
		    "  inode 101 tx 0 rx 0 rcvbuf 212992 sndbuf 106496 dropped: rcvbuf 0\n"
		    "dgram  1024 18446744073709551615     1280        0     0\n"
		    "  inode 99 tx 0 rx 1 rcvbuf 212992 sndbuf 106496 dropped: rcvbuf 0\n"
		    "dgram  7000          5        0        0     0\n"
		    "  inode 100 tx 2 rx 3 rcvbuf 212992 sndbuf 106496 dropped: rcvbuf 1\n"
		    "rdm    5000         42      768     3072     3\n"
		    "  inode 4242 tx 10 rx 41 rcvbuf 212992 sndbuf 106496 dropped: rcvbuf 0 flows 7\n"
		    "  tx -> node 2 port 5000  cwnd 10 ssthresh 64 rwnd 212992 srtt 210us rto 5ms"
		    " in-flight 3 queued 5 retrans 1 timeouts 2 fast 3 zero-window 4\n"
		    "  rx <- node 3 port 49153  rcv-nxt 42 ooo 1 dups 2 delivered 41 window-drops 3\n"
		    "  tx -> node 4000000000 port 1  cwnd 4 ssthresh 1024 rwnd 0 srtt none rto 1s"
		    " in-flight 1 queued 1 retrans 0 timeouts 0 fast 0 zero-window 0\n",
		    "socket show -s: counters and one line per flow");

	check_print(AS_JSON, false,
		    "[{\"type\":\"dgram\",\"port\":0,\"inode\":101,\"clock\":0,\"recv_q\":0,"
		    "\"send_q\":0,\"flows\":[]},"
		    "{\"type\":\"dgram\",\"port\":1024,\"inode\":99,\"clock\":18446744073709551615,"
		    "\"recv_q\":1280,\"send_q\":0,\"flows\":[]},"
		    "{\"type\":\"dgram\",\"port\":7000,\"inode\":100,\"clock\":5,\"recv_q\":0,"
		    "\"send_q\":0,\"flows\":[]},"
		    "{\"type\":\"rdm\",\"port\":5000,\"inode\":4242,\"clock\":42,\"recv_q\":768,"
		    "\"send_q\":3072,\"flows\":[{\"dir\":\"tx\",\"node\":2,\"port\":5000},"
		    "{\"dir\":\"rx\",\"node\":3,\"port\":49153},"
		    "{\"dir\":\"tx\",\"node\":4000000000,\"port\":1}]}]\n",
		    "socket show -j: an array, flows without counters");
}

static void test_print_json_stats(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	struct sock_info s;
	struct printed p;
	struct view v;
	struct json j;

	if (!tap_ok(sock_decode(sock_msg(buf, &dump[0]), &s) == MNL_CB_OK,
		    "sock_decode: the RDM socket for -j -s"))
		return;
	s.flow_count = 2;	/* the third flow is as the first */
	if (view_open(&v, &j, &p, AS_JSON, true)) {
		sock_print_list(&s, 1, &v);
		view_check(&v, &p,
			   "[{\"type\":\"rdm\",\"port\":5000,\"inode\":4242,\"clock\":42,"
			   "\"recv_q\":768,\"send_q\":3072,\"stats\":{\"tx\":10,\"rx\":41,"
			   "\"rx_queued\":768,\"tx_queued\":3072,\"rcvbuf\":212992,"
			   "\"sndbuf\":106496,\"drop_rcvbuf\":0,\"drop_flows\":7},"
			   "\"flows\":[{\"dir\":\"tx\",\"node\":2,\"port\":5000,\"stats\":{"
			   "\"snd_una\":38,\"snd_nxt\":43,\"queued\":5,\"in_flight\":3,"
			   "\"cwnd\":10,\"ssthresh\":64,\"rwnd\":212992,\"srtt_ns\":210000,"
			   "\"rttvar_ns\":50000,\"rto_ns\":5000000,\"retransmits\":1,"
			   "\"timeouts\":2,\"fast_retransmits\":3,\"zero_window\":4}},"
			   "{\"dir\":\"rx\",\"node\":3,\"port\":49153,\"stats\":{"
			   "\"rcv_nxt\":42,\"out_of_order\":1,\"duplicates\":2,"
			   "\"delivered\":41,\"window_drops\":3}}]}]\n",
			   "socket show -j -s: counters by their snake_case names");
	}
	s.flow_count = 3;
	sock_free(&s);
}

/* Values the UAPI may grow: printed as numbers, never lost. */
static void test_print_unknown(void)
{
	struct flow_spec odd_flow = { .dir = 7, .node = 9, .port = 9 };
	struct sock_spec odd = { 9, 1, 1, 1, SOCK_STATS(0, 0, 0, 0, 0, NO),
				 1, &odd_flow };
	alignas(8) char buf[LNL_MSG_SIZE];
	struct sock_info s;
	struct printed p;
	struct view v;
	struct json j;
	unsigned int i;

	for (i = LAMPORT_FLOW_STAT_PAD + 1; i <= LAMPORT_FLOW_STAT_MAX; i++)
		odd_flow.stat[i] = NO;
	if (!tap_ok(sock_decode(sock_msg(buf, &odd), &s) == MNL_CB_OK,
		    "sock_decode: unknown type and direction"))
		return;
	if (view_open(&v, &j, &p, AS_TEXT, true)) {
		sock_print_list(&s, 1, &v);
		view_check(&v, &p,
			   "Type   Port      Clock   Recv-Q   Send-Q Flows\n"
			   "9         1          1        0        0     1\n"
			   "  inode 1 tx 0 rx 0 rcvbuf 212992 sndbuf 106496 dropped: rcvbuf 0\n"
			   "  7 -- node 9 port 9\n",
			   "socket show -s: an unknown type and direction as numbers");
	}
	if (view_open(&v, &j, &p, AS_JSON, false)) {
		sock_print_list(&s, 0, &v);
		view_check(&v, &p, "[]\n", "socket show -j without sockets: []");
	}
	if (view_open(&v, &j, &p, AS_TEXT, false)) {
		sock_print_list(&s, 0, &v);
		view_check(&v, &p, "Type   Port      Clock   Recv-Q   Send-Q Flows\n",
			   "socket show without sockets: the header alone");
	}
	sock_free(&s);
}

int main(void)
{
	test_decode();
	test_decode_errors();
	test_print();
	test_print_json_stats();
	test_print_unknown();
	return tap_done();
}
