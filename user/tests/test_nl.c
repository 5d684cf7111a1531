// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of nl.c.  Request building, extended ACK decoding and offset
 * to attribute mapping run on hand-built messages; lnl_talk() runs against
 * the host kernel's "nlctrl" family, which every kernel has, and against
 * "lamport" only if the module happens to be loaded.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <linux/netlink.h>

#include "../nl.h"
#include "tap.h"

#define FAKE_FAMILY	0x2a

/* Attribute types of the hand-built request, besides LAMPORT_A_NODE_ID. */
enum {
	T_STR = 5,
	T_NEST = 6,
	T_INNER_U32 = 1,
	T_INNER_NEST = 2,
	T_DEEP_U16 = 3,
};

/* Offsets of the attributes of the hand-built request. */
struct layout {
	int node_id;
	int str;
	int str_pad;	/* the padding after the string's 6 bytes */
	int nest;
	int inner_u32;
	int deep_u16;
	int end;
};

static int offset_of(const struct nlmsghdr *nlh, const void *p)
{
	return (const char *)p - (const char *)nlh;
}

/*
 * NODE_ID u32, a "hello" string, then nest { u32, nest { u16 } }; the
 * attributes do not all exist in the UAPI, lnl_attr_at() does not care.
 */
static struct nlmsghdr *build_request(struct lnl *nl, void *buf,
				      struct layout *at)
{
	struct nlattr *nest, *inner;
	struct nlmsghdr *nlh;

	nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_SET, 0);
	at->node_id = nlh->nlmsg_len;
	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 0);
	at->str = nlh->nlmsg_len;
	at->str_pad = at->str + 4 + 6;
	mnl_attr_put_strz(nlh, T_STR, "hello");
	nest = mnl_attr_nest_start(nlh, T_NEST);
	at->nest = offset_of(nlh, nest);
	at->inner_u32 = nlh->nlmsg_len;
	mnl_attr_put_u32(nlh, T_INNER_U32, 1);
	inner = mnl_attr_nest_start(nlh, T_INNER_NEST);
	at->deep_u16 = nlh->nlmsg_len;
	mnl_attr_put_u16(nlh, T_DEEP_U16, 2);
	mnl_attr_nest_end(nlh, inner);
	mnl_attr_nest_end(nlh, nest);
	at->end = nlh->nlmsg_len;
	return nlh;
}

static void test_msg(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lnl nl = { .family = FAKE_FAMILY, .seq = 41 };
	const struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	tap_ok(LNL_MSG_SIZE >= MNL_SOCKET_BUFFER_SIZE,
	       "LNL_MSG_SIZE is at least MNL_SOCKET_BUFFER_SIZE");

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_GET, NLM_F_DUMP);
	genl = mnl_nlmsg_get_payload(nlh);
	tap_ok(nlh->nlmsg_type == FAKE_FAMILY &&
	       nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP) &&
	       nlh->nlmsg_seq == 42 && nl.seq == 42 &&
	       nlh->nlmsg_len == NLMSG_HDRLEN + GENL_HDRLEN,
	       "lnl_msg fills the netlink header");
	tap_ok(genl->cmd == LAMPORT_CMD_NODE_GET &&
	       genl->version == LAMPORT_GENL_VERSION && genl->reserved == 0,
	       "lnl_msg fills the genl header");
}

struct attr_at_case {
	const char *what;
	int off;
	uint16_t type;
};

