// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the node, peer and monitor objects without a kernel: the
 * requests built from command words are taken apart again with libmnl,
 * and hand-built replies and events (u64s padded as the kernel's
 * nla_put_u64_64bit() does) are decoded and printed to memory, as text
 * and as JSON, to be compared with what the command must print.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>

#include "../lamport.h"
#include "tap.h"

#define FAKE_FAMILY	0x2a
#define MAX_WORDS	16

/* ---- helpers ---- */

static int stderr_saved = -1;
static FILE *stderr_tmp;

static void capture_stderr(void)
{
	fflush(stderr);
	stderr_tmp = tmpfile();
	if (!stderr_tmp)
		return;
	stderr_saved = dup(STDERR_FILENO);
	dup2(fileno(stderr_tmp), STDERR_FILENO);
}

/* Ends capture_stderr(): what was written, without the last newline. */
static void captured_stderr(char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	if (!stderr_tmp)
		return;
	fflush(stderr);
	dup2(stderr_saved, STDERR_FILENO);
	close(stderr_saved);
	rewind(stderr_tmp);
	len = fread(out, 1, size - 1, stderr_tmp);
	if (len && out[len - 1] == '\n')
		len--;
	out[len] = '\0';
	fclose(stderr_tmp);
	stderr_tmp = NULL;
}

/* Splits words at spaces into argv (pointing into buf); returns argc. */
static int split(const char *words, char *buf, size_t size, char **argv)
{
	char *word, *save = NULL;
	int argc = 0;

	snprintf(buf, size, "%s", words);
	for (word = strtok_r(buf, " ", &save); word && argc < MAX_WORDS;
	     word = strtok_r(NULL, " ", &save))
		argv[argc++] = word;
	argv[argc] = NULL;
	return argc;
}

/* The top-level attributes of a request, by type; false if duplicated. */
static bool collect(const struct nlmsghdr *nlh, const struct nlattr **tb,
		    int *count)
{
	const struct nlattr *attr;

	memset(tb, 0, (LAMPORT_A_MAX + 1) * sizeof(*tb));
	*count = 0;
	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type > LAMPORT_A_MAX || tb[type])
			return false;
		tb[type] = attr;
		(*count)++;
	}
	return true;
}

static bool attr_is(const struct nlattr *attr, uint16_t len, uint64_t val)
{
	if (!attr || mnl_attr_get_payload_len(attr) != len)
		return false;
	switch (len) {
	case 1:
		return mnl_attr_get_u8(attr) == val;
	case 2:
		return mnl_attr_get_u16(attr) == val;
	case 4:
		return mnl_attr_get_u32(attr) == val;
	}
	return false;
}

static bool addr_is(const struct nlattr *attr, const char *text)
{
	struct lp_addr want;

	return attr && !parse_addr(text, &want) &&
	       mnl_attr_get_payload_len(attr) == want.len &&
	       !memcmp(mnl_attr_get_payload(attr), want.bytes, want.len);
}

/* A genl message as the kernel would send it, for the decoders. */
static struct nlmsghdr *kernel_msg(void *buf, uint8_t cmd)
{
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	memset(buf, 0, LNL_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = FAKE_FAMILY;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
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

static void put_addr(struct nlmsghdr *nlh, uint16_t type, const char *text)
{
	struct lp_addr addr;

	if (!parse_addr(text, &addr))
		mnl_attr_put(nlh, type, addr.len, addr.bytes);
}

/* Runs print with a view on a memory stream; returns what it printed. */
struct printed {
	char *text;
	size_t len;
};

enum print_as { AS_TEXT, AS_JSON, AS_PRETTY };

static FILE *view_open(struct view *v, struct json *j, struct printed *p,
		       enum print_as as, bool stats)
{
	*v = (struct view){ .stats = stats };
	p->text = NULL;
	v->out = open_memstream(&p->text, &p->len);
	if (v->out && as != AS_TEXT) {
		json_init(j, v->out, as == AS_PRETTY);
		v->json = j;
	}
	return v->out;
}

/* Closes the stream; checks the text and frees it. */
static void view_check(struct view *v, struct printed *p, const char *want,
		       const char *what)
{
	bool json_ok = !v->json || json_finish(v->json) == 0;

	fclose(v->out);
	if (!tap_ok(p->text && json_ok && !strcmp(p->text, want), "%s", what))
		tap_diag("got  %s\n# want %s", p->text ? p->text : "(null)", want);
	free(p->text);
}

/* ---- node set ---- */

static int node_build(const char *words, struct nlmsghdr *nlh)
{
	char buf[256], *argv[MAX_WORDS + 1];
	struct node_req req;
	int argc, ret;

	argc = split(words, buf, sizeof(buf), argv);
	ret = node_parse_set(&req, argc, argv);
	if (!ret)
		node_put(nlh, &req);
	return ret;
}

static void test_node_set(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	struct lnl nl = { .family = FAKE_FAMILY };
	struct nlmsghdr *nlh;
	int n;

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_SET, 0);
	tap_ok(!node_build("id 7", nlh) && collect(nlh, tb, &n) && n == 1 &&
	       attr_is(tb[LAMPORT_A_NODE_ID], 4, 7),
	       "node set id 7: NODE_ID u32 7 alone");

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_SET, 0);
	tap_ok(!node_build("port 2000 addr 198.18.0.1", nlh) &&
	       collect(nlh, tb, &n) && n == 2 &&
	       attr_is(tb[LAMPORT_A_NODE_PORT], 2, 2000) &&
	       addr_is(tb[LAMPORT_A_NODE_ADDR], "198.18.0.1"),
	       "node set port 2000 addr 198.18.0.1: u16 port, 4-byte address");

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_SET, 0);
	tap_ok(!node_build("a fd00::1 i 0x10 p 1", nlh) &&
	       collect(nlh, tb, &n) && n == 3 &&
	       attr_is(tb[LAMPORT_A_NODE_ID], 4, 16) &&
	       attr_is(tb[LAMPORT_A_NODE_PORT], 2, 1) &&
	       addr_is(tb[LAMPORT_A_NODE_ADDR], "fd00::1"),
	       "node set a fd00::1 i 0x10 p 1: prefixes, 16-byte address");

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_SET, 0);
	tap_ok(!node_build("id 0", nlh) && collect(nlh, tb, &n) && n == 1 &&
	       attr_is(tb[LAMPORT_A_NODE_ID], 4, 0),
	       "node set id 0 is the kernel's to refuse");
}

struct error_case {
	uint8_t cmd;
	const char *words;
	const char *err;
};

