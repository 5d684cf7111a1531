// SPDX-License-Identifier: GPL-2.0
/*
 * lamport raft serve: the Raft core (core.c) between a datagram transport
 * (AF_LAMPORT or UDP), the log on disk (storage.c), the key-value store
 * (kv.c) and its clients (UDP, wire.h).
 *
 * One thread, one loop: read every datagram waiting, step the core with
 * each, then act on what it asks in one go: one fsync covers everything
 * the iteration appended (group commit), then messages go out, committed
 * entries are applied and clients answered.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "kv.h"
#include "server.h"
#include "storage.h"
#include "transport.h"
#include "wire.h"

#define RECV_BATCH	128
#define TICK_MS_DEFAULT	10

struct node_addr {
	uint32_t id;
	struct raft_addr ip;		/* raft port; clients at port + 1 */
	struct raft_addr raft;		/* on the transport */
	char client[WIRE_ADDR_MAX];
};

struct pending_write {
	uint64_t index;
	uint64_t term;
	uint64_t req;
	struct raft_addr from;
};

struct pending_read {
	uint64_t id;
	uint64_t index;
	bool confirmed;
	uint64_t req;
	struct raft_addr from;
	uint16_t keylen;
	uint8_t key[KV_KEY_MAX];
};

struct server {
	struct raft_config cfg;
	struct raft *raft;
	struct rstore *store;
	struct kv *kv;
	uint64_t cluster;
	const char *data_dir;
	struct node_addr nodes[RAFT_MAX_NODES];
	unsigned int n_nodes;
	const struct node_addr *self;
	struct transport net;
	int client_fd;
	int timer_fd;
	int signal_fd;
	unsigned int tick_ms;
	int verbose;
	bool storage_failed;
	bool stop;

	uint64_t clock;			/* Lamport */
	uint64_t applied;
	uint8_t role;
	uint64_t term;
	uint32_t leader;

	struct pending_write *writes;
	size_t n_writes, writes_cap;
	struct pending_read *reads;
	size_t n_reads, reads_cap;
	uint64_t next_read;

	uint64_t garbage, unknown, foreign, bad_requests;
	uint64_t last_complaint_ms[4];
};

/* Logging: every line carries the node, its Lamport clock and term. */
__attribute__((format(printf, 2, 3)))
static void say(const struct server *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "raft %u: lc %" PRIu64 " term %" PRIu64 ": ",
		s->cfg.id, s->clock, s->term);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

enum complaint {
	COMPLAINT_GARBAGE,
	COMPLAINT_FOREIGN,
	COMPLAINT_UNKNOWN,
	COMPLAINT_CLIENT,
};

/* Complaints about bad input, at most one a second of each kind. */
static bool may_complain(struct server *s, enum complaint what)
{
	uint64_t now = now_ms();

	if (s->last_complaint_ms[what] && now - s->last_complaint_ms[what] < 1000)
		return false;
	s->last_complaint_ms[what] = now;
	return true;
}

