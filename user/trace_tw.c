// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT sockets of the current netns from NETLINK_SOCK_DIAG, and the
 * counters and sysctls around them from /proc.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "trace_tw.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The kernel sizes dump skbs after the receive buffers we offer (up to
 * 32 KiB); a smaller buffer would truncate them.
 */
#define TW_RECV_SIZE	32768

struct tw_dump {
	const struct tw_filter *filter;
	struct tw_snapshot *snap;
	size_t cap;
	int err;		/* set by the callbacks, wins over errno */
};

static const uint8_t tw_v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * An AF_INET6 socket talking IPv4 (::ffff:a.b.c.d) uses the IPv4 4-tuple,
 * so compare and group it as IPv4.  Returns the family addr counts as.
 */
static uint8_t tw_norm_addr(uint8_t family, const uint8_t *addr,
			    uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET6 &&
	    !memcmp(addr, tw_v4_mapped_prefix, sizeof(tw_v4_mapped_prefix))) {
		memcpy(out, addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, addr, family == AF_INET ? 4 : 16);
	return family;
}

static bool tw_addr_equal(uint8_t fam_a, const uint8_t *a, uint8_t fam_b,
			  const uint8_t *b)
{
	uint8_t na[16], nb[16];

	return tw_norm_addr(fam_a, a, na) == tw_norm_addr(fam_b, b, nb) &&
	       !memcmp(na, nb, sizeof(na));
}

bool tw_filter_match(const struct tw_filter *f, const struct tw_entry *e)
{
	if (f->family && f->family != e->family)
		return false;
	if (f->port && f->port != e->sport && f->port != e->dport)
		return false;
	if (f->have_addr &&
	    !tw_addr_equal(f->addr_family, f->addr, e->family, e->saddr) &&
	    !tw_addr_equal(f->addr_family, f->addr, e->family, e->daddr))
		return false;
	return true;
}

static bool tw_filter_valid(const struct tw_filter *f)
{
	if (f->family && f->family != AF_INET && f->family != AF_INET6)
		return false;
	return !f->have_addr || f->addr_family == AF_INET ||
	       f->addr_family == AF_INET6;
}

static void tw_entry_from_msg(const struct inet_diag_msg *msg,
			      struct tw_entry *e)
{
	size_t len = msg->idiag_family == AF_INET ? 4 : 16;

	memset(e, 0, sizeof(*e));
	e->family = msg->idiag_family;
	memcpy(e->saddr, msg->id.idiag_src, len);
	memcpy(e->daddr, msg->id.idiag_dst, len);
	e->sport = ntohs(msg->id.idiag_sport);
	e->dport = ntohs(msg->id.idiag_dport);
	e->remaining_ms = msg->idiag_expires;
}

static int tw_append(struct tw_dump *d, const struct tw_entry *e)
{
	struct tw_snapshot *s = d->snap;
	struct tw_entry *grown;
	size_t cap;

	if (s->count == d->cap) {
		cap = d->cap ? 2 * d->cap : 64;
		grown = realloc(s->entries, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->entries = grown;
		d->cap = cap;
	}
	s->entries[s->count++] = *e;
	return 0;
}

static int tw_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *msg = mnl_nlmsg_get_payload(nlh);
	struct tw_dump *d = data;
	struct tw_entry e;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*msg)) {
		d->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (msg->idiag_state != TCP_TIME_WAIT ||
	    (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6))
		return MNL_CB_OK;

	tw_entry_from_msg(msg, &e);
	if (!tw_filter_match(d->filter, &e))
		return MNL_CB_OK;
	d->err = tw_append(d, &e);
	return d->err ? MNL_CB_ERROR : MNL_CB_OK;
}

static int tw_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *nlerr = mnl_nlmsg_get_payload(nlh);
	struct tw_dump *d = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nlerr)) {
		d->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!nlerr->error)
		return MNL_CB_STOP;
	d->err = nlerr->error < 0 ? nlerr->error : -EPROTO;
	return MNL_CB_ERROR;
}

