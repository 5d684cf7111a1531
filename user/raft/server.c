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
 *
 * Around that: snapshots of the store once the log has grown by
 * --snapshot-entries (sent in chunks to followers left behind), the
 * membership changes and leadership transfers clients ask for, the
 * leader's lease clocks, and the failure detector's hints when lamport.ko
 * is loaded.
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

#include <fcntl.h>
#include <linux/lamport.h>

#include "core.h"
#include "hint.h"
#include "kv.h"
#include "leases.h"
#include "server.h"
#include "storage.h"
#include "transport.h"
#include "wire.h"

#define RECV_BATCH	128
#define TICK_MS_DEFAULT	10
#define SNAPSHOT_ENTRIES_DEFAULT	10000
/* Nodes ever known: members, those of --peers, those removed since. */
#define NODES_MAX	(4 * RAFT_MAX_NODES)

struct node_addr {
	uint32_t id;
	char text[RAFT_MEMBER_ADDR_MAX];	/* as in --peers */
	struct raft_addr ip;		/* raft port; clients at port + 1 */
	struct raft_addr raft;		/* on the transport */
	char client[WIRE_ADDR_MAX];
	uint64_t incarnation;		/* of its data directory; 0: unknown */
};

struct pending_write {
	uint64_t index;
	uint64_t term;
	uint64_t req;
	struct raft_addr from;
	bool admin;			/* a membership change: msg answers */
	char msg[120];
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
	struct node_addr nodes[NODES_MAX];
	unsigned int n_nodes;
	const struct node_addr *self;
	struct raft_conf boot;
	uint64_t incarnation;
	unsigned int snapshot_entries;
	struct raft_hints *hints;
	struct lease_timers leases;
	struct transport net;
	int client_fd;
	int timer_fd;
	int signal_fd;
	unsigned int tick_ms;
	int verbose;
	bool log_time;		/* CLOCK_MONOTONIC on every line (--log-time) */
	bool storage_failed;
	bool stop;

	uint64_t clock;			/* Lamport */
	uint64_t applied;
	uint8_t role;
	uint64_t term;
	uint32_t leader;
	uint32_t removed_by;	/* raft_removed_by() as last said */

	struct pending_write *writes;
	size_t n_writes, writes_cap;
	struct pending_read *reads;
	size_t n_reads, reads_cap;
	uint64_t next_read;

	uint64_t garbage, unknown, foreign, bad_requests, wiped;
	uint64_t last_complaint_ms[6];
};

/* Logging: every line carries the node, its Lamport clock and term. */
__attribute__((format(printf, 2, 3)))
static void say(const struct server *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "raft %u: lc %" PRIu64 " term %" PRIu64, s->cfg.id,
		s->clock, s->term);
	if (s->log_time) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, " at %lld.%06ld", (long long)ts.tv_sec,
			ts.tv_nsec / 1000);
	}
	fputs(": ", stderr);
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
	COMPLAINT_WIPED,
	COMPLAINT_SNAPSHOT,
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

static struct node_addr *node_by_id(struct server *s, uint32_t id)
{
	for (unsigned int i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

/* id at "ADDR:PORT": 0, or -EINVAL with *why, -ENOSPC for too many. */
static int node_add(struct server *s, uint32_t id, const char *text,
		    const char **why)
{
	struct node_addr *n = &s->nodes[s->n_nodes];
	struct raft_addr client;

	if (s->n_nodes == NODES_MAX) {
		*why = "too many nodes";
		return -ENOSPC;
	}
	if (strlen(text) >= sizeof(n->text)) {
		*why = "address too long";
		return -EINVAL;
	}
	memset(n, 0, sizeof(*n));
	if (raft_addr_parse(text, &n->ip, why))
		return -EINVAL;
	if (raft_addr_port(&n->ip) == 65535) {
		*why = "port 65535 leaves no port for clients (PORT + 1)";
		return -EINVAL;
	}
	n->id = id;
	snprintf(n->text, sizeof(n->text), "%s", text);
	client = n->ip;
	raft_addr_set_port(&client, (uint16_t)(raft_addr_port(&n->ip) + 1));
	raft_addr_format(&client, n->client, sizeof(n->client));
	s->n_nodes++;
	return 0;
}

/*
 * Incarnations: each data directory has a random id of its own, in every
 * message its node sends.  A node remembers (in DIR/peers) the one each
 * member had when first heard, and drops the messages of a member whose
 * directory changed: that node lost its Raft state (its votes, the entries
 * it acknowledged) and must be removed and added again, or the cluster
 * could lose committed entries or elect two leaders in a term.
 */
static int write_file(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	size_t len = strlen(text);
	int fd, dfd, rc = 0;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n != (ssize_t)len)
		rc = n < 0 ? -errno : -EIO;	/* a short write: the disk is full */
	else if (fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd))
		rc = -errno;
	close(dfd);
	return rc;
}