static const struct error_case node_errors[] = {
	{ 0, "", "Error: nothing to set, try \"lamport node help\"." },
	{ 0, "id", "Error: argument \"id\" needs a value" },
	{ 0, "id 1 id 2", "Error: duplicate \"id\": \"2\" is the second value." },
	{ 0, "id 12x", "Error: argument \"12x\" is wrong: node id is not a number" },
	{ 0, "id 4294967296", "Error: argument \"4294967296\" is wrong: node id is out of range" },
	{ 0, "port", "Error: argument \"port\" needs a value" },
	{ 0, "port 0", "Error: argument \"0\" is wrong: port is out of range" },
	{ 0, "port 65536", "Error: argument \"65536\" is wrong: port is out of range" },
	{ 0, "port 1978x", "Error: argument \"1978x\" is wrong: port is not a number" },
	{ 0, "port 1 port 2", "Error: duplicate \"port\": \"2\" is the second value." },
	{ 0, "addr", "Error: argument \"addr\" needs a value" },
	{ 0, "addr 198.18.0.1:1978", "Error: argument \"198.18.0.1:1978\" is wrong: address is not an IPv4 or IPv6 address" },
	{ 0, "addr [fd00::1]", "Error: argument \"[fd00::1]\" is wrong: address is not an IPv4 or IPv6 address" },
	{ 0, "addr any", "Error: argument \"any\" is wrong: address is not an IPv4 or IPv6 address" },
	{ 0, "addr ::1 addr ::2", "Error: duplicate \"addr\": \"::2\" is the second value." },
	{ 0, "frob 1", "Error: argument \"frob\" is unknown, try \"lamport node help\"." },
};

static void test_node_errors(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lnl nl = { .family = FAKE_FAMILY };
	const struct error_case *c;
	struct nlmsghdr *nlh;
	char err[256];
	int ret;

	for (c = node_errors; c < node_errors + ARRAY_SIZE(node_errors); c++) {
		nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_SET, 0);
		capture_stderr();
		ret = node_build(c->words, nlh);
		captured_stderr(err, sizeof(err));
		if (!tap_ok(ret == -1 && !strcmp(err, c->err) &&
			    nlh->nlmsg_len == NLMSG_HDRLEN + GENL_HDRLEN,
			    "node set %s: %s", c->words, c->err))
			tap_diag("got %d \"%s\"", ret, err);
	}
}

/* ---- peer add / set / del ---- */

static int peer_build(uint8_t cmd, const char *words, struct nlmsghdr *nlh)
{
	char buf[256], *argv[MAX_WORDS + 1];
	struct peer_req req;
	int argc, ret;

	argc = split(words, buf, sizeof(buf), argv);
	ret = peer_parse(&req, cmd, argc, argv);
	if (!ret)
		peer_put(nlh, &req);
	return ret;
}

static void test_peer_add(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	struct lnl nl = { .family = FAKE_FAMILY };
	const uint8_t add = LAMPORT_CMD_PEER_ADD;
	struct nlmsghdr *nlh;
	int n;

	nlh = lnl_msg(&nl, buf, add, 0);
	tap_ok(!peer_build(add, "2 198.18.0.2", nlh) && collect(nlh, tb, &n) &&
	       n == 2 && attr_is(tb[LAMPORT_A_PEER_ID], 4, 2) &&
	       addr_is(tb[LAMPORT_A_PEER_ADDR], "198.18.0.2"),
	       "peer add 2 198.18.0.2: id and address, defaults left to the kernel");

	nlh = lnl_msg(&nl, buf, add, 0);
	tap_ok(!peer_build(add, "2 198.18.0.2:2000 interval 1.5ms mult 5 mode phi threshold 12.25",
			   nlh) &&
	       collect(nlh, tb, &n) && n == 7 &&
	       attr_is(tb[LAMPORT_A_PEER_ID], 4, 2) &&
	       addr_is(tb[LAMPORT_A_PEER_ADDR], "198.18.0.2") &&
	       attr_is(tb[LAMPORT_A_PEER_PORT], 2, 2000) &&
	       attr_is(tb[LAMPORT_A_PEER_INTERVAL_US], 4, 1500) &&
	       attr_is(tb[LAMPORT_A_PEER_MULT], 1, 5) &&
	       attr_is(tb[LAMPORT_A_PEER_MODE], 1, LAMPORT_FD_PHI) &&
	       attr_is(tb[LAMPORT_A_PEER_THRESHOLD], 4, 12250),
	       "peer add with every option: each attribute with its type");

	nlh = lnl_msg(&nl, buf, add, 0);
	tap_ok(!peer_build(add, "0x10 [fd00::2]:65535 mode fixed", nlh) &&
	       collect(nlh, tb, &n) && n == 4 &&
	       attr_is(tb[LAMPORT_A_PEER_ID], 4, 16) &&
	       addr_is(tb[LAMPORT_A_PEER_ADDR], "fd00::2") &&
	       attr_is(tb[LAMPORT_A_PEER_PORT], 2, 65535) &&
	       attr_is(tb[LAMPORT_A_PEER_MODE], 1, LAMPORT_FD_FIXED),
	       "peer add 0x10 [fd00::2]:65535 mode fixed");

	nlh = lnl_msg(&nl, buf, add, 0);
	tap_ok(!peer_build(add, "3 fd00::3 port 7 int 1s mu 255 th 100", nlh) &&
	       collect(nlh, tb, &n) && n == 6 &&
	       addr_is(tb[LAMPORT_A_PEER_ADDR], "fd00::3") &&
	       attr_is(tb[LAMPORT_A_PEER_PORT], 2, 7) &&
	       attr_is(tb[LAMPORT_A_PEER_INTERVAL_US], 4, 1000000) &&
	       attr_is(tb[LAMPORT_A_PEER_MULT], 1, 255) &&
	       attr_is(tb[LAMPORT_A_PEER_THRESHOLD], 4, 100000),
	       "peer add: bare IPv6 with a port option, prefixed keywords");

	nlh = lnl_msg(&nl, buf, add, 0);
	tap_ok(!peer_build(add, "0 198.18.0.2 interval 0 mult 0 threshold 0", nlh) &&
	       collect(nlh, tb, &n) && n == 5 &&
	       attr_is(tb[LAMPORT_A_PEER_ID], 4, 0) &&
	       attr_is(tb[LAMPORT_A_PEER_INTERVAL_US], 4, 0) &&
	       attr_is(tb[LAMPORT_A_PEER_MULT], 1, 0) &&
	       attr_is(tb[LAMPORT_A_PEER_THRESHOLD], 4, 0),
	       "peer add: values that fit go to the kernel to be judged");

	nlh = lnl_msg(&nl, buf, add, 0);
	tap_ok(!peer_build(add, "2 198.18.0.2 interval 4294.967295s", nlh) &&
	       collect(nlh, tb, &n) &&
	       attr_is(tb[LAMPORT_A_PEER_INTERVAL_US], 4, UINT32_MAX),
	       "peer add: the largest interval a u32 holds");
}

