// SPDX-License-Identifier: GPL-2.0
/*
 * raft/lincheck.c: hand-made histories with a known verdict and window,
 * parser errors, small random histories against a brute-force checker,
 * histories of a simulated linearizable register (thousands of ops, then
 * one result changed), and a 64-client run for timing.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "raft/lincheck.h"

#define OP(c, op, k, args, s, end, res)					\
	"{\"client\":" #c ",\"op\":\"" op "\",\"key\":\"" k "\"" args	\
	",\"start\":" #s end ",\"result\":\"" res "\"}\n"
#define AT(e)			",\"end\":" #e
#define VAL(v)			",\"value\":\"" v "\""
#define PUT(c, k, v, s, e)	OP(c, "put", k, VAL(v), s, AT(e), "ok")
#define GET(c, k, v, s, e)	OP(c, "get", k, VAL(v), s, AT(e), "ok")
#define GET_NF(c, k, s, e)	OP(c, "get", k, ",\"found\":false", s, AT(e), "not-found")
#define DEL(c, k, s, e, res)	OP(c, "del", k, "", s, AT(e), res)
#define CAS(c, k, x, v, s, e, res) \
	OP(c, "cas", k, ",\"expect\":\"" x "\"" VAL(v), s, AT(e), res)
#define CAS_ABSENT(c, k, v, s, e, res) \
	OP(c, "cas", k, ",\"expect_absent\":true" VAL(v), s, AT(e), res)
#define PUT_UNK(c, k, v, s)	OP(c, "put", k, VAL(v), s, "", "unknown")
#define CAS_UNK(c, k, x, v, s)	\
	OP(c, "cas", k, ",\"expect\":\"" x "\"" VAL(v), s, "", "unknown")
#define DEL_UNK(c, k, s)	OP(c, "del", k, "", s, "", "unknown")
#define GET_UNK(c, k, s)	OP(c, "get", k, "", s, "", "unknown")

enum { LIN = LINCHECK_LINEARIZABLE, NOT = LINCHECK_NOT_LINEARIZABLE };

/* A linearizable case: no window to compare. */
#define LIN_CASE	LIN, NULL, 0, false, NULL

struct checked {
	struct lincheck *lc;
	struct lincheck_report rep;
	int load, verdict;
	char err[256];
};

static void check_text(struct checked *c, const char *text)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");

	memset(c, 0, sizeof(*c));
	c->lc = lincheck_new();
	c->verdict = -1;
	c->load = in ? lincheck_load(c->lc, in, c->err, sizeof(c->err)) : -errno;
	if (in)
		fclose(in);
	if (!c->load)
		c->verdict = lincheck_run(c->lc, &c->rep);
}

static void checked_free(struct checked *c)
{
	lincheck_report_free(&c->rep);
	lincheck_free(c->lc);
}

static unsigned int line_of(const struct checked *c, size_t i)
{
	struct lincheck_op op;

	lincheck_get(c->lc, i, &op);
	return op.line;
}

/* "2 ?3 4": the window's lines, optional ones marked. */
static void window_lines(const struct checked *c, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < c->rep.window_len && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s%u", i ? " " : "",
				 c->rep.window[i].optional ? "?" : "",
				 line_of(c, c->rep.window[i].op));
}

struct hand_case {
	const char *name;
	const char *text;
	int verdict;
	const char *window;	/* NULL: not checked */
	unsigned int culprit;	/* line */
	bool from_start;
	const char *key;
};

