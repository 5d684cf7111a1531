// SPDX-License-Identifier: GPL-2.0
/*
 * lamport: configure and inspect the lamport.ko node of the current
 * network namespace.
 *
 *	lamport [ OPTIONS ] OBJECT { COMMAND | help }
 *
 * Like ip(8), every failure, usage errors included, exits with status 1
 * after one "Error: ..." line on stderr; help goes to stdout with status 0.
 * The exceptions: the refusals of the Raft store (lamport kv, lease and
 * lock: enum lamport_exit) and lock acquire running a command, which exits
 * with the command's status.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

#ifndef LAMPORT_VERSION
#define LAMPORT_VERSION "0.1"
#endif

enum option {
	OPT_JSON,
	OPT_PRETTY,
	OPT_STATS,
	OPT_VERSION,
	OPT_HELP,
	OPT_COUNT,
};

/* Matched by prefix, so "-j" and "-json" are the same option. */
static const char *const option_names[OPT_COUNT] = {
	[OPT_JSON]	= "-json",
	[OPT_PRETTY]	= "-pretty",
	[OPT_STATS]	= "-statistics",
	[OPT_VERSION]	= "-Version",
	[OPT_HELP]	= "-help",
};

static int do_help(struct ctx *ctx, int argc, char **argv);

static const struct cmd objects[] = {
	{ "node",	do_node },
	{ "peer",	do_peer },
	{ "socket",	do_socket },
	{ "monitor",	do_monitor },
	{ "trace",	do_trace },
	{ "bench",	do_bench },
	{ "raft",	do_raft },
	{ "kv",		do_kv },
	{ "lease",	do_lease },
	{ "lock",	do_lock },
	{ "help",	do_help },
	{ NULL, NULL },
};

static void usage(FILE *out)
{
	const struct cmd *obj;

	fprintf(out,
		"Usage: lamport [ OPTIONS ] OBJECT { COMMAND | help }\n"
		"       lamport [ -V[ersion] | -h[elp] ]\n"
		"where  OBJECT := {");
	for (obj = objects; obj->name; obj++)
		if (obj->run != do_help)
			fprintf(out, " %s", obj->name);
	fprintf(out,
		" }\n"
		"       OPTIONS := { -j[son] | -p[retty] | -s[tatistics] }\n"
		"Options may also follow the object and command; \"--\" ends them.\n"
		"-pretty indents the JSON output and implies -json; -statistics adds\n"
		"the counters to what \"show\" prints.\n");
}

/* "lamport help" and "lamport help OBJECT". */
static int do_help(struct ctx *ctx, int argc, char **argv)
{
	char help[] = "help";
	char *help_argv[] = { NULL, help, NULL };

	if (!argc || matches(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	help_argv[0] = argv[0];
	return run_cmd(ctx, objects, "object", "lamport help", 2, help_argv);
}

/* Returns the option arg names, or -1 when it is not one. */
static int option_lookup(const char *arg)
{
	int opt;

	if (arg[0] != '-' || !arg[1])
		return -1;
	if (arg[1] == '-')	/* --json is -json */
		arg++;
	for (opt = 0; opt < OPT_COUNT; opt++)
		if (matches(arg, option_names[opt]))
			return opt;
	return -1;
}

/*
 * trace has options of its own (-p PID, -d SECONDS, -H), and so has raft
 * serve ("raft s" is raft status).
 */
static bool own_options(int n, char **argv)
{
	if (n == 1)
		return matches(argv[0], "trace");
	return n == 2 && matches(argv[0], "raft") &&
	       !strncmp(argv[1], "se", 2) && matches(argv[1], "serve");
}

/* The object named by word, as run_cmd() would pick it; NULL: none. */
static const struct cmd *object_named(const char *word)
{
	const struct cmd *obj;

	for (obj = objects; obj->name; obj++)
		if (matches(word, obj->name))
			return obj;
	return NULL;
}

/*
 * lock acquire runs the command after a "--": the word is kept for it to
 * see where the command begins.
 */
static bool keeps_dashes(int n, char **argv)
{
	const struct cmd *obj = n ? object_named(argv[0]) : NULL;

	return obj && obj->run == do_lock;
}

/*
 * Options may stand anywhere ("lamport node show -j"), so they are taken
 * out of argv, leaving the other words in order; "--" ends them.  An
 * unknown option is an error before the object, but after it the word is
 * left to the object, being possibly a value like "-1".
 */
static int strip_options(bool *seen, int argc, char **argv)
{
	bool literal = false;
	int i, opt, n = 0;

	for (i = 0; i < argc; i++) {
		if (!literal && !strcmp(argv[i], "--")) {
			literal = true;
			if (keeps_dashes(n, argv))
				argv[n++] = argv[i];
			continue;
		}
		opt = literal ? -1 : option_lookup(argv[i]);
		if (opt >= 0) {
			seen[opt] = true;
			continue;
		}
		if (!literal && !n && argv[i][0] == '-' && argv[i][1])
			return unknarg("option", argv[i], "lamport -help");
		argv[n++] = argv[i];
		if (own_options(n, argv))
			literal = true;
	}
	return n;
}

static int run(struct ctx *ctx, int argc, char **argv)
{
	bool seen[OPT_COUNT] = { false };
	char help[] = "help";
	char *help_argv[] = { NULL, help, NULL };

	argc = strip_options(seen, argc, argv);
	if (argc < 0)
		return -1;
	ctx->json = seen[OPT_JSON] || seen[OPT_PRETTY];
	ctx->pretty = seen[OPT_PRETTY];
	ctx->stats = seen[OPT_STATS];

	if (seen[OPT_VERSION]) {
		printf("lamport utility, %s\n", LAMPORT_VERSION);
		return 0;
	}
	if (seen[OPT_HELP]) {
		if (!argc) {
			usage(stdout);
			return 0;
		}
		help_argv[0] = argv[0];
		argc = 2;
		argv = help_argv;
	}
	if (!argc) {
		usage(stderr);
		return -1;
	}
	return run_cmd(ctx, objects, "object", "lamport help", argc, argv);
}

int main(int argc, char **argv)
{
	struct ctx ctx = { 0 };
	int ret;

	ret = run(&ctx, argc - 1, argv + 1);
	if (ctx.nl_ready)
		lnl_close(&ctx.nl);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "Error: cannot write the output: %s\n",
			strerror(errno));
		return 1;
	}
	if (!ret)
		return 0;
	return ret < 0 && ctx.exit > 0 && ctx.exit < 256 ? ctx.exit : 1;
}