static void test_peer_set_del(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	struct lnl nl = { .family = FAKE_FAMILY };
	const uint8_t set = LAMPORT_CMD_PEER_SET;
	struct nlmsghdr *nlh;
	int n;

	nlh = lnl_msg(&nl, buf, set, 0);
	tap_ok(!peer_build(set, "2 mult 4", nlh) && collect(nlh, tb, &n) &&
	       n == 2 && attr_is(tb[LAMPORT_A_PEER_ID], 4, 2) &&
	       attr_is(tb[LAMPORT_A_PEER_MULT], 1, 4),
	       "peer set 2 mult 4: the id and the change only");

	nlh = lnl_msg(&nl, buf, set, 0);
	tap_ok(!peer_build(set, "2 addr 198.18.0.9", nlh) && collect(nlh, tb, &n) &&
	       n == 2 && addr_is(tb[LAMPORT_A_PEER_ADDR], "198.18.0.9") &&
	       !tb[LAMPORT_A_PEER_PORT],
	       "peer set 2 addr 198.18.0.9: the port stays as it is");

	nlh = lnl_msg(&nl, buf, set, 0);
	tap_ok(!peer_build(set, "2 mode phi addr [fd00::9]:9 interval 250us", nlh) &&
	       collect(nlh, tb, &n) && n == 5 &&
	       addr_is(tb[LAMPORT_A_PEER_ADDR], "fd00::9") &&
	       attr_is(tb[LAMPORT_A_PEER_PORT], 2, 9) &&
	       attr_is(tb[LAMPORT_A_PEER_MODE], 1, LAMPORT_FD_PHI) &&
	       attr_is(tb[LAMPORT_A_PEER_INTERVAL_US], 4, 250),
	       "peer set 2 mode phi addr [fd00::9]:9 interval 250us");

	nlh = lnl_msg(&nl, buf, set, 0);
	tap_ok(!peer_build(set, "2 port 2000", nlh) && collect(nlh, tb, &n) &&
	       n == 2 && attr_is(tb[LAMPORT_A_PEER_PORT], 2, 2000),
	       "peer set 2 port 2000: the port alone");
}

static const struct error_case peer_errors[] = {
	{ LAMPORT_CMD_PEER_ADD, "", "Error: argument \"ID\" is required" },
	{ LAMPORT_CMD_PEER_ADD, "2", "Error: argument \"ENDPOINT\" is required" },
	{ LAMPORT_CMD_PEER_ADD, "x 198.18.0.2", "Error: argument \"x\" is wrong: peer id is not a number" },
	{ LAMPORT_CMD_PEER_ADD, "-2 198.18.0.2", "Error: argument \"-2\" is wrong: peer id is not a number" },
	{ LAMPORT_CMD_PEER_ADD, "4294967296 198.18.0.2", "Error: argument \"4294967296\" is wrong: peer id is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2:0", "Error: argument \"198.18.0.2:0\" is wrong: port is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 [fd00::2]:65536", "Error: argument \"[fd00::2]:65536\" is wrong: port is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2:x", "Error: argument \"198.18.0.2:x\" is wrong: port is not a number" },
	{ LAMPORT_CMD_PEER_ADD, "2 node2", "Error: argument \"node2\" is wrong: address is not an IPv4 or IPv6 address" },
	{ LAMPORT_CMD_PEER_ADD, "2 interval 10ms", "Error: argument \"interval\" is wrong: address is not an IPv4 or IPv6 address" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 interval", "Error: argument \"interval\" needs a value" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 interval 10xs", "Error: argument \"10xs\" is wrong: interval is not a duration" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 interval -1ms", "Error: argument \"-1ms\" is wrong: interval is not a duration" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 interval 4295s", "Error: argument \"4295s\" is wrong: interval is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 interval 0.1us", "Error: argument \"0.1us\" is wrong: interval is not a whole number of microseconds" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 mult 256", "Error: argument \"256\" is wrong: mult is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 mult 99999999999", "Error: argument \"99999999999\" is wrong: mult is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 mult three", "Error: argument \"three\" is wrong: mult is not a number" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 mode fast", "Error: argument \"fast\" is wrong: mode is not \"fixed\" or \"phi\"" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 threshold 8.0001", "Error: argument \"8.0001\" is wrong: threshold has more than 3 decimals" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 threshold 8x", "Error: argument \"8x\" is wrong: threshold is not a number" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 threshold 5000000", "Error: argument \"5000000\" is wrong: threshold is out of range" },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 mult 3 mult 4", "Error: duplicate \"mult\": \"4\" is the second value." },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2:5 port 6", "Error: duplicate \"port\": \"6\" is the second value." },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 addr 198.18.0.3", "Error: argument \"addr\" is unknown, try \"lamport peer help\"." },
	{ LAMPORT_CMD_PEER_ADD, "2 198.18.0.2 frob 1", "Error: argument \"frob\" is unknown, try \"lamport peer help\"." },
	{ LAMPORT_CMD_PEER_SET, "", "Error: argument \"ID\" is required" },
	{ LAMPORT_CMD_PEER_SET, "2", "Error: nothing to set, try \"lamport peer help\"." },
	{ LAMPORT_CMD_PEER_SET, "2 addr", "Error: argument \"addr\" needs a value" },
	{ LAMPORT_CMD_PEER_SET, "2 addr ::1 addr ::2", "Error: duplicate \"addr\": \"::2\" is the second value." },
	{ LAMPORT_CMD_PEER_SET, "2 port 5 addr 198.18.0.2:6", "Error: duplicate \"port\": \"198.18.0.2:6\" is the second value." },
	{ LAMPORT_CMD_PEER_SET, "2 198.18.0.2", "Error: argument \"198.18.0.2\" is unknown, try \"lamport peer help\"." },
	{ LAMPORT_CMD_PEER_SET, "2 frob", "Error: argument \"frob\" is unknown, try \"lamport peer help\"." },
	{ LAMPORT_CMD_PEER_SET, "2 mode", "Error: argument \"mode\" needs a value" },
};