static void save_incarnations(struct server *s)
{
	char text[NODES_MAX * 32] = "";
	size_t off = 0;
	int rc;

	for (unsigned int i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].incarnation && s->nodes[i].id != s->cfg.id)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
						"%u %016" PRIx64 "\n", s->nodes[i].id,
						s->nodes[i].incarnation);
	rc = write_file(s->data_dir, "peers", text);
	if (rc)
		say(s, "cannot save %s/peers: %s", s->data_dir, strerror(-rc));
}

static void load_incarnations(struct server *s)
{
	char path[4096];
	unsigned long long inc;
	unsigned int id;
	FILE *f;

	snprintf(path, sizeof(path), "%s/peers", s->data_dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%u %llx", &id, &inc) == 2) {
		struct node_addr *n = node_by_id(s, id);

		if (n)
			n->incarnation = inc;
	}
	fclose(f);
}

/* This directory's own: made once, with the directory. */
static int own_incarnation(struct server *s)
{
	char path[4096], text[32];
	unsigned long long inc = 0;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/incarnation", s->data_dir);
	f = fopen(path, "re");
	if (f) {
		rc = fscanf(f, "%llx", &inc);
		fclose(f);
		if (rc != 1 || !inc)
			return -EUCLEAN;
		s->incarnation = inc;
		return 0;
	}
	while (!inc)
		if (getrandom(&inc, sizeof(inc), 0) != sizeof(inc))
			return -errno;
	snprintf(text, sizeof(text), "%016llx\n", inc);
	rc = write_file(s->data_dir, "incarnation", text);
	if (!rc)
		s->incarnation = inc;
	return rc;
}

/* A member removed may come back with a new directory: forget it. */
static void forget_non_members(struct server *s, const struct raft_conf *c)
{
	bool changed = false;

	for (unsigned int i = 0; i < s->n_nodes; i++) {
		struct node_addr *n = &s->nodes[i];

		if (n->incarnation && !raft_conf_get(c, n->id)) {
			n->incarnation = 0;
			changed = true;
		}
	}
	if (changed)
		save_incarnations(s);
}

/* Members new to this node: their addresses come with the membership. */
static void learn_members(struct server *s)
{
	const struct raft_conf *c = raft_membership(s->raft);

	if (!c)
		return;
	for (unsigned int i = 0; i < c->n; i++) {
		const struct raft_member *m = &c->m[i];
		const char *why;
		struct node_addr *n;

		if (node_by_id(s, m->id) || !m->addr[0])
			continue;
		if (node_add(s, m->id, m->addr, &why)) {
			say(s, "member %u at \"%s\": %s", m->id, m->addr, why);
			continue;
		}
		n = &s->nodes[s->n_nodes - 1];
		transport_peer_addr(&s->net, n->id, raft_addr_port(&n->ip),
				    &n->ip, &n->raft);
		say(s, "member %u is at %s", m->id, m->addr);
		load_incarnations(s);
	}
	forget_non_members(s, c);
}

/* Peers. */

