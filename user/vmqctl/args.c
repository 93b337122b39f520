// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The argument grammar every command shares: positionals first, then
 * `keyword value` pairs in any order, each value checked by its type and
 * turned into the JSON member vmqd expects.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libvmq.h"
#include "show.h"
#include "vmqctl.h"

const struct ctl_arg ctl_arg_dev = {
	.key = "dev",
	.metavar = "DEV",
	.help = "network interface",
	.type = CTL_ARG_DEV,
};

/* What the kernel's dev_valid_name() accepts. */
static int check_dev(const char *label, const char *s, struct ctl_err *e)
{
	size_t len = strlen(s);
	char q[CTL_QUOTE_SIZE];

	if (!len)
		return ctl_err_set(e, EINVAL, "%s \"\": empty name", label);
	if (len >= IF_NAMESIZE)
		return ctl_err_set(e, EINVAL, "%s \"%s\": longer than %d bytes", label,
				   ctl_quote(s, q, sizeof(q)), IF_NAMESIZE - 1);
	if (!strcmp(s, ".") || !strcmp(s, "..") || strpbrk(s, "/: \t\n\v\f\r"))
		return ctl_err_set(e, EINVAL, "%s \"%s\": not an interface name", label,
				   ctl_quote(s, q, sizeof(q)));
	return 0;
}

static int check_name(const char *label, const char *s, struct ctl_err *e)
{
	size_t len = strlen(s);
	char q[CTL_QUOTE_SIZE];

	if (!len)
		return ctl_err_set(e, EINVAL, "%s \"\": empty name", label);
	if (len > VMQ_NAME_MAX)
		return ctl_err_set(e, EINVAL, "%s \"%s\": longer than %d bytes", label,
				   ctl_quote(s, q, sizeof(q)), VMQ_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]))
			return ctl_err_set(e, EINVAL,
					   "%s \"%s\": not printable ASCII without spaces", label,
					   ctl_quote(s, q, sizeof(q)));
	return 0;
}

/* "\"auto\"", "\"any\" or \"auto\"", "\"a\", \"b\" or \"c\"" (quoted: for
 * messages) or the same unquoted (for help). */
static void words_list(const char *const *words, bool quoted, char *buf, size_t size)
{
	size_t n = 0, len = 0;
	const char *qm = quoted ? "\"" : "";

	while (words && words[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s%s%s",
					!i	     ? ""
					: i + 1 == n ? " or "
						     : ", ",
					qm, words[i], qm);
}

static bool is_word(const struct ctl_arg *arg, const char *s)
{
	for (const char *const *w = arg->words; w && *w; w++)
		if (!strcmp(*w, s))
			return true;
	return false;
}

static int parse_u32(const struct ctl_arg *arg, const char *label, const char *s, __u32 *v,
		     struct ctl_err *e)
{
	int err = vmq_parse_u32(s, arg->max, v);
	char q[CTL_QUOTE_SIZE], words[128] = "";

	/* A word-like mistake ("autox") is told the words; "12abc" is not. */
	if (arg->type == CTL_ARG_U32_OR_WORD && isalpha((unsigned char)s[0]))
		words_list(arg->words, true, words, sizeof(words));
	if (err == -EINVAL)
		return ctl_err_set(e, EINVAL, "%s \"%s\": not a number%s%s", label,
				   ctl_quote(s, q, sizeof(q)),
				   !words[0]		   ? ""
				   : strstr(words, " or ") ? ", "
							   : " or ",
				   words);
	if (err || *v < arg->min)
		return ctl_err_set(e, ERANGE, "%s \"%s\": out of range (%u..%u)", label,
				   ctl_quote(s, q, sizeof(q)), arg->min, arg->max);
	return 0;
}

static int parse_mask(const char *label, const char *s, __u32 *mask, struct ctl_err *e)
{
	int err = vmq_parse_mask(s, mask);
	char q[CTL_QUOTE_SIZE];

	if (err == -ERANGE)
		return ctl_err_set(e, ERANGE, "%s \"%s\": wider than 32 bits", label,
				   ctl_quote(s, q, sizeof(q)));
	if (err)
		return ctl_err_set(e, EINVAL, "%s \"%s\": not a nonzero contiguous bit mask", label,
				   ctl_quote(s, q, sizeof(q)));
	return 0;
}

static int parse_txq_list(const char *label, const char *s, struct json_object **val,
			  struct ctl_err *e)
{
	__u16 txqs[VMQ_GROUP_TXQS_MAX], n = 0;
	int err = vmq_parse_txq_list(s, txqs, VMQ_GROUP_TXQS_MAX, &n);
	char q[CTL_QUOTE_SIZE];

	ctl_quote(s, q, sizeof(q));
	switch (err) {
	case 0:
		break;
	case -ERANGE:
		return ctl_err_set(e, ERANGE, "%s \"%s\": TX queue out of range (0..%u)", label, q,
				   VMQ_TXQ_MAX - 1);
	case -EEXIST:
		return ctl_err_set(e, EINVAL, "%s \"%s\": names a TX queue twice", label, q);
	case -E2BIG:
		return ctl_err_set(e, E2BIG, "%s \"%s\": more than %u TX queues", label, q,
				   VMQ_GROUP_TXQS_MAX);
	default:
		return ctl_err_set(e, EINVAL, "%s \"%s\": not a list of TX queues (N[,N...])",
				   label, q);
	}
	*val = json_object_new_array_ext(n);
	if (!*val)
		return -ENOMEM;
	for (__u16 i = 0; i < n; i++)
		if (json_object_array_add(*val, json_object_new_int64(txqs[i])))
			return -ENOMEM;
	return 0;
}

static int parse_word(const struct ctl_arg *arg, const char *label, const char *s,
		      struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE], words[128];

	if (is_word(arg, s))
		return 0;
	words_list(arg->words, true, words, sizeof(words));
	return ctl_err_set(e, EINVAL, "%s \"%s\": not %s", label, ctl_quote(s, q, sizeof(q)),
			   words);
}

