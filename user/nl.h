/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink client of the "lamport" family, shared by the lamport
 * command and the kernel selftests: depends on libc and libmnl only.
 */
#ifndef LAMPORT_USER_NL_H
#define LAMPORT_USER_NL_H

#include <stdint.h>
#include <libmnl/libmnl.h>

/* A request buffer size satisfying lnl_msg(), usable for arrays. */
#define LNL_MSG_SIZE	8192

struct lnl {
	struct mnl_socket *sock;
	uint16_t family;	/* resolved genl family id of "lamport" */
	uint32_t portid;
	uint32_t seq;
	char err_msg[256];	/* extack text of the last failed request, "" if none */
	int err_off;		/* extack NLMSGERR_ATTR_OFFS of last failed request (offset from start of the request nlmsghdr), -1 if none */
	uint16_t err_attr;	/* type of the attribute found at err_off in the last request, 0 if none/unknown */
};

/*
 * Opens a NETLINK_GENERIC socket in the caller's current netns with
 * NETLINK_EXT_ACK and NETLINK_CAP_ACK enabled, and resolves the "lamport"
 * family.  Returns 0 or -errno; -ENOENT when the family does not exist
 * (module not loaded).  On failure nothing is left open and nl->sock is NULL.
 */
int lnl_open(struct lnl *nl);

/* lnl_open() for any generic netlink family, e.g. "nlctrl" in tests. */
int lnl_open_family(struct lnl *nl, const char *name);

/* Closes the socket; safe to call twice or after a failed open. */
void lnl_close(struct lnl *nl);

/*
 * Starts a request in buf (at least MNL_SOCKET_BUFFER_SIZE bytes, which
 * are zeroed): nlmsghdr (type nl->family, flags NLM_F_REQUEST | NLM_F_ACK |
 * flags, seq ++nl->seq) and genlmsghdr (cmd, LAMPORT_GENL_VERSION).  Add
 * the attributes with mnl_attr_put_*().
 */
struct nlmsghdr *lnl_msg(struct lnl *nl, void *buf, uint8_t cmd, uint16_t flags);

/*
 * Sends req and runs every reply through cb (may be NULL) with data, until
 * the kernel's ACK (or NLMSG_DONE for NLM_F_DUMP requests).  Returns 0 or a
 * negative errno: the kernel's error, a socket error, -EINTR when a dump was
 * interrupted by a concurrent change (retry it), or, when cb returns
 * MNL_CB_ERROR, -errno as set by cb (-EPROTO if it set none).  After
 * MNL_CB_STOP or MNL_CB_ERROR the remaining replies are read and dropped so
 * the socket stays in step.  On a kernel error nl->err_msg, nl->err_off and
 * nl->err_attr describe its extended ACK; they are reset on every call.
 */
int lnl_talk(struct lnl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/*
 * Returns the type of the top-level attribute of the genl request req
 * covering byte offset off (counted from the start of req, as in
 * NLMSGERR_ATTR_OFFS).  An offset inside a nested attribute yields the
 * outermost attribute holding it.  Returns 0 when no attribute covers off.
 */
uint16_t lnl_attr_at(const struct nlmsghdr *req, int off);

/*
 * Decodes ack, an NLMSG_ERROR or NLMSG_DONE message answering req: returns
 * its error (0 or -errno, -EBADMSG if malformed) and fills nl->err_* from
 * its extended ACK when the error is non-zero.  Used by lnl_talk().
 */
int lnl_parse_ack(struct lnl *nl, const struct nlmsghdr *req,
		  const struct nlmsghdr *ack);

/*
 * Collects the attributes of a genl message (or of a nested attribute) into
 * tb[0..maxtype], which is cleared first, after checking each against
 * policy[type] (MNL_TYPE_UNSPEC accepts anything).  Types above maxtype
 * are skipped, for compatibility with newer kernels.  Returns MNL_CB_OK,
 * or MNL_CB_ERROR with errno set, so a reply callback can return it as is.
 */
int lnl_parse(const struct nlmsghdr *nlh, const enum mnl_attr_data_type *policy,
	      const struct nlattr **tb, uint16_t maxtype);
int lnl_parse_nested(const struct nlattr *nest,
		     const enum mnl_attr_data_type *policy,
		     const struct nlattr **tb, uint16_t maxtype);

/*
 * Looks up the id of the multicast group name of the family nl was opened
 * for (CTRL_ATTR_MCAST_GROUPS of CTRL_CMD_GETFAMILY).  Returns 0 or
 * -errno; -ENOENT when the family has no such group.
 */
int lnl_mcast_group(struct lnl *nl, const char *name, uint32_t *id);

/*
 * Joins the multicast group name of the family (NETLINK_ADD_MEMBERSHIP):
 * its messages then arrive on nl->sock, with nlmsg_pid and nlmsg_seq 0.
 * Returns 0 or -errno, -ENOENT when the family has no such group.  A
 * socket that joined is best kept for receiving only.
 */
int lnl_join_group(struct lnl *nl, const char *name);

/* "LAMPORT_A_NODE_ID" etc.; unknown types give "attribute <n>". */
const char *lnl_attr_name(uint16_t type);

/* A peer state change, as the "events" group multicasts it. */
struct event_info {
	uint32_t node;
	uint32_t peer;
	uint8_t old_state;
	uint8_t new_state;
	uint8_t reason;
	uint64_t time_ns;
	uint64_t last_rx_ns;	/* 0: never heard */
	uint64_t detect_ns;
};

/*
 * One LAMPORT_CMD_PEER_EVENT message: MNL_CB_OK and *ev, or MNL_CB_ERROR
 * with errno EPROTO when it is not a well-formed event.
 */
int event_decode(const struct nlmsghdr *nlh, struct event_info *ev);

#endif /* LAMPORT_USER_NL_H */