static void send_msg(struct server *s, const struct raft_msg *msg)
{
	const struct node_addr *to = node_by_id(s, msg->to);
	struct wire_peer_hdr h = {
		.cluster = s->cluster, .incarnation = s->incarnation,
	};
	uint8_t buf[WIRE_DGRAM_MAX], chunk[WIRE_CHUNK_BYTES];
	struct raft_msg copy;
	const struct raft_msg *m = msg;
	int len;

	if (!to)
		return;
	if (m->type == RAFT_MSG_SNAPSHOT) {
		/* The chunk is read as it leaves: a newer snapshot stops it. */
		if (m->data_len > sizeof(chunk) ||
		    rstore_snapshot_read(s->store, m->index, m->offset, chunk,
					 m->data_len) != (ssize_t)m->data_len)
			return;
		copy = *m;
		copy.data = chunk;
		m = &copy;
	}
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

/* A chunk of the leader's snapshot, to the part file. */
static void store_chunk(struct server *s, const struct raft_msg *m)
{
	uint64_t offset = 0;
	int err;

	err = rstore_recv_write(s->store, m->index, m->log_term, m->offset,
				m->data, m->data_len);
	if (err && may_complain(s, COMPLAINT_SNAPSHOT))
		say(s, "snapshot %" PRIu64 " from node %u: %s", m->index,
		    m->from, rstore_error(s->store));
	if (!m->offset && !err)
		say(s, "receiving snapshot %" PRIu64 " (term %" PRIu64 ", %" PRIu64 " bytes) from node %u",
		    m->index, m->log_term, m->total, m->from);
	rstore_recv_state(s->store, NULL, NULL, &offset);
	raft_snapshot_stored(s->raft, err, offset);
}

static void receive_peer(struct server *s, const uint8_t *buf, size_t len)
{
	static struct raft_entry ents[WIRE_MAX_ENTRIES];
	struct node_addr *from;
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
	from = node_by_id(s, m.from);
	if (m.to != s->cfg.id || !from || m.from == s->cfg.id || !h.incarnation) {
		s->unknown++;
		if (may_complain(s, COMPLAINT_UNKNOWN))
			say(s, "dropped a message from unknown node %u to %u (%" PRIu64 " so far)",
			    m.from, m.to, s->unknown);
		return;
	}
	if (from->incarnation && from->incarnation != h.incarnation) {
		s->wiped++;
		if (may_complain(s, COMPLAINT_WIPED))
			say(s, "dropped a message from node %u: its data directory is new (incarnation %016" PRIx64 ", was %016" PRIx64 "), so it lost its Raft state; remove it and add it again (%" PRIu64 " so far)",
			    m.from, h.incarnation, from->incarnation, s->wiped);
		return;
	}
	if (!from->incarnation) {
		from->incarnation = h.incarnation;
		save_incarnations(s);
	}
	s->clock = (h.stamp > s->clock ? h.stamp : s->clock) + 1;
	if (s->verbose > 1)
		say(s, "<- %u %s stamp %" PRIu64 " index %" PRIu64 " entries %u%s",
		    m.from, raft_msg_name(m.type), h.stamp, m.index,
		    m.n_entries, m.ok ? " ok" : "");
	if (raft_step(s->raft, &m) == RAFT_STEP_CHUNK)
		store_chunk(s, &m);
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
	memset(w, 0, sizeof(*w));
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
		.kv_leases = kv_leases(s->kv),
		.hints = s->hints,
	};
	const struct raft_conf *members = raft_membership(s->raft);
	uint8_t body[WIRE_DGRAM_MAX];
	int n;

	if (members)
		st.members = *members;
	raft_status(s->raft, &st.raft);
	/* Only a leader knows where its peers stand. */
	if (st.raft.role != RAFT_LEADER)
		st.raft.n_peers = 0;
	n = wire_status_encode(&st, body, sizeof(body) - WIRE_REPLY_HDR - WIRE_ADDR_MAX);
	if (n > 0)
		reply(s, from, WIRE_REQ_STATUS, req, WIRE_DONE, body, (size_t)n);
}