static const struct hand_case hand_cases[] = {
	{ "sequential ops, each as the model says",
	  PUT(1, "k", "a", 0, 10) GET(1, "k", "a", 20, 30)
	  CAS(1, "k", "a", "b", 40, 50, "ok") GET(2, "k", "b", 60, 70)
	  CAS(2, "k", "a", "c", 80, 90, "cas-failed")
	  DEL(1, "k", 100, 110, "ok") GET_NF(2, "k", 120, 130)
	  DEL(2, "k", 140, 150, "not-found")
	  CAS_ABSENT(1, "k", "c", 160, 170, "ok")
	  CAS_ABSENT(2, "k", "d", 180, 190, "cas-failed")
	  GET(1, "k", "c", 200, 210), LIN_CASE },
	{ "sequential read of a value never written",
	  PUT(1, "k", "a", 0, 10) GET(2, "k", "b", 20, 30),
	  NOT, "2", 2, false, "k" },
	{ "stale read after a completed write",
	  PUT(1, "k", "a", 0, 10) PUT(1, "k", "b", 20, 30)
	  GET(2, "k", "a", 40, 50),
	  NOT, "2 3", 3, false, "k" },
	{ "reads overlapping a put may see the old or the new value",
	  PUT(1, "k", "a", 0, 10) PUT(1, "k", "b", 20, 100)
	  GET(2, "k", "a", 30, 40) GET(3, "k", "b", 50, 60)
	  GET(2, "k", "b", 110, 120), LIN_CASE },
	{ "a read overlapping a put may see the key absent",
	  PUT(1, "k", "a", 0, 100) GET_NF(2, "k", 10, 20)
	  GET(2, "k", "a", 30, 40), LIN_CASE },
	{ "reads overlapping a put see the new value, then the old",
	  PUT(1, "k", "a", 0, 10) PUT(1, "k", "b", 20, 100)
	  GET(2, "k", "b", 30, 40) GET(3, "k", "a", 50, 60),
	  NOT, "?2 3 4", 4, false, "k" },
	{ "concurrent puts: readers agree on the last",
	  PUT(1, "k", "a", 0, 50) PUT(2, "k", "b", 10, 60)
	  GET(3, "k", "a", 70, 80) GET(1, "k", "a", 90, 100), LIN_CASE },
	{ "concurrent puts: readers disagree on the last",
	  PUT(1, "k", "a", 0, 50) PUT(2, "k", "b", 10, 60)
	  GET(3, "k", "a", 70, 80) GET(1, "k", "b", 90, 100),
	  NOT, "1 2 3 4", 4, true, "k" },
	{ "a read of a value only a later put writes",
	  GET(1, "k", "a", 0, 10) PUT(2, "k", "a", 20, 30),
	  NOT, "1", 1, true, "k" },
	{ "ops touching at one instant overlap",
	  PUT(1, "k", "a", 0, 10) GET_NF(2, "k", 5, 10)
	  PUT(1, "k", "b", 10, 20) GET(2, "k", "a", 20, 30), LIN_CASE },
	{ "two concurrent cas with the same expect both succeed",
	  PUT(1, "k", "e", 0, 1) CAS(2, "k", "e", "x", 2, 5, "ok")
	  CAS(3, "k", "e", "y", 3, 6, "ok"),
	  NOT, "2 3", 3, false, "k" },
	{ "two concurrent cas with the same expect: one succeeds",
	  PUT(1, "k", "e", 0, 1) CAS(2, "k", "e", "x", 2, 5, "ok")
	  CAS(3, "k", "e", "y", 3, 6, "cas-failed") GET(1, "k", "x", 7, 8),
	  LIN_CASE },
	{ "two concurrent cas chained: e to x to y",
	  PUT(1, "k", "e", 0, 1) CAS(2, "k", "x", "y", 2, 5, "ok")
	  CAS(3, "k", "e", "x", 3, 6, "ok") GET(1, "k", "y", 7, 8), LIN_CASE },
	{ "cas succeeding on a key never written",
	  CAS(1, "k", "a", "b", 0, 10, "ok"), NOT, "1", 1, true, "k" },
	{ "cas failing although the value matched",
	  PUT(1, "k", "a", 0, 10) CAS(2, "k", "a", "b", 20, 30, "cas-failed"),
	  NOT, "1 2", 2, true, "k" },
	{ "cas expecting absent succeeds on a present key",
	  PUT(1, "k", "a", 0, 10) CAS_ABSENT(2, "k", "b", 20, 30, "ok"),
	  NOT, "1 2", 2, true, "k" },
	{ "cas expecting absent: the first wins, the second fails",
	  CAS_ABSENT(1, "k", "a", 0, 10, "ok")
	  CAS_ABSENT(2, "k", "b", 5, 15, "cas-failed")
	  GET(1, "k", "a", 20, 30), LIN_CASE },
	{ "del of an absent key, put, del, del again",
	  DEL(1, "k", 0, 10, "not-found") PUT(1, "k", "a", 20, 30)
	  DEL(2, "k", 40, 50, "ok") DEL(1, "k", 60, 70, "not-found")
	  GET_NF(2, "k", 80, 90), LIN_CASE },
	{ "del ok on a key never written",
	  DEL(1, "k", 0, 10, "ok"), NOT, "1", 1, true, "k" },
	{ "del not-found after a completed put",
	  PUT(1, "k", "a", 0, 10) DEL(2, "k", 20, 30, "not-found"),
	  NOT, "1 2", 2, true, "k" },
	{ "two concurrent dels of one value both ok",
	  PUT(1, "k", "a", 0, 10) DEL(2, "k", 20, 40, "ok")
	  DEL(3, "k", 25, 45, "ok"),
	  NOT, "2 3", 3, false, "k" },
	{ "a read overlapping a del and a put sees either",
	  PUT(1, "k", "a", 0, 10) DEL(2, "k", 20, 60, "ok")
	  PUT(3, "k", "b", 30, 70) GET(1, "k", "b", 40, 50)
	  GET(1, "k", "b", 80, 90), LIN_CASE },
	{ "an unknown put that took effect",
	  PUT_UNK(1, "k", "a", 0) GET(2, "k", "a", 100, 110), LIN_CASE },
	{ "an unknown put that never took effect",
	  PUT_UNK(1, "k", "a", 0) GET_NF(2, "k", 100, 110), LIN_CASE },
	{ "an unknown put that took effect late",
	  PUT_UNK(1, "k", "a", 0) GET_NF(2, "k", 10, 20)
	  GET(2, "k", "a", 1000, 1010) GET_NF(3, "k", 30, 40), LIN_CASE },
	{ "an unknown put seen, then unseen",
	  PUT_UNK(1, "k", "a", 0) GET(2, "k", "a", 10, 20)
	  GET_NF(2, "k", 30, 40),
	  NOT, "?1 2 3", 3, true, "k" },
	{ "an unknown put cannot take effect before it starts",
	  GET(1, "k", "a", 0, 10) PUT_UNK(2, "k", "a", 20),
	  NOT, "1", 1, true, "k" },
	{ "unknown puts overwritten before anyone looks",
	  PUT_UNK(1, "k", "u1", 0) PUT_UNK(2, "k", "u2", 1)
	  PUT_UNK(3, "k", "u3", 2) PUT_UNK(4, "k", "u4", 3)
	  PUT(5, "k", "a", 10, 20) GET(5, "k", "a", 30, 40)
	  PUT(5, "k", "b", 50, 60) GET(5, "k", "a", 70, 80),
	  NOT, "?1 ?2 ?3 ?4 7 8", 8, false, "k" },
	{ "an unknown cas, then an unknown del that takes effect late",
	  PUT(1, "k", "a", 0, 10) CAS_UNK(2, "k", "a", "b", 20)
	  GET(1, "k", "b", 100, 110) DEL_UNK(3, "k", 120)
	  GET(1, "k", "b", 200, 210) GET_NF(1, "k", 300, 310), LIN_CASE },
	{ "an unknown cas whose expect never held changes nothing",
	  PUT(1, "k", "a", 0, 10) CAS_UNK(2, "k", "z", "b", 20)
	  GET(1, "k", "b", 100, 110),
	  NOT, "?2 3", 3, false, "k" },
	{ "unknown gets are dropped",
	  PUT(1, "k", "a", 0, 10) GET_UNK(2, "k", 20)
	  GET_UNK(2, "other", 30), LIN_CASE },
	{ "three keys, only k2 has a stale read",
	  PUT(1, "k1", "a", 0, 10) PUT(2, "k2", "a", 0, 10)
	  PUT(3, "k3", "a", 0, 10) PUT(1, "k2", "b", 20, 30)
	  GET(1, "k1", "a", 40, 50) GET(2, "k2", "a", 40, 50)
	  GET(3, "k3", "a", 40, 50),
	  NOT, "4 6", 6, false, "k2" },
	{ "escaped quotes and backslashes",
	  PUT(1, "a\\\"b", "c\\\\d", 0, 10) GET(2, "a\\\"b", "c\\\\d", 20, 30),
	  LIN_CASE },
	{ "an escaped backslash is one character",
	  PUT(1, "a\\\"b", "c\\\\d", 0, 10)
	  GET(2, "a\\\"b", "c\\\\\\\\d", 20, 30),
	  NOT, "2", 2, false, "a\"b" },
};