static void test_attr_at(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lnl nl = { .family = FAKE_FAMILY };
	struct nlmsghdr *nlh;
	struct layout at;

	nlh = build_request(&nl, buf, &at);

	const struct attr_at_case cases[] = {
		{ "the start of NODE_ID", at.node_id, LAMPORT_A_NODE_ID },
		{ "the payload of NODE_ID", at.node_id + 4, LAMPORT_A_NODE_ID },
		{ "the last byte of NODE_ID", at.node_id + 7, LAMPORT_A_NODE_ID },
		{ "the string", at.str, T_STR },
		{ "the string's padding", at.str_pad, 0 },
		{ "the nest", at.nest, T_NEST },
		{ "an attribute in the nest", at.inner_u32, T_NEST },
		{ "an attribute two levels deep", at.deep_u16 + 4, T_NEST },
		{ "the netlink header", 0, 0 },
		{ "the genl header", NLMSG_HDRLEN, 0 },
		{ "a negative offset", -1, 0 },
		{ "the end of the request", at.end, 0 },
		{ "far beyond the request", 100000, 0 },
	};
	const struct attr_at_case *c;
	uint16_t type;

	for (c = cases; c < cases + sizeof(cases) / sizeof(cases[0]); c++) {
		type = lnl_attr_at(nlh, c->off);
		tap_ok(type == c->type, "lnl_attr_at: %s (offset %d) is %u, got %u",
		       c->what, c->off, c->type, type);
	}

	tap_ok(lnl_attr_at(NULL, 20) == 0, "lnl_attr_at: NULL request");

	/* A corrupt length stops the walk instead of leaving the message. */
	((struct nlattr *)(buf + at.str))->nla_len = 0xfff0;
	tap_ok(lnl_attr_at(nlh, at.node_id) == LAMPORT_A_NODE_ID &&
	       lnl_attr_at(nlh, at.str) == 0 && lnl_attr_at(nlh, at.nest) == 0,
	       "lnl_attr_at: stops at an attribute overrunning the message");

	nlh->nlmsg_len = NLMSG_HDRLEN + 2;
	tap_ok(lnl_attr_at(nlh, 0) == 0 && lnl_attr_at(nlh, NLMSG_HDRLEN) == 0,
	       "lnl_attr_at: request shorter than the genl header");
}

struct ack_spec {
	uint16_t type;		/* NLMSG_ERROR or NLMSG_DONE */
	int error;
	bool capped;
	const char *msg;	/* NULL: no NLMSGERR_ATTR_MSG */
	long long off;		/* < 0: no NLMSGERR_ATTR_OFFS */
};

static struct nlmsghdr *build_ack(void *buf, const struct nlmsghdr *req,
				  const struct ack_spec *spec)
{
	struct nlmsghdr *ack = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *nlerr;
	int *done_err;

	ack->nlmsg_type = spec->type;
	ack->nlmsg_seq = req->nlmsg_seq;
	if (spec->type == NLMSG_DONE) {
		ack->nlmsg_flags = NLM_F_MULTI;
		done_err = mnl_nlmsg_put_extra_header(ack, sizeof(*done_err));
		*done_err = spec->error;
	} else if (spec->capped) {
		ack->nlmsg_flags = NLM_F_CAPPED;
		nlerr = mnl_nlmsg_put_extra_header(ack, sizeof(*nlerr));
		nlerr->error = spec->error;
		nlerr->msg = *req;
	} else {
		nlerr = mnl_nlmsg_put_extra_header(ack, sizeof(int) + req->nlmsg_len);
		nlerr->error = spec->error;
		memcpy(&nlerr->msg, req, req->nlmsg_len);
	}

	if (spec->msg || spec->off >= 0)
		ack->nlmsg_flags |= NLM_F_ACK_TLVS;
	if (spec->msg)
		mnl_attr_put_strz(ack, NLMSGERR_ATTR_MSG, spec->msg);
	if (spec->off >= 0)
		mnl_attr_put_u32(ack, NLMSGERR_ATTR_OFFS, spec->off);
	return ack;
}

static void check_ack(struct lnl *nl, const struct nlmsghdr *req,
		      const struct ack_spec *spec, int ret, const char *msg,
		      int off, uint16_t attr, const char *what)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	const struct nlmsghdr *ack = build_ack(buf, req, spec);
	int got = lnl_parse_ack(nl, req, ack);

	if (!tap_ok(got == ret && !strcmp(nl->err_msg, msg) &&
		    nl->err_off == off && nl->err_attr == attr,
		    "lnl_parse_ack: %s", what))
		tap_diag("got %d \"%s\" off %d attr %u, want %d \"%s\" off %d attr %u",
			 got, nl->err_msg, nl->err_off, nl->err_attr,
			 ret, msg, off, attr);
}

