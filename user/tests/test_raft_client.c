// SPDX-License-Identifier: GPL-2.0
/*
 * raft/client.c and raft/workload.c against fake nodes: UDP sockets on
 * 127.0.0.1 (and ::1 when there is IPv6) served by a thread that answers
 * by script.  Redirects followed, refusals and silence leading to the next
 * node, retries keeping the operation's sequence number under new request
 * ids, stray and garbled datagrams ignored, late answers taken, the
 * deadline kept; and a workload against a fake leader applying commands to
 * a real kv store while dropping datagrams, with its history checked.
 * Changes of the cluster (add, remove, transfer) sent to the leader, busy
 * answers retried, refusals told; leases and fenced writes against a real
 * kv store.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "raft/client.h"
#include "raft/workload.h"
#include "tap.h"

#define MAX_FAKES	3
#define MAX_SEEN	4096
#define MS		1000000ULL

struct seen {
	unsigned int node;
	uint8_t kind;
	uint64_t id;
	bool has_cmd;
	uint8_t op;
	uint64_t client;
	uint64_t seq;
	bool expect_absent;
	uint16_t expectlen;
	bool has_admin;
	struct wire_admin admin;
};

struct fake;
typedef void (*script_fn)(struct fake *f, unsigned int node,
			  const struct wire_request *req,
			  const struct raft_addr *from);

struct fake {
	int fd[MAX_FAKES];
	char addr[MAX_FAKES][WIRE_ADDR_MAX];
	unsigned int n;
	pthread_t thread;
	atomic_bool stop;
	script_fn script;
	pthread_mutex_t lock;
	struct seen seen[MAX_SEEN];
	unsigned int n_seen;
	atomic_uint per_node[MAX_FAKES];
	/* What scripts take; the tests change them as the fakes run. */
	atomic_uint code;
	atomic_uint drop_pct;
	uint64_t rng;
	struct kv *kv;
	uint64_t index;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
}

static uint64_t fake_random(struct fake *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

static void record(struct fake *f, unsigned int node,
		   const struct wire_request *req)
{
	struct seen s = { .node = node, .kind = req->kind, .id = req->id };
	struct kv_cmd cmd;

	if (req->kind == WIRE_REQ_KV && !kv_decode(&cmd, req->body, req->len)) {
		s.has_cmd = true;
		s.op = cmd.op;
		s.client = cmd.client;
		s.seq = cmd.seq;
		s.expect_absent = cmd.expect_absent;
		s.expectlen = cmd.expectlen;
	}
	if (req->kind == WIRE_REQ_ADMIN)
		s.has_admin = !wire_admin_decode(&s.admin, req->body, req->len);
	pthread_mutex_lock(&f->lock);
	if (f->n_seen < MAX_SEEN)
		f->seen[f->n_seen++] = s;
	atomic_fetch_add(&f->per_node[node], 1);
	pthread_mutex_unlock(&f->lock);
}

static void fake_receive(struct fake *f, unsigned int node)
{
	struct raft_addr from = { .len = sizeof(from.sa) };
	uint8_t buf[WIRE_DGRAM_MAX];
	struct wire_request req;
	ssize_t n;

	n = recvfrom(f->fd[node], buf, sizeof(buf), 0,
		     (struct sockaddr *)&from.sa, &from.len);
	if (n < 0 || wire_request_decode(&req, buf, (size_t)n))
		return;
	record(f, node, &req);
	if (f->script)
		f->script(f, node, &req, &from);
}

static void *fake_main(void *arg)
{
	struct pollfd pfd[MAX_FAKES];
	struct fake *f = arg;

	while (!atomic_load(&f->stop)) {
		for (unsigned int i = 0; i < f->n; i++)
			pfd[i] = (struct pollfd){ .fd = f->fd[i],
						  .events = POLLIN };
		if (poll(pfd, f->n, 10) <= 0)
			continue;
		for (unsigned int i = 0; i < f->n; i++)
			if (pfd[i].revents & POLLIN)
				fake_receive(f, i);
	}
	return NULL;
}

/* A socket on the loopback address of family, its address in text. */
static int fake_socket(int family, char *text)
{
	struct raft_addr a = { .len = sizeof(a.sa) };
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.sa;
	struct sockaddr_in *sin = (struct sockaddr_in *)&a.sa;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a.sa, 0, sizeof(a.sa));
	a.sa.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		sin6->sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&a.sa, family == AF_INET ?
		 sizeof(*sin) : sizeof(*sin6)) ||
	    getsockname(fd, (struct sockaddr *)&a.sa, &a.len)) {
		close(fd);
		return -1;
	}
	raft_addr_format(&a, text, WIRE_ADDR_MAX);
	return fd;
}

/* n fakes, IPv4 but for those families[] says; -1 when one cannot be. */
static int fake_start(struct fake *f, unsigned int n, const int *families,
		      script_fn script, struct kv *kv)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->script = script;
	f->kv = kv;
	f->rng = 0x853c49e6748fea9bULL;
	for (f->n = 0; f->n < n; f->n++) {
		f->fd[f->n] = fake_socket(families ? families[f->n] : AF_INET,
					  f->addr[f->n]);
		if (f->fd[f->n] < 0)
			goto fail;
	}
	if (!pthread_create(&f->thread, NULL, fake_main, f))
		return 0;
fail:
	while (f->n)
		close(f->fd[--f->n]);
	return -1;
}

static void fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	for (unsigned int i = 0; i < f->n; i++)
		close(f->fd[i]);
	kv_free(f->kv);
	pthread_mutex_destroy(&f->lock);
}

/* A snapshot of what the fakes received. */
static unsigned int fake_seen(struct fake *f, struct seen *out)
{
	unsigned int n;

	pthread_mutex_lock(&f->lock);
	n = f->n_seen;
	memcpy(out, f->seen, n * sizeof(*out));
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void fake_clear(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->n_seen = 0;
	for (unsigned int i = 0; i < MAX_FAKES; i++)
		atomic_store(&f->per_node[i], 0);
	pthread_mutex_unlock(&f->lock);
}

/* "127.0.0.1:P0,127.0.0.1:P1" of the fakes named in order. */
static void fake_list(const struct fake *f, const char *order, char *buf,
		      size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const char *p = order; *p; p++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					p == order ? "" : ",",
					f->addr[*p - '0']);
}

static void send_raw(struct fake *f, unsigned int node,
		     const struct raft_addr *to, const void *buf, size_t len)
{
	sendto(f->fd[node], buf, len, 0, (const struct sockaddr *)&to->sa,
	       to->len);
}