static void test_peer_errors(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lnl nl = { .family = FAKE_FAMILY };
	const struct error_case *c;
	struct nlmsghdr *nlh;
	char err[256];
	int ret;

	for (c = peer_errors; c < peer_errors + ARRAY_SIZE(peer_errors); c++) {
		nlh = lnl_msg(&nl, buf, c->cmd, 0);
		capture_stderr();
		ret = peer_build(c->cmd, c->words, nlh);
		captured_stderr(err, sizeof(err));
		if (!tap_ok(ret == -1 && !strcmp(err, c->err) &&
			    nlh->nlmsg_len == NLMSG_HDRLEN + GENL_HDRLEN,
			    "peer %s %s: %s",
			    c->cmd == LAMPORT_CMD_PEER_ADD ? "add" : "set",
			    c->words, c->err))
			tap_diag("got %d \"%s\"", ret, err);
	}
}

/* ---- peer replies ---- */

struct peer_spec {
	uint32_t id;
	const char *addr;
	uint16_t port;
	uint32_t interval_us;
	uint8_t mult, mode, state;
	uint32_t threshold;
	bool heard;		/* LAST_RX_AGE_NS present */
};

static const uint64_t peer_stats[LAMPORT_PEER_STAT_MAX + 1] = {
	[LAMPORT_PEER_STAT_TX]			= 100,
	[LAMPORT_PEER_STAT_RX]			= 98,
	[LAMPORT_PEER_STAT_LOST]		= 2,
	[LAMPORT_PEER_STAT_DUPLICATES]		= 1,
	[LAMPORT_PEER_STAT_REORDERED]		= 0,
	[LAMPORT_PEER_STAT_SRTT_NS]		= 210000,
	[LAMPORT_PEER_STAT_RTTVAR_NS]		= 50000,
	[LAMPORT_PEER_STAT_MIN_RTT_NS]		= 150000,
	[LAMPORT_PEER_STAT_LAST_RX_AGE_NS]	= 3200000,
	[LAMPORT_PEER_STAT_PHI_MILLI]		= 520,
	[LAMPORT_PEER_STAT_TRANSITIONS]		= 1,
	[LAMPORT_PEER_STAT_RECOVERIES]		= 0,
	[LAMPORT_PEER_STAT_STATE_AGE_NS]	= 1520000000,
	[LAMPORT_PEER_STAT_DETECT_NS]		= 30000000,
	[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US]	= 10000,
	[LAMPORT_PEER_STAT_REMOTE_MULT]		= 3,
};

/* Counters of a peer never heard from: the kernel leaves LAST_RX_AGE out. */
static const uint64_t silent_stats[LAMPORT_PEER_STAT_MAX + 1] = {
	[LAMPORT_PEER_STAT_TX]			= 5,
	[LAMPORT_PEER_STAT_STATE_AGE_NS]	= 50000000,
};

/* newer: add a counter and an attribute from a future UAPI. */
static struct nlmsghdr *peer_msg(void *buf, const struct peer_spec *s,
				 const uint64_t *stats, bool newer)
{
	struct nlmsghdr *nlh = kernel_msg(buf, LAMPORT_CMD_PEER_GET);
	struct nlattr *nest;
	int i;

	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, s->id);
	put_addr(nlh, LAMPORT_A_PEER_ADDR, s->addr);
	mnl_attr_put_u16(nlh, LAMPORT_A_PEER_PORT, s->port);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_INTERVAL_US, s->interval_us);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MULT, s->mult);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MODE, s->mode);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_THRESHOLD, s->threshold);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_STATE, s->state);
	if (!stats)
		return nlh;
	nest = mnl_attr_nest_start(nlh, LAMPORT_A_PEER_STATS);
	for (i = LAMPORT_PEER_STAT_TX; i <= LAMPORT_PEER_STAT_MAX; i++) {
		if (i == LAMPORT_PEER_STAT_LAST_RX_AGE_NS && !s->heard)
			continue;
		put_u64(nlh, i, stats[i], LAMPORT_PEER_STAT_PAD);
	}
	if (newer)
		put_u64(nlh, LAMPORT_PEER_STAT_MAX + 1, 7, LAMPORT_PEER_STAT_PAD);
	mnl_attr_nest_end(nlh, nest);
	if (newer)
		mnl_attr_put_u32(nlh, LAMPORT_A_MAX + 1, 1);
	return nlh;
}

static const struct peer_spec fixed_peer = {
	2, "198.18.0.2", 1978, 10000, 3, LAMPORT_FD_FIXED, LAMPORT_PEER_ALIVE,
	8000, true,
};

static const struct peer_spec phi_peer = {
	3, "fd00::3", 2000, 1500, 5, LAMPORT_FD_PHI, LAMPORT_PEER_UNKNOWN,
	8500, false,
};

struct print_case {
	const char *what;
	const struct peer_spec *peer;
	const uint64_t *stats;
	enum print_as as;
	bool stats_opt;
	const char *out;
};

