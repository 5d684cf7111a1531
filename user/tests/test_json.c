// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of json.c: every writer sequence is compared byte for byte.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json.h"
#include "tap.h"

struct output {
	char *text;
	size_t size;
	FILE *f;
	struct json j;
};

static void output_open(struct output *o, bool pretty)
{
	o->text = NULL;
	o->size = 0;
	o->f = open_memstream(&o->text, &o->size);
	if (!o->f) {
		perror("open_memstream");
		exit(1);
	}
	json_init(&o->j, o->f, pretty);
}

/* Checks the text written and json_finish(), then frees the buffer. */
static void output_check(struct output *o, const char *want, int finish,
			 const char *what)
{
	int got_finish = json_finish(&o->j);

	fclose(o->f);
	if (!tap_ok(!strcmp(o->text, want) && got_finish == finish, "%s", what))
		tap_diag("got \"%s\" finish %d, want \"%s\" finish %d",
			 o->text, got_finish, want, finish);
	free(o->text);
}

static void test_escaping(void)
{
	struct output o;

	output_open(&o, false);
	json_str(&o.j, "\"\\\n\x01");
	output_check(&o, "\"\\\"\\\\\\n\\u0001\"\n", 0,
		     "quote, backslash, newline and \\x01 are escaped");

	output_open(&o, false);
	json_str(&o.j, "\b\f\r\t\x1f\x7f");
	output_check(&o, "\"\\b\\f\\r\\t\\u001f\x7f\"\n", 0,
		     "short escapes, \\u001f, DEL passed through");

	output_open(&o, false);
	json_str(&o.j, "h\xc3\xa9llo \xe2\x9c\x93 /");
	output_check(&o, "\"h\xc3\xa9llo \xe2\x9c\x93 /\"\n", 0,
		     "UTF-8 and slash are passed through");

	output_open(&o, false);
	json_obj_open(&o.j);
	json_kv_str(&o.j, "k\"ey", NULL);
	json_obj_close(&o.j);
	output_check(&o, "{\"k\\\"ey\":null}\n", 0,
		     "keys are escaped, a NULL string is null");
}

static void test_scalars(void)
{
	struct output o;

	output_open(&o, false);
	json_arr_open(&o.j);
	json_u32(&o.j, UINT32_MAX);
	json_u64(&o.j, UINT64_MAX);
	json_s64(&o.j, INT64_MIN);
	json_s64(&o.j, 42);
	json_bool(&o.j, true);
	json_bool(&o.j, false);
	json_null(&o.j);
	json_str(&o.j, "");
	json_arr_close(&o.j);
	output_check(&o, "[4294967295,18446744073709551615,-9223372036854775808,42,true,false,null,\"\"]\n",
		     0, "scalars in an array, separated by commas");

	output_open(&o, false);
	json_obj_open(&o.j);
	json_kv_u32(&o.j, "id", 7);
	json_obj_close(&o.j);
	output_check(&o, "{\"id\":7}\n", 0, "the node show object");

	output_open(&o, false);
	json_u32(&o.j, 5);
	output_check(&o, "5\n", 0, "a top-level scalar ends its line");
}

static void test_nesting(void)
{
	struct output o;

	output_open(&o, false);
	json_obj_open(&o.j);
	json_key(&o.j, "a");
	json_arr_open(&o.j);
	json_u32(&o.j, 1);
	json_arr_open(&o.j);
	json_arr_close(&o.j);
	json_obj_open(&o.j);
	json_obj_close(&o.j);
	json_arr_open(&o.j);
	json_u32(&o.j, 2);
	json_obj_open(&o.j);
	json_kv_bool(&o.j, "b", false);
	json_kv_u64(&o.j, "c", 3);
	json_obj_close(&o.j);
	json_arr_close(&o.j);
	json_arr_close(&o.j);
	json_kv_s64(&o.j, "d", -1);
	json_key(&o.j, "e");
	json_obj_open(&o.j);
	json_kv_str(&o.j, "f", "g");
	json_obj_close(&o.j);
	json_obj_close(&o.j);
	output_check(&o, "{\"a\":[1,[],{},[2,{\"b\":false,\"c\":3}]],\"d\":-1,\"e\":{\"f\":\"g\"}}\n",
		     0, "nested arrays and objects get commas right");

	output_open(&o, false);
	json_obj_open(&o.j);
	json_kv_u32(&o.j, "id", 1);
	json_obj_close(&o.j);
	json_obj_open(&o.j);
	json_kv_u32(&o.j, "id", 2);
	json_obj_close(&o.j);
	output_check(&o, "{\"id\":1}\n{\"id\":2}\n", 0,
		     "successive top-level values are separate lines");
}

static void test_pretty(void)
{
	struct output o;

	output_open(&o, true);
	json_obj_open(&o.j);
	json_kv_u32(&o.j, "id", 7);
	json_key(&o.j, "peers");
	json_arr_open(&o.j);
	json_u32(&o.j, 1);
	json_obj_open(&o.j);
	json_obj_close(&o.j);
	json_arr_close(&o.j);
	json_key(&o.j, "none");
	json_arr_open(&o.j);
	json_arr_close(&o.j);
	json_obj_close(&o.j);
	output_check(&o,
		     "{\n"
		     "    \"id\": 7,\n"
		     "    \"peers\": [\n"
		     "        1,\n"
		     "        {}\n"
		     "    ],\n"
		     "    \"none\": []\n"
		     "}\n",
		     0, "pretty output is indented by 4");
}

static void test_misuse(void)
{
	char deep[2 * JSON_MAX_DEPTH + 2];
	struct output o;
	int i;

	output_open(&o, false);
	json_obj_open(&o.j);
	output_check(&o, "{", -1, "an unclosed object fails json_finish");

	output_open(&o, false);
	json_obj_open(&o.j);
	json_u32(&o.j, 1);
	json_obj_close(&o.j);
	output_check(&o, "{1}\n", -1, "a value without key in an object fails");

	output_open(&o, false);
	json_key(&o.j, "k");
	output_check(&o, "", -1, "a key outside an object fails");

	output_open(&o, false);
	json_obj_open(&o.j);
	json_key(&o.j, "k");
	json_obj_close(&o.j);
	output_check(&o, "{\"k\":", -1, "a key without value fails");

	output_open(&o, false);
	json_arr_open(&o.j);
	json_obj_close(&o.j);
	output_check(&o, "[", -1, "closing the wrong container fails");

	output_open(&o, false);
	json_arr_close(&o.j);
	output_check(&o, "", -1, "closing at top level fails");

	memset(deep, '[', JSON_MAX_DEPTH);
	memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	strcpy(deep + 2 * JSON_MAX_DEPTH, "\n");
	output_open(&o, false);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_arr_open(&o.j);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_close(&o.j);
	output_check(&o, deep, -1,
		     "nesting deeper than JSON_MAX_DEPTH is refused and reported");
}

int main(void)
{
	test_escaping();
	test_scalars();
	test_nesting();
	test_pretty();
	test_misuse();
	return tap_done();
}