static void check_hand_case(const struct hand_case *hc)
{
	struct checked c;
	char got[256];
	bool pass;

	check_text(&c, hc->text);
	if (!tap_ok(c.verdict == hc->verdict, "%s: %s", hc->name,
		    hc->verdict == LIN ? "linearizable" : "not linearizable"))
		tap_diag("load %d (%s), verdict %d", c.load, c.err, c.verdict);
	if (hc->window && c.verdict == NOT) {
		window_lines(&c, got, sizeof(got));
		pass = !strcmp(got, hc->window) &&
		       line_of(&c, c.rep.culprit) == hc->culprit &&
		       c.rep.from_start == hc->from_start && c.rep.minimal &&
		       !strcmp(c.rep.key, hc->key);
		if (!tap_ok(pass, "%s: window %s%s, culprit line %u, key %s",
			    hc->name, hc->window,
			    hc->from_start ? " from the start" : "",
			    hc->culprit, hc->key))
			tap_diag("got window %s%s, culprit line %u, key %s",
				 got, c.rep.from_start ? " from the start" : "",
				 line_of(&c, c.rep.culprit), c.rep.key);
	}
	checked_free(&c);
}

static void test_counts(void)
{
	struct checked c;

	check_text(&c, PUT(1, "k", "a", 0, 10) PUT_UNK(2, "j", "b", 5)
		   GET_UNK(3, "k", 20) GET(4, "k", "a", 30, 40));
	tap_ok(c.verdict == LIN && c.rep.ops == 4 && c.rep.keys == 2 &&
	       c.rep.unknown == 2, "report counts ops, keys and unknowns");
	checked_free(&c);
}

struct parse_case {
	const char *text;
	const char *err;	/* expected in the message */
};

#define OK_PUT	PUT(1, "k", "a", 0, 10)

