/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the lamport command shared by its object files.
 */
#ifndef LAMPORT_USER_LAMPORT_H
#define LAMPORT_USER_LAMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/lamport.h>

#include "fmt.h"
#include "json.h"
#include "nl.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct ctx {
	bool json;
	bool pretty;
	bool stats;
	bool nl_ready;
	struct lnl nl;
	int exit;		/* of a failure (-1 returned); 0: 1 */
};

/*
 * Exit statuses beyond 0 and 1 (an error; for lamport kv also a key not
 * found or a cas that failed), for the Raft store's refusals.
 */
enum lamport_exit {
	LAMPORT_EXIT_ERROR = 1,
	LAMPORT_EXIT_HELD = 2,		/* lock acquire: another holds it */
	LAMPORT_EXIT_FENCED = 3,	/* the fence key is not at the token */
	LAMPORT_EXIT_NO_LEASE = 4,	/* the lease does not exist (now) */
	LAMPORT_EXIT_BUSY = 5,		/* no more leases in the store */
};

/* Fails with status (enum lamport_exit, or a command's): returns -1. */
int ctx_fail(struct ctx *ctx, int status);

/*
 * An object ("node") or one of its commands ("show").  run() gets the words
 * after the name; argc may be 0.  It returns 0, or -1 once it has printed
 * the reason.  Names are matched by prefix in table order, so put the
 * command an abbreviation should pick first.
 */
struct cmd {
	const char *name;
	int (*run)(struct ctx *ctx, int argc, char **argv);
};

/*
 * Runs the entry of cmds (ended by a NULL name) named by argv[0], or
 * reports it as an unknown <what>, pointing at the help command.
 */
int run_cmd(struct ctx *ctx, const struct cmd *cmds, const char *what,
	    const char *help, int argc, char **argv);

/* The netlink link, opened on first use; NULL once the failure is printed. */
struct lnl *ctx_nl(struct ctx *ctx);

/* Prints the error of a failed lnl_talk(), with its extack; returns -1. */
int nl_error(const struct lnl *nl, int err);

/* A JSON writer on out, as the options ask. */
void ctx_json(const struct ctx *ctx, struct json *j, FILE *out);

/* Where and how the printers below write: JSON through json, else text. */
struct view {
	FILE *out;
	struct json *json;	/* NULL: text to out */
	bool stats;		/* -s: counters too */
};

/* Objects. */
int do_node(struct ctx *ctx, int argc, char **argv);
int do_peer(struct ctx *ctx, int argc, char **argv);
int do_socket(struct ctx *ctx, int argc, char **argv);
int do_monitor(struct ctx *ctx, int argc, char **argv);
int do_bench(struct ctx *ctx, int argc, char **argv);
int do_trace(struct ctx *ctx, int argc, char **argv);
int do_raft(struct ctx *ctx, int argc, char **argv);
int do_kv(struct ctx *ctx, int argc, char **argv);
int do_lease(struct ctx *ctx, int argc, char **argv);
int do_lock(struct ctx *ctx, int argc, char **argv);

/*
 * The parts of the objects that need no kernel, kept apart for the host
 * tests: *_parse() reads the words of a command (printing the error and
 * returning -1 on a mistake), *_put() adds the request's attributes,
 * *_decode() reads a reply (MNL_CB_OK, or MNL_CB_ERROR with errno set)
 * and *_print() writes it out.
 */

/* lamport node */
struct node_req {
	bool has_id;
	bool has_port;
	uint32_t id;
	uint16_t port;
	struct lp_addr addr;	/* len 0: unchanged */
};

struct node_info {
	uint32_t id;
	uint16_t port;		/* 0: no socket */
	struct lp_addr addr;	/* len 0: any */
	bool has_stats;
	bool has_stat[LAMPORT_NODE_STAT_MAX + 1];
	uint64_t stat[LAMPORT_NODE_STAT_MAX + 1];
};

int node_parse_set(struct node_req *req, int argc, char **argv);
void node_put(struct nlmsghdr *nlh, const struct node_req *req);
int node_decode(const struct nlmsghdr *nlh, struct node_info *node);
void node_print(const struct node_info *node, const struct view *v);

/* lamport peer */
struct peer_req {
	uint32_t id;
	struct lp_addr addr;	/* len 0: not given */
	bool has_port, has_interval, has_mult, has_mode, has_threshold;
	uint16_t port;
	uint32_t interval_us;
	uint8_t mult;
	uint8_t mode;
	uint32_t threshold;	/* milli-phi */
};

struct peer_info {
	uint32_t id;
	struct lp_addr addr;
	uint16_t port;
	uint32_t interval_us;
	uint8_t mult;
	uint8_t mode;
	uint32_t threshold;
	uint8_t state;
	bool has_stats;
	bool has_stat[LAMPORT_PEER_STAT_MAX + 1];
	uint64_t stat[LAMPORT_PEER_STAT_MAX + 1];
};