/* Interface names cannot hold '/', ':' or blanks: a pattern with them
 * matches nothing, so it is a mistake. "none" is the empty policy. */
static int parse_patterns(const char *label, const char *s, struct json_object **val,
			  struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	size_t len = strlen(s);

	ctl_quote(s, q, sizeof(q));
	if (!strcmp(s, "none")) {
		*val = json_object_new_string("");
		return 0;
	}
	if (len > CTL_PATTERNS_MAX)
		return ctl_err_set(e, E2BIG, "%s \"%s\": longer than %d bytes", label, q,
				   CTL_PATTERNS_MAX);
	for (const char *p = s; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '/' || *p == ':')
			return ctl_err_set(e, EINVAL,
					   "%s \"%s\": not shell patterns of interface names "
					   "(P[,P...], or none)",
					   label, q);
	if (!len || s[0] == ',' || s[len - 1] == ',' || strstr(s, ",,"))
		return ctl_err_set(e, EINVAL, "%s \"%s\": an empty pattern (P[,P...], or none)",
				   label, q);
	*val = json_object_new_string(s);
	return 0;
}

static int parse_mac(const char *label, const char *s, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	__u8 mac[6];
	int err = vmq_parse_mac(s, mac);

	if (err == -EADDRNOTAVAIL)
		return ctl_err_set(e, EINVAL,
				   "%s \"%s\": a multicast, broadcast or zero address: such frames "
				   "always take the stack",
				   label, ctl_quote(s, q, sizeof(q)));
	if (err)
		return ctl_err_set(e, EINVAL, "%s \"%s\": not a MAC address (xx:xx:xx:xx:xx:xx)",
				   label, ctl_quote(s, q, sizeof(q)));
	return 0;
}

/* Checks one value and makes its JSON form; errors name it by label. */
static int parse_value(const struct ctl_arg *arg, const char *s, struct json_object **val,
		       struct ctl_err *e)
{
	const char *label = arg->keyword ? arg->keyword : arg->metavar;
	__u32 v;
	int err;

	*val = NULL;
	switch (arg->type) {
	case CTL_ARG_DEV:
	case CTL_ARG_NAME:
		err = arg->type == CTL_ARG_DEV ? check_dev(label, s, e) : check_name(label, s, e);
		if (!err)
			*val = json_object_new_string(s);
		break;
	case CTL_ARG_WORD:
		err = parse_word(arg, label, s, e);
		if (!err)
			*val = json_object_new_string(s);
		break;
	case CTL_ARG_U32_OR_WORD:
		if (is_word(arg, s)) {
			err = 0;
			*val = json_object_new_string(s);
			break;
		}
		/* fall through */
	case CTL_ARG_U32:
		err = parse_u32(arg, label, s, &v, e);
		if (!err)
			*val = json_object_new_int64(v);
		break;
	case CTL_ARG_MASK:
		err = parse_mask(label, s, &v, e);
		if (!err)
			*val = json_object_new_int64(v);
		break;
	case CTL_ARG_TXQ_LIST:
		err = parse_txq_list(label, s, val, e);
		break;
	case CTL_ARG_PATTERNS:
		err = parse_patterns(label, s, val, e);
		break;
	case CTL_ARG_FLAG:
		err = 0;
		*val = json_object_new_boolean(true);
		break;
	case CTL_ARG_PATH:
		err = *s ? 0 : ctl_err_set(e, EINVAL, "%s \"\": empty file name", label);
		if (!err)
			*val = json_object_new_string(s);
		break;
	case CTL_ARG_MAC:
		err = parse_mac(label, s, e);
		if (!err) {
			char text[VMQ_MAC_TEXT_LEN];
			__u8 mac[6];

			/* One spelling in requests: what vmqd answers and saves. */
			vmq_parse_mac(s, mac);
			vmq_format_mac(mac, text);
			*val = json_object_new_string(text);
		}
		break;
	default:
		err = ctl_err_set(e, EINVAL, "%s: unknown argument type", label);
	}
	if (err == -ENOMEM || (!err && !*val)) {
		json_object_put(*val);
		*val = NULL;
		return ctl_err_set(e, ENOMEM, "out of memory");
	}
	return err;
}