static const struct parse_case parse_cases[] = {
	{ OK_PUT "{\"client\":1,\"op\":\"put\",\"value\":\"a\",\"start\":0,"
	  "\"end\":1,\"result\":\"ok\"}\n", "line 2: no \"key\"" },
	{ "{\"client\":1", "line 1, column 12: expected ',' or '}'" },
	{ OK_PUT OK_PUT OP(1, "inc", "k", "", 0, AT(1), "ok"),
	  "line 3: unknown op \"inc\"" },
	{ OP(1, "put", "k", VAL("a"), 0, AT(1), "done"),
	  "line 1: unknown result \"done\"" },
	{ "{\"client\":1,\"client\":2}", "line 1: \"client\" twice" },
	{ OP(1, "put", "k", VAL("a"), -5, AT(1), "ok"),
	  "line 1: \"start\" must be a non-negative integer" },
	{ "{\"client\":1,\"start\":\"7\"}",
	  "line 1: \"start\" must be a non-negative integer" },
	{ "{\"client\":1,\"start\":18446744073709551616}",
	  "line 1: \"start\" must be a non-negative integer" },
	{ "{\"client\":4294967296,\"op\":\"del\",\"key\":\"k\",\"start\":0,"
	  "\"end\":1,\"result\":\"ok\"}", "line 1: \"client\" above" },
	{ "{\"client\":1} x", "line 1, column 14: text after the object" },
	{ "{\"client\":1,\"key\":\"a\\nb\"}",
	  "line 1, column 22: unsupported escape" },
	{ "{\"client\":1,\"key\":\"ab", "line 1, column 22: unterminated string" },
	{ "{\"client\":1,\"x\":tru}", "line 1, column 17: expected a value" },
	{ "\n  \n" "{client:1}", "line 3, column 2: expected a string" },
	{ OP(1, "put", "k", VAL("a"), 0, "", "ok"), "line 1: no \"end\"" },
	{ OP(1, "put", "k", VAL("a"), 10, AT(5), "ok"),
	  "line 1: ends (5) before it starts (10)" },
	{ OP(1, "get", "k", "", 0, AT(1), "ok"),
	  "line 1: get returning ok needs \"value\" or \"found\":false" },
	{ OP(1, "get", "k", ",\"found\":false" VAL("a"), 0, AT(1), "ok"),
	  "\"found\":false and a \"value\"" },
	{ OP(1, "get", "k", VAL("a"), 0, AT(1), "not-found"),
	  "line 1: get returning not-found with a value" },
	{ OP(1, "put", "k", VAL("a"), 0, AT(1), "not-found"),
	  "line 1: put cannot return not-found" },
	{ OP(1, "put", "k", "", 0, AT(1), "ok"),
	  "line 1: put returning ok without a value" },
	{ OP(1, "cas", "k", VAL("a"), 0, AT(1), "ok"),
	  "line 1: cas needs \"expect\" or \"expect_absent\":true" },
	{ OP(1, "cas", "k", ",\"expect\":\"b\",\"expect_absent\":true" VAL("a"),
	     0, AT(1), "ok"), "both \"expect\" and \"expect_absent\"" },
	{ OP(1, "del", "k", "", 0, AT(1), "cas-failed"),
	  "line 1: del cannot return cas-failed" },
	{ "{\"client\":1,\"x\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}",
	  "nested too deep" },
};

static void test_parse_errors(void)
{
	const struct parse_case *pc;
	struct checked c;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		pc = &parse_cases[i];
		check_text(&c, pc->text);
		if (!tap_ok(c.load == -EINVAL && strstr(c.err, pc->err),
			    "parse error: %s", pc->err))
			tap_diag("got %d: %s", c.load, c.err);
		checked_free(&c);
	}
}

static void test_parse_lenient(void)
{
	struct checked c;

	check_text(&c,
		   "{\"note\":{\"a\":[1,-2.5e-3,{\"b\":\"c\"}],\"d\":null},"
		   "\"client\":1,\"op\":\"put\",\"key\":\"k\",\"value\":\"a\","
		   "\"start\":0,\"end\":10,\"result\":\"ok\",\"ok\":true}\r\n"
		   "\t{ \"client\" : 2 , \"op\" : \"get\" , \"key\" : \"k\" ,"
		   " \"found\" : false , \"start\" : 20 , \"end\" : 30 ,"
		   " \"result\" : \"ok\" , \"empty\" : [ ] , \"o\" : { } }\n"
		   "{\"client\":3,\"op\":\"del\",\"key\":\"k\",\"value\":\"x\","
		   "\"start\":5,\"end\":25,\"result\":\"ok\"}");
	tap_ok(c.load == 0 && c.verdict == LIN && c.rep.ops == 3,
	       "unknown fields, spaces, CRLF and found:false are accepted");
	if (c.load)
		tap_diag("%s", c.err);
	checked_free(&c);
}

static void test_api(void)
{
	struct lincheck *lc = lincheck_new();
	struct lincheck_op op = {
		.client = 1, .type = LINCHECK_PUT, .result = LINCHECK_OK,
		.key = "k", .value = "a", .start = 0, .end = 10,
	};
	struct lincheck_op back;
	struct lincheck_report rep;
	char err[128];
	bool pass;

	pass = lincheck_add(lc, &op, err, sizeof(err)) == 0;
	op.value = NULL;
	pass &= lincheck_add(lc, &op, err, sizeof(err)) == -EINVAL;
	op.type = 9;
	pass &= lincheck_add(lc, &op, NULL, 0) == -EINVAL;
	op = (struct lincheck_op){
		.client = 2, .type = LINCHECK_CAS, .result = LINCHECK_OK,
		.key = "k", .value = "b", .expect = "a", .start = 20, .end = 30,
	};
	pass &= lincheck_add(lc, &op, err, sizeof(err)) == 0;
	lincheck_get(lc, 1, &back);
	pass &= lincheck_count(lc) == 2 && back.client == 2 &&
		!strcmp(back.expect, "a") && !strcmp(back.value, "b") &&
		back.end == 30;
	pass &= lincheck_run(lc, &rep) == LIN;
	tap_ok(pass, "the C API adds, rejects, returns ops and checks");
	lincheck_report_free(&rep);
	lincheck_free(lc);
}

/* ---- printing ---- */

static char *printed(const struct checked *c, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	if (json)
		lincheck_print_json(out, c->lc, &c->rep);
	else
		lincheck_print(out, c->lc, &c->rep);
	fclose(out);
	return buf;
}