static void test_parse_ack(void)
{
	alignas(struct nlmsghdr) char req_buf[LNL_MSG_SIZE];
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lnl nl = { .family = FAKE_FAMILY };
	const char *zero_msg = "node id must be non-zero";
	char long_msg[400], cut_msg[256];
	struct nlmsghdr *req, *ack;
	struct layout at;

	req = build_request(&nl, req_buf, &at);
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	memset(cut_msg, 'x', sizeof(cut_msg) - 1);
	cut_msg[sizeof(cut_msg) - 1] = '\0';

	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EINVAL, true, zero_msg, at.node_id },
		  -EINVAL, zero_msg, at.node_id, LAMPORT_A_NODE_ID,
		  "capped error with message and offset");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EINVAL, false, zero_msg, at.node_id },
		  -EINVAL, zero_msg, at.node_id, LAMPORT_A_NODE_ID,
		  "uncapped error: the echoed request is skipped");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -ERANGE, false, NULL, at.deep_u16 },
		  -ERANGE, "", at.deep_u16, T_NEST,
		  "offset deep in a nest maps to the outer attribute");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EPERM, true, NULL, -1 },
		  -EPERM, "", -1, 0, "error without extended ACK");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, 0, true, NULL, -1 },
		  0, "", -1, 0, "plain ACK resets the previous error");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, 0, true, "a warning", at.str },
		  0, "", -1, 0, "ACK with a warning is success");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EINVAL, true, "no offset", -1 },
		  -EINVAL, "no offset", -1, 0, "message without offset");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EINVAL, true, NULL, at.end + 8 },
		  -EINVAL, "", at.end + 8, 0, "offset outside the request");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EINVAL, true, NULL, 0xffffffffLL },
		  -EINVAL, "", -1, 0, "offset above INT_MAX is ignored");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, -EINVAL, true, long_msg, -1 },
		  -EINVAL, cut_msg, -1, 0, "overlong message is truncated");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_ERROR, EINVAL, true, NULL, -1 },
		  -EINVAL, "", -1, 0, "positive error is negated");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_DONE, 0, false, NULL, -1 },
		  0, "", -1, 0, "NLMSG_DONE ends a dump");
	check_ack(&nl, req,
		  &(struct ack_spec){ NLMSG_DONE, -EMSGSIZE, false, "dump failed", -1 },
		  -EMSGSIZE, "dump failed", -1, 0, "NLMSG_DONE carrying an error");

	ack = mnl_nlmsg_put_header(buf);
	ack->nlmsg_type = NLMSG_DONE;
	tap_ok(lnl_parse_ack(&nl, req, ack) == 0,
	       "lnl_parse_ack: empty NLMSG_DONE of old kernels");

	ack = mnl_nlmsg_put_header(buf);
	ack->nlmsg_type = NLMSG_ERROR;
	*(int *)mnl_nlmsg_put_extra_header(ack, sizeof(int)) = -EINVAL;
	tap_ok(lnl_parse_ack(&nl, req, ack) == -EBADMSG,
	       "lnl_parse_ack: truncated NLMSG_ERROR is -EBADMSG");

	ack = mnl_nlmsg_put_header(buf);
	ack->nlmsg_type = FAKE_FAMILY;
	tap_ok(lnl_parse_ack(&nl, req, ack) == -EBADMSG,
	       "lnl_parse_ack: a data message is -EBADMSG");

	ack = build_ack(buf, req, &(struct ack_spec){ NLMSG_ERROR, -EINVAL, true, NULL, -1 });
	ack->nlmsg_flags |= NLM_F_ACK_TLVS;
	mnl_attr_put(ack, NLMSGERR_ATTR_MSG, 3, "abc");
	tap_ok(lnl_parse_ack(&nl, req, ack) == -EINVAL && !strcmp(nl.err_msg, "abc"),
	       "lnl_parse_ack: message without NUL is bounded");
}

