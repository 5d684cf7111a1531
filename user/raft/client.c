// SPDX-License-Identifier: GPL-2.0
/*
 * The Raft key-value client (client.h): one UDP socket, the nodes known
 * (those given, then the leaders they named) and the retry loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define NSEC_PER_MSEC	1000000ULL
#define MAX_HOPS	3	/* redirects in a row before a pause */
#define SENT_KEPT	64	/* the attempts whose answers count */
#define PROBE		RAFT_CLIENT_MAX_SERVERS	/* the status slot */
#define ERROR_MAX	128

struct server {
	struct raft_addr addr;
	char name[WIRE_ADDR_MAX];
};

struct attempt {
	uint64_t id;
	unsigned int server;
};

struct raft_client {
	int fd;
	int family;
	uint64_t id;
	uint64_t seq;
	uint64_t next_req;
	uint64_t first_req;	/* the current call's first request id */
	uint64_t attempt_ns;
	uint64_t deadline_ns;
	struct server servers[RAFT_CLIENT_MAX_SERVERS + 1];
	unsigned int n_given;
	unsigned int n;
	unsigned int next_extra;
	unsigned int first;	/* asked first by the next call */
	int answered;		/* -1: nobody yet */
	int refused;		/* the call's last refusal, -1: none */
	struct attempt sent[SENT_KEPT];
	struct raft_client_stats stats;
	char error[ERROR_MAX];
	uint8_t tx[WIRE_DGRAM_MAX];
	uint8_t cmd[KV_CMD_MAX];
	uint8_t rx[WIRE_DGRAM_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Early in a VM's boot getrandom() may block: the clock will do then. */
static uint64_t random_u64(void)
{
	uint64_t v, x;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == sizeof(v))
		return v;
	x = now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&v;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void server_set(struct server *s, const struct raft_addr *a)
{
	s->addr = *a;
	raft_addr_format(a, s->name, sizeof(s->name));
}

/* Where it is known, or added after the servers given (-1: no room). */
static int server_find_or_add(struct raft_client *c, const struct raft_addr *a)
{
	unsigned int i, extra = RAFT_CLIENT_MAX_SERVERS - c->n_given;

	for (i = 0; i < c->n; i++)
		if (raft_addr_equal(&c->servers[i].addr, a))
			return (int)i;
	if (!extra)
		return -1;
	if (c->n < RAFT_CLIENT_MAX_SERVERS) {
		i = c->n++;
	} else {
		i = c->n_given + c->next_extra;
		c->next_extra = (c->next_extra + 1) % extra;
	}
	server_set(&c->servers[i], a);
	return (int)i;
}

static bool all_ipv4(const struct raft_addr *addrs, int n)
{
	for (int i = 0; i < n; i++)
		if (addrs[i].sa.ss_family != AF_INET)
			return false;
	return true;
}

/* IPv4 only, or both (IPv4 as mapped addresses) when IPv6 is given. */
static int open_socket(struct raft_client *c, bool v4)
{
	int off = 0;

	c->family = v4 ? AF_INET : AF_INET6;
	c->fd = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (!v4 && setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			      sizeof(off)))
		return -errno;
	return 0;
}

void raft_client_set_timeout(struct raft_client *c, unsigned int attempt_ms,
			     unsigned int deadline_ms)
{
	c->attempt_ns = (attempt_ms ?: RAFT_CLIENT_ATTEMPT_MS) * NSEC_PER_MSEC;
	c->deadline_ns = (deadline_ms ?: RAFT_CLIENT_DEADLINE_MS) *
			 NSEC_PER_MSEC;
}

static void apply_opts(struct raft_client *c, const struct raft_client_opts *o)
{
	raft_client_set_timeout(c, o ? o->attempt_ms : 0,
				o ? o->deadline_ms : 0);
	c->id = o ? o->id : 0;
	while (!c->id)
		c->id = random_u64();
}

int raft_client_new(struct raft_client **out, const char *servers,
		    const struct raft_client_opts *opts)
{
	struct raft_addr addrs[RAFT_CLIENT_MAX_SERVERS];
	struct raft_client *c;
	char bad[WIRE_ADDR_MAX];
	const char *why;
	int n, err;

	*out = NULL;
	n = raft_addr_list_parse(servers, addrs, RAFT_CLIENT_MAX_SERVERS, bad,
				 sizeof(bad), &why);
	if (n < 0)
		return n;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		server_set(&c->servers[i], &addrs[i]);
	c->n_given = c->n = (unsigned int)n;
	c->answered = -1;
	c->next_req = random_u64();
	apply_opts(c, opts);
	err = open_socket(c, all_ipv4(addrs, n));
	if (err) {
		raft_client_free(c);
		return err;
	}
	*out = c;
	return 0;
}

void raft_client_free(struct raft_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* The destination in the socket's family; 0 when it cannot reach it. */
static socklen_t sock_addr(const struct raft_client *c,
			   const struct raft_addr *a,
			   struct sockaddr_storage *to)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)to;