static void test_print(void)
{
	struct checked c;
	char *text, *json;

	check_text(&c, hand_cases[2].text);
	text = printed(&c, false);
	json = printed(&c, true);
	tap_ok(text && strstr(text, "not linearizable: key \"k\" (3 ops on 1 keys, 0 unknown)") &&
	       strstr(text, "no valid place for client 2's get -> \"a\" (line 3):\n"
		      "the 2 ops below have no linearization from any state "
		      "the key may have held at t0-10\n") &&
	       strstr(text, "*          +20          +30       2      3  get -> \"a\""),
	       "text report names the key, the culprit and the window");
	tap_ok(json && strstr(json, "{\"verdict\":\"not-linearizable\",\"ops\":3,") &&
	       strstr(json, "\"key\":\"k\",\"culprit\":2,\"minimal\":true,"
		      "\"from_start\":false,\"cut\":10,\"t0\":20,\"window\":[{\"index\":1,"
		      "\"line\":2,\"client\":1,\"op\":\"put\",\"value\":\"b\","
		      "\"result\":\"ok\",\"start\":0,\"end\":10,\"optional\":false}"),
	       "JSON report holds the same");
	free(text);
	free(json);
	checked_free(&c);

	check_text(&c, hand_cases[0].text);
	text = printed(&c, false);
	json = printed(&c, true);
	tap_ok(text && !strcmp(text, "linearizable: 11 ops on 1 keys (0 unknown)\n") &&
	       json && !strncmp(json, "{\"verdict\":\"linearizable\",\"ops\":11,"
				"\"keys\":1,\"unknown\":0,", 52),
	       "linearizable: one line, or one JSON object");
	free(text);
	free(json);
	checked_free(&c);
}

/* ---- random histories ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(unsigned int n)
{
	return rnd() % n;
}

static void seed(uint64_t s)
{
	rng_state = s * 0x9e3779b97f4a7c15ULL + 1;
}

static const char *const keys[] = { "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7" };

struct gen {
	struct lincheck_op *ops;
	uint64_t *point;	/* when it takes effect; unknown: maybe never */
	bool *applied;
	char (*names)[16];
	size_t n;
};

struct gen_params {
	unsigned int clients, keys, ops;
	unsigned int unknown_pct;
	unsigned int max_len, max_gap;	/* ns */
	unsigned int values;		/* 0: a fresh value per write */
};

static const char *gen_value(struct gen *g, const struct gen_params *p, size_t i)
{
	if (!p->values)
		return g->names[i];
	return g->names[below(p->values)];
}

/* An op of client c at its clock *t, with what it wants to do. */
static void gen_op(struct gen *g, const struct gen_params *p, size_t i,
		   uint64_t *t, const char **last)
{
	struct lincheck_op *op = &g->ops[i];
	unsigned int len = 1 + below(p->max_len), kind = below(100), k;

	k = below(p->keys);
	*op = (struct lincheck_op){
		.client = i % p->clients, .key = keys[k],
		.start = *t + below(p->max_gap + 1),
	};
	op->end = op->start + len;
	*t = op->end;
	g->point[i] = op->start + below(len + 1);
	op->type = kind < 40 ? LINCHECK_GET : kind < 65 ? LINCHECK_PUT :
		   kind < 75 ? LINCHECK_DEL : LINCHECK_CAS;
	if (op->type == LINCHECK_PUT || op->type == LINCHECK_CAS) {
		op->value = gen_value(g, p, i);
		op->expect = below(10) ? last[k] : NULL;
		last[k] = op->value;
	}
	if (below(100) < p->unknown_pct) {
		op->result = LINCHECK_UNKNOWN;
		g->applied[i] = below(2);
		g->point[i] += below(3 * len);
	}
}

