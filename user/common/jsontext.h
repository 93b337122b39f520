/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What json-c does not check: strict JSON syntax (RFC 8259; json-c's strict
 * mode still takes single-quoted keys, NaN and raw control bytes) and UTF-8
 * text safe to put in an answer.
 */
#ifndef VMQ_JSONTEXT_H
#define VMQ_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Nesting deeper than this is refused (json-c's own limit is 32). */
#define VMQ_JSON_DEPTH_MAX 32

/*
 * 0 when s[0..len) is exactly one JSON value, strictly: double quotes, no
 * trailing commas, no leading zeros, no literals but true/false/null, no
 * control bytes or NUL (escaped or not) in strings, valid UTF-8. Else
 * -EINVAL with *off the offset of the first bad byte and *why a reason.
 */
int vmq_json_check(const char *s, size_t len, size_t *off, const char **why);

/* s[0..len) is valid UTF-8 (no overlongs, surrogates or beyond U+10FFFF). */
bool vmq_utf8_valid(const char *s, size_t len);

/*
 * Copies s[0..len) into buf (size >= 1, NUL-terminated) as valid UTF-8:
 * each invalid byte becomes '?', and a cut happens between characters.
 * Returns the bytes of s consumed (< len when it did not fit). buf may
 * be s (in place).
 */
size_t vmq_utf8_copy(char *buf, size_t size, const char *s, size_t len);

#endif /* VMQ_JSONTEXT_H */