/* cmd: LAMPORT_CMD_PEER_ADD or LAMPORT_CMD_PEER_SET. */
int peer_parse(struct peer_req *req, uint8_t cmd, int argc, char **argv);
void peer_put(struct nlmsghdr *nlh, const struct peer_req *req);
int peer_decode(const struct nlmsghdr *nlh, struct peer_info *peer);
void peer_print(const struct peer_info *peer, const struct view *v);
/* Sorts peers by id and prints them; all: as a JSON array (the dump). */
void peer_print_list(struct peer_info *peers, size_t count, bool all,
		     const struct view *v);

/* lamport socket */
struct flow_info {
	uint8_t dir;		/* enum lamport_flow_dir */
	uint32_t node;		/* the other end */
	uint16_t port;
	bool has_stat[LAMPORT_FLOW_STAT_MAX + 1];
	uint64_t stat[LAMPORT_FLOW_STAT_MAX + 1];
};

struct sock_info {
	uint8_t type;		/* SOCK_DGRAM or SOCK_RDM */
	uint16_t port;		/* 0: unbound */
	uint64_t inode;
	uint64_t clock;
	bool has_stat[LAMPORT_SOCK_STAT_MAX + 1];
	uint64_t stat[LAMPORT_SOCK_STAT_MAX + 1];
	size_t flow_count;
	struct flow_info *flows;	/* malloc()ed, freed by sock_free() */
};

/* On error sock holds nothing to free. */
int sock_decode(const struct nlmsghdr *nlh, struct sock_info *sock);
void sock_free(struct sock_info *sock);
/* Sorts the sockets by type and port and prints them: a table, or an array. */
void sock_print_list(struct sock_info *socks, size_t count,
		     const struct view *v);

/* lamport monitor (struct event_info and event_decode() are in nl.h) */
void event_print(const struct event_info *ev, const struct view *v);

/*
 * Prints the events (genl messages of family) arriving on the socket fd,
 * flushing each, until count of them (0: no limit), SIGINT or SIGTERM;
 * malformed events and an overrun are warned about on stderr.  Returns 0,
 * or -1 when receiving (error printed) or writing (not printed) failed.
 * SIGINT and SIGTERM stay caught (raising a flag nothing reads) after it
 * returns, so that one coming as the command ends cannot kill it.
 */
int monitor_loop(int fd, uint16_t family, const struct view *v, uint32_t count);

/* lamport raft and lamport kv */
struct raft_client;

/* $LAMPORT_RAFT_SERVERS, or ":7001" when it is unset or empty. */
const char *raft_cli_default_servers(void);
/* --timeout MS, 1..3600000: 0, or -1 after the error. */
int raft_cli_timeout(const char *arg, unsigned int *ms);
/* A list of servers: 0, or -1 after naming the address that is wrong. */
int raft_cli_servers(const char *list);
/* The (valid) list as "198.18.0.1:7001, 198.18.0.2:7001". */
void raft_cli_print_servers(FILE *out, const char *list);
/* A client of the servers, trying for timeout_ms: 0, or -1 after the error. */
int raft_cli_client(struct raft_client **c, const char *servers,
		    unsigned int timeout_ms);
/* The same, as client id (0: a random one). */
int raft_cli_client_as(struct raft_client **c, const char *servers,
		       unsigned int timeout_ms, uint64_t id);

/* Where the commands of lamport raft, lease and lock send requests. */
struct raft_cli_args {
	const char *servers;	/* --server LIST, else the default */
	unsigned int timeout_ms;	/* --timeout MS, else 5000 */
};

/*
 * Takes --server LIST and --timeout MS out of argv, wherever they stand
 * before a "--" word: the count of words left (the "--" and those after
 * it included, unchanged), or -1 after the error.
 */
int raft_cli_common(struct raft_cli_args *a, int argc, char **argv);

/* An option of a command, taking a value: "--ttl", and what followed it. */
struct cli_opt {
	const char *name;
	const char *value;	/* NULL: not given */
};

/*
 * Takes the options of opts out of the words before a "--": the count of
 * the other words, now first in argv, or -1 after the error.  *argc
 * becomes the count of words left, a "--" and the words after it moved
 * right after the others.
 */
int cli_take_opts(struct cli_opt *opts, unsigned int n, int *argc,
		  char **argv);

/* Error: CMD: "ARG" is not WHAT.  Returns -1. */
int cli_badarg(const char *cmd, const char *arg, const char *what);

/*
 * A number min..max, else -1 after cli_badarg(cmd, arg, what) where what
 * names the range ("a lease id 1..18446744073709551615").
 */
int cli_number(const char *cmd, const char *arg, uint64_t min, uint64_t max,
	       const char *what, uint64_t *out);

/*
 * The error of a failed call of the client, in words: no answer from the
 * servers within the timeout (for a write: which may have happened), a
 * refusal, an unreadable answer.  Returns -1.
 */
int raft_cli_call_error(struct raft_client *c, const char *servers,
			unsigned int timeout_ms, bool write, int err);

#endif /* LAMPORT_USER_LAMPORT_H */
