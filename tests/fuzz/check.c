// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What every answer vmqd sends must be, whatever it was sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "fake_kernel.h"
#include "jsontext.h"

void fuzz_check_answer(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *v;
	const char *why = "";
	size_t off = 0;

	if (!len || text[len - 1] != '\n' || memchr(text, '\n', len - 1)) {
		fprintf(stderr, "answer is not one line: %.*s\n", (int)len, text);
		abort();
	}
	if (vmq_json_check(text, len - 1, &off, &why)) {
		fprintf(stderr, "answer is not strict JSON (%s at byte %zu): %.*s\n", why, off,
			(int)len, text);
		abort();
	}
	if (!tok)
		abort();
	o = json_tokener_parse_ex(tok, text, (int)len - 1);
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "ok", &v) || !json_object_is_type(v, json_type_boolean) ||
	    !json_object_object_get_ex(o, "version", &v) || json_object_get_int(v) != 1) {
		fprintf(stderr, "answer lacks version or ok: %.*s\n", (int)len, text);
		abort();
	}
	json_object_put(o);
}
