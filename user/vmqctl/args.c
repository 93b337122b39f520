// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The argument grammar every command shares: positionals first, then
 * `keyword value` pairs in any order, each value checked by its type and
 * turned into the JSON member vmqd expects.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "libvmq.h"
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

static int parse_u32(const struct ctl_arg *arg, const char *label, const char *s, __u32 *v,
		     struct ctl_err *e)
{
	int err = vmq_parse_u32(s, arg->max, v);
	char q[CTL_QUOTE_SIZE];

	if (err == -EINVAL)
		return ctl_err_set(e, EINVAL, "%s \"%s\": not a number%s", label,
				   ctl_quote(s, q, sizeof(q)),
				   arg->type == CTL_ARG_U32_OR_AUTO ? " or \"auto\"" : "");
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
	case CTL_ARG_U32_OR_AUTO:
		if (!strcmp(s, "auto")) {
			err = 0;
			*val = json_object_new_string("auto");
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
	case CTL_ARG_U32_OR_AUTO:
		snprintf(buf, size, "%u..%u, or auto", arg->min, arg->max);
		break;
	case CTL_ARG_MASK:
		snprintf(buf, size, "contiguous bits, hex 0x... or decimal");
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
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s %s\"",
					len ? " or " : "", q->arg->keyword, q->arg->metavar);
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
		return ctl_err_set(e, EINVAL, "missing \"%s %s\"", p->arg->keyword,
				   p->arg->metavar);
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

static int parse_words(const struct ctl_param *params, int argc, char **argv,
		       struct json_object *args, struct ctl_err *e)
{
	bool given[CTL_PARAMS_MAX] = { false };
	const struct ctl_param *p, *rival;
	char q[CTL_QUOTE_SIZE];
	int i = 0, err;

	for (p = params; p->arg; p++)
		if (p - params >= CTL_PARAMS_MAX)
			return ctl_err_set(e, E2BIG, "too many parameters in the command table");
	/* A word that is one of this command's keywords is not a positional:
	 * "queue show id 3" has no DEV. */
	for (p = params; p->arg && !p->arg->keyword; p++) {
		if (i >= argc || find_keyword(params, argv[i]))
			continue;
		err = misplaced_option(argv[i], e);
		if (!err)
			err = add_member(args, p, argv[i++], e);
		if (err)
			return err;
		given[p - params] = true;
	}
	while (i < argc) {
		p = find_keyword(params, argv[i]);
		if (!p && misplaced_option(argv[i], e))
			return -EINVAL;
		if (!p)
			return ctl_err_set(e, EINVAL, "unknown argument \"%s\"",
					   ctl_quote(argv[i], q, sizeof(q)));
		if (given[p - params])
			return ctl_err_set(e, EINVAL, "\"%s\" given twice", p->arg->keyword);
		rival = rival_given(params, p, given);
		if (rival)
			return ctl_err_set(e, EINVAL, "\"%s\" and \"%s\" exclude each other",
					   rival->arg->keyword, p->arg->keyword);
		if (i + 1 >= argc)
			return ctl_err_set(e, EINVAL, "\"%s\" needs a value (%s %s)",
					   p->arg->keyword, p->arg->keyword, p->arg->metavar);
		err = add_member(args, p, argv[i + 1], e);
		if (err)
			return err;
		given[p - params] = true;
		i += 2;
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