static void test_parse(void)
{
	static const enum mnl_attr_data_type policy[LAMPORT_A_MAX + 1] = {
		[LAMPORT_A_NODE_ID] = MNL_TYPE_U32,
	};
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	struct lnl nl = { .family = FAKE_FAMILY };
	struct nlmsghdr *nlh;
	int ret;

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_GET, 0);
	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 77);
	mnl_attr_put_u32(nlh, LAMPORT_A_MAX + 1, 1);
	tb[LAMPORT_A_UNSPEC] = (const struct nlattr *)buf;
	ret = lnl_parse(nlh, policy, tb, LAMPORT_A_MAX);
	tap_ok(ret == MNL_CB_OK && tb[LAMPORT_A_NODE_ID] &&
	       mnl_attr_get_u32(tb[LAMPORT_A_NODE_ID]) == 77 &&
	       !tb[LAMPORT_A_UNSPEC],
	       "lnl_parse: collects known attributes, skips newer ones");

	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_GET, 0);
	mnl_attr_put_u16(nlh, LAMPORT_A_NODE_ID, 77);
	errno = 0;
	ret = lnl_parse(nlh, policy, tb, LAMPORT_A_MAX);
	tap_ok(ret == MNL_CB_ERROR && errno,
	       "lnl_parse: a u16 where a u32 belongs is an error");
}

static void test_attr_name(void)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ LAMPORT_A_PAD,		"LAMPORT_A_PAD" },
		{ LAMPORT_A_NODE_ID,		"LAMPORT_A_NODE_ID" },
		{ LAMPORT_A_NODE_PORT,		"LAMPORT_A_NODE_PORT" },
		{ LAMPORT_A_NODE_ADDR,		"LAMPORT_A_NODE_ADDR" },
		{ LAMPORT_A_NODE_STATS,		"LAMPORT_A_NODE_STATS" },
		{ LAMPORT_A_PEER_ID,		"LAMPORT_A_PEER_ID" },
		{ LAMPORT_A_PEER_ADDR,		"LAMPORT_A_PEER_ADDR" },
		{ LAMPORT_A_PEER_PORT,		"LAMPORT_A_PEER_PORT" },
		{ LAMPORT_A_PEER_INTERVAL_US,	"LAMPORT_A_PEER_INTERVAL_US" },
		{ LAMPORT_A_PEER_MULT,		"LAMPORT_A_PEER_MULT" },
		{ LAMPORT_A_PEER_MODE,		"LAMPORT_A_PEER_MODE" },
		{ LAMPORT_A_PEER_THRESHOLD,	"LAMPORT_A_PEER_THRESHOLD" },
		{ LAMPORT_A_PEER_STATE,		"LAMPORT_A_PEER_STATE" },
		{ LAMPORT_A_PEER_STATS,		"LAMPORT_A_PEER_STATS" },
		{ LAMPORT_A_EVENT_OLD_STATE,	"LAMPORT_A_EVENT_OLD_STATE" },
		{ LAMPORT_A_EVENT_REASON,	"LAMPORT_A_EVENT_REASON" },
		{ LAMPORT_A_EVENT_TIME_NS,	"LAMPORT_A_EVENT_TIME_NS" },
		{ LAMPORT_A_EVENT_LAST_RX_NS,	"LAMPORT_A_EVENT_LAST_RX_NS" },
		{ LAMPORT_A_EVENT_DETECT_NS,	"LAMPORT_A_EVENT_DETECT_NS" },
		{ LAMPORT_A_SOCK_TYPE,		"LAMPORT_A_SOCK_TYPE" },
		{ LAMPORT_A_SOCK_PORT,		"LAMPORT_A_SOCK_PORT" },
		{ LAMPORT_A_SOCK_INODE,		"LAMPORT_A_SOCK_INODE" },
		{ LAMPORT_A_SOCK_CLOCK,		"LAMPORT_A_SOCK_CLOCK" },
		{ LAMPORT_A_SOCK_STATS,		"LAMPORT_A_SOCK_STATS" },
		{ LAMPORT_A_SOCK_FLOW,		"LAMPORT_A_SOCK_FLOW" },
		{ LAMPORT_A_FLOW_DIR,		"LAMPORT_A_FLOW_DIR" },
		{ LAMPORT_A_FLOW_NODE,		"LAMPORT_A_FLOW_NODE" },
		{ LAMPORT_A_FLOW_PORT,		"LAMPORT_A_FLOW_PORT" },
		{ LAMPORT_A_FLOW_STATS,		"LAMPORT_A_FLOW_STATS" },
	};
	char past[32];
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		tap_ok(!strcmp(lnl_attr_name(names[i].type), names[i].name),
		       "lnl_attr_name names %s", names[i].name);
	snprintf(past, sizeof(past), "attribute %d", LAMPORT_A_MAX + 1);
	tap_ok(!strcmp(lnl_attr_name(LAMPORT_A_MAX + 1), past),
	       "lnl_attr_name: the first type past the UAPI is a number");
	tap_ok(!strcmp(lnl_attr_name(999), "attribute 999"),
	       "lnl_attr_name falls back to the number");
}