/* A dump that fails after it started reports the error in NLMSG_DONE. */
static int tw_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tw_dump *d = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			d->err = err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int tw_send_dump(struct mnl_socket *nl, uint8_t family, uint32_t seq)
{
	union {
		char buf[MNL_NLMSG_HDRLEN +
			 MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
		struct nlmsghdr align;
	} msg;
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;

	memset(&msg, 0, sizeof(msg));
	nlh = mnl_nlmsg_put_header(msg.buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;

	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	/* Timewait sockets still in their FIN_WAIT2 substate stay out. */
	req->idiag_states = 1U << TCP_TIME_WAIT;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static int tw_recv_dump(struct mnl_socket *nl, uint32_t seq, struct tw_dump *d,
			char *buf)
{
	mnl_cb_t ctl[NLMSG_DONE + 1] = {
		[NLMSG_ERROR]	= tw_error_cb,
		[NLMSG_DONE]	= tw_done_cb,
	};
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int ret;

	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, TW_RECV_SIZE);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return -errno;
		/* libmnl itself turns NLM_F_DUMP_INTR into EINTR. */
		ret = mnl_cb_run2(buf, len, seq, portid, tw_msg_cb, d, ctl,
				  ARRAY_SIZE(ctl));
		if (ret < 0)
			return d->err ? d->err : -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int tw_dump_family(struct mnl_socket *nl, uint8_t family,
			  uint32_t seq, struct tw_dump *d, char *buf)
{
	int err;

	d->err = 0;
	err = tw_send_dump(nl, family, seq);
	if (!err)
		err = tw_recv_dump(nl, seq, d, buf);
	/* A kernel without IPv6 has no AF_INET6 handler, and no sockets. */
	if (err == -ENOENT && family == AF_INET6)
		err = 0;
	return err;
}

static struct mnl_socket *tw_diag_open(void)
{
	struct mnl_socket *nl;
	int err;

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

static int tw_dump_all(struct tw_dump *d)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct mnl_socket *nl;
	char *buf;
	size_t i;
	int err = 0;

	buf = malloc(TW_RECV_SIZE);
	if (!buf)
		return -ENOMEM;
	nl = tw_diag_open();
	if (!nl) {
		err = -errno;
		free(buf);
		return err;
	}
	for (i = 0; i < ARRAY_SIZE(families) && !err; i++) {
		if (d->filter->family && d->filter->family != families[i])
			continue;
		err = tw_dump_family(nl, families[i], i + 1, d, buf);
	}
	mnl_socket_close(nl);
	free(buf);
	return err;
}

int tw_snapshot_take(const struct tw_filter *f, struct tw_snapshot *snap)
{
	static const struct tw_filter any;
	struct tw_dump d = { .filter = f ? f : &any, .snap = snap };
	int err;

	snap->entries = NULL;
	snap->count = 0;
	if (!tw_filter_valid(d.filter))
		return -EINVAL;
	err = tw_dump_all(&d);
	if (err)
		tw_snapshot_free(snap);
	return err;
}

void tw_snapshot_free(struct tw_snapshot *snap)
{
	free(snap->entries);
	snap->entries = NULL;
	snap->count = 0;
}

static int tw_group_key_cmp(const void *pa, const void *pb)
{
	const struct tw_group *a = pa, *b = pb;
	int diff;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	diff = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (diff)
		return diff;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

static int tw_group_rank_cmp(const void *pa, const void *pb)
{
	const struct tw_group *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return tw_group_key_cmp(a, b);
}

static void tw_group_merge(struct tw_group *into, const struct tw_group *g)
{
	into->count += g->count;
	if (g->min_remaining_ms < into->min_remaining_ms)
		into->min_remaining_ms = g->min_remaining_ms;
	if (g->max_remaining_ms > into->max_remaining_ms)
		into->max_remaining_ms = g->max_remaining_ms;
}

typedef void (*tw_key_fn)(const struct tw_entry *e, struct tw_group *g);

static void tw_key_local_port(const struct tw_entry *e, struct tw_group *g)
{
	uint8_t addr[16];

	g->family = tw_norm_addr(e->family, e->saddr, addr);
	g->port = e->sport;
}

static void tw_key_remote(const struct tw_entry *e, struct tw_group *g)
{
	g->family = tw_norm_addr(e->family, e->daddr, g->addr);
	g->port = e->dport;
}

/* One group per entry, sorted by key so equal keys merge in one pass. */
static int tw_group_by(const struct tw_snapshot *s, tw_key_fn key,
		       struct tw_group **out, size_t *n)
{
	struct tw_group *g;
	size_t i, used = 0;

	*out = NULL;
	*n = 0;
	if (!s->count)
		return 0;
	g = calloc(s->count, sizeof(*g));
	if (!g)
		return -ENOMEM;

	for (i = 0; i < s->count; i++) {
		key(&s->entries[i], &g[i]);
		g[i].count = 1;
		g[i].min_remaining_ms = s->entries[i].remaining_ms;
		g[i].max_remaining_ms = s->entries[i].remaining_ms;
	}
	qsort(g, s->count, sizeof(*g), tw_group_key_cmp);
	for (i = 0; i < s->count; i++) {
		if (used && !tw_group_key_cmp(&g[used - 1], &g[i]))
			tw_group_merge(&g[used - 1], &g[i]);
		else
			g[used++] = g[i];
	}
	qsort(g, used, sizeof(*g), tw_group_rank_cmp);

	*out = g;
	*n = used;
	return 0;
}

int tw_group_by_local_port(const struct tw_snapshot *s, struct tw_group **out,
			   size_t *n)
{
	return tw_group_by(s, tw_key_local_port, out, n);
}

int tw_group_by_remote(const struct tw_snapshot *s, struct tw_group **out,
		       size_t *n)
{
	return tw_group_by(s, tw_key_remote, out, n);
}

/*
 * /proc/net follows the thread group leader's netns; thread-self follows
 * this thread's, which a setns() in a worker thread changes.
 */
static FILE *tw_open_proc_net(const char *name)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", name);
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		snprintf(path, sizeof(path), "/proc/net/%s", name);
		f = fopen(path, "re");
	}
	return f;
}

/* The n-th whitespace separated word of line: its length, 0 if none. */
static size_t tw_word(const char *line, size_t n, const char **word)
{
	const char *p = line;
	size_t len;

	for (;;) {
		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (!len || !n--)
			break;
		p += len;
	}
	*word = p;
	return len;
}

static bool tw_word_is(const char *word, size_t len, const char *name)
{
	return len == strlen(name) && !memcmp(word, name, len);
}

static int tw_word_u64(const char *word, size_t len, uint64_t *v)
{
	char *end;

	if (!len || *word == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(word, &end, 10);
	if (errno || end != word + len)
		return -EINVAL;
	return 0;
}

/* The value under column name of a header/value line pair. */
static int tw_column(const char *header, const char *values, const char *name,
		     uint64_t *v)
{
	const char *word;
	size_t i, len;

	for (i = 0; (len = tw_word(header, i, &word)); i++) {
		if (!tw_word_is(word, len, name))
			continue;
		len = tw_word(values, i, &word);
		return len ? tw_word_u64(word, len, v) : -EINVAL;
	}
	return -ENOENT;
}

static int tw_netstat_columns(const char *header, const char *values,
			      struct tw_counters *c)
{
	const struct {
		const char *name;
		uint64_t *v;
	} cols[] = {
		{ "TW",			&c->tw },
		{ "TWKilled",		&c->tw_killed },
		{ "TWRecycled",		&c->tw_recycled },
		{ "TCPTimeWaitOverflow", &c->tw_overflow },
	};
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(cols); i++) {
		err = tw_column(header, values, cols[i].name, cols[i].v);
		if (err)
			return err;
	}
	return 0;
}

static bool tw_line_is(const char *line, const char *prefix)
{
	return !strncmp(line, prefix, strlen(prefix));
}

int tw_netstat_parse(FILE *f, struct tw_counters *c)
{
	char *line = NULL, *header = NULL;
	size_t size = 0;
	int err = -ENOENT;

	while (getline(&line, &size, f) >= 0) {
		if (!tw_line_is(line, "TcpExt:"))
			continue;
		if (header) {
			err = tw_netstat_columns(header, line, c);
			break;
		}
		header = line;
		line = NULL;
		size = 0;
	}
	if (ferror(f))
		err = -EIO;
	free(header);
	free(line);
	return err;
}

int tw_sockstat_parse(FILE *f, uint64_t *tw)
{
	const char *name, *value;
	char *line = NULL;
	size_t size = 0, i, len;
	int err = -ENOENT;

	while (getline(&line, &size, f) >= 0) {
		if (!tw_line_is(line, "TCP:"))
			continue;
		/* "TCP: inuse 3 orphan 0 tw 5 ...": name/value pairs */
		for (i = 1; (len = tw_word(line, i, &name)); i += 2) {
			if (tw_word_is(name, len, "tw")) {
				len = tw_word(line, i + 1, &value);
				err = tw_word_u64(value, len, tw);
				break;
			}
		}
		break;
	}
	if (ferror(f))
		err = -EIO;
	free(line);
	return err;
}

int tw_counters_read(struct tw_counters *c)
{
	FILE *f;
	int err;

	memset(c, 0, sizeof(*c));
	f = tw_open_proc_net("netstat");
	if (!f)
		return -errno;
	err = tw_netstat_parse(f, c);
	fclose(f);
	if (err)
		return err;

	f = tw_open_proc_net("sockstat");
	if (!f)
		return -errno;
	err = tw_sockstat_parse(f, &c->sockstat_tw);
	fclose(f);
	return err;
}

int tw_port_range(uint32_t *lo, uint32_t *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	unsigned int a, b;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%u %u", &a, &b);
	fclose(f);
	if (n != 2 || a > b)
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}

bool tw_exhaustion_near(uint32_t count, uint32_t lo, uint32_t hi,
			double fraction, double *share)
{
	double size;

	if (hi < lo) {
		if (share)
			*share = 0;
		return false;
	}
	size = (double)hi - lo + 1;
	if (share)
		*share = count / size;
	return count >= fraction * size;
}