void ctl_arg_describe_values(const struct ctl_arg *arg, char *buf, size_t size)
{
	char words[128];

	words_list(arg->words, false, words, sizeof(words));
	switch (arg->type) {
	case CTL_ARG_DEV:
		snprintf(buf, size, "1..%d bytes", IF_NAMESIZE - 1);
		break;
	case CTL_ARG_NAME:
		snprintf(buf, size, "1..%d printable ASCII characters, no spaces", VMQ_NAME_MAX);
		break;
	case CTL_ARG_U32:
		snprintf(buf, size, "%u..%u", arg->min, arg->max);
		break;
	case CTL_ARG_U32_OR_WORD:
		snprintf(buf, size, "%u..%u, or %s", arg->min, arg->max, words);
		break;
	case CTL_ARG_WORD:
		if (arg->then_arg)
			snprintf(buf, size, "%s; %s %s: %u..%u", words, arg->then_word,
				 arg->then_arg->metavar, arg->then_arg->min, arg->then_arg->max);
		else
			snprintf(buf, size, "%s", words);
		break;
	case CTL_ARG_PATTERNS:
		snprintf(buf, size, "fnmatch patterns, at most %d bytes; none clears",
			 CTL_PATTERNS_MAX);
		break;
	case CTL_ARG_FLAG:
		snprintf(buf, size, "%s", "");
		break;
	case CTL_ARG_PATH:
		snprintf(buf, size, "a file, or - for stdin");
		break;
	case CTL_ARG_MASK:
		snprintf(buf, size, "contiguous bits, hex 0x... or decimal");
		break;
	case CTL_ARG_MAC:
		snprintf(buf, size, "xx:xx:xx:xx:xx:xx, unicast");
		break;
	case CTL_ARG_TXQ_LIST:
		snprintf(buf, size, "up to %u distinct TX queues, each 0..%u", VMQ_GROUP_TXQS_MAX,
			 VMQ_TXQ_MAX - 1);
		break;
	default:
		snprintf(buf, size, "?");
	}
}

static const struct ctl_param *find_keyword(const struct ctl_param *params, const char *word)
{
	for (const struct ctl_param *p = params; p->arg; p++)
		if (p->arg->keyword && !strcmp(p->arg->keyword, word))
			return p;
	return NULL;
}

/* The param given before p that excludes it, if any. */
static const struct ctl_param *rival_given(const struct ctl_param *params,
					   const struct ctl_param *p, const bool *given)
{
	if (!p->choice)
		return NULL;
	for (const struct ctl_param *q = params; q->arg; q++)
		if (q != p && q->choice == p->choice && given[q - params])
			return q;
	return NULL;
}

/* "needs one of "txq N" or "group G"" for a required choice none of whose
 * members was given. */
static int missing_choice(const struct ctl_param *params, const struct ctl_param *p,
			  struct ctl_err *e)
{
	char list[256] = "";
	size_t len = 0;

	for (const struct ctl_param *q = params; q->arg; q++) {
		if (q->choice != p->choice)
			continue;
		/* The plain form: "txq N", not "txq N|any". */
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s %.*s\"",
					len ? " or " : "", q->arg->keyword,
					(int)strcspn(q->arg->metavar, "|"), q->arg->metavar);
		if (len >= sizeof(list)) /* truncated: a table bug, still a message */
			break;
	}
	return ctl_err_set(e, EINVAL, "needs one of %s", list);
}