/* ---- against the running kernel ---- */

struct dump_state {
	int replies;
	bool saw_nlctrl;
	int stop_after;		/* 0: never; otherwise return STOP/ERROR */
	int stop_with;
	uint16_t family;
};

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	struct dump_state *st = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_NAME:
		if (!mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) &&
		    !strcmp(mnl_attr_get_str(attr), "nlctrl"))
			st->saw_nlctrl = true;
		break;
	case CTRL_ATTR_FAMILY_ID:
		if (!mnl_attr_validate(attr, MNL_TYPE_U16))
			st->family = mnl_attr_get_u16(attr);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_state *st = data;

	st->replies++;
	mnl_attr_parse(nlh, GENL_HDRLEN, family_attr_cb, st);
	if (st->stop_after && st->replies == st->stop_after) {
		if (st->stop_with == MNL_CB_ERROR)
			errno = ENODATA;
		return st->stop_with;
	}
	return MNL_CB_OK;
}

static int get_family(struct lnl *nl, const char *name, uint16_t *family)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct dump_state st = { 0 };
	struct nlmsghdr *nlh;
	int err;

	nlh = lnl_msg(nl, buf, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	err = lnl_talk(nl, nlh, family_cb, &st);
	*family = st.family;
	return err;
}

static int dump_families(struct lnl *nl, struct dump_state *st)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];

	return lnl_talk(nl, lnl_msg(nl, buf, CTRL_CMD_GETFAMILY, NLM_F_DUMP),
			family_cb, st);
}

/*
 * The build host never has lamport.ko loaded (its kernel takes no modules):
 * the family must be reported missing, with nothing left open. The family
 * itself is exercised by the selftests in the test VMs.
 */
static void test_live_lamport_missing(void)
{
	struct lnl nl;
	int err;

	err = lnl_open(&nl);
	tap_ok(err == -ENOENT, "lnl_open without lamport.ko is -ENOENT (got %d)",
	       err);
	tap_ok(nl.sock == NULL, "lnl_open: nothing left open on failure");
	if (!err)
		lnl_close(&nl);
}

static void test_live_errors(struct lnl *nl)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	uint16_t family;
	int err, off;

	err = get_family(nl, "nlctrl", &family);
	tap_ok(err == 0 && family == GENL_ID_CTRL && nl->err_off == -1,
	       "GETFAMILY nlctrl answers id %u (err %d)", family, err);

	err = get_family(nl, "lamport-nosuch", &family);
	tap_ok(err == -ENOENT, "GETFAMILY of a missing family is -ENOENT (got %d)",
	       err);

	/* The name overruns GENL_NAMSIZ: the policy rejects it by offset. */
	nlh = lnl_msg(nl, buf, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, GENL_ID_CTRL);
	off = nlh->nlmsg_len;
	mnl_attr_put(nlh, CTRL_ATTR_FAMILY_NAME, 40,
		     "0123456789012345678901234567890123456789");
	err = lnl_talk(nl, nlh, NULL, NULL);
	if (!tap_ok(err < 0 && nl->err_msg[0] && nl->err_off == off &&
		    nl->err_attr == CTRL_ATTR_FAMILY_NAME,
		    "policy error reports its extack and attribute (capped)"))
		tap_diag("err %d \"%s\" off %d (want %d) attr %u", err,
			 nl->err_msg, nl->err_off, off, nl->err_attr);

	err = lnl_talk(nl, lnl_msg(nl, buf, CTRL_CMD_GETFAMILY, 0), NULL, NULL);
	tap_ok(nl->err_msg[0] == '\0' && nl->err_off == -1 && nl->err_attr == 0,
	       "the next request resets err_* (err %d)", err);
}