static const struct node_addr *node_by_id(const struct server *s, uint32_t id)
{
	for (unsigned int i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

/* Peers. */

static void send_msg(struct server *s, const struct raft_msg *m)
{
	const struct node_addr *to = node_by_id(s, m->to);
	struct wire_peer_hdr h = { .cluster = s->cluster };
	uint8_t buf[WIRE_DGRAM_MAX];
	int len;

	if (!to)
		return;
	h.stamp = ++s->clock;
	len = wire_peer_encode(&h, m, buf, sizeof(buf));
	if (len < 0) {
		say(s, "cannot encode a %s to %u: %s", raft_msg_name(m->type),
		    m->to, strerror(-len));
		return;
	}
	if (s->verbose > 1)
		say(s, "-> %u %s index %" PRIu64 " entries %u commit %" PRIu64 "%s",
		    m->to, raft_msg_name(m->type), m->index, m->n_entries,
		    m->commit, m->ok ? " ok" : "");
	transport_send(&s->net, &to->raft, buf, (size_t)len, now_ms());
}

static void receive_peer(struct server *s, const uint8_t *buf, size_t len)
{
	static struct raft_entry ents[WIRE_MAX_ENTRIES];
	struct wire_peer_hdr h;
	struct raft_msg m;

	if (wire_peer_decode(&h, &m, ents, buf, len)) {
		s->garbage++;
		if (may_complain(s, COMPLAINT_GARBAGE))
			say(s, "dropped a malformed datagram of %zu bytes (%" PRIu64 " so far)",
			    len, s->garbage);
		return;
	}
	if (h.cluster != s->cluster) {
		s->foreign++;
		if (may_complain(s, COMPLAINT_FOREIGN))
			say(s, "dropped a message of cluster %016" PRIx64 ", not ours (%" PRIu64 " so far)",
			    h.cluster, s->foreign);
		return;
	}
	if (m.to != s->cfg.id || !node_by_id(s, m.from) || m.from == s->cfg.id) {
		s->unknown++;
		if (may_complain(s, COMPLAINT_UNKNOWN))
			say(s, "dropped a message from unknown node %u to %u (%" PRIu64 " so far)",
			    m.from, m.to, s->unknown);
		return;
	}
	s->clock = (h.stamp > s->clock ? h.stamp : s->clock) + 1;
	if (s->verbose > 1)
		say(s, "<- %u %s stamp %" PRIu64 " index %" PRIu64 " entries %u%s",
		    m.from, raft_msg_name(m.type), h.stamp, m.index,
		    m.n_entries, m.ok ? " ok" : "");
	raft_step(s->raft, &m);
}

/* Clients. */

static void reply(struct server *s, const struct raft_addr *to, uint8_t kind,
		  uint64_t req, uint8_t code, const void *body, size_t len)
{
	struct wire_reply r = {
		.kind = kind, .code = code, .id = req,
		.leader = s->leader, .body = body, .len = len,
	};
	const struct node_addr *leader = node_by_id(s, s->leader);
	uint8_t buf[WIRE_DGRAM_MAX];
	int n;

	if (leader)
		snprintf(r.leader_addr, sizeof(r.leader_addr), "%s", leader->client);
	n = wire_reply_encode(&r, buf, sizeof(buf));
	if (n > 0)
		sendto(s->client_fd, buf, (size_t)n, 0,
		       (const struct sockaddr *)&to->sa, to->len);
}

static void reply_error(struct server *s, const struct raft_addr *to,
			uint8_t kind, uint64_t req, const char *why)
{
	reply(s, to, kind, req, WIRE_BAD_REQUEST, why, strlen(why));
}

static void reply_result(struct server *s, const struct raft_addr *to,
			 uint64_t req, const struct kv_result *res)
{
	uint8_t body[KV_RESULT_MAX];
	int n = kv_result_encode(res, body, sizeof(body));

	if (n > 0)
		reply(s, to, WIRE_REQ_KV, req, WIRE_DONE, body, (size_t)n);
}

/* Not the leader, or cannot be one now. */
static uint8_t refusal(const struct server *s)
{
	if (s->storage_failed)
		return WIRE_UNAVAILABLE;
	return s->leader && s->leader != s->cfg.id ? WIRE_NOT_LEADER : WIRE_NO_LEADER;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *q;

	if (need <= *cap)
		return p;
	q = realloc(p, n * size);
	if (!q)
		return NULL;
	*cap = n;
	return q;
}

static void client_write(struct server *s, const struct raft_addr *from,
			 uint64_t req, const uint8_t *cmd, size_t len)
{
	struct pending_write *w;
	uint64_t index, term;
	void *p;
	int rc;

	p = grow(s->writes, &s->writes_cap, s->n_writes + 1, sizeof(*w));
	if (!p) {
		reply(s, from, WIRE_REQ_KV, req, WIRE_BUSY, NULL, 0);
		return;
	}
	s->writes = p;
	rc = raft_propose(s->raft, cmd, (uint32_t)len, &index, &term);
	if (rc == -EBUSY || rc == -ENOMEM) {
		reply(s, from, WIRE_REQ_KV, req, WIRE_BUSY, NULL, 0);
		return;
	}
	if (rc) {
		reply(s, from, WIRE_REQ_KV, req, refusal(s), NULL, 0);
		return;
	}
	w = &s->writes[s->n_writes++];
	w->index = index;
	w->term = term;
	w->req = req;
	w->from = *from;
}

static void client_read(struct server *s, const struct raft_addr *from,
			uint64_t req, const struct kv_cmd *cmd)
{
	struct pending_read *r;
	void *p;

	p = grow(s->reads, &s->reads_cap, s->n_reads + 1, sizeof(*r));
	if (!p) {
		reply(s, from, WIRE_REQ_KV, req, WIRE_BUSY, NULL, 0);
		return;
	}
	s->reads = p;
	r = &s->reads[s->n_reads];
	memset(r, 0, sizeof(*r));
	r->id = ++s->next_read;
	if (raft_read_index(s->raft, r->id)) {
		reply(s, from, WIRE_REQ_KV, req, refusal(s), NULL, 0);
		return;
	}
	r->req = req;
	r->from = *from;
	r->keylen = cmd->keylen;
	memcpy(r->key, cmd->key, cmd->keylen);
	s->n_reads++;
}

static void client_status(struct server *s, const struct raft_addr *from,
			  uint64_t req)
{
	struct wire_status st = {
		.applied = s->applied,
		.clock = s->clock,
		.transport = s->net.lamport ? WIRE_TRANSPORT_LAMPORT : WIRE_TRANSPORT_UDP,
		.kv_keys = kv_count(s->kv),
		.kv_digest = kv_digest(s->kv),
	};
	uint8_t body[WIRE_DGRAM_MAX];
	int n;

	raft_status(s->raft, &st.raft);
	/* Only a leader knows where its peers stand. */
	if (st.raft.role != RAFT_LEADER)
		st.raft.n_peers = 0;
	n = wire_status_encode(&st, body, sizeof(body) - WIRE_REPLY_HDR - WIRE_ADDR_MAX);
	if (n > 0)
		reply(s, from, WIRE_REQ_STATUS, req, WIRE_DONE, body, (size_t)n);
}

static void receive_client(struct server *s, const struct raft_addr *from,
			   const uint8_t *buf, size_t len)
{
	struct wire_request rq;
	struct kv_cmd cmd;

	if (wire_request_decode(&rq, buf, len)) {
		s->bad_requests++;
		if (may_complain(s, COMPLAINT_CLIENT))
			say(s, "dropped a malformed client request of %zu bytes (%" PRIu64 " so far)",
			    len, s->bad_requests);
		return;
	}
	if (rq.kind == WIRE_REQ_STATUS) {
		client_status(s, from, rq.id);
		return;
	}
	if (kv_decode(&cmd, rq.body, rq.len)) {
		reply_error(s, from, rq.kind, rq.id, "malformed key-value command");
		return;
	}
	if (s->storage_failed) {
		reply(s, from, rq.kind, rq.id, WIRE_UNAVAILABLE, NULL, 0);
		return;
	}
	if (cmd.op == KV_GET)
		client_read(s, from, rq.id, &cmd);
	else
		client_write(s, from, rq.id, rq.body, rq.len);
}

/* Acting on the core's output. */

static void storage_failure(struct server *s, const char *what)
{
	say(s, "storage failed: %s: %s; refusing to vote, to accept entries and to serve until restarted",
	    what, rstore_error(s->store));
	s->storage_failed = true;
	raft_storage_failed(s->raft);
}

static bool persist(struct server *s, const struct raft_output *out)
{
	if (s->storage_failed)
		return false;
	if (out->meta_changed && rstore_save_meta(s->store, out->term, out->vote)) {
		storage_failure(s, "saving term and vote");
		return false;
	}
	if (out->truncate_from && rstore_truncate(s->store, out->truncate_from)) {
		storage_failure(s, "truncating the log");
		return false;
	}
	if (out->n_entries &&
	    (rstore_append(s->store, out->entries, out->n_entries) ||
	     rstore_sync(s->store))) {
		storage_failure(s, "appending to the log");
		return false;
	}
	return true;
}

static void answer_write(struct server *s, const struct raft_entry *e,
			 const struct kv_result *res)
{
	size_t i = 0;

	while (i < s->n_writes) {
		struct pending_write *w = &s->writes[i];

		if (w->index > e->index) {
			i++;
			continue;
		}
		if (w->index == e->index && w->term == e->term)
			reply_result(s, &w->from, w->req, res);
		else
			reply(s, &w->from, WIRE_REQ_KV, w->req, WIRE_RETRY, NULL, 0);
		*w = s->writes[--s->n_writes];
	}
}

static void apply(struct server *s, uint64_t commit)
{
	while (s->applied < commit) {
		const struct raft_entry *e = raft_entry_at(s->raft, s->applied + 1);
		struct kv_result res;

		if (!e)
			return;
		if (e->type == RAFT_ENTRY_COMMAND)
			kv_apply(s->kv, e->index, e->data, e->len, &res);
		else
			kv_skip(s->kv, e->index);
		s->applied = e->index;
		if (s->n_writes && e->type == RAFT_ENTRY_COMMAND)
			answer_write(s, e, &res);
	}
}

static void serve_reads(struct server *s)
{
	size_t i = 0;

	while (i < s->n_reads) {
		struct pending_read *r = &s->reads[i];
		struct kv_result res;

		if (!r->confirmed || r->index > s->applied) {
			i++;
			continue;
		}
		kv_get(s->kv, r->key, r->keylen, &res);
		reply_result(s, &r->from, r->req, &res);
		*r = s->reads[--s->n_reads];
	}
}

static void settle_reads(struct server *s, const struct raft_output *out)
{
	for (size_t i = 0; i < s->n_reads; i++) {
		struct pending_read *r = &s->reads[i];

		for (size_t j = 0; j < out->n_reads; j++)
			if (out->reads[j].id == r->id) {
				r->confirmed = true;
				r->index = out->reads[j].index;
			}
		for (size_t j = 0; j < out->n_failed_reads; j++)
			if (out->failed_reads[j] == r->id) {
				reply(s, &r->from, WIRE_REQ_KV, r->req, WIRE_RETRY, NULL, 0);
				r->id = 0;
			}
	}
	for (size_t i = 0; i < s->n_reads;)
		if (!s->reads[i].id)
			s->reads[i] = s->reads[--s->n_reads];
		else
			i++;
}

/* A leader that lost its term answers what it still holds: retry. */
static void drop_pending(struct server *s)
{
	for (size_t i = 0; i < s->n_writes; i++)
		reply(s, &s->writes[i].from, WIRE_REQ_KV, s->writes[i].req,
		      refusal(s), NULL, 0);
	s->n_writes = 0;
	for (size_t i = 0; i < s->n_reads; i++)
		reply(s, &s->reads[i].from, WIRE_REQ_KV, s->reads[i].req,
		      refusal(s), NULL, 0);
	s->n_reads = 0;
}

static void note_changes(struct server *s)
{
	uint8_t role = raft_role(s->raft);
	uint64_t term = raft_term(s->raft);
	uint32_t leader = raft_leader(s->raft);

	if (role == s->role && term == s->term && leader == s->leader)
		return;
	s->term = term;
	if (role != s->role || leader != s->leader) {
		if (role == RAFT_LEADER)
			say(s, "leader (last index %" PRIu64 ", commit %" PRIu64 ")",
			    raft_last_index(s->raft), raft_commit(s->raft));
		else if (leader)
			say(s, "%s, leader %u", raft_role_name(role), leader);
		else
			say(s, "%s, no leader", raft_role_name(role));
	}
	if (s->role == RAFT_LEADER && role != RAFT_LEADER)
		drop_pending(s);
	s->role = role;
	s->leader = leader;
}

static void process(struct server *s)
{
	for (int round = 0; round < 4; round++) {
		struct raft_output out;
		uint64_t last, last_term;
		bool durable;

		raft_take(s->raft, &out);
		if (!out.meta_changed && !out.n_entries && !out.truncate_from &&
		    !out.n_msgs && !out.n_reads && !out.n_failed_reads &&
		    out.commit <= s->applied)
			break;
		/* A leader's appends need not wait for its own disk. */
		for (size_t i = 0; i < out.n_msgs; i++)
			if (out.msgs[i].type == RAFT_MSG_APPEND)
				send_msg(s, &out.msgs[i]);
		durable = persist(s, &out);
		if (durable)
			for (size_t i = 0; i < out.n_msgs; i++)
				if (out.msgs[i].type != RAFT_MSG_APPEND)
					send_msg(s, &out.msgs[i]);
		apply(s, out.commit);
		settle_reads(s, &out);
		serve_reads(s);
		last = raft_last_index(s->raft);
		last_term = raft_entry_at(s->raft, last) ?
			    raft_entry_at(s->raft, last)->term : 0;
		note_changes(s);
		if (durable)
			raft_persisted(s->raft, last, last_term);
	}
	note_changes(s);
}

/* The loop. */

static void drain_peers(struct server *s)
{
	uint8_t buf[WIRE_DGRAM_MAX + 1];

	for (int i = 0; i < RECV_BATCH; i++) {
		ssize_t n = recv(s->net.fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0)
			return;
		receive_peer(s, buf, (size_t)n);
	}
}

static void drain_clients(struct server *s)
{
	uint8_t buf[WIRE_DGRAM_MAX + 1];

	for (int i = 0; i < RECV_BATCH; i++) {
		struct raft_addr from = { .len = sizeof(from.sa) };
		ssize_t n = recvfrom(s->client_fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from.sa, &from.len);

		if (n < 0)
			return;
		receive_client(s, &from, buf, (size_t)n);
	}
}

static void on_timer(struct server *s)
{
	uint64_t ticks;

	if (read(s->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	/* A late wake-up still counts each tick, up to an election's worth. */
	if (ticks > s->cfg.election_ticks)
		ticks = s->cfg.election_ticks;
	while (ticks--)
		raft_tick(s->raft);
}

static void on_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		say(s, "%s: stopping", strsignal((int)si.ssi_signo));
		s->stop = true;
	}
}

static int run(struct server *s)
{
	while (!s->stop) {
		struct pollfd p[4] = {
			{ .fd = s->net.fd, .events = POLLIN },
			{ .fd = s->client_fd, .events = POLLIN },
			{ .fd = s->timer_fd, .events = POLLIN },
			{ .fd = s->signal_fd, .events = POLLIN },
		};
		int wait = transport_flush(&s->net, now_ms());

		if (poll(p, 4, wait) < 0 && errno != EINTR) {
			say(s, "poll: %s", strerror(errno));
			return 1;
		}
		if (p[3].revents)
			on_signal(s);
		if (p[2].revents)
			on_timer(s);
		if (p[0].revents)
			drain_peers(s);
		if (p[1].revents)
			drain_clients(s);
		process(s);
	}
	return 0;
}

/* Setting up. */

static void usage(void)
{
	fprintf(stderr,
		"Usage: lamport raft serve --id N --peers ID=ADDR:PORT[,ID=ADDR:PORT...] --data DIR\n"
		"                          [--cluster NAME] [--transport auto|udp|lamport]\n"
		"                          [--tick MS] [--election TICKS] [--heartbeat TICKS]\n"
		"                          [--faults drop=P,dup=P,delay=MS[-MS]] [-v]...\n"
		"Every node of --peers, this one included, takes Raft messages on PORT\n"
		"(over AF_LAMPORT to node ID, or UDP to ADDR) and clients on PORT + 1.\n");
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("lamport raft serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int parse_peers(struct server *s, const char *text)
{
	char *copy = strdup(text), *save = NULL;
	struct raft_addr client;
	const char *why;
	int rc = 0;

	if (!copy)
		return fail("out of memory");
	for (char *p = strtok_r(copy, ",", &save); p && !rc;
	     p = strtok_r(NULL, ",", &save)) {
		struct node_addr *n = &s->nodes[s->n_nodes];
		char *eq = strchr(p, '='), *end;
		unsigned long id;

		if (s->n_nodes == RAFT_MAX_NODES) {
			rc = fail("--peers: at most %d nodes", RAFT_MAX_NODES);
			break;
		}
		id = eq ? strtoul(p, &end, 10) : 0;
		if (!eq || end != eq || !id || id > UINT32_MAX) {
			rc = fail("--peers: \"%s\" is not ID=ADDRESS:PORT with ID 1..%u",
				  p, UINT32_MAX);
			break;
		}
		if (node_by_id(s, (uint32_t)id)) {
			rc = fail("--peers: node %lu is listed twice", id);
			break;
		}
		if (raft_addr_parse(eq + 1, &n->ip, &why)) {
			rc = fail("--peers: \"%s\": %s", eq + 1, why);
			break;
		}
		if (raft_addr_port(&n->ip) == 65535) {
			rc = fail("--peers: \"%s\": port 65535 leaves no port for clients (PORT + 1)",
				  eq + 1);
			break;
		}
		n->id = (uint32_t)id;
		client = n->ip;
		raft_addr_set_port(&client, (uint16_t)(raft_addr_port(&n->ip) + 1));
		raft_addr_format(&client, n->client, sizeof(n->client));
		s->n_nodes++;
	}
	free(copy);
	return rc;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* The cluster's identity: its name and its members' ids. */
static uint64_t cluster_id(const char *name, const struct server *s)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, name, strlen(name));
	uint32_t ids[RAFT_MAX_NODES];

	for (unsigned int i = 0; i < s->n_nodes; i++)
		ids[i] = s->nodes[i].id;
	for (unsigned int i = 1; i < s->n_nodes; i++)
		for (unsigned int j = i; j && ids[j - 1] > ids[j]; j--) {
			uint32_t t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	return fnv1a(h, ids, s->n_nodes * sizeof(ids[0])) | 1;
}

struct loaded {
	struct raft_entry *e;
	size_t n, cap;
};

static int load_entry(void *arg, struct raft_entry *e)
{
	struct loaded *l = arg;
	void *p = grow(l->e, &l->cap, l->n + 1, sizeof(*e));

	if (!p) {
		free(e->data);
		return -ENOMEM;
	}
	l->e = p;
	l->e[l->n++] = *e;
	return 0;
}

static int open_storage(struct server *s)
{
	struct loaded l = { 0 };
	struct rstore_meta meta;
	char err[512], warn[512];
	int rc;

	rc = rstore_open(s->data_dir, s->cluster, s->cfg.id, 0, load_entry, &l,
			 &s->store, &meta, err, sizeof(err), warn, sizeof(warn));
	if (rc) {
		for (size_t i = 0; i < l.n; i++)
			free(l.e[i].data);
		free(l.e);
		return fail("%s", err);
	}
	if (warn[0])
		fprintf(stderr, "lamport raft serve: %s\n", warn);
	raft_restore_meta(s->raft, meta.term, meta.vote);
	for (size_t i = 0; i < l.n && !rc; i++)
		rc = raft_restore_entry(s->raft, &l.e[i]);
	for (size_t i = rc ? 0 : l.n; i < l.n; i++)
		free(l.e[i].data);
	free(l.e);
	if (rc)
		return fail("%s: the log does not fit its term %" PRIu64,
			    s->data_dir, meta.term);
	s->term = meta.term;
	fprintf(stderr, "lamport raft serve: %s: term %" PRIu64 ", vote %u, %" PRIu64 " entries\n",
		s->data_dir, meta.term, meta.vote, raft_last_index(s->raft));
	return 0;
}

static int open_transport(struct server *s, const char *transport)
{
	uint16_t port = raft_addr_port(&s->self->ip);
	bool want_lamport = !strcmp(transport, "lamport");
	char err[256];
	int rc;

	if (!strcmp(transport, "auto"))
		want_lamport = !access("/sys/module/lamport/parameters/family", F_OK);
	if (want_lamport)
		rc = transport_open_lamport(&s->net, s->cfg.id, port, err, sizeof(err));
	else
		rc = transport_open_udp(&s->net, &s->self->ip, err, sizeof(err));
	if (rc)
		return fail("%s", err);
	/* Over AF_LAMPORT, node ID's PORT; over UDP, ADDR:PORT. */
	for (unsigned int i = 0; i < s->n_nodes; i++)
		transport_peer_addr(&s->net, s->nodes[i].id,
				    raft_addr_port(&s->nodes[i].ip),
				    &s->nodes[i].ip, &s->nodes[i].raft);
	return 0;
}

/*
 * Clients are served on every address of the node at the raft port + 1,
 * so that a node cut off from the others still answers on its own.
 */
static int open_client_socket(struct server *s)
{
	struct raft_addr a = { .len = s->self->ip.len };
	uint16_t port;

	a.sa.ss_family = s->self->ip.sa.ss_family;
	port = raft_addr_port(&s->self->ip);
	raft_addr_set_port(&a, (uint16_t)(port + 1));
	s->client_fd = socket(a.sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->client_fd < 0 || bind(s->client_fd, (struct sockaddr *)&a.sa, a.len))
		return fail("clients on UDP port %u: %s", port + 1, strerror(errno));
	return 0;
}

static int open_timers(struct server *s)
{
	struct itimerspec its = {
		.it_interval.tv_nsec = (long)s->tick_ms * 1000000,
		.it_value.tv_nsec = (long)s->tick_ms * 1000000,
	};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->signal_fd < 0 || s->timer_fd < 0 ||
	    timerfd_settime(s->timer_fd, 0, &its, NULL))
		return fail("timers: %s", strerror(errno));
	return 0;
}

static int parse_uint(const char *opt, const char *v, unsigned int lo,
		      unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi)
		return fail("%s: \"%s\" is not a number in %u..%u", opt, v, lo, hi);
	*out = (unsigned int)n;
	return 0;
}

struct options {
	const char *peers;
	const char *cluster;
	const char *transport;
	const char *faults;
	unsigned int id;
};

static int parse_options(struct server *s, struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "peers", required_argument, NULL, 'p' },
		{ "data", required_argument, NULL, 'd' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "transport", required_argument, NULL, 't' },
		{ "tick", required_argument, NULL, 'T' },
		{ "election", required_argument, NULL, 'E' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "faults", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	optind = 1;
	opterr = 0;
	while (!rc && (c = getopt_long(argc, argv, "+v", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			rc = parse_uint("--id", optarg, 1, UINT32_MAX, &o->id);
			break;
		case 'p':
			o->peers = optarg;
			break;
		case 'd':
			s->data_dir = optarg;
			break;
		case 'c':
			o->cluster = optarg;
			break;
		case 't':
			o->transport = optarg;
			break;
		case 'T':
			rc = parse_uint("--tick", optarg, 1, 1000, &s->tick_ms);
			break;
		case 'E':
			rc = parse_uint("--election", optarg, 2, 1000, &s->cfg.election_ticks);
			break;
		case 'H':
			rc = parse_uint("--heartbeat", optarg, 1, 999, &s->cfg.heartbeat_ticks);
			break;
		case 'f':
			o->faults = optarg;
			break;
		case 'v':
			s->verbose++;
			break;
		case 'h':
			usage();
			return -1;
		default:
			usage();
			return fail("unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return fail("unexpected argument \"%s\"", argv[optind]);
	if (!o->id || !o->peers || !s->data_dir) {
		usage();
		return fail("--id, --peers and --data are required");
	}
	if (strcmp(o->transport, "auto") && strcmp(o->transport, "udp") &&
	    strcmp(o->transport, "lamport"))
		return fail("--transport: \"%s\" is not auto, udp or lamport", o->transport);
	if (s->cfg.heartbeat_ticks >= s->cfg.election_ticks)
		return fail("--heartbeat (%u ticks) must be shorter than --election (%u ticks)",
			    s->cfg.heartbeat_ticks, s->cfg.election_ticks);
	return 0;
}

static int setup(struct server *s, int argc, char **argv)
{
	struct options o = { .cluster = "lamport", .transport = "auto" };
	uint64_t seed;
	char err[256];
	int rc;

	raft_config_default(&s->cfg);
	s->cfg.max_append_bytes = WIRE_APPEND_BYTES;
	s->tick_ms = TICK_MS_DEFAULT;
	rc = parse_options(s, &o, argc, argv);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (parse_peers(s, o.peers))
		return 1;
	s->self = node_by_id(s, o.id);
	if (!s->self)
		return fail("--id %u is not one of --peers", o.id);
	if (o.faults && faults_parse(o.faults, &s->net.faults, err, sizeof(err)))
		return fail("--faults: %s", err);
	s->cfg.id = o.id;
	s->cfg.n_nodes = s->n_nodes;
	for (unsigned int i = 0; i < s->n_nodes; i++)
		s->cfg.nodes[i] = s->nodes[i].id;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 2654435761u ^ now_ms();
	s->cfg.seed = seed;
	s->cluster = cluster_id(o.cluster, s);
	s->raft = raft_new(&s->cfg);
	s->kv = kv_new(0);
	if (!s->raft || !s->kv)
		return fail("%s", strerror(errno ? errno : ENOMEM));
	if (open_storage(s))
		return 1;
	{
		struct faults f = s->net.faults;

		if (open_transport(s, o.transport))
			return 1;
		s->net.faults = f;
	}
	if (open_client_socket(s) || open_timers(s))
		return 1;
	if (s->net.lamport)
		snprintf(err, sizeof(err), "AF_LAMPORT node %u port %u", o.id,
			 raft_addr_port(&s->self->ip));
	else
		raft_addr_format(&s->self->ip, err, sizeof(err));
	say(s, "node %u of %u: peers over %s%s, clients on UDP port %u, data in %s, cluster %016" PRIx64,
	    o.id, s->n_nodes, s->net.lamport ? "" : "UDP ", err,
	    raft_addr_port(&s->self->ip) + 1, s->data_dir, s->cluster);
	return 0;
}

static void teardown(struct server *s)
{
	if (s->store && !s->storage_failed)
		rstore_sync(s->store);
	rstore_close(s->store);
	transport_close(&s->net);
	if (s->client_fd >= 0)
		close(s->client_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	raft_free(s->raft);
	kv_free(s->kv);
	free(s->writes);
	free(s->reads);
}

int raft_serve(int argc, char **argv)
{
	struct server s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.net.fd = s.client_fd = s.timer_fd = s.signal_fd = -1;
	rc = setup(&s, argc, argv);
	if (!rc && s.raft && s.timer_fd >= 0)
		rc = run(&s);
	teardown(&s);
	return rc;
}