static void send_reply(struct fake *f, unsigned int node,
		       const struct raft_addr *to, const struct wire_reply *r)
{
	uint8_t buf[WIRE_DGRAM_MAX];
	int len = wire_reply_encode(r, buf, sizeof(buf));

	if (len > 0)
		send_raw(f, node, to, buf, (size_t)len);
}

static void answer_code(struct fake *f, unsigned int node,
			const struct raft_addr *to,
			const struct wire_request *req, uint8_t code,
			const char *leader_addr)
{
	struct wire_reply r = {
		.kind = req->kind, .code = code, .id = req->id,
	};

	snprintf(r.leader_addr, sizeof(r.leader_addr), "%s", leader_addr);
	send_reply(f, node, to, &r);
}

/* WIRE_DONE with an ok result holding value, revision 7. */
static void answer_value(struct fake *f, unsigned int node,
			 const struct raft_addr *to, uint8_t kind, uint64_t id,
			 const char *value)
{
	struct kv_result res = {
		.status = KV_OK, .revision = 7, .index = 7,
		.has_value = true, .vallen = (uint16_t)strlen(value),
	};
	struct wire_reply r = { .kind = kind, .code = WIRE_DONE, .id = id };
	uint8_t body[KV_RESULT_MAX];
	int len;

	memcpy(res.value, value, res.vallen);
	len = kv_result_encode(&res, body, sizeof(body));
	r.body = body;
	r.len = (size_t)len;
	send_reply(f, node, to, &r);
}

static int new_client(struct raft_client **c, const char *list,
		      unsigned int attempt_ms, unsigned int deadline_ms)
{
	struct raft_client_opts o = {
		.attempt_ms = attempt_ms, .deadline_ms = deadline_ms,
	};

	return raft_client_new(c, list, &o);
}

static bool result_value(const struct kv_result *r, const char *value)
{
	return r->status == KV_OK && r->has_value &&
	       r->vallen == strlen(value) &&
	       !memcmp(r->value, value, r->vallen);
}

static void test_addr(void)
{
	static const char *const good[][2] = {
		{ "198.18.0.1:7001", "198.18.0.1:7001" },
		{ ":7001", "127.0.0.1:7001" },
		{ "[fd00::1]:1", "[fd00::1]:1" },
		{ "[::ffff:198.18.0.2]:65535", "198.18.0.2:65535" },
	};
	static const char *const bad[] = {
		"", "198.18.0.1", "198.18.0.1:", "198.18.0.1:0",
		"198.18.0.1:65536", "198.18.0.1:7x", "198.18.0.1:-1",
		"198.18.0:7001", "host:7001", "fd00::1:7001", "[fd00::1]",
		"[fd00::1", "[fd00::1]x7001", "[198.18.0.1]:7001", ":",
		"198.18.0.1:99999999999999999999",
	};
	struct raft_addr a, b, list[RAFT_CLIENT_MAX_SERVERS];
	char text[WIRE_ADDR_MAX], item[WIRE_ADDR_MAX], many[1024];
	size_t wrong = 0;
	const char *why;
	int ret;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		text[0] = '\0';
		if (!raft_addr_parse(good[i][0], &a, &why))
			raft_addr_format(&a, text, sizeof(text));
		wrong += strcmp(text, good[i][1]) != 0;
	}
	tap_ok(!wrong, "addresses parse and format back");
	wrong = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		wrong += raft_addr_parse(bad[i], &a, &why) != -EINVAL || !why;
	}
	tap_ok(!wrong, "wrong addresses refused, saying why");
	raft_addr_parse("127.0.0.1:5", &a, &why);
	raft_addr_parse(":5", &b, &why);
	tap_ok(raft_addr_equal(&a, &b), ":5 is 127.0.0.1:5");
	raft_addr_parse("127.0.0.1:6", &b, &why);
	tap_ok(!raft_addr_equal(&a, &b), "another port, another address");

	tap_ok(raft_addr_list_parse(":1,[::1]:2,198.18.0.3:3", list, 16, item,
				    sizeof(item), &why) == 3,
	       "a list of three");
	tap_ok(raft_addr_list_parse(":1,,:2", list, 16, item, sizeof(item),
				    &why) == -EINVAL && !item[0],
	       "an empty item refused");
	ret = raft_addr_list_parse(":1,:x", list, 16, item, sizeof(item), &why);
	tap_ok(ret == -EINVAL && !strcmp(item, ":x"),
	       "the wrong item named: %s (%s)", item, why);
	many[0] = '\0';
	for (int i = 1; i <= RAFT_CLIENT_MAX_SERVERS + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%s:%d", i > 1 ? "," : "", i);
	tap_ok(raft_addr_list_parse(many, list, RAFT_CLIENT_MAX_SERVERS, item,
				    sizeof(item), &why) == -E2BIG,
	       "more than RAFT_CLIENT_MAX_SERVERS: -E2BIG");
}

static void test_ids(void)
{
	struct raft_client *a, *b;
	struct raft_client_opts o = { .id = 42 };

	if (raft_client_new(&a, ":7", NULL) ||
	    raft_client_new(&b, ":7", NULL)) {
		tap_ok(false, "clients created");
		return;
	}
	tap_ok(raft_client_id(a) && raft_client_id(b) &&
	       raft_client_id(a) != raft_client_id(b),
	       "random client ids, not 0, differ");
	tap_ok(!raft_client_seq(a) && !raft_client_leader(a) &&
	       !raft_client_error(a)[0],
	       "a new client: seq 0, no leader, no error");
	raft_client_free(b);
	tap_ok(!raft_client_new(&b, ":7", &o) && raft_client_id(b) == 42,
	       "an id given is kept");
	raft_client_free(a);
	raft_client_free(b);
	tap_ok(raft_client_new(&a, ":7,", NULL) == -EINVAL && !a,
	       "a wrong list: -EINVAL, no client");
}

/* Node 0 names node 1 the leader; node 1 answers. */
static void script_redirect(struct fake *f, unsigned int node,
			    const struct wire_request *req,
			    const struct raft_addr *from)
{
	if (node == 0)
		answer_code(f, node, from, req, WIRE_NOT_LEADER,
			    f->addr[atomic_load(&f->code)]);
	else
		answer_value(f, node, from, req->kind, req->id, "v1");
}