static const struct print_case peer_prints[] = {
	{ "fixed peer, text", &fixed_peer, peer_stats, AS_TEXT, false,
	  "peer 2 addr 198.18.0.2 port 1978 state alive mode fixed interval 10ms mult 3 detect 30ms\n" },
	{ "fixed peer, text -s", &fixed_peer, peer_stats, AS_TEXT, true,
	  "peer 2 addr 198.18.0.2 port 1978 state alive mode fixed interval 10ms mult 3 detect 30ms\n"
	  "    tx 100 rx 98 lost 2 dup 1 reordered 0\n"
	  "    rtt srtt 210us rttvar 50us min 150us\n"
	  "    last-rx 3.2ms ago transitions 1 recoveries 0 in-state 1.52s remote interval 10ms mult 3\n" },
	{ "fixed peer, JSON", &fixed_peer, peer_stats, AS_JSON, false,
	  "{\"id\":2,\"addr\":\"198.18.0.2\",\"port\":1978,\"state\":\"alive\",\"mode\":\"fixed\","
	  "\"interval_us\":10000,\"mult\":3,\"threshold_milli\":8000,\"detect_ns\":30000000}\n" },
	{ "fixed peer, JSON -s", &fixed_peer, peer_stats, AS_JSON, true,
	  "{\"id\":2,\"addr\":\"198.18.0.2\",\"port\":1978,\"state\":\"alive\",\"mode\":\"fixed\","
	  "\"interval_us\":10000,\"mult\":3,\"threshold_milli\":8000,\"detect_ns\":30000000,"
	  "\"stats\":{\"tx\":100,\"rx\":98,\"lost\":2,\"duplicates\":1,\"reordered\":0,"
	  "\"srtt_ns\":210000,\"rttvar_ns\":50000,\"min_rtt_ns\":150000,\"last_rx_age_ns\":3200000,"
	  "\"phi_milli\":520,\"transitions\":1,\"recoveries\":0,\"state_age_ns\":1520000000,"
	  "\"detect_ns\":30000000,\"remote_interval_us\":10000,\"remote_mult\":3}}\n" },
	{ "phi peer never heard, text", &phi_peer, silent_stats, AS_TEXT, false,
	  "peer 3 addr fd00::3 port 2000 state unknown mode phi interval 1.5ms mult 5 detect none threshold 8.5\n" },
	{ "phi peer never heard, text -s", &phi_peer, silent_stats, AS_TEXT, true,
	  "peer 3 addr fd00::3 port 2000 state unknown mode phi interval 1.5ms mult 5 detect none threshold 8.5 phi 0\n"
	  "    tx 5 rx 0 lost 0 dup 0 reordered 0\n"
	  "    rtt none\n"
	  "    last-rx never transitions 0 recoveries 0 in-state 50ms remote unknown\n" },
	{ "phi peer never heard, JSON -s", &phi_peer, silent_stats, AS_JSON, true,
	  "{\"id\":3,\"addr\":\"fd00::3\",\"port\":2000,\"state\":\"unknown\",\"mode\":\"phi\","
	  "\"interval_us\":1500,\"mult\":5,\"threshold_milli\":8500,\"detect_ns\":0,"
	  "\"stats\":{\"tx\":5,\"rx\":0,\"lost\":0,\"duplicates\":0,\"reordered\":0,"
	  "\"srtt_ns\":0,\"rttvar_ns\":0,\"min_rtt_ns\":0,"
	  "\"phi_milli\":0,\"transitions\":0,\"recoveries\":0,\"state_age_ns\":50000000,"
	  "\"detect_ns\":0,\"remote_interval_us\":0,\"remote_mult\":0}}\n" },
	{ "peer without counters, text -s", &phi_peer, NULL, AS_TEXT, true,
	  "peer 3 addr fd00::3 port 2000 state unknown mode phi interval 1.5ms mult 5 detect none threshold 8.5\n" },
	{ "peer without counters, JSON -s", &phi_peer, NULL, AS_JSON, true,
	  "{\"id\":3,\"addr\":\"fd00::3\",\"port\":2000,\"state\":\"unknown\",\"mode\":\"phi\","
	  "\"interval_us\":1500,\"mult\":5,\"threshold_milli\":8500}\n" },
	{ "fixed peer, pretty JSON", &fixed_peer, peer_stats, AS_PRETTY, false,
	  "{\n    \"id\": 2,\n    \"addr\": \"198.18.0.2\",\n    \"port\": 1978,\n"
	  "    \"state\": \"alive\",\n    \"mode\": \"fixed\",\n    \"interval_us\": 10000,\n"
	  "    \"mult\": 3,\n    \"threshold_milli\": 8000,\n    \"detect_ns\": 30000000\n}\n" },
};

static void test_peer_print(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	const struct print_case *c;
	struct peer_info peer;
	struct printed p;
	struct view v;
	struct json j;
	int ret;

	for (c = peer_prints; c < peer_prints + ARRAY_SIZE(peer_prints); c++) {
		ret = peer_decode(peer_msg(buf, c->peer, c->stats, false), &peer);
		if (!tap_ok(ret == MNL_CB_OK, "peer_decode: %s", c->what))
			continue;
		if (!view_open(&v, &j, &p, c->as, c->stats_opt))
			continue;
		peer_print(&peer, &v);
		view_check(&v, &p, c->out, c->what);
	}
}

/* A dump arrives in the kernel's hash order: it is printed by id. */
static void test_peer_list(void)
{
	static const uint32_t ids[] = { 300, 2, 4000000000U, 17 };
	alignas(8) char buf[LNL_MSG_SIZE];
	struct peer_info peers[4];
	struct peer_spec spec = fixed_peer;
	struct printed p;
	struct view v;
	struct json j;
	unsigned int i;
	bool ok = true;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		spec.id = ids[i];
		ok &= peer_decode(peer_msg(buf, &spec, NULL, false), &peers[i]) == MNL_CB_OK;
	}
	tap_ok(ok, "peer_decode: four peers for a list");

	if (view_open(&v, &j, &p, AS_TEXT, false)) {
		peer_print_list(peers, ARRAY_SIZE(ids), true, &v);
		view_check(&v, &p,
			   "peer 2 addr 198.18.0.2 port 1978 state alive mode fixed interval 10ms mult 3 detect none\n"
			   "peer 17 addr 198.18.0.2 port 1978 state alive mode fixed interval 10ms mult 3 detect none\n"
			   "peer 300 addr 198.18.0.2 port 1978 state alive mode fixed interval 10ms mult 3 detect none\n"
			   "peer 4000000000 addr 198.18.0.2 port 1978 state alive mode fixed interval 10ms mult 3 detect none\n",
			   "peer show: the dump as text, by id");
	}
	if (view_open(&v, &j, &p, AS_JSON, false)) {
		peer_print_list(peers, 2, true, &v);
		view_check(&v, &p,
			   "[{\"id\":2,\"addr\":\"198.18.0.2\",\"port\":1978,\"state\":\"alive\","
			   "\"mode\":\"fixed\",\"interval_us\":10000,\"mult\":3,\"threshold_milli\":8000},"
			   "{\"id\":17,\"addr\":\"198.18.0.2\",\"port\":1978,\"state\":\"alive\","
			   "\"mode\":\"fixed\",\"interval_us\":10000,\"mult\":3,\"threshold_milli\":8000}]\n",
			   "peer show -j: the dump as a JSON array, by id");
	}
	if (view_open(&v, &j, &p, AS_JSON, false)) {
		peer_print_list(peers, 0, true, &v);
		view_check(&v, &p, "[]\n", "peer show -j without peers: []");
	}
	if (view_open(&v, &j, &p, AS_TEXT, false)) {
		peer_print_list(peers, 0, true, &v);
		view_check(&v, &p, "", "peer show without peers: nothing");
	}
	if (view_open(&v, &j, &p, AS_JSON, false)) {
		peer_print_list(peers, 1, false, &v);
		view_check(&v, &p,
			   "{\"id\":2,\"addr\":\"198.18.0.2\",\"port\":1978,\"state\":\"alive\","
			   "\"mode\":\"fixed\",\"interval_us\":10000,\"mult\":3,\"threshold_milli\":8000}\n",
			   "peer show ID -j: one object, no array");
	}
}

