// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Strict JSON syntax and UTF-8, for what clients send and what vmqd echoes. */
#include <errno.h>
#include <string.h>

#include "jsontext.h"

/* Length of the valid UTF-8 character at s (at most n bytes), 0 if none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned int cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

bool vmq_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n)
		if (!(n = utf8_char(p + i, len - i)))
			return false;
	return true;
}

size_t vmq_utf8_copy(char *buf, size_t size, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = utf8_char(p + i, len - i);

		if (o + (n ? n : 1) >= size)
			break;
		if (n) {
			memmove(buf + o, s + i, n); /* buf may be s: o <= i */
			o += n;
			i += n;
		} else {
			buf[o++] = '?';
			i++;
		}
	}
	buf[o] = '\0';
	return i;
}

struct lexer {
	const unsigned char *s;
	size_t len, pos;
	const char *why;
};

static int fail(struct lexer *l, const char *why)
{
	l->why = why;
	return -EINVAL;
}

static void skip_ws(struct lexer *l)
{
	while (l->pos < l->len && strchr(" \t\r\n", l->s[l->pos]) && l->s[l->pos])
		l->pos++;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int string(struct lexer *l)
{
	l->pos++; /* the opening quote */
	while (l->pos < l->len) {
		unsigned char c = l->s[l->pos];
		size_t n;

		if (c == '"') {
			l->pos++;
			return 0;
		}
		if (c < 0x20)
			return fail(l, c ? "a control byte in a string" : "a NUL byte in a string");
		if (c == '\\') {
			if (l->pos + 1 >= l->len)
				break;
			c = l->s[l->pos + 1];
			if (c == 'u') {
				if (l->pos + 6 > l->len)
					break;
				for (size_t i = 2; i < 6; i++)
					if (!is_hex(l->s[l->pos + i]))
						return fail(l, "a bad \\u escape");
				if (!memcmp(l->s + l->pos + 2, "0000", 4))
					return fail(l, "a NUL (\\u0000) in a string");
				l->pos += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || !c)
				return fail(l, "a bad escape");
			l->pos += 2;
			continue;
		}
		n = utf8_char(l->s + l->pos, l->len - l->pos);
		if (!n)
			return fail(l, "not UTF-8");
		l->pos += n;
	}
	return fail(l, "an unterminated string");
}

static size_t digits(struct lexer *l)
{
	size_t start = l->pos;

	while (l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9')
		l->pos++;
	return l->pos - start;
}

static int number(struct lexer *l)
{
	if (l->s[l->pos] == '-')
		l->pos++;
	if (l->pos < l->len && l->s[l->pos] == '0') {
		l->pos++;
		if (l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9')
			return fail(l, "a leading zero");
	} else if (!digits(l)) {
		return fail(l, "a bad number");
	}
	if (l->pos < l->len && l->s[l->pos] == '.') {
		l->pos++;
		if (!digits(l))
			return fail(l, "a bad number");
	}
	if (l->pos < l->len && (l->s[l->pos] == 'e' || l->s[l->pos] == 'E')) {
		l->pos++;
		if (l->pos < l->len && (l->s[l->pos] == '+' || l->s[l->pos] == '-'))
			l->pos++;
		if (!digits(l))
			return fail(l, "a bad number");
	}
	return 0;
}

static int literal(struct lexer *l, const char *word)
{
	size_t n = strlen(word);

	if (l->len - l->pos < n || memcmp(l->s + l->pos, word, n))
		return fail(l, "an unexpected byte");
	l->pos += n;
	return 0;
}

static int value(struct lexer *l, unsigned int depth);

/* An object or array: members separated by commas, none trailing. */
static int container(struct lexer *l, unsigned int depth)
{
	unsigned char close = l->s[l->pos] == '{' ? '}' : ']';
	int err;

	if (depth >= VMQ_JSON_DEPTH_MAX)
		return fail(l, "nested too deep");
	l->pos++;
	skip_ws(l);
	if (l->pos < l->len && l->s[l->pos] == close) {
		l->pos++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (l->pos < l->len && l->s[l->pos] == '}')
				return fail(l, "a trailing comma");
			if (l->pos < l->len && l->s[l->pos] == '\'')
				return fail(l, "a single quote");
			if (l->pos >= l->len || l->s[l->pos] != '"')
				return fail(l, "a key that is not a double-quoted string");
			err = string(l);
			if (err)
				return err;
			skip_ws(l);
			if (l->pos >= l->len || l->s[l->pos] != ':')
				return fail(l, "no ':' after a key");
			l->pos++;
			skip_ws(l);
		}
		if (close == ']' && l->pos < l->len && l->s[l->pos] == ']')
			return fail(l, "a trailing comma");
		err = value(l, depth + 1);
		if (err)
			return err;
		skip_ws(l);
		if (l->pos >= l->len)
			return fail(l, "an unterminated object or array");
		if (l->s[l->pos] == close) {
			l->pos++;
			return 0;
		}
		if (l->s[l->pos] != ',')
			return fail(l, "no ',' between members");
		l->pos++;
		skip_ws(l);
	}
}

static int value(struct lexer *l, unsigned int depth)
{
	unsigned char c;

	skip_ws(l);
	if (l->pos >= l->len)
		return fail(l, "no value");
	c = l->s[l->pos];
	switch (c) {
	case '{':
	case '[':
		return container(l, depth);
	case '"':
		return string(l);
	case 't':
		return literal(l, "true");
	case 'f':
		return literal(l, "false");
	case 'n':
		return literal(l, "null");
	case '\'':
		return fail(l, "a single quote");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return number(l);
		return fail(l, "an unexpected byte");
	}
}

int vmq_json_check(const char *s, size_t len, size_t *off, const char **why)
{
	struct lexer l = { .s = (const unsigned char *)s, .len = len };
	int err = value(&l, 0);

	if (!err) {
		skip_ws(&l);
		if (l.pos < l.len)
			err = fail(&l, "bytes after the value");
	}
	if (err) {
		*off = l.pos;
		*why = l.why;
	}
	return err;
}