static void admin_pending(struct server *s, const struct raft_addr *from,
			  uint64_t req, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void admin_pending(struct server *s, const struct raft_addr *from,
			  uint64_t req, const char *fmt, ...)
{
	struct pending_write *w;
	va_list ap;
	void *p;

	p = grow(s->writes, &s->writes_cap, s->n_writes + 1, sizeof(*w));
	if (!p) {
		reply(s, from, WIRE_REQ_ADMIN, req, WIRE_BUSY, NULL, 0);
		return;
	}
	s->writes = p;
	w = &s->writes[s->n_writes++];
	memset(w, 0, sizeof(*w));
	w->index = raft_last_index(s->raft);
	w->term = raft_term(s->raft);
	w->req = req;
	w->from = *from;
	w->admin = true;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

static void admin_error(struct server *s, const struct raft_addr *from,
			uint64_t req, int err, const char *why)
{
	uint8_t code = err == -EAGAIN || err == -EBUSY ? WIRE_BUSY :
		       err == -EPERM ? refusal(s) : WIRE_BAD_REQUEST;

	reply(s, from, WIRE_REQ_ADMIN, req, code, why, strlen(why));
}

/* lamport raft add, remove, transfer: at the leader only. */
static void client_admin(struct server *s, const struct raft_addr *from,
			 uint64_t req, const uint8_t *body, size_t len)
{
	const struct raft_conf *cur = raft_membership(s->raft);
	struct raft_conf to;
	struct raft_member *m;
	struct raft_addr a;
	struct wire_admin ad;
	const char *why = "";
	char text[160];
	int rc;

	if (wire_admin_decode(&ad, body, len)) {
		reply_error(s, from, WIRE_REQ_ADMIN, req, "malformed admin request");
		return;
	}
	if (raft_role(s->raft) != RAFT_LEADER || !cur) {
		reply(s, from, WIRE_REQ_ADMIN, req, refusal(s), NULL, 0);
		return;
	}
	to = *cur;
	m = raft_conf_find(&to, ad.id);
	switch (ad.op) {
	case WIRE_ADMIN_ADD:
		/* A retry of a change already made is answered as done. */
		if (m && !strcmp(m->addr, ad.addr)) {
			snprintf(text, sizeof(text), "node %u is a member at %s", ad.id,
				 ad.addr);
			reply(s, from, WIRE_REQ_ADMIN, req, WIRE_DONE, text, strlen(text));
			return;
		}
		if (m) {
			snprintf(text, sizeof(text), "node %u is already a member, at %s",
				 ad.id, m->addr);
			reply_error(s, from, WIRE_REQ_ADMIN, req, text);
			return;
		}
		if (raft_addr_parse(ad.addr, &a, &why)) {
			snprintf(text, sizeof(text), "\"%s\": %s", ad.addr, why);
			reply_error(s, from, WIRE_REQ_ADMIN, req, text);
			return;
		}
		if (to.n == RAFT_MAX_NODES) {
			snprintf(text, sizeof(text), "a cluster has at most %d members",
				 RAFT_MAX_NODES);
			reply_error(s, from, WIRE_REQ_ADMIN, req, text);
			return;
		}
		to.m[to.n] = (struct raft_member){ .id = ad.id };
		snprintf(to.m[to.n++].addr, sizeof(to.m[0].addr), "%s", ad.addr);
		break;
	case WIRE_ADMIN_REMOVE:
		if (!m) {
			snprintf(text, sizeof(text), "node %u is not a member", ad.id);
			reply(s, from, WIRE_REQ_ADMIN, req, WIRE_DONE, text, strlen(text));
			return;
		}
		*m = to.m[--to.n];
		break;
	case WIRE_ADMIN_TRANSFER:
		if (ad.id == s->cfg.id) {
			snprintf(text, sizeof(text), "node %u leads", ad.id);
			reply(s, from, WIRE_REQ_ADMIN, req, WIRE_DONE, text, strlen(text));
			return;
		}
		rc = raft_transfer(s->raft, ad.id);
		if (rc == -EINVAL)
			snprintf(text, sizeof(text), "node %u is not a voter", ad.id);
		else if (rc == -EAGAIN)
			snprintf(text, sizeof(text), "a transfer is under way");
		if (rc) {
			admin_error(s, from, req, rc, text);
			return;
		}
		say(s, "transferring leadership to node %u", ad.id);
		snprintf(text, sizeof(text), "node %u: transferring leadership to node %u",
			 s->cfg.id, ad.id);
		reply(s, from, WIRE_REQ_ADMIN, req, WIRE_DONE, text, strlen(text));
		return;
	}
	rc = raft_change(s->raft, &to, &why);
	if (rc) {
		admin_error(s, from, req, rc, why);
		return;
	}
	say(s, "membership change at index %" PRIu64 ": %s node %u",
	    raft_last_index(s->raft), ad.op == WIRE_ADMIN_ADD ? "adding" : "removing",
	    ad.id);
	if (ad.op == WIRE_ADMIN_ADD)
		admin_pending(s, from, req, "node %u added as a non-voter at index %" PRIu64 "; the leader makes it a voter once it has caught up",
			      ad.id, raft_last_index(s->raft));
	else
		admin_pending(s, from, req, "node %u removed at index %" PRIu64,
			      ad.id, raft_last_index(s->raft));
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
	if (rq.kind == WIRE_REQ_ADMIN) {
		client_admin(s, from, rq.id, rq.body, rq.len);
		return;
	}
	if (kv_decode(&cmd, rq.body, rq.len)) {
		reply_error(s, from, rq.kind, rq.id, "malformed key-value command");
		return;
	}
	if (cmd.op == KV_LEASE_EXPIRE) {
		reply_error(s, from, rq.kind, rq.id,
			    "leases expire when the leader says so; revoke one instead");
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
		if (w->index != e->index || w->term != e->term)
			reply(s, &w->from, w->admin ? WIRE_REQ_ADMIN : WIRE_REQ_KV,
			      w->req, WIRE_RETRY, NULL, 0);
		else if (w->admin)
			reply(s, &w->from, WIRE_REQ_ADMIN, w->req, WIRE_DONE,
			      w->msg, strlen(w->msg));
		else
			reply_result(s, &w->from, w->req, res);
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
		/* A lease granted or kept alive runs from now. */
		if (e->type == RAFT_ENTRY_COMMAND && res.status == KV_OK &&
		    res.lease && res.ttl_ms &&
		    lease_timers_refresh(&s->leases, res.lease, res.ttl_ms, now_ms()))
			say(s, "out of memory for the clock of lease %" PRIu64, res.lease);
		if (s->n_writes && e->type != RAFT_ENTRY_NOOP)
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
		reply(s, &s->writes[i].from,
		      s->writes[i].admin ? WIRE_REQ_ADMIN : WIRE_REQ_KV,
		      s->writes[i].req, refusal(s), NULL, 0);
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
	uint32_t removed_by = raft_removed_by(s->raft);

	if (removed_by != s->removed_by) {
		if (removed_by)
			say(s, "node %u says this node was removed from the cluster: no longer campaigning",
			    removed_by);
		else
			say(s, "a leader counts this node in again");
		s->removed_by = removed_by;
	}
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
	if (role == RAFT_LEADER && s->role != RAFT_LEADER &&
	    lease_timers_reset(&s->leases, s->kv, now_ms()))
		say(s, "out of memory for the lease clocks");
	s->role = role;
	s->leader = leader;
}

/* Snapshots. */

/* The store at the applied index, to a snapshot file; the log before it goes. */
static void take_snapshot(struct server *s)
{
	const struct raft_entry *e = raft_entry_at(s->raft, s->applied);
	uint8_t conf[RAFT_CONF_MAX];
	uint64_t index = s->applied, size = 0;
	struct raft_conf c;
	uint8_t *data = NULL;
	size_t len = 0;
	int clen, rc;

	if (!e || raft_conf_at(s->raft, index, &c))
		return;
	clen = raft_conf_encode(&c, conf, sizeof(conf));
	rc = clen < 0 ? clen : kv_snapshot_encode(s->kv, &data, &len);
	if (!rc)
		rc = rstore_snapshot_save(s->store, index, e->term, conf,
					  (uint32_t)clen, data, len);
	free(data);
	if (rc) {
		say(s, "snapshot at index %" PRIu64 " failed: %s", index,
		    rc == -ENOMEM ? "out of memory" : rstore_error(s->store));
		return;
	}
	rstore_snapshot_info(s->store, NULL, NULL, &size);
	rc = raft_compact(s->raft, index, size, s->snapshot_entries / 4);
	say(s, "snapshot at index %" PRIu64 " (term %" PRIu64 "): %zu keys, %zu leases, %" PRIu64 " bytes; log compacted%s",
	    index, e->term, kv_count(s->kv), kv_leases(s->kv), size,
	    rc ? " (not in memory: bad index)" : "");
}

static void maybe_snapshot(struct server *s)
{
	if (s->snapshot_entries && !s->storage_failed &&
	    s->applied >= raft_snapshot_index(s->raft) + s->snapshot_entries)
		take_snapshot(s);
}

struct installed {
	struct server *s;
	struct kv *kv;
	struct raft_conf conf;
	uint64_t index, term;
	int err;
};

/* The snapshot received, as storage hands it over (conf and data are ours). */
static int on_snapshot(void *arg, uint64_t index, uint64_t term, uint8_t *conf,
		       uint32_t conf_len, uint8_t *data, size_t data_len)
{
	struct installed *in = arg;
	int rc;

	in->index = index;
	in->term = term;
	rc = raft_conf_decode(&in->conf, conf, conf_len);
	if (!rc)
		rc = kv_snapshot_decode(&in->kv, data, data_len, 0);
	free(conf);
	free(data);
	in->err = rc;
	return rc;
}

static void install_snapshot(struct server *s, const struct raft_output *out)
{
	struct installed in = { .s = s };
	int rc;

	rc = rstore_recv_finish(s->store, out->snap_total, on_snapshot, &in);
	if (rc && !in.index) {
		say(s, "the snapshot received at %" PRIu64 " is refused: %s",
		    out->snap_index, rstore_error(s->store));
		raft_snapshot_installed(s->raft, rc, 0, 0, NULL);
		return;
	}
	if (in.err) {
		/* On disk, checked by its CRC, yet not ours to read: stop. */
		say(s, "the snapshot at %" PRIu64 " does not decode (%s)", in.index,
		    strerror(-in.err));
		raft_snapshot_installed(s->raft, in.err, 0, 0, NULL);
		storage_failure(s, "installing a snapshot");
		return;
	}
	kv_free(s->kv);
	s->kv = in.kv;
	s->applied = in.index;
	raft_snapshot_installed(s->raft, 0, in.index, in.term, &in.conf);
	say(s, "installed the leader's snapshot at index %" PRIu64 " (term %" PRIu64 "): %zu keys, %u members",
	    in.index, in.term, kv_count(s->kv), in.conf.n);
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
		    out.commit <= s->applied && !out.conf_changed &&
		    !out.snap_complete)
			break;
		if (out.conf_changed)
			learn_members(s);
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
		if (out.snap_complete && durable)
			install_snapshot(s, &out);
		else
			maybe_snapshot(s);
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

/* The leader ends a lease whose time is up: a replicated KV_LEASE_EXPIRE. */
static int expire_lease(void *arg, uint64_t id, uint64_t refresh)
{
	struct kv_cmd cmd = {
		.op = KV_LEASE_EXPIRE, .lease = id, .refresh_index = refresh,
	};
	struct server *s = arg;
	uint8_t buf[KV_CMD_MAX];
	uint64_t index, term;
	int len, rc;

	len = kv_encode(&cmd, buf, sizeof(buf));
	if (len < 0)
		return len;
	rc = raft_propose(s->raft, buf, (uint32_t)len, &index, &term);
	if (!rc && s->verbose)
		say(s, "lease %" PRIu64 " ran out (last kept alive at index %" PRIu64 "): its end at index %" PRIu64,
		    id, refresh, index);
	return rc;
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
	if (raft_role(s->raft) == RAFT_LEADER && s->leases.n)
		lease_timers_due(&s->leases, s->kv, now_ms(), expire_lease, s);
}

static void on_hint(void *arg, uint32_t peer, uint8_t old_state,
		    uint8_t new_state)
{
	struct server *s = arg;

	(void)old_state;
	if (new_state != LAMPORT_PEER_DEAD || !node_by_id(s, peer))
		return;
	if (peer == raft_leader(s->raft) && raft_role(s->raft) != RAFT_LEADER)
		say(s, "the failure detector says leader %u is dead: campaigning now", peer);
	else if (s->verbose)
		say(s, "the failure detector says node %u is dead", peer);
	raft_hint_dead(s->raft, peer);
}

static void on_hints(struct server *s)
{
	if (raft_hints_read(s->hints, on_hint, s) == -ENOBUFS)
		say(s, "failure detector events were lost (overrun)");
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
		struct pollfd p[5] = {
			{ .fd = s->net.fd, .events = POLLIN },
			{ .fd = s->client_fd, .events = POLLIN },
			{ .fd = s->timer_fd, .events = POLLIN },
			{ .fd = s->signal_fd, .events = POLLIN },
			{ .fd = s->hints ? raft_hints_fd(s->hints) : -1,
			  .events = POLLIN },
		};
		int wait = transport_flush(&s->net, now_ms());

		if (poll(p, 5, wait) < 0 && errno != EINTR) {
			say(s, "poll: %s", strerror(errno));
			return 1;
		}
		if (p[3].revents)
			on_signal(s);
		if (p[4].revents)
			on_hints(s);
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
		"                          [--join] [--cluster NAME] [--transport auto|udp|lamport]\n"
		"                          [--tick MS] [--election TICKS] [--heartbeat TICKS]\n"
		"                          [--snapshot-entries N] [--no-hints] [--log-time]\n"
		"                          [--faults drop=P,dup=P,delay=MS[-MS]] [-v]...\n"
		"Every node of --peers, this one included, takes Raft messages on PORT\n"
		"(over AF_LAMPORT to node ID, or UDP to ADDR) and clients on PORT + 1.\n"
		"--peers are the first members; with --join this node is not one: it\n"
		"waits for a leader to add it (lamport raft add) and --peers only says\n"
		"where nodes are.  A snapshot is taken every --snapshot-entries entries\n"
		"(default %d, 0: never).  Over AF_LAMPORT the failure detector's\n"
		"verdicts start an election as soon as the leader is dead (--no-hints:\n"
		"election timeouts only).  --log-time puts CLOCK_MONOTONIC seconds on\n"
		"every log line (\"raft 1: lc 7 term 2 at 812.045113: ...\").\n",
		SNAPSHOT_ENTRIES_DEFAULT);
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
	const char *why;
	int rc = 0;

	if (!copy)
		return fail("out of memory");
	for (char *p = strtok_r(copy, ",", &save); p && !rc;
	     p = strtok_r(NULL, ",", &save)) {
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
		if (node_add(s, (uint32_t)id, eq + 1, &why)) {
			rc = fail("--peers: \"%s\": %s", eq + 1, why);
			break;
		}
		s->boot.m[s->boot.n].id = (uint32_t)id;
		s->boot.m[s->boot.n].voter = true;
		snprintf(s->boot.m[s->boot.n].addr, sizeof(s->boot.m[0].addr), "%s",
			 eq + 1);
		s->boot.n++;
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

/* The cluster's identity is its name: members come and go. */
static uint64_t cluster_id(const char *name)
{
	return fnv1a(0xcbf29ce484222325ULL, name, strlen(name)) | 1;
}

struct loaded {
	struct raft_entry *e;
	size_t n, cap;
	struct installed snap;
};

static int load_snapshot(void *arg, uint64_t index, uint64_t term,
			 uint8_t *conf, uint32_t conf_len, uint8_t *data,
			 size_t data_len)
{
	struct loaded *l = arg;

	return on_snapshot(&l->snap, index, term, conf, conf_len, data, data_len);
}

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

	rc = rstore_open2(s->data_dir, s->cluster, s->cfg.id, 0, load_snapshot,
			  load_entry, &l, &s->store, &meta, err, sizeof(err),
			  warn, sizeof(warn));
	if (rc) {
		for (size_t i = 0; i < l.n; i++)
			free(l.e[i].data);
		free(l.e);
		kv_free(l.snap.kv);
		if (warn[0])
			fprintf(stderr, "lamport raft serve: %s\n", warn);
		return fail("%s", err);
	}
	if (warn[0])
		fprintf(stderr, "lamport raft serve: %s\n", warn);
	raft_restore_meta(s->raft, meta.term, meta.vote);
	if (l.snap.index) {
		uint64_t size = 0;

		rstore_snapshot_info(s->store, NULL, NULL, &size);
		kv_free(s->kv);
		s->kv = l.snap.kv;
		rc = raft_restore_snapshot(s->raft, l.snap.index, l.snap.term,
					   &l.snap.conf, size);
		s->applied = l.snap.index;
		if (rc) {
			for (size_t i = 0; i < l.n; i++)
				free(l.e[i].data);
			free(l.e);
			return fail("%s: the snapshot at %" PRIu64 " does not fit term %" PRIu64,
				    s->data_dir, l.snap.index, meta.term);
		}
		fprintf(stderr, "lamport raft serve: %s: snapshot at index %" PRIu64 " (term %" PRIu64 "), %zu keys\n",
			s->data_dir, l.snap.index, l.snap.term, kv_count(s->kv));
	}
	for (size_t i = 0; i < l.n && !rc; i++)
		rc = raft_restore_entry(s->raft, &l.e[i]);
	for (size_t i = rc ? 0 : l.n; i < l.n; i++)
		free(l.e[i].data);
	free(l.e);
	if (rc)
		return fail("%s: the log does not fit its term %" PRIu64,
			    s->data_dir, meta.term);
	s->term = meta.term;
	{
		uint64_t index, term, offset;

		if (!rstore_recv_state(s->store, &index, &term, &offset))
			raft_snapshot_resume(s->raft, index, term, offset);
	}
	rc = own_incarnation(s);
	if (rc)
		return fail("%s/incarnation: %s", s->data_dir,
			    rc == -EUCLEAN ? "damaged" : strerror(-rc));
	load_incarnations(s);
	fprintf(stderr, "lamport raft serve: %s: term %" PRIu64 ", vote %u, last index %" PRIu64 ", incarnation %016" PRIx64 "\n",
		s->data_dir, meta.term, meta.vote, raft_last_index(s->raft),
		s->incarnation);
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
	bool join;
	bool no_hints;
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
		{ "join", no_argument, NULL, 'J' },
		{ "no-hints", no_argument, NULL, 'N' },
		{ "log-time", no_argument, NULL, 'L' },
		{ "snapshot-entries", required_argument, NULL, 'S' },
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
		case 'J':
			o->join = true;
			break;
		case 'N':
			o->no_hints = true;
			break;
		case 'L':
			s->log_time = true;
			break;
		case 'S':
			rc = parse_uint("--snapshot-entries", optarg, 0, 100000000,
					&s->snapshot_entries);
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
	s->cfg.snapshot_chunk = WIRE_CHUNK_BYTES;
	s->tick_ms = TICK_MS_DEFAULT;
	s->snapshot_entries = SNAPSHOT_ENTRIES_DEFAULT;
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
	s->cfg.join = o.join;
	if (!o.join)
		s->cfg.bootstrap = &s->boot;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 2654435761u ^ now_ms();
	s->cfg.seed = seed;
	s->cluster = cluster_id(o.cluster);
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
	if (s->net.lamport && !o.no_hints) {
		rc = raft_hints_open(&s->hints, err, sizeof(err));
		if (rc)
			say(s, "no hints from the failure detector: %s", err);
	}
	if (s->net.lamport)
		snprintf(err, sizeof(err), "AF_LAMPORT node %u port %u", o.id,
			 raft_addr_port(&s->self->ip));
	else
		raft_addr_format(&s->self->ip, err, sizeof(err));
	say(s, "node %u%s: peers over %s%s, clients on UDP port %u, data in %s, cluster %016" PRIx64 "%s",
	    o.id, o.join ? " (joining)" : "", s->net.lamport ? "" : "UDP ", err,
	    raft_addr_port(&s->self->ip) + 1, s->data_dir, s->cluster,
	    s->hints ? ", hints from the failure detector" : "");
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
	raft_hints_close(s->hints);
	lease_timers_free(&s->leases);
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