static void test_peer_decode_errors(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	struct peer_spec spec = fixed_peer;
	struct peer_info peer;
	struct nlmsghdr *nlh;
	struct nlattr *attr;
	int ret;

	/* The hand-built counters are laid out as the kernel's. */
	nlh = peer_msg(buf, &fixed_peer, peer_stats, false);
	{
		const struct nlattr *nest = NULL, *stat;
		bool aligned = true;
		int pads = 0;

		mnl_attr_for_each(attr, nlh, GENL_HDRLEN)
			if (mnl_attr_get_type(attr) == LAMPORT_A_PEER_STATS)
				nest = attr;
		if (nest) {
			mnl_attr_for_each_nested(stat, nest) {
				if (mnl_attr_get_type(stat) == LAMPORT_PEER_STAT_PAD)
					pads++;
				else if ((uintptr_t)mnl_attr_get_payload(stat) % 8)
					aligned = false;
			}
		}
		tap_ok(nest && pads > 0 && aligned,
		       "test replies: u64 counters 8-byte aligned after %d pads", pads);
	}

	/* Newer kernels may add attributes and counters: they are skipped. */
	ret = peer_decode(peer_msg(buf, &fixed_peer, peer_stats, true), &peer);
	tap_ok(ret == MNL_CB_OK && peer.id == 2 && peer.mult == 3 &&
	       peer.stat[LAMPORT_PEER_STAT_RX] == 98,
	       "peer_decode skips unknown attributes and counters");

	/* Missing a config attribute: drop the state, the last one put. */
	nlh = peer_msg(buf, &fixed_peer, NULL, false);
	nlh->nlmsg_len -= MNL_ALIGN(MNL_ATTR_HDRLEN + 1);
	errno = 0;
	ret = peer_decode(nlh, &peer);
	tap_ok(ret == MNL_CB_ERROR && errno == EPROTO,
	       "peer_decode: a peer without its state is EPROTO");

	spec.addr = "bogus";	/* no address attribute at all */
	errno = 0;
	ret = peer_decode(peer_msg(buf, &spec, NULL, false), &peer);
	tap_ok(ret == MNL_CB_ERROR && errno == EPROTO,
	       "peer_decode: a peer without an address is EPROTO");

	nlh = kernel_msg(buf, LAMPORT_CMD_PEER_GET);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, 2);
	mnl_attr_put(nlh, LAMPORT_A_PEER_ADDR, 5, "abcde");
	mnl_attr_put_u16(nlh, LAMPORT_A_PEER_PORT, 1);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_INTERVAL_US, 1);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MULT, 1);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MODE, 1);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_THRESHOLD, 1);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_STATE, 1);
	errno = 0;
	ret = peer_decode(nlh, &peer);
	tap_ok(ret == MNL_CB_ERROR && errno == EPROTO,
	       "peer_decode: a 5-byte address is EPROTO");

	nlh = peer_msg(buf, &fixed_peer, NULL, false);
	attr = mnl_attr_nest_start(nlh, LAMPORT_A_PEER_STATS);
	mnl_attr_put_u32(nlh, LAMPORT_PEER_STAT_RX, 1);
	mnl_attr_nest_end(nlh, attr);
	errno = 0;
	ret = peer_decode(nlh, &peer);
	tap_ok(ret == MNL_CB_ERROR && errno,
	       "peer_decode: a u32 counter where a u64 belongs is an error");

	nlh = kernel_msg(buf, LAMPORT_CMD_PEER_GET);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_ID, 2);
	errno = 0;
	ret = peer_decode(nlh, &peer);
	tap_ok(ret == MNL_CB_ERROR && errno,
	       "peer_decode: a u8 id is an error");
}

/* ---- node replies ---- */

struct node_case {
	const char *what;
	uint32_t id;
	uint16_t port;		/* 0: no attribute */
	const char *addr;	/* NULL: no attribute */
	bool stats;		/* a counter nest */
	enum print_as as;
	bool stats_opt;
	const char *out;
};

static const struct node_case node_prints[] = {
	{ "node without socket, text", 101, 0, NULL, false, AS_TEXT, false,
	  "node id 101\n" },
	{ "node without socket, JSON as ever", 101, 0, NULL, false, AS_JSON, false,
	  "{\"id\":101}\n" },
	{ "node without socket, JSON -s", 101, 0, NULL, false, AS_JSON, true,
	  "{\"id\":101}\n" },
	{ "node without id", 0, 0, NULL, false, AS_TEXT, false,
	  "node id 0 (unset)\n" },
	{ "node on any address, text", 7, 1978, NULL, true, AS_TEXT, false,
	  "node id 7 port 1978 addr any\n" },
	{ "node on any address, JSON", 7, 1978, NULL, true, AS_JSON, false,
	  "{\"id\":7,\"port\":1978,\"addr\":null}\n" },
	{ "node on an address, text", 7, 2000, "198.18.0.1", false, AS_TEXT, false,
	  "node id 7 port 2000 addr 198.18.0.1\n" },
	{ "node on an IPv6 address, JSON", 7, 2000, "fd00::1", false, AS_JSON, false,
	  "{\"id\":7,\"port\":2000,\"addr\":\"fd00::1\"}\n" },
	{ "node counters, text -s", 7, 1978, NULL, true, AS_TEXT, true,
	  "node id 7 port 1978 addr any\n"
	  "    rx 1002 tx 1003 tx-errors 1004\n"
	  "    dropped: short 1005 magic 1006 version 1007 type 1008 length 1009 sender 1010 addr 1011 receiver 1012 port 1013 flow 1014\n" },
	{ "node counters, JSON -s", 7, 1978, "198.18.0.1", true, AS_JSON, true,
	  "{\"id\":7,\"port\":1978,\"addr\":\"198.18.0.1\",\"stats\":{\"rx\":1002,\"tx\":1003,"
	  "\"tx_errors\":1004,\"drop_short\":1005,\"drop_magic\":1006,\"drop_version\":1007,"
	  "\"drop_type\":1008,\"drop_length\":1009,\"drop_sender\":1010,\"drop_addr\":1011,"
	  "\"drop_receiver\":1012,\"drop_port\":1013,\"drop_flow\":1014}}\n" },
};

static struct nlmsghdr *node_msg(void *buf, const struct node_case *c)
{
	struct nlmsghdr *nlh = kernel_msg(buf, LAMPORT_CMD_NODE_GET);
	struct nlattr *nest;
	int i;

	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, c->id);
	if (c->port)
		mnl_attr_put_u16(nlh, LAMPORT_A_NODE_PORT, c->port);
	if (c->addr)
		put_addr(nlh, LAMPORT_A_NODE_ADDR, c->addr);
	if (c->stats) {
		nest = mnl_attr_nest_start(nlh, LAMPORT_A_NODE_STATS);
		for (i = LAMPORT_NODE_STAT_RX; i <= LAMPORT_NODE_STAT_MAX; i++)
			put_u64(nlh, i, 1000 + i, LAMPORT_NODE_STAT_PAD);
		mnl_attr_nest_end(nlh, nest);
	}
	return nlh;
}