static int check_required(const struct ctl_param *params, const bool *given, struct ctl_err *e)
{
	for (const struct ctl_param *p = params; p->arg; p++) {
		if (!p->required || given[p - params])
			continue;
		if (p->choice) {
			if (!rival_given(params, p, given))
				return missing_choice(params, p, e);
			continue;
		}
		if (!p->arg->keyword)
			return ctl_err_set(e, EINVAL, "missing %s", p->arg->metavar);
		if (!p->arg->metavar) /* a flag */
			return ctl_err_set(e, EINVAL, "missing \"%s\"", p->arg->keyword);
		return ctl_err_set(e, EINVAL, "missing \"%s %.*s\"", p->arg->keyword,
				   (int)strcspn(p->arg->metavar, "|"), p->arg->metavar);
	}
	return 0;
}

static int add_member(struct json_object *args, const struct ctl_param *p, const char *value,
		      struct ctl_err *e)
{
	struct json_object *val;
	int err;

	err = parse_value(p->arg, value, &val, e);
	if (err)
		return err;
	if (json_object_object_add(args, p->arg->key, val)) {
		json_object_put(val);
		return ctl_err_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

/* "rx cpu N": the value after the word that takes one. */
static int add_then(struct json_object *args, const struct ctl_arg *a, int argc, char **argv,
		    int *i, struct ctl_err *e)
{
	const struct ctl_param then = { .arg = a->then_arg };

	if (argc < 1)
		return ctl_err_set(e, EINVAL, "\"%s %s\" needs a value (%s %s %s)", a->keyword,
				   a->then_word, a->keyword, a->then_word, a->then_arg->metavar);
	(*i)++;
	return add_member(args, &then, argv[0], e);
}

/* "stats eth0 -w 1": options come before OBJECT, and this says so. */
static int misplaced_option(const char *word, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];

	if (!ctl_option_word(word))
		return 0;
	return ctl_err_set(e, EINVAL,
			   "option \"%s\" goes before OBJECT (vmqctl [OPTIONS] OBJECT ...)",
			   ctl_quote(word, q, sizeof(q)));
}

/* Positionals come first in params: from, if it is one. */
static const struct ctl_param *next_positional(const struct ctl_param *from)
{
	return from->arg && !from->arg->keyword ? from : NULL;
}

/*
 * Positionals first, in order; then keywords. A flag takes no value, so
 * positionals may follow flags ("apply --dry-run FILE"). A word that is one
 * of this command's keywords is never a positional: "queue show id 3" has
 * no DEV.
 */
static int parse_words(const struct ctl_param *params, int argc, char **argv,
		       struct json_object *args, struct ctl_err *e)
{
	bool given[CTL_PARAMS_MAX] = { false }, valued = false;
	const struct ctl_param *p, *rival, *pos = params;
	char q[CTL_QUOTE_SIZE];
	int i = 0, err;

	for (p = params; p->arg; p++)
		if (p - params >= CTL_PARAMS_MAX)
			return ctl_err_set(e, E2BIG, "too many parameters in the command table");
	while (i < argc) {
		p = find_keyword(params, argv[i]);
		if (!p) {
			if (misplaced_option(argv[i], e))
				return -EINVAL;
			p = valued ? NULL : next_positional(pos);
			if (!p)
				return ctl_err_set(e, EINVAL, "unknown argument \"%s\"",
						   ctl_quote(argv[i], q, sizeof(q)));
			err = add_member(args, p, argv[i++], e);
			if (err)
				return err;
			given[p - params] = true;
			pos = p + 1;
			continue;
		}
		if (given[p - params])
			return ctl_err_set(e, EINVAL, "\"%s\" given twice", p->arg->keyword);
		rival = rival_given(params, p, given);
		if (rival)
			return ctl_err_set(e, EINVAL, "\"%s\" and \"%s\" exclude each other",
					   rival->arg->keyword, p->arg->keyword);
		if (p->arg->type == CTL_ARG_FLAG) {
			err = add_member(args, p, "", e);
			i++;
		} else {
			if (i + 1 >= argc)
				return ctl_err_set(e, EINVAL, "\"%s\" needs a value (%s %s)",
						   p->arg->keyword, p->arg->keyword,
						   p->arg->metavar);
			err = add_member(args, p, argv[i + 1], e);
			i += 2;
			valued = true;
			if (!err && p->arg->then_word && !strcmp(argv[i - 1], p->arg->then_word))
				err = add_then(args, p->arg, argc - i, argv + i, &i, e);
		}
		if (err)
			return err;
		given[p - params] = true;
	}
	return check_required(params, given, e);
}

int ctl_args_parse(const struct ctl_param *params, int argc, char **argv, struct json_object **args,
		   struct ctl_err *e)
{
	struct json_object *obj = json_object_new_object();
	int err;