static void test_redirect(void)
{
	struct seen s[MAX_SEEN];
	struct raft_client *c;
	struct kv_result res;
	char list[256];
	struct fake f;
	unsigned int n;
	uint64_t seq;

	if (fake_start(&f, 3, NULL, script_redirect, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	atomic_store(&f.code, 1);
	fake_list(&f, "01", list, sizeof(list));
	new_client(&c, list, 200, 2000);
	tap_ok(!raft_client_put(c, "k", 1, "v", 1, &res) &&
	       result_value(&res, "v1"), "NOT_LEADER naming node 1: answered");
	n = fake_seen(&f, s);
	tap_ok(n == 2 && s[0].node == 0 && s[1].node == 1 &&
	       s[0].has_cmd && s[1].has_cmd && s[0].seq == s[1].seq &&
	       s[0].seq == raft_client_seq(c) && s[0].id != s[1].id &&
	       s[0].client == raft_client_id(c) && s[0].op == KV_PUT,
	       "node 0 then node 1, one seq, two request ids");
	tap_ok(raft_client_leader(c) &&
	       !strcmp(raft_client_leader(c), f.addr[1]),
	       "the leader is node 1 (%s)", raft_client_leader(c));
	fake_clear(&f);
	seq = raft_client_seq(c);
	tap_ok(!raft_client_get(c, "k", 1, &res), "a second operation");
	n = fake_seen(&f, s);
	tap_ok(n == 1 && s[0].node == 1 && s[0].seq == seq + 1 &&
	       s[0].op == KV_GET,
	       "goes straight to the leader, with the next seq");
	raft_client_free(c);

	/* A leader not in the list. */
	atomic_store(&f.code, 2);
	fake_clear(&f);
	fake_list(&f, "0", list, sizeof(list));
	new_client(&c, list, 200, 2000);
	tap_ok(!raft_client_del(c, "k", 1, &res) && result_value(&res, "v1"),
	       "a leader not in the list: followed");
	n = fake_seen(&f, s);
	tap_ok(n == 2 && s[1].node == 2 && s[0].seq == s[1].seq,
	       "node 0 then node 2, one seq");
	raft_client_free(c);
	fake_stop(&f);
}

/* Node 0 refuses with f->code at first, then answers. */
static void script_refuse_once(struct fake *f, unsigned int node,
			       const struct wire_request *req,
			       const struct raft_addr *from)
{
	if (atomic_load(&f->per_node[node]) == 1 && node == 0)
		answer_code(f, node, from, req,
			    (uint8_t)atomic_load(&f->code), "");
	else
		answer_value(f, node, from, req->kind, req->id, "v2");
}

static void test_refusals(void)
{
	static const uint8_t codes[] = {
		WIRE_NOT_LEADER, WIRE_NO_LEADER, WIRE_BUSY, WIRE_RETRY,
		WIRE_UNAVAILABLE,
	};
	struct seen s[MAX_SEEN];
	struct raft_client *c;
	struct kv_result res;
	uint64_t start, took;
	char list[256];
	struct fake f;
	unsigned int n;
	int ret;

	if (fake_start(&f, 2, NULL, script_refuse_once, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	for (size_t i = 0; i < sizeof(codes); i++) {
		atomic_store(&f.code, codes[i]);
		fake_clear(&f);
		fake_list(&f, "0", list, sizeof(list));
		new_client(&c, list, 200, 2000);
		start = now_ns();
		ret = raft_client_put(c, "k", 1, "v", 1, &res);
		took = now_ns() - start;
		n = fake_seen(&f, s);
		tap_ok(!ret && result_value(&res, "v2") && n == 2 &&
		       s[0].seq == s[1].seq && s[0].id != s[1].id &&
		       took >= 10 * MS && took < 500 * MS,
		       "%s (no leader named), then an answer: asked "
		       "again after %.1f ms, same seq",
		       wire_code_name(codes[i]), took / 1e6);
		raft_client_free(c);

		fake_clear(&f);
		fake_list(&f, "01", list, sizeof(list));
		new_client(&c, list, 200, 2000);
		ret = raft_client_put(c, "k", 1, "v", 1, &res);
		n = fake_seen(&f, s);
		tap_ok(!ret && n == 2 && s[0].node == 0 && s[1].node == 1,
		       "%s: the next node asked", wire_code_name(codes[i]));
		raft_client_free(c);
	}
	fake_stop(&f);
}

/* Node 0 drops the first request it gets, answers the others. */
static void script_drop_first(struct fake *f, unsigned int node,
			      const struct wire_request *req,
			      const struct raft_addr *from)
{
	if (atomic_load(&f->per_node[node]) > 1)
		answer_value(f, node, from, req->kind, req->id, "v3");
}

static void test_drop(void)
{
	struct seen s[MAX_SEEN];
	struct raft_client *c;
	struct kv_result res;
	struct raft_client_stats st;
	uint64_t start, took;
	char list[256];
	struct fake f;
	unsigned int n;
	int ret;

	if (fake_start(&f, 1, NULL, script_drop_first, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "0", list, sizeof(list));
	new_client(&c, list, 50, 2000);
	start = now_ns();
	ret = raft_client_cas(c, "k", 1, "old", 3, "new", 3, &res);
	took = now_ns() - start;
	n = fake_seen(&f, s);
	tap_ok(!ret && result_value(&res, "v3"), "a dropped request: answered");
	tap_ok(n == 2 && s[0].has_cmd && s[1].has_cmd && s[0].seq == s[1].seq &&
	       s[0].client == s[1].client && s[0].id != s[1].id,
	       "the retry carries the same seq %llu, a new request id",
	       (unsigned long long)s[0].seq);
	tap_ok(took >= 50 * MS && took < 1000 * MS,
	       "retried after the attempt timeout (%.1f ms)", took / 1e6);
	raft_client_get_stats(c, &st);
	tap_ok(st.calls == 1 && st.attempts == 2 && st.timeouts == 1,
	       "stats: 1 call, 2 attempts, 1 timeout");
	tap_ok(!s[0].expect_absent && s[0].expectlen == 3 && s[0].op == KV_CAS,
	       "a cas carries what it expects");
	raft_client_cas(c, "k", 1, NULL, 0, "new", 3, &res);
	raft_client_cas(c, "k", 1, "", 0, "new", 3, &res);
	n = fake_seen(&f, s);
	tap_ok(n == 4 && s[2].expect_absent && !s[3].expect_absent &&
	       !s[3].expectlen && s[3].seq == s[2].seq + 1,
	       "expect NULL is absent, \"\" is the empty value");
	raft_client_free(c);
	fake_stop(&f);
}

/*
 * Before the answer: one from another node with the right id, one with
 * another id, garbage, a cut reply, a reply of another kind.
 */
static void script_strays(struct fake *f, unsigned int node,
			  const struct wire_request *req,
			  const struct raft_addr *from)
{
	struct wire_reply r = { .kind = req->kind, .id = req->id };
	uint8_t junk[64], buf[WIRE_DGRAM_MAX];
	int len;

	answer_value(f, 1, from, req->kind, req->id, "from node 1");
	answer_value(f, node, from, req->kind, req->id + 1, "other id");
	answer_value(f, node, from, req->kind, req->id - 1, "earlier id");
	answer_value(f, node, from, WIRE_REQ_STATUS, req->id, "other kind");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)fake_random(f);
	send_raw(f, node, from, junk, sizeof(junk));
	len = wire_reply_encode(&r, buf, sizeof(buf));
	send_raw(f, node, from, buf, (size_t)len - 1);
	send_raw(f, node, from, buf, 0);
	sleep_ms(20);
	answer_value(f, node, from, req->kind, req->id, "right");
}

static void test_strays(void)
{
	struct raft_client_stats st;
	struct raft_client *c;
	struct kv_result res;
	char list[256];
	struct fake f;
	int ret;

	if (fake_start(&f, 2, NULL, script_strays, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "0", list, sizeof(list));
	new_client(&c, list, 500, 2000);
	ret = raft_client_get(c, "k", 1, &res);
	tap_ok(!ret && result_value(&res, "right"),
	       "stray, garbled and foreign datagrams dropped, the answer "
	       "taken");
	raft_client_get_stats(c, &st);
	tap_ok(st.strays == 7 && st.attempts == 1,
	       "7 datagrams dropped (%llu), 1 attempt",
	       (unsigned long long)st.strays);
	raft_client_free(c);
	fake_stop(&f);
}

/* Garbage for every request. */
static void script_garbage(struct fake *f, unsigned int node,
			   const struct wire_request *req,
			   const struct raft_addr *from)
{
	struct wire_reply r = { .kind = req->kind, .id = req->id,
				.code = WIRE_DONE };
	uint8_t buf[WIRE_DGRAM_MAX];
	int len = wire_reply_encode(&r, buf, sizeof(buf));

	buf[0] ^= 0xff;
	send_raw(f, node, from, buf, (size_t)len);
	send_raw(f, node, from, "garbage", 7);
}

static void test_deadline(void)
{
	struct seen s[MAX_SEEN];
	struct raft_client *c;
	struct kv_result res;
	uint64_t start, took;
	unsigned int n, per[2] = { 0 };
	char list[256];
	struct fake f;
	bool same = true;
	int ret;

	if (fake_start(&f, 2, NULL, NULL, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "01", list, sizeof(list));
	new_client(&c, list, 50, 300);
	start = now_ns();
	ret = raft_client_put(c, "k", 1, "v", 1, &res);
	took = now_ns() - start;
	tap_ok(ret == -ETIMEDOUT, "silent nodes: -ETIMEDOUT (%d)", ret);
	tap_ok(took >= 300 * MS && took < 700 * MS,
	       "after the 300 ms deadline (%.1f ms)", took / 1e6);
	n = fake_seen(&f, s);
	for (unsigned int i = 0; i < n; i++) {
		per[s[i].node]++;
		same &= s[i].seq == s[0].seq && (!i || s[i].id != s[i - 1].id);
	}
	tap_ok(n >= 3 && per[0] && per[1] && same,
	       "%u attempts on both nodes in turn, all with one seq", n);
	raft_client_free(c);
	fake_stop(&f);

	if (fake_start(&f, 1, NULL, script_garbage, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "0", list, sizeof(list));
	new_client(&c, list, 50, 200);
	tap_ok(raft_client_get(c, "k", 1, &res) == -ETIMEDOUT,
	       "nothing but garbage: -ETIMEDOUT");
	raft_client_free(c);
	fake_stop(&f);
}

/* Node 0 answers its first request after 80 ms; node 1 is silent. */
static void script_late(struct fake *f, unsigned int node,
			const struct wire_request *req,
			const struct raft_addr *from)
{
	if (node || atomic_load(&f->per_node[0]) > 1)
		return;
	sleep_ms(80);
	answer_value(f, node, from, req->kind, req->id, "late");
}

static void test_late(void)
{
	struct raft_client *c;
	struct kv_result res;
	char list[256];
	struct fake f;

	if (fake_start(&f, 2, NULL, script_late, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "01", list, sizeof(list));
	new_client(&c, list, 30, 1000);
	tap_ok(!raft_client_put(c, "k", 1, "v", 1, &res) &&
	       result_value(&res, "late") &&
	       !strcmp(raft_client_leader(c), f.addr[0]),
	       "the late answer to an earlier attempt counts");
	raft_client_free(c);
	fake_stop(&f);
}

/* Nodes naming each other (f->code 1) or themselves (0) the leader. */
static void script_loop(struct fake *f, unsigned int node,
			const struct wire_request *req,
			const struct raft_addr *from)
{
	unsigned int named = atomic_load(&f->code) ? !node : node;

	answer_code(f, node, from, req, WIRE_NOT_LEADER, f->addr[named]);
}

static void test_redirect_loops(void)
{
	struct raft_client *c;
	struct kv_result res;
	char list[256];
	struct fake f;
	unsigned int n;

	if (fake_start(&f, 2, NULL, script_loop, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "01", list, sizeof(list));
	for (uint8_t ping_pong = 0; ping_pong <= 1; ping_pong++) {
		atomic_store(&f.code, ping_pong);
		fake_clear(&f);
		new_client(&c, list, 100, 300);
		tap_ok(raft_client_get(c, "k", 1, &res) == -ETIMEDOUT,
		       "%s: -ETIMEDOUT",
		       ping_pong ? "two nodes naming each other" :
				   "nodes naming themselves");
		pthread_mutex_lock(&f.lock);
		n = f.n_seen;
		pthread_mutex_unlock(&f.lock);
		tap_ok(n >= 4 && n < 60, "with pauses: %u requests in 300 ms",
		       n);
		raft_client_free(c);
	}
	fake_stop(&f);
}

static void script_bad_request(struct fake *f, unsigned int node,
			       const struct wire_request *req,
			       const struct raft_addr *from)
{
	struct wire_reply r = {
		.kind = req->kind, .code = WIRE_BAD_REQUEST, .id = req->id,
		.body = (const uint8_t *)"key\ttoo long", .len = 12,
	};

	send_reply(f, node, from, &r);
}

static void test_bad_request(void)
{
	struct raft_client *c;
	struct kv_result res;
	struct wire_reply rep;
	uint8_t buf[WIRE_DGRAM_MAX];
	char list[256];
	struct fake f;

	if (fake_start(&f, 1, NULL, script_bad_request, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "0", list, sizeof(list));
	new_client(&c, list, 100, 1000);
	tap_ok(raft_client_put(c, "k", 1, "v", 1, &res) == -EREMOTEIO &&
	       !strcmp(raft_client_error(c), "key?too long"),
	       "BAD_REQUEST: -EREMOTEIO, its text (%s)", raft_client_error(c));
	tap_ok(!raft_client_call(c, WIRE_REQ_KV, "x", 1, &rep, buf,
				 sizeof(buf)) &&
	       rep.code == WIRE_BAD_REQUEST && rep.len == 12 &&
	       rep.body >= buf && rep.body < buf + sizeof(buf),
	       "raft_client_call(): BAD_REQUEST is an answer, its body in buf");
	tap_ok(raft_client_put(c, "", 0, "v", 1, &res) == -EINVAL &&
	       raft_client_get(c, "k", KV_KEY_MAX + 1, &res) == -EINVAL &&
	       raft_client_put(c, "k", 1, "v", KV_VALUE_MAX + 1, &res) ==
	       -EINVAL,
	       "keys and values out of range: -EINVAL, nothing sent");
	raft_client_free(c);
	fake_stop(&f);
}

/* Node 0 answers with a status, node 1 with NOT_LEADER naming node 0. */
static void script_status(struct fake *f, unsigned int node,
			  const struct wire_request *req,
			  const struct raft_addr *from)
{
	struct wire_status st = {
		.raft = { .id = 1, .role = RAFT_LEADER, .term = 3, .leader = 1,
			  .commit = 120, .last_index = 120, .n_peers = 1,
			  .snap_index = 100, .snap_term = 2, .voter = true,
			  .peers = { { .id = 2, .match = 119, .next = 121,
				       .active = true, .snapshot = true,
				       .snap_offset = 2048 } } },
		.applied = 120, .clock = 4567, .transport = WIRE_TRANSPORT_UDP,
		.kv_keys = 10, .kv_digest = 0xabc, .kv_leases = 2, .hints = true,
		.members = { .n = 2, .m = {
			{ .id = 1, .voter = true, .addr = "198.18.0.1:7000" },
			{ .id = 2, .addr = "198.18.0.2:7000" } } },
	};
	struct wire_reply r = { .kind = req->kind, .id = req->id };
	uint8_t body[WIRE_DGRAM_MAX];

	if (node) {
		answer_code(f, node, from, req, WIRE_NOT_LEADER, f->addr[0]);
		return;
	}
	r.body = body;
	r.len = (size_t)wire_status_encode(&st, body, sizeof(body));
	send_reply(f, node, from, &r);
}

static void test_status(void)
{
	struct seen s[MAX_SEEN];
	struct raft_client *c;
	struct wire_status st;
	char list[256];
	struct fake f;
	unsigned int n;

	if (fake_start(&f, 2, NULL, script_status, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "01", list, sizeof(list));
	new_client(&c, list, 100, 300);
	tap_ok(!raft_client_status(c, f.addr[0], &st) && st.raft.id == 1 &&
	       st.raft.role == RAFT_LEADER && st.raft.n_peers == 1 &&
	       st.raft.peers[0].match == 119 && st.clock == 4567 &&
	       st.kv_digest == 0xabc, "status of node 0");
	tap_ok(st.raft.snap_index == 100 && st.raft.voter && st.hints &&
	       st.kv_leases == 2 && st.raft.peers[0].snapshot &&
	       st.raft.peers[0].snap_offset == 2048 && st.members.n == 2 &&
	       st.members.m[0].voter && !st.members.m[1].voter &&
	       !strcmp(st.members.m[1].addr, "198.18.0.2:7000"),
	       "with its snapshot, leases, hints and members");
	fake_clear(&f);
	tap_ok(raft_client_status(c, f.addr[1], &st) == -EREMOTEIO &&
	       !strcmp(raft_client_error(c), "not the leader"),
	       "node 1 answering NOT_LEADER: -EREMOTEIO, %s",
	       raft_client_error(c));
	n = fake_seen(&f, s);
	tap_ok(n == 1 && s[0].node == 1 && s[0].kind == WIRE_REQ_STATUS,
	       "no redirect: node 1 only");
	tap_ok(raft_client_status(c, "nowhere", &st) == -EINVAL,
	       "a wrong address: -EINVAL");
	raft_client_free(c);
	fake_stop(&f);
}

/*
 * Node 0 names node 1 the leader.  Node 1 answers f->code: 0, WIRE_BUSY
 * to its first two requests then DONE with a line of text; 1, BAD_REQUEST
 * with the reason; 2, WIRE_BUSY forever.
 */
static void script_admin(struct fake *f, unsigned int node,
			 const struct wire_request *req,
			 const struct raft_addr *from)
{
	static const char done[] = "node 4 added as a non-voter\n";
	static const char why[] = "node 4 is already a member";
	unsigned int mode = atomic_load(&f->code);
	struct wire_reply r = {
		.kind = req->kind, .code = WIRE_DONE, .id = req->id,
		.body = (const uint8_t *)done, .len = sizeof(done) - 1,
	};

	if (node == 0) {
		answer_code(f, node, from, req, WIRE_NOT_LEADER, f->addr[1]);
		return;
	}
	if (mode == 2 || (mode == 0 && atomic_load(&f->per_node[1]) <= 2)) {
		answer_code(f, node, from, req, WIRE_BUSY, "");
		return;
	}
	if (mode == 1) {
		r.code = WIRE_BAD_REQUEST;
		r.body = (const uint8_t *)why;
		r.len = sizeof(why) - 1;
	}
	send_reply(f, node, from, &r);
}

static void test_admin(void)
{
	struct wire_admin add = { .op = WIRE_ADMIN_ADD, .id = 4 };
	struct wire_admin bad = { .op = WIRE_ADMIN_REMOVE };
	struct seen s[MAX_SEEN];
	struct raft_client *c;
	uint64_t start, took;
	unsigned int n, on1 = 0, same = 0;
	char list[256], msg[128];
	struct fake f;
	int ret;

	if (fake_start(&f, 2, NULL, script_admin, NULL)) {
		tap_ok(false, "fakes started");
		return;
	}
	snprintf(add.addr, sizeof(add.addr), "198.18.0.4:7000");
	fake_list(&f, "0", list, sizeof(list));
	new_client(&c, list, 200, 2000);
	start = now_ns();
	ret = raft_client_admin(c, &add, msg, sizeof(msg));
	took = now_ns() - start;
	tap_ok(!ret && !strcmp(msg, "node 4 added as a non-voter"),
	       "admin: redirected, BUSY twice, then DONE: %d \"%s\"", ret,
	       msg);
	n = fake_seen(&f, s);
	for (unsigned int i = 0; i < n; i++) {
		on1 += s[i].node == 1;
		same += s[i].kind == WIRE_REQ_ADMIN && s[i].has_admin &&
			s[i].admin.op == WIRE_ADMIN_ADD && s[i].admin.id == 4 &&
			!strcmp(s[i].admin.addr, "198.18.0.4:7000");
	}
	tap_ok(n >= 4 && s[0].node == 0 && s[1].node == 1 && on1 == 3 &&
	       same == n,
	       "%u requests, the same change, 3 to the leader", n);
	tap_ok(took >= 30 * MS && took < 1000 * MS,
	       "with pauses after BUSY (%.1f ms)", took / 1e6);
	tap_ok(raft_client_leader(c) &&
	       !strcmp(raft_client_leader(c), f.addr[1]),
	       "the leader is node 1");

	atomic_store(&f.code, 1);
	fake_clear(&f);
	ret = raft_client_admin(c, &add, msg, sizeof(msg));
	n = fake_seen(&f, s);
	tap_ok(ret == -EREMOTEIO && !strcmp(msg, "node 4 is already a member") &&
	       !strcmp(raft_client_error(c), msg) && n == 1 && s[0].node == 1,
	       "BAD_REQUEST: -EREMOTEIO, its text (%s), asked of the leader",
	       msg);
	tap_ok(raft_client_admin(c, &add, msg, 8) == -EREMOTEIO &&
	       !strcmp(msg, "node 4 "), "the text cut to msglen");
	raft_client_free(c);

	atomic_store(&f.code, 2);
	fake_list(&f, "01", list, sizeof(list));
	new_client(&c, list, 50, 300);
	start = now_ns();
	ret = raft_client_admin(c, &add, msg, sizeof(msg));
	took = now_ns() - start;
	tap_ok(ret == -ETIMEDOUT && strstr(msg, "busy") &&
	       took >= 300 * MS && took < 600 * MS,
	       "BUSY until the deadline: -ETIMEDOUT after %.1f ms (%s)",
	       took / 1e6, msg);
	fake_clear(&f);
	tap_ok(raft_client_admin(c, &bad, msg, sizeof(msg)) == -EINVAL &&
	       msg[0], "id 0: -EINVAL (%s)", msg);
	add.addr[0] = '\0';
	tap_ok(raft_client_admin(c, &add, msg, sizeof(msg)) == -EINVAL &&
	       !fake_seen(&f, s), "add without an address: -EINVAL, nothing sent");
	raft_client_free(c);
	fake_stop(&f);
}

static void test_ipv6(void)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct raft_client *c;
	struct kv_result res;
	char list[256];
	struct fake f;

	if (fake_start(&f, 2, families, script_redirect, NULL)) {
		tap_ok(true, "IPv4 and IPv6 nodes # SKIP no IPv6 loopback");
		return;
	}
	atomic_store(&f.code, 1);
	fake_list(&f, "1", list, sizeof(list));
	new_client(&c, list, 200, 2000);
	tap_ok(!raft_client_get(c, "k", 1, &res) && result_value(&res, "v1"),
	       "an IPv6 node (%s)", list);
	raft_client_free(c);
	fake_list(&f, "0", list, sizeof(list));
	strcat(list, ",[::1]:9");
	new_client(&c, list, 200, 2000);
	tap_ok(!raft_client_get(c, "k", 1, &res) && result_value(&res, "v1") &&
	       !strcmp(raft_client_leader(c), f.addr[1]),
	       "IPv4 and IPv6 on one socket: redirected from %s to %s",
	       f.addr[0], f.addr[1]);
	raft_client_free(c);
	fake_stop(&f);
}

/*
 * Node 0 leads, over a real kv store; the others name it.  Requests and
 * answers are dropped at f->drop_pct each.
 */
static void script_kv(struct fake *f, unsigned int node,
		      const struct wire_request *req,
		      const struct raft_addr *from)
{
	struct wire_reply r = { .kind = req->kind, .code = WIRE_DONE,
				.id = req->id };
	uint8_t body[KV_RESULT_MAX];
	struct kv_result res;
	struct kv_cmd cmd;

	if (fake_random(f) % 100 < atomic_load(&f->drop_pct))
		return;
	if (node) {
		answer_code(f, node, from, req, WIRE_NOT_LEADER, f->addr[0]);
		return;
	}
	if (kv_decode(&cmd, req->body, req->len))
		return;
	if (cmd.op == KV_GET)
		kv_get(f->kv, cmd.key, cmd.keylen, &res);
	else
		kv_apply(f->kv, ++f->index, req->body, req->len, &res);
	if (fake_random(f) % 100 < atomic_load(&f->drop_pct))
		return;
	r.body = body;
	r.len = (size_t)kv_result_encode(&res, body, sizeof(body));
	send_reply(f, node, from, &r);
}

/* The value of "key" in a history line, or NULL; *len its length. */
static const char *field(const char *line, const char *key, size_t *len)
{
	char pat[32];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	if (*p == '"') {
		end = strchr(++p, '"');
	} else {
		end = p + strcspn(p, ",}");
	}
	*len = end ? (size_t)(end - p) : 0;
	return end ? p : NULL;
}

static bool field_is(const char *line, const char *key, const char *want)
{
	size_t len;
	const char *v = field(line, key, &len);

	return v && len == strlen(want) && !strncmp(v, want, len);
}

/* The fields each op must have, and none it must not. */
static bool line_valid(const char *line)
{
	size_t len;
	bool value = field(line, "value", &len) != NULL;
	bool expect = field(line, "expect", &len) != NULL;
	bool absent = field_is(line, "expect_absent", "true");
	bool ok = field_is(line, "result", "ok");
	bool unknown = field_is(line, "result", "unknown");
	uint64_t start, end;
	const char *p;

	if (strncmp(line, "{\"client\":", 10) || !field(line, "key", &len) ||
	    !(p = field(line, "start", &len)))
		return false;
	start = strtoull(p, NULL, 10);
	p = field(line, "end", &len);
	end = p ? strtoull(p, NULL, 10) : 0;
	if (!start || end < start)
		return false;
	if (field_is(line, "op", "put"))
		return value && !expect && !absent && (ok || unknown);
	if (field_is(line, "op", "get"))
		return value == ok && !expect && !absent &&
		       (ok || unknown || field_is(line, "result", "not-found"));
	if (field_is(line, "op", "del"))
		return !value && !expect && !absent &&
		       (ok || unknown || field_is(line, "result", "not-found"));
	return field_is(line, "op", "cas") && value && expect != absent &&
	       (ok || unknown || field_is(line, "result", "cas-failed"));
}

struct history_check {
	unsigned int lines;
	unsigned int invalid;
	unsigned int phantom;	/* gets of values nobody wrote */
	unsigned int short_values;
	unsigned int cas;
};

static void check_history(FILE *h, unsigned int value_size,
			  struct history_check *hc)
{
	static char written[8192][64];
	char line[4096], v[64];
	unsigned int n_written = 0;
	const char *p;
	size_t len;

	memset(hc, 0, sizeof(*hc));
	rewind(h);
	while (fgets(line, sizeof(line), h)) {
		hc->lines++;
		hc->invalid += !line_valid(line);
		hc->cas += field_is(line, "op", "cas");
		p = field(line, "value", &len);
		if (!p || field_is(line, "op", "get") || len >= sizeof(v))
			continue;
		hc->short_values += len < value_size;
		if (n_written < 8192)
			snprintf(written[n_written++], 64, "%.*s", (int)len, p);
	}
	rewind(h);
	while (fgets(line, sizeof(line), h)) {
		bool found = false;

		p = field(line, "value", &len);
		if (!p || !field_is(line, "op", "get"))
			continue;
		snprintf(v, sizeof(v), "%.*s", (int)len, p);
		for (unsigned int i = 0; i < n_written && !found; i++)
			found = !strcmp(written[i], v);
		hc->phantom += !found;
	}
}

static unsigned int progress_calls;
static uint64_t progress_last;

static void progress(uint64_t ops, void *arg)
{
	(void)arg;
	progress_calls++;
	progress_last = ops;
}

static void test_workload(void)
{
	struct raft_workload_result r;
	struct raft_workload_opts o;
	struct history_check hc;
	char list[256];
	struct fake f;
	FILE *h;
	int ret;

	if (fake_start(&f, 3, NULL, script_kv, kv_new(0))) {
		tap_ok(false, "fakes started");
		return;
	}
	atomic_store(&f.drop_pct, 10);
	fake_list(&f, "120", list, sizeof(list));
	h = tmpfile();
	raft_workload_defaults(&o);
	o.servers = list;
	o.clients = 4;
	o.ops = 400;
	o.duration_ns = 0;
	o.keys = 5;
	o.value_size = 12;
	o.seed = 1;
	o.attempt_ms = 20;
	o.deadline_ms = 3000;
	o.history = h;
	ret = raft_workload_run(&o, &r);
	tap_ok(!ret && r.ops == 400 && r.elapsed_ns && r.ops_per_sec > 0,
	       "400 ops through 10%% loss each way (%d): %.0f ops/s", ret,
	       r.ops_per_sec);
	tap_ok(r.by_op[RAFT_OP_GET].ops + r.by_op[RAFT_OP_PUT].ops +
	       r.by_op[RAFT_OP_DEL].ops + r.by_op[RAFT_OP_CAS].ops == 400 &&
	       r.by_op[RAFT_OP_CAS].ops && r.by_op[RAFT_OP_DEL].ops,
	       "every kind of op in the mix");
	tap_ok(r.unknown == 0 && r.errors == 0 && r.answered.count == 400 &&
	       r.answered.p50_ns <= r.answered.p99_ns &&
	       r.answered.p99_ns <= r.answered.max_ns && r.writes.count,
	       "all answered (unknown %llu), latencies p50 %.2f p99 %.2f "
	       "max %.2f ms",
	       (unsigned long long)r.unknown, r.answered.p50_ns / 1e6,
	       r.answered.p99_ns / 1e6, r.answered.max_ns / 1e6);
	tap_ok(r.client.timeouts && r.client.redirects,
	       "with timeouts (%llu) and redirects (%llu)",
	       (unsigned long long)r.client.timeouts,
	       (unsigned long long)r.client.redirects);
	tap_ok(r.by_op[RAFT_OP_CAS].ok && r.by_op[RAFT_OP_GET].ok,
	       "some cas succeed (%llu of %llu), some get find",
	       (unsigned long long)r.by_op[RAFT_OP_CAS].ok,
	       (unsigned long long)r.by_op[RAFT_OP_CAS].ops);
	check_history(h, 12, &hc);
	tap_ok(hc.lines == 400 && !hc.invalid,
	       "history: 400 lines (%u), all well-formed (%u not)", hc.lines,
	       hc.invalid);
	tap_ok(!hc.phantom && !hc.short_values,
	       "gets read values written in the run, padded to 12 bytes");
	fclose(h);

	atomic_store(&f.drop_pct, 0);
	o.ops = 0;
	o.duration_ns = 350 * MS;
	o.history = NULL;
	o.progress = progress;
	o.mix[RAFT_OP_GET] = o.mix[RAFT_OP_DEL] = o.mix[RAFT_OP_CAS] = 0;
	ret = raft_workload_run(&o, &r);
	tap_ok(!ret && r.ops && r.ops == r.by_op[RAFT_OP_PUT].ops &&
	       r.writes.count == r.ops && r.elapsed_ns >= 350 * MS,
	       "put only for 350 ms: %llu ops, all written",
	       (unsigned long long)r.ops);
	tap_ok(progress_calls >= 2 && progress_calls <= 10 && progress_last &&
	       progress_last <= r.ops, "progress called %u times",
	       progress_calls);
	o.keys = 0;
	tap_ok(raft_workload_run(&o, &r) == -EINVAL, "0 keys: -EINVAL");
	fake_stop(&f);
}

static void test_leases(void)
{
	struct raft_client_write_opts o = { 0 };
	struct kv_result res;
	struct raft_client *c;
	uint64_t lease, rev;
	struct seen s[MAX_SEEN];
	char list[256];
	struct fake f;
	unsigned int n;
	int ret;

	if (fake_start(&f, 2, NULL, script_kv, kv_new(0))) {
		tap_ok(false, "fakes started");
		return;
	}
	fake_list(&f, "10", list, sizeof(list));
	new_client(&c, list, 200, 2000);
	ret = raft_client_lease_grant(c, 1500, &res);
	tap_ok(!ret && res.status == KV_OK && res.lease && res.ttl_ms == 1500,
	       "lease granted: id %llu, ttl %u ms",
	       (unsigned long long)res.lease, res.ttl_ms);
	lease = res.lease;
	o.lease = lease;
	tap_ok(!raft_client_put_ex(c, "k", 1, "v", 1, &o, &res) &&
	       res.status == KV_OK && res.lease == lease,
	       "put with the lease attached");
	rev = res.revision;
	tap_ok(!raft_client_get(c, "k", 1, &res) && res.status == KV_OK &&
	       res.lease == lease && res.revision == rev,
	       "get shows the key's lease");
	o = (struct raft_client_write_opts){
		.lease = lease, .fence_key = "k", .fence_keylen = 1,
		.fence_token = rev + 1,
	};
	ret = raft_client_put_ex(c, "data", 4, "x", 1, &o, &res);
	tap_ok(!ret && res.status == KV_FENCED && res.revision == rev,
	       "a put fenced by a wrong token: fenced, at revision %llu",
	       (unsigned long long)res.revision);
	o.fence_token = rev;
	tap_ok(!raft_client_put_ex(c, "data", 4, "x", 1, &o, &res) &&
	       res.status == KV_OK, "fenced by the right token: done");
	o = (struct raft_client_write_opts){
		.fence_key = "gone", .fence_keylen = 4, .fence_token = 3,
	};
	tap_ok(!raft_client_del_ex(c, "data", 4, &o, &res) &&
	       res.status == KV_FENCED && !res.revision,
	       "a del fenced by a missing key: fenced, revision 0");
	o = (struct raft_client_write_opts){ .lease = lease };
	tap_ok(!raft_client_cas_ex(c, "lock/x", 6, NULL, 0, "me", 2, &o,
				   &res) && res.status == KV_OK,
	       "cas absent with the lease: a lock taken");
	tap_ok(!raft_client_cas_ex(c, "lock/x", 6, NULL, 0, "you", 3, &o,
				   &res) && res.status == KV_CAS_FAILED &&
	       res.lease == lease,
	       "a second one fails, naming the holder's lease");
	tap_ok(!raft_client_lease_keepalive(c, lease, &res) &&
	       res.status == KV_OK && res.ttl_ms == 1500,
	       "keepalive: ok, with the ttl");
	tap_ok(!raft_client_lease_revoke(c, lease, &res) && res.status == KV_OK,
	       "revoked");
	tap_ok(!raft_client_get(c, "lock/x", 6, &res) &&
	       res.status == KV_NOT_FOUND &&
	       !raft_client_get(c, "data", 4, &res) &&
	       res.status == KV_NOT_FOUND,
	       "its keys went with it");
	tap_ok(!raft_client_lease_keepalive(c, lease, &res) &&
	       res.status == KV_NO_LEASE &&
	       !raft_client_lease_revoke(c, lease, &res) &&
	       res.status == KV_NO_LEASE &&
	       !raft_client_put_ex(c, "k", 1, "v", 1, &o, &res) &&
	       res.status == KV_NO_LEASE,
	       "then keepalive, revoke and attaching: no lease");
	n = fake_seen(&f, s);
	tap_ok(n >= 2 && s[n - 1].has_cmd && s[n - 1].op == KV_PUT &&
	       s[n - 2].op == KV_LEASE_REVOKE &&
	       s[n - 1].seq == s[n - 2].seq + 1 &&
	       s[n - 1].client == raft_client_id(c),
	       "lease ops are writes of the session, in sequence");

	fake_clear(&f);
	o = (struct raft_client_write_opts){ .lease = lease };
	tap_ok(raft_client_del_ex(c, "k", 1, &o, &res) == -EINVAL,
	       "a del with a lease: -EINVAL");
	o = (struct raft_client_write_opts){ .fence_key = "k",
					     .fence_keylen = 1 };
	tap_ok(raft_client_put_ex(c, "k", 1, "v", 1, &o, &res) == -EINVAL,
	       "fence token 0: -EINVAL");
	o.fence_token = 1;
	o.fence_keylen = 0;
	tap_ok(raft_client_put_ex(c, "k", 1, "v", 1, &o, &res) == -EINVAL,
	       "an empty fence key: -EINVAL");
	tap_ok(raft_client_lease_grant(c, 0, &res) == -EINVAL &&
	       raft_client_lease_grant(c, KV_TTL_MAX + 1, &res) == -EINVAL &&
	       raft_client_lease_keepalive(c, 0, &res) == -EINVAL &&
	       raft_client_lease_revoke(c, 0, &res) == -EINVAL,
	       "ttl 0 or over KV_TTL_MAX, lease 0: -EINVAL");
	tap_ok(!fake_seen(&f, s), "none of them sent");
	raft_client_free(c);
	fake_stop(&f);
}

static void test_mix(void)
{
	unsigned int mix[RAFT_OP_COUNT];
	const char *why;

	tap_ok(!raft_workload_parse_mix("put=40,get=40,cas=15,del=5", mix,
					&why) &&
	       mix[RAFT_OP_PUT] == 40 && mix[RAFT_OP_GET] == 40 &&
	       mix[RAFT_OP_CAS] == 15 && mix[RAFT_OP_DEL] == 5, "a mix parses");
	tap_ok(!raft_workload_parse_mix("put=1", mix, &why) &&
	       mix[RAFT_OP_PUT] == 1 && !mix[RAFT_OP_GET],
	       "ops not named are 0");
	tap_ok(raft_workload_parse_mix("put=0", mix, &why) == -EINVAL &&
	       raft_workload_parse_mix("put", mix, &why) == -EINVAL &&
	       raft_workload_parse_mix("put=", mix, &why) == -EINVAL &&
	       raft_workload_parse_mix("push=1", mix, &why) == -EINVAL &&
	       raft_workload_parse_mix("put=1,", mix, &why) == -EINVAL &&
	       raft_workload_parse_mix("put=x", mix, &why) == -EINVAL &&
	       raft_workload_parse_mix("put=99999999999", mix, &why) == -EINVAL,
	       "wrong mixes refused");
}

int main(void)
{
	test_addr();
	test_ids();
	test_redirect();
	test_refusals();
	test_drop();
	test_strays();
	test_deadline();
	test_late();
	test_redirect_loops();
	test_bad_request();
	test_status();
	test_admin();
	test_leases();
	test_ipv6();
	test_mix();
	test_workload();
	return tap_done();
}