static void test_node_print(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	const struct node_case *c;
	struct node_info node;
	struct nlmsghdr *nlh;
	struct printed p;
	struct view v;
	struct json j;
	int ret;

	for (c = node_prints; c < node_prints + ARRAY_SIZE(node_prints); c++) {
		ret = node_decode(node_msg(buf, c), &node);
		if (!tap_ok(ret == MNL_CB_OK, "node_decode: %s", c->what))
			continue;
		if (!view_open(&v, &j, &p, c->as, c->stats_opt))
			continue;
		node_print(&node, &v);
		view_check(&v, &p, c->out, c->what);
	}

	nlh = kernel_msg(buf, LAMPORT_CMD_NODE_GET);
	mnl_attr_put_u16(nlh, LAMPORT_A_NODE_PORT, 1978);
	errno = 0;
	tap_ok(node_decode(nlh, &node) == MNL_CB_ERROR && errno == EPROTO,
	       "node_decode: a node without id is EPROTO");

	nlh = kernel_msg(buf, LAMPORT_CMD_NODE_GET);
	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 1);
	mnl_attr_put(nlh, LAMPORT_A_NODE_ADDR, 0, "");
	errno = 0;
	tap_ok(node_decode(nlh, &node) == MNL_CB_ERROR && errno == EPROTO,
	       "node_decode: an empty address is EPROTO");
}

/* ---- events ---- */

#define EV_TIME		12345678901ULL		/* 12.345678901 s */

struct event_case {
	const char *what;
	uint8_t cmd;
	bool node, old, reason, time, last_rx, detect;	/* attributes present */
	uint64_t last_rx_ns;
	enum print_as as;
	const char *out;	/* NULL: decoding fails with EPROTO */
};

static const struct event_case event_cases[] = {
	{ "death, text", LAMPORT_CMD_PEER_EVENT, true, true, true, true, true, true,
	  EV_TIME - 30200000, AS_TEXT,
	  "[12.345678901] node 1 peer 2 alive -> dead reason timeout last-rx 30.2ms before detect 30ms\n" },
	{ "death, JSON", LAMPORT_CMD_PEER_EVENT, true, true, true, true, true, true,
	  EV_TIME - 30200000, AS_JSON,
	  "{\"time_ns\":12345678901,\"node\":1,\"peer\":2,\"old\":\"alive\",\"new\":\"dead\","
	  "\"reason\":\"timeout\",\"last_rx_ns\":12315478901,\"since_last_rx_ns\":30200000,"
	  "\"detect_ns\":30000000}\n" },
	{ "never heard, text", LAMPORT_CMD_PEER_EVENT, true, true, true, true, true, true,
	  0, AS_TEXT,
	  "[12.345678901] node 1 peer 2 alive -> dead reason timeout last-rx never detect 30ms\n" },
	{ "never heard, JSON", LAMPORT_CMD_PEER_EVENT, true, true, true, true, true, true,
	  0, AS_JSON,
	  "{\"time_ns\":12345678901,\"node\":1,\"peer\":2,\"old\":\"alive\",\"new\":\"dead\","
	  "\"reason\":\"timeout\",\"last_rx_ns\":0,\"since_last_rx_ns\":null,"
	  "\"detect_ns\":30000000}\n" },
	{ "only the required attributes", LAMPORT_CMD_PEER_EVENT,
	  false, false, false, true, false, false, 0, AS_TEXT,
	  "[12.345678901] node 0 peer 2 unknown -> dead reason unspec last-rx never detect none\n" },
	{ "no time", LAMPORT_CMD_PEER_EVENT, true, true, true, false, true, true,
	  0, AS_TEXT, NULL },
	{ "not an event", LAMPORT_CMD_PEER_GET, true, true, true, true, true, true,
	  0, AS_TEXT, NULL },
};

static struct nlmsghdr *event_msg(void *buf, const struct event_case *c,
				  uint8_t new_state, uint8_t reason)
{
	struct nlmsghdr *nlh = kernel_msg(buf, c->cmd);

	if (c->node)
		mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 1);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, 2);
	if (c->old)
		mnl_attr_put_u8(nlh, LAMPORT_A_EVENT_OLD_STATE, LAMPORT_PEER_ALIVE);
	mnl_attr_put_u8(nlh, LAMPORT_A_PEER_STATE, new_state);
	if (c->reason)
		mnl_attr_put_u8(nlh, LAMPORT_A_EVENT_REASON, reason);
	if (c->time)
		put_u64(nlh, LAMPORT_A_EVENT_TIME_NS, EV_TIME, LAMPORT_A_PAD);
	if (c->last_rx)
		put_u64(nlh, LAMPORT_A_EVENT_LAST_RX_NS, c->last_rx_ns, LAMPORT_A_PAD);
	if (c->detect)
		put_u64(nlh, LAMPORT_A_EVENT_DETECT_NS, 30000000, LAMPORT_A_PAD);
	return nlh;
}

static void test_events(void)
{
	alignas(8) char buf[LNL_MSG_SIZE];
	const struct event_case *c;
	struct event_info ev;
	struct printed p;
	struct view v;
	struct json j;
	int ret;

	for (c = event_cases; c < event_cases + ARRAY_SIZE(event_cases); c++) {
		errno = 0;
		ret = event_decode(event_msg(buf, c, LAMPORT_PEER_DEAD,
					     LAMPORT_REASON_TIMEOUT), &ev);
		if (!c->out) {
			tap_ok(ret == MNL_CB_ERROR && errno == EPROTO,
			       "event_decode: %s is EPROTO", c->what);
			continue;
		}
		if (!tap_ok(ret == MNL_CB_OK, "event_decode: %s", c->what))
			continue;
		if (!view_open(&v, &j, &p, c->as, false))
			continue;
		event_print(&ev, &v);
		view_check(&v, &p, c->out, c->what);
	}

	/* A monitor prints event after event through one writer: JSON Lines. */
	c = &event_cases[1];
	if (view_open(&v, &j, &p, AS_JSON, false)) {
		event_decode(event_msg(buf, c, LAMPORT_PEER_ALIVE,
				       LAMPORT_REASON_HEARTBEAT), &ev);
		event_print(&ev, &v);
		event_decode(event_msg(buf, c, 9, 42), &ev);
		event_print(&ev, &v);
		view_check(&v, &p,
			   "{\"time_ns\":12345678901,\"node\":1,\"peer\":2,\"old\":\"alive\","
			   "\"new\":\"alive\",\"reason\":\"heartbeat\",\"last_rx_ns\":12315478901,"
			   "\"since_last_rx_ns\":30200000,\"detect_ns\":30000000}\n"
			   "{\"time_ns\":12345678901,\"node\":1,\"peer\":2,\"old\":\"alive\","
			   "\"new\":\"9\",\"reason\":\"42\",\"last_rx_ns\":12315478901,"
			   "\"since_last_rx_ns\":30200000,\"detect_ns\":30000000}\n",
			   "events as JSON Lines, unknown values as numbers");
	}
}