	if (!obj)
		return ctl_err_set(e, ENOMEM, "out of memory");
	err = parse_words(params, argc, argv, obj, e);
	if (err) {
		json_object_put(obj);
		return err;
	}
	*args = obj;
	return 0;
}

/* One value as the grammar writes it; NULL when it has no such form. */
static char *format_value(const struct ctl_arg *arg, struct json_object *val)
{
	char *text = NULL;

	if (json_object_is_type(val, json_type_string)) {
		const char *s = json_object_get_string(val);

		if (arg->type == CTL_ARG_PATTERNS && !*s)
			s = "none";
		return strdup(s);
	}
	if (json_object_is_type(val, json_type_int)) {
		long long v = (long long)json_object_get_int64(val);

		if (asprintf(&text, arg->type == CTL_ARG_MASK ? "0x%llx" : "%lld", v) < 0)
			return NULL;
		return text;
	}
	if (json_object_is_type(val, json_type_array) && arg->type == CTL_ARG_TXQ_LIST)
		return ctl_fmt_int_list(val);
	return NULL;
}

/* Appends " [keyword] value" for p's member, checking that it reads back. */
static int format_member(FILE *out, struct json_object *args, const struct ctl_param *params,
			 const struct ctl_param *p, struct json_object *val, struct ctl_err *e)
{
	const struct ctl_arg *a = p->arg;
	struct json_object *back = NULL;
	struct ctl_err ignored;
	char *text;
	bool same;

	if (a->type == CTL_ARG_FLAG) {
		if (!json_object_is_type(val, json_type_boolean))
			return ctl_err_set(e, EINVAL, "%s: not true or false", a->key);
		if (json_object_get_boolean(val))
			fprintf(out, " %s", a->keyword);
		return 0;
	}
	text = format_value(a, val);
	if (!text && json_object_is_type(val, json_type_array))
		return ctl_err_set(e, ENOMEM, "out of memory");
	/* A positional that reads as a keyword would not come back as itself. */
	same = text && parse_value(a, text, &back, &ignored) == 0 && json_object_equal(back, val) &&
	       (a->keyword || !find_keyword(params, text));
	json_object_put(back);
	if (!same) {
		free(text);
		return ctl_err_set(e, EINVAL, "%s %s: a value the grammar cannot write", a->key,
				   ctl_json_text(val));
	}
	if (a->keyword)
		fprintf(out, " %s", a->keyword);
	fprintf(out, " %s", text);
	if (a->then_word && !strcmp(text, a->then_word)) {
		/* Its value alone: the word before it says what it is. */
		struct ctl_arg bare = *a->then_arg;
		const struct ctl_param then = { .arg = &bare };
		struct json_object *tv;

		bare.keyword = NULL;
		free(text);
		if (!json_object_object_get_ex(args, a->then_arg->key, &tv))
			return ctl_err_set(e, EINVAL, "%s %s: without %s", a->key, a->then_word,
					   a->then_arg->key);
		return format_member(out, args, params, &then, tv, e);
	}
	free(text);
	return 0;
}

static bool key_known(const struct ctl_param *params, const char *key)
{
	for (const struct ctl_param *p = params; p->arg; p++)
		if (!strcmp(p->arg->key, key) ||
		    (p->arg->then_arg && !strcmp(p->arg->then_arg->key, key)))
			return true;
	return false;
}

int ctl_args_format(const struct ctl_param *params, struct json_object *args, char **words,
		    struct ctl_err *e)
{
	char *text = NULL, q[CTL_QUOTE_SIZE];
	size_t len = 0;
	FILE *out;
	int err = 0;

	if (!json_object_is_type(args, json_type_object))
		return ctl_err_set(e, EINVAL, "args: not a JSON object");
	json_object_object_foreach(args, key, val)
	{
		(void)val;
		if (!key_known(params, key))
			return ctl_err_set(e, EINVAL, "unknown argument \"%s\"",
					   ctl_quote(key, q, sizeof(q)));
	}
	out = open_memstream(&text, &len);
	if (!out)
		return ctl_err_set(e, ENOMEM, "out of memory");
	for (const struct ctl_param *p = params; p->arg && !err; p++) {
		struct json_object *val;

		if (json_object_object_get_ex(args, p->arg->key, &val))
			err = format_member(out, args, params, p, val, e);
	}
	if (fclose(out) && !err)
		err = ctl_err_set(e, ENOMEM, "out of memory");
	if (err) {
		free(text);
		return err;
	}
	/* Without the blank each member starts with. */
	memmove(text, text + (len ? 1 : 0), len ? len : 1);
	*words = text;
	return 0;
}