static int point_cmp(const void *a, const void *b, void *arg)
{
	const struct gen *g = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (g->point[x] != g->point[y])
		return g->point[x] < g->point[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* What a register does to op at its point; fills in the result. */
static void gen_apply(struct lincheck_op *op, const char **state, bool applied)
{
	bool unknown = op->result == LINCHECK_UNKNOWN;
	bool match;

	if (unknown && !applied)
		return;
	switch (op->type) {
	case LINCHECK_GET:
		op->value = *state;
		op->result = unknown ? op->result :
			     *state ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		break;
	case LINCHECK_PUT:
		*state = op->value;
		break;
	case LINCHECK_DEL:
		if (!unknown)
			op->result = *state ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		*state = NULL;
		break;
	default:
		match = op->expect ? *state && !strcmp(*state, op->expect) : !*state;
		if (!unknown)
			op->result = match ? LINCHECK_OK : LINCHECK_CAS_FAILED;
		if (match)
			*state = op->value;
	}
}

static void gen_free(struct gen *g)
{
	free(g->ops);
	free(g->point);
	free(g->applied);
	free(g->names);
}

/* A history of a linearizable register: each op acts at its point. */
static bool gen_history(struct gen *g, const struct gen_params *p)
{
	const char *state[8] = { NULL }, *last[8] = { NULL };
	uint64_t *clock = calloc(p->clients, sizeof(*clock));
	size_t *order = calloc(p->ops, sizeof(*order)), i;

	g->n = p->ops;
	g->ops = calloc(p->ops, sizeof(*g->ops));
	g->point = calloc(p->ops, sizeof(*g->point));
	g->applied = calloc(p->ops, sizeof(*g->applied));
	g->names = calloc(p->ops, sizeof(*g->names));
	if (!clock || !order || !g->ops || !g->point || !g->applied || !g->names) {
		free(clock);
		free(order);
		gen_free(g);
		return false;
	}
	for (i = 0; i < p->clients; i++)
		clock[i] = below(1000);
	for (i = 0; i < p->ops; i++) {
		snprintf(g->names[i], sizeof(g->names[i]), "v%zu", i);
		order[i] = i;
	}
	for (i = 0; i < p->ops; i++)
		gen_op(g, p, i, &clock[i % p->clients], last);
	qsort_r(order, p->ops, sizeof(*order), point_cmp, g);
	for (i = 0; i < p->ops; i++) {
		struct lincheck_op *op = &g->ops[order[i]];

		gen_apply(op, &state[op->key[1] - '0'], g->applied[order[i]]);
	}
	free(clock);
	free(order);
	return true;
}

/*
 * The verdict on g with op i replaced by *mut (if mut); when the verdict
 * is not linearizable, *culprit is the culprit with key and values NULL;
 * *key is the key reported, NULL if none.
 */
static int gen_check(const struct gen *g, size_t i,
		     const struct lincheck_op *mut, uint64_t budget,
		     struct lincheck_op *culprit, const char **key)
{
	struct lincheck *lc = lincheck_new();
	struct lincheck_report rep;
	size_t j;
	int r = -ENOMEM;

	if (!lc)
		return r;
	lincheck_set_budget(lc, budget);
	for (j = 0; j < g->n; j++) {
		if (lincheck_add(lc, mut && j == i ? mut : &g->ops[j], NULL, 0))
			goto out;
	}
	r = lincheck_run(lc, &rep);
	if (r == NOT && culprit) {
		lincheck_get(lc, rep.culprit, culprit);
		culprit->key = keys[culprit->key[1] - '0'];
		culprit->value = culprit->expect = NULL;
	}
	if (key)
		*key = rep.key ? keys[rep.key[1] - '0'] : NULL;
	lincheck_report_free(&rep);
out:
	lincheck_free(lc);
	return r;
}

static const struct gen_params small_params[] = {
	{ .clients = 4, .keys = 1, .ops = 1500, .unknown_pct = 0,
	  .max_len = 100, .max_gap = 50 },
	{ .clients = 16, .keys = 2, .ops = 2000, .unknown_pct = 0,
	  .max_len = 300, .max_gap = 20 },
	{ .clients = 8, .keys = 3, .ops = 2000, .unknown_pct = 3,
	  .max_len = 100, .max_gap = 100 },
	{ .clients = 32, .keys = 4, .ops = 3000, .unknown_pct = 1,
	  .max_len = 1000, .max_gap = 10 },
	{ .clients = 8, .keys = 1, .ops = 1500, .unknown_pct = 2,
	  .max_len = 100, .max_gap = 30, .values = 4 },
};

#define SEEDS	12

static void test_generated_linearizable(void)
{
	const struct gen_params *p;
	struct gen g;
	size_t k, s;
	int bad, r;

	for (k = 0; k < sizeof(small_params) / sizeof(small_params[0]); k++) {
		p = &small_params[k];
		for (s = 0, bad = 0; s < SEEDS; s++) {
			seed(1000 * k + s);
			if (!gen_history(&g, p))
				break;
			r = gen_check(&g, 0, NULL, LINCHECK_DEFAULT_BUDGET, NULL, NULL);
			if (r != LIN && !bad++)
				tap_diag("seed %zu: verdict %d", s, r);
			gen_free(&g);
		}
		tap_ok(s == SEEDS && !bad,
		       "%d seeds, %u clients on %u keys, %u ops, %u%% unknown%s: linearizable",
		       SEEDS, p->clients, p->keys, p->ops, p->unknown_pct,
		       p->values ? ", few values" : "");
	}
}

/* A random op of the wanted kind with an answer; -1 if none. */
static long pick(const struct gen *g, enum lincheck_type type,
		 enum lincheck_result result)
{
	size_t from = below(g->n), i, j;

	for (i = 0; i < g->n; i++) {
		j = (from + i) % g->n;
		if (g->ops[j].type == type && g->ops[j].result == result)
			return j;
	}
	return -1;
}

/* A put starting after op i answered, on its key; -1 if none. */
static long later_writer(const struct gen *g, size_t i)
{
	size_t j;

	for (j = 0; j < g->n; j++) {
		if (g->ops[j].type == LINCHECK_PUT &&
		    g->ops[j].result != LINCHECK_CAS_FAILED &&
		    g->ops[j].key == g->ops[i].key &&
		    g->ops[j].start > g->ops[i].end)
			return j;
	}
	return -1;
}

enum mutation { NEVER_WRITTEN, FUTURE_READ, CAS_NEVER_WRITTEN, MUTATIONS };

static const char *const mutation_names[] = {
	[NEVER_WRITTEN] = "a read of a value never written",
	[FUTURE_READ] = "a read of a value only written after it answered",
	[CAS_NEVER_WRITTEN] = "a successful cas expecting a value never written",
};

/*
 * Provably wrong: caught, on the mutant's key, and the culprit answered
 * when the mutant did, or before if it is a reader of what the mutated cas
 * wrote in the original history (which nobody writes any more).
 */
static bool mutate_provable(struct gen *g, enum mutation m, bool *skipped)
{
	struct lincheck_op mut, culprit = { 0 };
	long i, w = -1;
	int r;

	i = m == CAS_NEVER_WRITTEN ? pick(g, LINCHECK_CAS, LINCHECK_OK) :
	    pick(g, LINCHECK_GET, LINCHECK_OK);
	if (i >= 0 && m == FUTURE_READ)
		w = later_writer(g, i);
	*skipped = i < 0 || (m == FUTURE_READ && w < 0);
	if (*skipped)
		return true;
	mut = g->ops[i];
	if (m == NEVER_WRITTEN)
		mut.value = "never written";
	else if (m == FUTURE_READ)
		mut.value = g->ops[w].value;
	else
		mut.expect = "never written";
	r = gen_check(g, i, &mut, LINCHECK_DEFAULT_BUDGET, &culprit, NULL);
	if (r == NOT && culprit.key == mut.key &&
	    (culprit.end == mut.end ||
	     (m == CAS_NEVER_WRITTEN && culprit.end < mut.end)))
		return true;
	tap_diag("%s, op %ld: verdict %d, culprit ends at %" PRIu64
		 " on %s, the mutant at %" PRIu64 " on %s", mutation_names[m],
		 i, r, culprit.end, culprit.key, mut.end, mut.key);
	return false;
}

/* Another plausible answer; false if op has none. */
static bool mutate_any(const struct gen *g, struct lincheck_op *op)
{
	switch (op->type) {
	case LINCHECK_GET:
		op->value = g->ops[below(g->n)].value;
		op->result = op->value ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		return true;
	case LINCHECK_DEL:
		op->result = op->result == LINCHECK_OK ? LINCHECK_NOT_FOUND :
			     LINCHECK_OK;
		return true;
	case LINCHECK_CAS:
		op->result = op->result == LINCHECK_OK ? LINCHECK_CAS_FAILED :
			     LINCHECK_OK;
		return true;
	default:
		return false;
	}
}

static bool same_answer(const struct lincheck_op *a, const struct lincheck_op *b)
{
	if (a->result != b->result)
		return false;
	return a->value == b->value ||
	       (a->value && b->value && !strcmp(a->value, b->value));
}

static void test_mutations(void)
{
	int caught[MUTATIONS] = { 0 }, tried[MUTATIONS] = { 0 };
	int any_tried = 0, any_caught = 0, too_hard = 0, m, r;
	struct lincheck_op mut;
	bool skipped, ok;
	struct gen g;
	size_t s, i;

	for (s = 0; s < 40; s++) {
		seed(77 + s);
		if (!gen_history(&g, &small_params[s % 4]))
			break;
		for (m = 0; m < MUTATIONS; m++) {
			ok = mutate_provable(&g, m, &skipped);
			tried[m] += !skipped;
			caught[m] += !skipped && ok;
		}
		for (int t = 0; t < 5; t++) {
			i = below(g.n);
			mut = g.ops[i];
			if (mut.result == LINCHECK_UNKNOWN || !mutate_any(&g, &mut) ||
			    same_answer(&mut, &g.ops[i]))
				continue;
			r = gen_check(&g, i, &mut, LINCHECK_DEFAULT_BUDGET, NULL, NULL);
			any_tried++;
			any_caught += r == NOT;
			too_hard += r == LINCHECK_TOO_HARD;
		}
		gen_free(&g);
	}
	for (m = 0; m < MUTATIONS; m++)
		tap_ok(tried[m] >= 20 && caught[m] == tried[m],
		       "mutant caught at the right time: %s (%d/%d)",
		       mutation_names[m], caught[m], tried[m]);
	tap_diag("any other answer: %d of %d mutants caught (%d too hard)",
		 any_caught, any_tried, too_hard);
	tap_ok(too_hard == 0, "no mutant is too hard for the default budget");
}

/* ---- small random histories against brute force ---- */

#define TINY	9

/*
 * Can the ops outside done follow them, from state?  Optional ops (and
 * unknown ones) need not be placed; if placed, they return what they did.
 */
static bool brute(const struct lincheck_op *ops, const bool *optional, int n,
		  unsigned int done, const char *state)
{
	struct lincheck_op op;
	const char *next;
	bool pending = false, blocked;
	int i, j;

	for (i = 0; i < n; i++)
		pending |= !(done >> i & 1) && !optional[i];
	if (!pending)
		return true;
	for (i = 0; i < n; i++) {
		if (done >> i & 1)
			continue;
		for (j = 0, blocked = false; j < n; j++)
			blocked |= j != i && !(done >> j & 1) && !optional[j] &&
				   ops[j].end < ops[i].start;
		op = ops[i];
		next = state;
		gen_apply(&op, &next, true);
		if (blocked || (op.result != LINCHECK_UNKNOWN &&
				!same_answer(&op, &ops[i])))
			continue;
		if (brute(ops, optional, n, done | 1u << i, next))
			return true;
	}
	return false;
}

/* Random intervals and ops on one key, a third with a random answer. */
static void tiny_history(struct lincheck_op *ops, int n, unsigned int unknown,
			 unsigned int nvals)
{
	static const char *const vals[] = { "a", "b", "c", "d" };
	struct gen_params p = { .clients = n, .keys = 1, .ops = n,
				.unknown_pct = unknown, .max_len = 8,
				.max_gap = 6 };
	struct gen g;
	int i;

	if (!gen_history(&g, &p))
		return;
	for (i = 0; i < n; i++) {
		ops[i] = g.ops[i];
		if (ops[i].value)
			ops[i].value = vals[below(nvals)];
		if (ops[i].expect)
			ops[i].expect = vals[below(nvals)];
		if (ops[i].result != LINCHECK_UNKNOWN && below(3) == 0)
			mutate_any(&g, &ops[i]);
		if (ops[i].type == LINCHECK_GET && ops[i].value)
			ops[i].value = vals[below(nvals)];
		if (ops[i].type == LINCHECK_GET &&
		    ops[i].result != LINCHECK_OK)
			ops[i].value = NULL;
	}
	gen_free(&g);
}

/*
 * The window has no linearization from absent nor, after a cut, from what
 * a write started by the cut wrote.
 */
static bool window_holds(const struct lincheck_op *ops, int n,
			 const struct lincheck_report *rep)
{
	struct lincheck_op w[TINY];
	bool optional[TINY];
	size_t i;
	int j;

	for (i = 0; i < rep->window_len; i++) {
		w[i] = ops[rep->window[i].op];
		optional[i] = rep->window[i].optional;
	}
	if (brute(w, optional, rep->window_len, 0, NULL))
		return false;
	for (j = 0; j < n && !rep->from_start; j++) {
		if (ops[j].start <= rep->cut && ops[j].value &&
		    ops[j].type != LINCHECK_GET &&
		    ops[j].result != LINCHECK_CAS_FAILED &&
		    brute(w, optional, rep->window_len, 0, ops[j].value))
			return false;
	}
	return true;
}

static void test_brute_force(void)
{
	int runs = 20000, agree = 0, lin = 0, windows = 0, held = 0;
	struct lincheck_op ops[TINY];
	struct lincheck_report rep;
	bool unknown[TINY], want;
	struct lincheck *lc;
	int i, j, n, r;

	for (i = 0; i < runs; i++) {
		seed(5000 + i);
		n = 2 + below(TINY - 1);
		tiny_history(ops, n, (unsigned int[]){ 0, 15, 40 }[i % 3],
			     2 + i % 3);
		lc = lincheck_new();
		for (j = 0; j < n; j++) {
			lincheck_add(lc, &ops[j], NULL, 0);
			unknown[j] = ops[j].result == LINCHECK_UNKNOWN;
		}
		r = lincheck_run(lc, &rep);
		want = brute(ops, unknown, n, 0, NULL);
		lin += want;
		if ((r == LIN && want) || (r == NOT && !want))
			agree++;
		else if (agree == i)
			tap_diag("seed %d: brute force %d, lincheck %d",
				 5000 + i, want, r);
		if (r == NOT) {
			windows++;
			held += window_holds(ops, n, &rep);
		}
		lincheck_report_free(&rep);
		lincheck_free(lc);
	}
	tap_ok(agree == runs,
	       "%d random histories of 2-%d ops agree with brute force (%d linearizable)",
	       runs, TINY, lin);
	tap_ok(held == windows,
	       "their %d windows have no linearization by brute force either (%d)",
	       windows, held);
}

/* ---- budget and performance ---- */

static void test_budget(void)
{
	struct gen_params p = { .clients = 16, .keys = 2, .ops = 2000,
				.max_len = 300, .max_gap = 20 };
	const char *key = NULL;
	struct gen g;
	int r;

	seed(99);
	if (!gen_history(&g, &p)) {
		tap_ok(false, "generate a history");
		return;
	}
	r = gen_check(&g, 0, NULL, 100, NULL, &key);
	tap_ok(r == LINCHECK_TOO_HARD && key,
	       "past the budget: too hard, naming a key");
	gen_free(&g);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_performance(unsigned int unknown_pct)
{
	struct gen_params p = { .clients = 64, .keys = 8, .ops = 64 * 3000,
				.unknown_pct = unknown_pct,
				.max_len = 100000, .max_gap = 20000 };
	double t;
	struct gen g;
	int r;

	seed(4242 + unknown_pct);
	if (!gen_history(&g, &p)) {
		tap_ok(false, "generate a history");
		return;
	}
	t = now();
	r = gen_check(&g, 0, NULL, LINCHECK_DEFAULT_BUDGET, NULL, NULL);
	t = now() - t;
	tap_ok(r == LIN, "64 clients x 3000 ops on 8 keys, %u%% unknown: linearizable",
	       unknown_pct);
	tap_diag("64 x 3000 ops, %u%% unknown: checked in %.3f s", unknown_pct, t);
	gen_free(&g);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(hand_cases) / sizeof(hand_cases[0]); i++)
		check_hand_case(&hand_cases[i]);
	test_counts();
	test_parse_errors();
	test_parse_lenient();
	test_api();
	test_print();
	test_brute_force();
	test_generated_linearizable();
	test_mutations();
	test_budget();
	test_performance(0);
	test_performance(1);
	return tap_done();
}