/* ---- the monitor loop, fed through a socketpair ---- */

struct loop_result {
	int status;		/* of waitpid() */
	char out[2048];
	char err[512];
};

static void read_all(FILE *f, char *out, size_t size)
{
	size_t len;

	rewind(f);
	len = fread(out, 1, size - 1, f);
	out[len] = '\0';
	fclose(f);
}

/*
 * Runs monitor_loop() on fd in a child, with stdout and stderr to files.
 * With sig, SIGINT and SIGTERM are blocked across the fork, and sig sent
 * at once: the child finds it pending as it starts to wait, whenever that
 * is.  An alarm ends a child that would hang.
 */
static bool run_loop(int fd, uint32_t count, bool json, int sig,
		     struct loop_result *r)
{
	FILE *out = tmpfile(), *err = tmpfile();
	sigset_t block, old;
	struct view v;
	struct json j;
	pid_t pid;

	if (!out || !err)
		return false;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(stdout);
	fflush(stderr);

	pid = fork();
	if (pid == 0) {
		alarm(10);
		dup2(fileno(out), STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		v = (struct view){ .out = stdout };
		if (json) {
			json_init(&j, stdout, false);
			v.json = &j;
		}
		_exit(monitor_loop(fd, FAKE_FAMILY, &v, count) ? 1 : 0);
	}
	if (pid > 0 && sig)
		kill(pid, sig);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0 || waitpid(pid, &r->status, 0) != pid)
		return false;
	read_all(out, r->out, sizeof(r->out));
	read_all(err, r->err, sizeof(r->err));
	return true;
}

static bool exited(const struct loop_result *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

static void loop_diag(const struct loop_result *r)
{
	tap_diag("status 0x%x, stdout \"%s\", stderr \"%s\"", r->status, r->out,
		 r->err);
}

/* Appends a hand-built event (new state: state) to the batch at buf + *len. */
static void batch_event(char *buf, size_t *len, const struct event_case *c,
			uint8_t state)
{
	alignas(8) char msg[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = event_msg(msg, c, state, LAMPORT_REASON_TIMEOUT);

	memcpy(buf + *len, nlh, nlh->nlmsg_len);
	*len += MNL_ALIGN(nlh->nlmsg_len);
}

static void test_monitor_loop(void)
{
	alignas(8) char batch[4 * LNL_MSG_SIZE];
	const char *dead = "[12.345678901] node 1 peer 2 alive -> dead reason timeout last-rx 30.2ms before detect 30ms\n";
	const char *suspect = "[12.345678901] node 1 peer 2 alive -> suspect reason timeout last-rx 30.2ms before detect 30ms\n";
	const struct event_case *full = &event_cases[0];
	const struct event_case *no_time = &event_cases[5];	/* "no time" */
	struct loop_result r;
	struct nlmsghdr *other;
	char want[512];
	size_t len;
	int sv[2];

	if (!tap_ok(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv),
		    "socketpair for the monitor loop"))
		return;

	/* A lone event, then a batch: another family, junk, two events. */
	len = 0;
	batch_event(batch, &len, full, LAMPORT_PEER_DEAD);
	if (write(sv[1], batch, len) != (ssize_t)len)
		tap_diag("short write");
	len = 0;
	other = (struct nlmsghdr *)batch;
	*other = (struct nlmsghdr){ .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP };
	len += NLMSG_HDRLEN;
	batch_event(batch, &len, no_time, LAMPORT_PEER_DEAD);
	batch_event(batch, &len, full, LAMPORT_PEER_SUSPECT);
	batch_event(batch, &len, full, LAMPORT_PEER_ALIVE);
	if (write(sv[1], batch, len) != (ssize_t)len)
		tap_diag("short write");

	snprintf(want, sizeof(want), "%s%s", dead, suspect);
	if (!tap_ok(run_loop(sv[0], 2, false, 0, &r) && exited(&r, 0) &&
		    !strcmp(r.out, want) &&
		    !strcmp(r.err, "Warning: a malformed event was skipped: Protocol error\n"),
		    "monitor count 2: two events printed, the rest of the batch left, junk warned about"))
		loop_diag(&r);

	/* The alive event left over was dropped with its batch. */
	if (!tap_ok(run_loop(sv[0], 0, false, SIGTERM, &r) && exited(&r, 0) &&
		    !r.out[0] && !r.err[0],
		    "monitor: SIGTERM while waiting ends it with status 0, printing nothing"))
		loop_diag(&r);
	if (!tap_ok(run_loop(sv[0], 0, true, SIGINT, &r) && exited(&r, 0) &&
		    !r.out[0] && !r.err[0],
		    "monitor -j: SIGINT while waiting ends it with status 0, printing nothing"))
		loop_diag(&r);

	len = 0;
	batch_event(batch, &len, full, LAMPORT_PEER_DEAD);
	if (write(sv[1], batch, len) != (ssize_t)len)
		tap_diag("short write");
	close(sv[1]);
	if (!tap_ok(run_loop(sv[0], 0, true, 0, &r) && exited(&r, 1) &&
		    !strcmp(r.out, "{\"time_ns\":12345678901,\"node\":1,\"peer\":2,"
			    "\"old\":\"alive\",\"new\":\"dead\",\"reason\":\"timeout\","
			    "\"last_rx_ns\":12315478901,\"since_last_rx_ns\":30200000,"
			    "\"detect_ns\":30000000}\n") &&
		    !strcmp(r.err, "Error: the event socket was closed\n"),
		    "monitor -j: an event as a JSON line, then the closed socket is an error"))
		loop_diag(&r);
	close(sv[0]);
}

int main(void)
{
	test_node_set();
	test_node_errors();
	test_peer_add();
	test_peer_set_del();
	test_peer_errors();
	test_peer_print();
	test_peer_list();
	test_peer_decode_errors();
	test_node_print();
	test_events();
	test_monitor_loop();
	return tap_done();
}
