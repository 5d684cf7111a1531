/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the lamport command shared by its object files.
 */
#ifndef LAMPORT_USER_LAMPORT_H
#define LAMPORT_USER_LAMPORT_H

#include <stdbool.h>

#include "json.h"
#include "nl.h"

struct ctx {
	bool json;
	bool pretty;
	bool nl_ready;
	struct lnl nl;
};

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

/* A JSON writer on stdout, as the options ask. */
void ctx_json(const struct ctx *ctx, struct json *j);

/* Objects. */
int do_node(struct ctx *ctx, int argc, char **argv);

#endif /* LAMPORT_USER_LAMPORT_H */