	if (a->sa.ss_family == c->family) {
		memcpy(to, &a->sa, a->len);
		return a->len;
	}
	if (c->family != AF_INET6)
		return 0;
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin->sin_port;
	sin6->sin6_addr.s6_addr[10] = 0xff;
	sin6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6->sin6_addr.s6_addr[12], &sin->sin_addr, 4);
	return sizeof(*sin6);
}

static int send_request(struct raft_client *c, unsigned int server,
			uint8_t kind, const void *body, size_t len)
{
	struct wire_request req = {
		.kind = kind, .id = c->next_req, .body = body, .len = len,
	};
	struct sockaddr_storage to;
	socklen_t tolen;
	int n;

	n = wire_request_encode(&req, c->tx, sizeof(c->tx));
	if (n < 0)
		return n;
	c->next_req++;
	c->sent[req.id % SENT_KEPT] = (struct attempt){ req.id, server };
	c->stats.attempts++;
	tolen = sock_addr(c, &c->servers[server].addr, &to);
	if (!tolen || sendto(c->fd, c->tx, (size_t)n, 0,
			     (struct sockaddr *)&to, tolen) < 0) {
		c->stats.send_errors++;
		return tolen ? -errno : -EAFNOSUPPORT;
	}
	return 0;
}

static bool is_final(const struct wire_reply *r)
{
	return r->code == WIRE_DONE || r->code == WIRE_BAD_REQUEST;
}

/*
 * An answer to one of this call's requests, from where that request went.
 * Only the latest request's answer may give advice (redirect, refusal):
 * an older one's is out of date.
 */
static bool answer_of(struct raft_client *c, uint8_t kind, bool advice,
		      const struct raft_addr *src, const uint8_t *buf,
		      size_t len, struct wire_reply *out, unsigned int *from)
{
	const struct attempt *a;

	if (wire_reply_decode(out, buf, len) || out->kind != kind)
		return false;
	if (out->id - c->first_req >= c->next_req - c->first_req)
		return false;
	a = &c->sent[out->id % SENT_KEPT];
	if (a->id != out->id ||
	    !raft_addr_equal(&c->servers[a->server].addr, src))
		return false;
	if (!is_final(out) && (!advice || out->id != c->next_req - 1))
		return false;
	*from = a->server;
	return true;
}

static bool transient_error(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == EHOSTDOWN || err == ENETDOWN;
}

/* 1: an answer in out; 0: a datagram dropped; -EAGAIN: none left; -errno. */
static int receive_one(struct raft_client *c, uint8_t kind, bool advice,
		       struct wire_reply *out, uint8_t *buf, size_t size,
		       unsigned int *from)
{
	struct raft_addr src = { .len = sizeof(src.sa) };
	ssize_t n;

	n = recvfrom(c->fd, buf, size, MSG_TRUNC, (struct sockaddr *)&src.sa,
		     &src.len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -EAGAIN;
		return transient_error(errno) ? 0 : -errno;
	}
	raft_addr_canon(&src);
	if ((size_t)n <= size &&
	    answer_of(c, kind, advice, &src, buf, (size_t)n, out, from))
		return 1;
	c->stats.strays++;
	return 0;
}

/* 1: an answer in out; 0: none until 'until'; or -errno. */
static int wait_answer(struct raft_client *c, uint8_t kind, uint64_t until,
		       bool advice, struct wire_reply *out, uint8_t *buf,
		       size_t size, unsigned int *from)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct timespec ts;
	uint64_t now;
	int ret;

	for (;;) {
		ret = receive_one(c, kind, advice, out, buf, size, from);
		if (ret == 1 || (ret < 0 && ret != -EAGAIN))
			return ret;
		now = now_ns();
		if (now >= until)
			return 0;
		if (ret == -EAGAIN) {
			ts.tv_sec = (time_t)((until - now) / 1000000000ULL);
			ts.tv_nsec = (long)((until - now) % 1000000000ULL);
			if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
				return -errno;
		}
	}
}