static void test_live_uncapped(struct lnl *nl)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	int zero = 0, err, off;

	if (!tap_ok(!mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &zero,
					  sizeof(zero)), "NETLINK_CAP_ACK can be cleared"))
		return;
	nlh = lnl_msg(nl, buf, CTRL_CMD_GETFAMILY, 0);
	off = nlh->nlmsg_len;
	mnl_attr_put(nlh, CTRL_ATTR_FAMILY_NAME, 40,
		     "0123456789012345678901234567890123456789");
	err = lnl_talk(nl, nlh, NULL, NULL);
	tap_ok(err < 0 && nl->err_msg[0] && nl->err_off == off &&
	       nl->err_attr == CTRL_ATTR_FAMILY_NAME,
	       "policy error reports its extack and attribute (uncapped)");
}

/* nlctrl has one multicast group, "notify", with id GENL_ID_CTRL. */
static void test_live_mcast(void)
{
	struct lnl nl;
	uint32_t id = 0;
	int err;

	if (!tap_ok(lnl_open_family(&nl, "nlctrl") == 0,
		    "lnl_open_family(nlctrl) for multicast"))
		return;

	err = lnl_mcast_group(&nl, "notify", &id);
	tap_ok(err == 0 && id == GENL_ID_CTRL,
	       "lnl_mcast_group: nlctrl \"notify\" is %u (err %d, id %u)",
	       GENL_ID_CTRL, err, id);

	id = 77;
	err = lnl_mcast_group(&nl, "nosuch", &id);
	tap_ok(err == -ENOENT && id == 77,
	       "lnl_mcast_group: a missing group is -ENOENT (got %d)", err);
	err = lnl_mcast_group(&nl, "notif", &id);
	tap_ok(err == -ENOENT, "lnl_mcast_group: names are not prefixes (got %d)",
	       err);

	err = lnl_join_group(&nl, "nosuch");
	tap_ok(err == -ENOENT, "lnl_join_group: a missing group is -ENOENT (got %d)",
	       err);
	err = lnl_join_group(&nl, "notify");
	tap_ok(err == 0, "lnl_join_group: joins nlctrl \"notify\" (err %d)", err);
	lnl_close(&nl);
}

static void test_live_dumps(struct lnl *nl)
{
	struct dump_state st = { 0 };
	uint16_t family;
	int err;

	err = dump_families(nl, &st);
	tap_ok(err == 0 && st.replies > 1 && st.saw_nlctrl,
	       "dump of all families: %d replies incl. nlctrl (err %d)",
	       st.replies, err);

	st = (struct dump_state){ .stop_after = 1, .stop_with = MNL_CB_STOP };
	err = dump_families(nl, &st);
	tap_ok(err == 0 && st.replies == 1,
	       "MNL_CB_STOP ends the callbacks (err %d, %d replies)", err,
	       st.replies);

	st = (struct dump_state){ .stop_after = 2, .stop_with = MNL_CB_ERROR };
	err = dump_families(nl, &st);
	tap_ok(err == -ENODATA && st.replies == 2,
	       "MNL_CB_ERROR returns the callback's errno (err %d)", err);

	err = get_family(nl, "nlctrl", &family);
	tap_ok(err == 0 && family == GENL_ID_CTRL,
	       "the socket is still in step after abandoned dumps");
}

static void test_live(void)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lnl nl;
	int err;

	err = lnl_open_family(&nl, "nlctrl");
	if (!tap_ok(err == 0 && nl.family == GENL_ID_CTRL && nl.portid,
		    "lnl_open_family(nlctrl) (err %d)", err))
		return;

	test_live_errors(&nl);
	test_live_dumps(&nl);
	test_live_uncapped(&nl);

	lnl_close(&nl);
	lnl_close(&nl);
	tap_ok(nl.sock == NULL, "lnl_close twice is harmless");
	tap_ok(lnl_talk(&nl, lnl_msg(&nl, buf, CTRL_CMD_GETFAMILY, 0),
			NULL, NULL) == -ENOTCONN,
	       "lnl_talk on a closed lnl is -ENOTCONN");

	test_live_mcast();
	test_live_lamport_missing();
}

int main(void)
{
	test_msg();
	test_attr_at();
	test_parse_ack();
	test_parse();
	test_attr_name();
	test_live();
	return tap_done();
}
