// SPDX-License-Identifier: GPL-2.0
/*
 * lamport-lincheck [-j] [-b STEPS] HISTORY: is a key-value history (JSON
 * Lines, see lincheck.h; - for stdin), its locks included, linearizable?
 * Exits 0 if it is, 1 if not, 2 on bad input, 3 if the search budget ran
 * out first.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lincheck.h"

#define EXIT_BAD_INPUT	2

static void usage(FILE *out)
{
	fputs("usage: lamport-lincheck [-j] [-b STEPS] HISTORY\n"
	      "  -j        the verdict as one JSON object\n"
	      "  -b STEPS  search steps allowed per key (or lock) before giving up\n"
	      "exit: 0 linearizable, 1 not, 2 bad input, 3 too hard\n", out);
}

static bool parse_steps(const char *s, uint64_t *steps)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*steps = strtoull(s, &end, 10);
	return !errno && !*end && *steps;
}

static int load(struct lincheck *lc, const char *path)
{
	FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char err[256];
	int r;

	if (!in) {
		fprintf(stderr, "lamport-lincheck: %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	r = lincheck_load(lc, in, err, sizeof(err));
	if (r)
		fprintf(stderr, "lamport-lincheck: %s: %s\n", path, err);
	if (in != stdin)
		fclose(in);
	return r;
}

int main(int argc, char **argv)
{
	uint64_t budget = LINCHECK_DEFAULT_BUDGET;
	struct lincheck_report rep;
	struct lincheck *lc;
	bool json = false;
	int opt, r;

	while ((opt = getopt(argc, argv, "jb:h")) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'b' && parse_steps(optarg, &budget)) {
			continue;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : EXIT_BAD_INPUT;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	lc = lincheck_new();
	if (!lc || load(lc, argv[optind])) {
		lincheck_free(lc);
		return EXIT_BAD_INPUT;
	}
	lincheck_set_budget(lc, budget);
	r = lincheck_run(lc, &rep);
	if (r < 0) {
		fprintf(stderr, "lamport-lincheck: %s\n", strerror(-r));
		lincheck_free(lc);
		return EXIT_BAD_INPUT;
	}
	if (json)
		lincheck_print_json(stdout, lc, &rep);
	else
		lincheck_print(stdout, lc, &rep);
	lincheck_report_free(&rep);
	lincheck_free(lc);
	return r;
}