/* One datagram and the wait for its answer: 1, 0 (none), or -errno. */
static int attempt(struct raft_client *c, unsigned int server, uint8_t kind,
		   const void *body, size_t len, uint64_t deadline,
		   struct wire_reply *out, uint8_t *buf, size_t size,
		   unsigned int *from)
{
	uint64_t until = min_u64(now_ns() + c->attempt_ns, deadline);
	int ret;

	ret = send_request(c, server, kind, body, len);
	if (ret == -EMSGSIZE)
		return ret;
	if (ret)
		return 0;
	ret = wait_answer(c, kind, until, true, out, buf, size, from);
	if (!ret)
		c->stats.timeouts++;
	return ret;
}

static void set_error(struct raft_client *c, const struct wire_reply *r)
{
	size_t len = r->len < ERROR_MAX - 1 ? r->len : ERROR_MAX - 1;

	if (r->code != WIRE_BAD_REQUEST || !len) {
		snprintf(c->error, sizeof(c->error), "%s",
			 wire_code_name(r->code));
		return;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = r->body[i];

		c->error[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	c->error[len] = '\0';
}

static int finish(struct raft_client *c, bool fixed, unsigned int from,
		  const struct wire_reply *r)
{
	if (!fixed)
		c->first = from;
	c->answered = (int)from;
	if (r->code != WIRE_DONE)
		set_error(c, r);
	return 0;
}

/* Where a refusal sends the request next: the leader it names, or -1. */
static int redirect(struct raft_client *c, const struct wire_reply *r,
		    unsigned int from)
{
	struct raft_addr a;
	const char *why;
	int i;

	if (r->code != WIRE_NOT_LEADER || !r->leader_addr[0] ||
	    raft_addr_parse(r->leader_addr, &a, &why))
		return -1;
	i = server_find_or_add(c, &a);
	return i == (int)from ? -1 : i;
}

/*
 * The retry loop; fixed: ask servers[server] only, whatever it answers.
 * After a timeout or a refusal, the pause listens for late answers too.
 */
static int call(struct raft_client *c, uint8_t kind, const void *body,
		size_t len, unsigned int server, bool fixed,
		struct wire_reply *out, uint8_t *buf, size_t size)
{
	uint64_t deadline = now_ns() + c->deadline_ns;
	uint64_t backoff = RAFT_CLIENT_BACKOFF_MIN_MS * NSEC_PER_MSEC;
	unsigned int hops = 0, from;
	int ret, next;

	c->stats.calls++;
	c->first_req = c->next_req;
	c->error[0] = '\0';
	c->refused = -1;
	while (now_ns() < deadline) {
		ret = attempt(c, server, kind, body, len, deadline, out, buf,
			      size, &from);
		if (ret < 0)
			return ret;
		if (ret && (fixed || is_final(out)))
			return finish(c, fixed, from, out);
		if (ret)
			c->refused = out->code;
		next = ret ? redirect(c, out, from) : -1;
		if (next >= 0 && hops++ < MAX_HOPS) {
			c->stats.redirects++;
			server = c->first = (unsigned int)next;
			continue;
		}
		if (ret)
			c->stats.refusals++;
		if (!fixed)
			server = c->first = (server + 1) % c->n;
		ret = wait_answer(c, kind,
				  min_u64(now_ns() + backoff, deadline), false,
				  out, buf, size, &from);
		if (ret)
			return ret < 0 ? ret : finish(c, fixed, from, out);
		backoff = min_u64(backoff * 2,
				  RAFT_CLIENT_BACKOFF_MAX_MS * NSEC_PER_MSEC);
		hops = 0;
	}
	return -ETIMEDOUT;
}

int raft_client_call(struct raft_client *c, uint8_t kind, const void *body,
		     size_t len, struct wire_reply *out, uint8_t *buf,
		     size_t size)
{
	return call(c, kind, body, len, c->first, false, out, buf, size);
}

static bool lengths_ok(size_t keylen, size_t vallen, size_t expectlen)
{
	return keylen && keylen <= KV_KEY_MAX && vallen <= KV_VALUE_MAX &&
	       expectlen <= KV_VALUE_MAX;
}

/* Encodes cmd with the next seq, sends it, reads the result. */
static int kv_call(struct raft_client *c, struct kv_cmd *cmd,
		   struct kv_result *res)
{
	struct wire_reply rep;
	int len, ret;

	cmd->client = c->id;
	cmd->seq = c->seq + 1;
	len = kv_encode(cmd, c->cmd, sizeof(c->cmd));
	if (len < 0)
		return len;
	c->seq++;
	ret = raft_client_call(c, WIRE_REQ_KV, c->cmd, (size_t)len, &rep,
			       c->rx, sizeof(c->rx));
	if (ret)
		return ret;
	if (rep.code == WIRE_BAD_REQUEST)
		return -EREMOTEIO;
	ret = kv_result_decode(res, rep.body, rep.len);
	return ret < 0 || (size_t)ret != rep.len ? -EBADMSG : 0;
}

int raft_client_get(struct raft_client *c, const void *key, size_t keylen,
		    struct kv_result *res)
{
	struct kv_cmd cmd = {
		.op = KV_GET, .key = key, .keylen = (uint16_t)keylen,
	};

	if (!lengths_ok(keylen, 0, 0))
		return -EINVAL;
	return kv_call(c, &cmd, res);
}

/* The options of a write into cmd: false when they are out of range. */
static bool write_opts(struct kv_cmd *cmd, const struct raft_client_write_opts *o)
{
	if (!o)
		return true;
	if (o->lease) {
		if (cmd->op == KV_DEL)
			return false;
		cmd->attach_lease = true;
		cmd->lease = o->lease;
	}
	if (o->fence_key) {
		if (!o->fence_keylen || o->fence_keylen > KV_KEY_MAX ||
		    !o->fence_token)
			return false;
		cmd->fenced = true;
		cmd->fence_key = o->fence_key;
		cmd->fence_keylen = (uint16_t)o->fence_keylen;
		cmd->fence_token = o->fence_token;
	}
	return true;
}

int raft_client_put_ex(struct raft_client *c, const void *key, size_t keylen,
		       const void *value, size_t vallen,
		       const struct raft_client_write_opts *opts,
		       struct kv_result *res)
{
	struct kv_cmd cmd = {
		.op = KV_PUT, .key = key, .keylen = (uint16_t)keylen,
		.value = value, .vallen = (uint16_t)vallen,
	};

	if (!lengths_ok(keylen, vallen, 0) || !write_opts(&cmd, opts))
		return -EINVAL;
	return kv_call(c, &cmd, res);
}

int raft_client_put(struct raft_client *c, const void *key, size_t keylen,
		    const void *value, size_t vallen, struct kv_result *res)
{
	return raft_client_put_ex(c, key, keylen, value, vallen, NULL, res);
}

int raft_client_del_ex(struct raft_client *c, const void *key, size_t keylen,
		       const struct raft_client_write_opts *opts,
		       struct kv_result *res)
{
	struct kv_cmd cmd = {
		.op = KV_DEL, .key = key, .keylen = (uint16_t)keylen,
	};

	if (!lengths_ok(keylen, 0, 0) || !write_opts(&cmd, opts))
		return -EINVAL;
	return kv_call(c, &cmd, res);
}

int raft_client_del(struct raft_client *c, const void *key, size_t keylen,
		    struct kv_result *res)
{
	return raft_client_del_ex(c, key, keylen, NULL, res);
}

int raft_client_cas_ex(struct raft_client *c, const void *key, size_t keylen,
		       const void *expect, size_t expectlen, const void *value,
		       size_t vallen, const struct raft_client_write_opts *opts,
		       struct kv_result *res)
{
	struct kv_cmd cmd = {
		.op = KV_CAS, .key = key, .keylen = (uint16_t)keylen,
		.value = value, .vallen = (uint16_t)vallen,
		.expect = expect, .expectlen = (uint16_t)expectlen,
		.expect_absent = !expect,
	};

	if (!expect)
		cmd.expectlen = 0;
	if (!lengths_ok(keylen, vallen, expect ? expectlen : 0) ||
	    !write_opts(&cmd, opts))
		return -EINVAL;
	return kv_call(c, &cmd, res);
}

int raft_client_cas(struct raft_client *c, const void *key, size_t keylen,
		    const void *expect, size_t expectlen, const void *value,
		    size_t vallen, struct kv_result *res)
{
	return raft_client_cas_ex(c, key, keylen, expect, expectlen, value,
				  vallen, NULL, res);
}

int raft_client_lease_grant(struct raft_client *c, uint32_t ttl_ms,
			    struct kv_result *res)
{
	struct kv_cmd cmd = { .op = KV_LEASE_GRANT, .ttl_ms = ttl_ms };
	int ret;

	if (!ttl_ms || ttl_ms > KV_TTL_MAX)
		return -EINVAL;
	ret = kv_call(c, &cmd, res);
	/* The id is the index of the grant, should a result not say. */
	if (!ret && res->status == KV_OK && !res->lease)
		res->lease = res->index;
	return ret;
}

static int lease_op(struct raft_client *c, uint8_t op, uint64_t lease,
		    struct kv_result *res)
{
	struct kv_cmd cmd = { .op = op, .lease = lease };

	if (!lease)
		return -EINVAL;
	return kv_call(c, &cmd, res);
}

int raft_client_lease_keepalive(struct raft_client *c, uint64_t lease,
				struct kv_result *res)
{
	return lease_op(c, KV_LEASE_KEEPALIVE, lease, res);
}

int raft_client_lease_revoke(struct raft_client *c, uint64_t lease,
			     struct kv_result *res)
{
	return lease_op(c, KV_LEASE_REVOKE, lease, res);
}

/* A line of text for people: printable ASCII, no newline, cut to size. */
static void copy_text(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t n = 0;

	if (!size)
		return;
	while (len && (src[len - 1] == '\n' || src[len - 1] == ' ' ||
		       src[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len && n + 1 < size; i++)
		dst[n++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] :
			   src[i] == '\n' || src[i] == '\t' ? ' ' : '?';
	dst[n] = '\0';
}

static const char *refusal_text(int code)
{
	switch (code) {
	case WIRE_NOT_LEADER:
		return "not the leader, and no leader named";
	case WIRE_NO_LEADER:
		return "no leader: an election is going on";
	case WIRE_BUSY:
		return "busy: another change or transfer is under way";
	case WIRE_RETRY:
		return "leadership changed";
	case WIRE_UNAVAILABLE:
		return "storage failed";
	default:
		return NULL;
	}
}

static int admin_error(struct raft_client *c, int err, char *msg,
		       size_t msglen)
{
	const char *last = refusal_text(c->refused);
	uint64_t ms = c->deadline_ns / NSEC_PER_MSEC;

	if (err == -ETIMEDOUT && last)
		snprintf(msg, msglen, "gave up after %" PRIu64
			 " ms, the last answer being \"%s\"", ms, last);
	else if (err == -ETIMEDOUT)
		snprintf(msg, msglen, "no answer within %" PRIu64 " ms", ms);
	else if (err == -EMSGSIZE)
		snprintf(msg, msglen, "the request is too large");
	else
		snprintf(msg, msglen, "%s", strerror(-err));
	return err;
}

int raft_client_admin(struct raft_client *c, const struct wire_admin *a,
		      char *msg, size_t msglen)
{
	struct wire_reply rep;
	uint64_t attempt_ns;
	int len, ret;

	if (msglen)
		msg[0] = '\0';
	len = wire_admin_encode(a, c->cmd, sizeof(c->cmd));
	if (len < 0) {
		snprintf(msg, msglen, "%s", len == -EINVAL ?
			 "a wrong request (operation, node id or address)" :
			 "the request is too large");
		return len;
	}
	/*
	 * The leader answers once the change is committed: a retry sent
	 * sooner would find it made, and be refused.
	 */
	attempt_ns = c->attempt_ns;
	if (c->attempt_ns < RAFT_CLIENT_ADMIN_ATTEMPT_MS * NSEC_PER_MSEC)
		c->attempt_ns = RAFT_CLIENT_ADMIN_ATTEMPT_MS * NSEC_PER_MSEC;
	ret = raft_client_call(c, WIRE_REQ_ADMIN, c->cmd, (size_t)len, &rep,
			       c->rx, sizeof(c->rx));
	c->attempt_ns = attempt_ns;
	if (ret)
		return admin_error(c, ret, msg, msglen);
	copy_text(msg, msglen, rep.body, rep.len);
	if (rep.code != WIRE_BAD_REQUEST)
		return 0;
	if (msglen && !msg[0])
		snprintf(msg, msglen, "the request was refused");
	return -EREMOTEIO;
}

int raft_client_status(struct raft_client *c, const char *addr,
		       struct wire_status *st)
{
	struct wire_reply rep;
	struct raft_addr a;
	const char *why;
	int ret;

	if (raft_addr_parse(addr, &a, &why))
		return -EINVAL;
	server_set(&c->servers[PROBE], &a);
	ret = call(c, WIRE_REQ_STATUS, NULL, 0, PROBE, true, &rep, c->rx,
		   sizeof(c->rx));
	if (ret)
		return ret;
	if (rep.code != WIRE_DONE)
		return -EREMOTEIO;
	return wire_status_decode(st, rep.body, rep.len) ? -EBADMSG : 0;
}

uint64_t raft_client_id(const struct raft_client *c)
{
	return c->id;
}

void raft_client_set_seq(struct raft_client *c, uint64_t seq)
{
	c->seq = seq - 1;
}

uint64_t raft_client_seq(const struct raft_client *c)
{
	return c->seq;
}

const char *raft_client_leader(const struct raft_client *c)
{
	return c->answered < 0 ? NULL : c->servers[c->answered].name;
}

const char *raft_client_error(const struct raft_client *c)
{
	return c->error;
}

void raft_client_get_stats(const struct raft_client *c,
			   struct raft_client_stats *st)
{
	*st = c->stats;
}
