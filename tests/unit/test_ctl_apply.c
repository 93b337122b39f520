// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl save and apply without a daemon: the formatter (the inverse of the
 * parser) and the plan, a pure function of two lists of requests.
 */
#include "vmq_test.h"
#include "vmqctl/vmqctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct json_object *resolve(const char *line)
{
	char buf[1024], *words[CTL_LINE_WORDS_MAX];
	struct json_object *req;
	struct ctl_call call;
	struct ctl_err e = { 0 };
	int n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = ctl_split_words(buf, words, CTL_LINE_WORDS_MAX);
	assert_true(n > 0);
	if (ctl_resolve(n, words, &call, &e))
		fail_msg("\"%s\": %s", line, e.msg);
	assert_int_equal(call.kind, CTL_CALL_REQUEST);
	req = json_object_get(call.req);
	ctl_call_release(&call);
	return req;
}

static char *format(struct json_object *req)
{
	struct ctl_err e = { 0 };
	char *line = NULL;

	if (ctl_request_format(req, &line, &e))
		fail_msg("%s: %s", json_object_to_json_string(req), e.msg);
	return line;
}

/* --- the formatter ----------------------------------------------------------- */

/* Canonical lines: positionals, then each keyword in table order. */
static const char *const canonical[] = {
	"dev attach eth0",
	"dev attach eth0 default-txq auto mark-mask 0xffff queues 4096",
	"dev attach eth0 default-txq 3 mark-mask 0xff000000",
	"dev attach eth0 rx on",
	"dev set eth0 ports vnet*,tap*",
	"dev set eth0 ports none",
	"dev set eth0 balance on interval 1 threshold 50",
	"dev set eth0 ports vnet* balance off",
	"dev balance eth0 --dry-run",
	"dev set eth0 rx off",
	"dev set eth0 ports tap* rx on",
	"dev detach eth0",
	"dev upgrade eth0",
	"dev show",
	"dev show eth0",
	"queue add eth0 id 5 txq 3 vm web placement auto owner port",
	"queue add eth0 id auto txq any",
	"queue add eth0 id 7 group 1 vm db name db-tx placement operator",
	"queue set eth0 id 0 txq auto",
	"queue set eth0 id 7 txq any",
	"queue set eth0 id 7 group 2",
	"queue set eth0 id 7 rx cpu 1",
	"queue set eth0 id 7 rx port",
	"queue set eth0 id 7 txq 3 rx pass",
	"queue del eth0 id 7",
	"queue show",
	"queue show eth0 id 7",
	"queue show id 7",
	"group add eth0 id 1 txqs 4,0,2",
	"group del eth0 id 1",
	"group show eth0",
	"port bind vnet0 dev eth0 queue 5",
	"port bind vnet0 dev eth0 queue auto txq any vm web",
	"port bind vnet0 dev eth0 queue auto txq 2",
	"port unbind vnet0",
	"port show",
	"port show dev eth0",
	"filter add eth0 queue 7 mac 52:54:00:12:34:56",
	"filter add eth0 queue 7 mac 52:54:00:12:34:56 vlan 4094",
	"filter del eth0 mac 52:54:00:12:34:56 vlan 1",
	"filter show",
	"filter show eth0",
	"stats show",
	"stats show eth0",
	"doctor run eth0",
	"daemon ping",
	"daemon save",
	"daemon sync",
};

static bool covered(const struct ctl_object *obj, const struct ctl_cmd *cmd)
{
	size_t olen = strlen(obj->name), clen = strlen(cmd->name);

	for (size_t i = 0; i < ARRAY_SIZE(canonical); i++)
		if (!strncmp(canonical[i], obj->name, olen) && canonical[i][olen] == ' ' &&
		    !strncmp(canonical[i] + olen + 1, cmd->name, clen) &&
		    (!canonical[i][olen + 1 + clen] || canonical[i][olen + 1 + clen] == ' '))
			return true;
	return false;
}

/* format(parse(line)) == line, for a line of every command vmqd takes. */
static void test_format_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; ctl_objects[i]; i++)
		for (const struct ctl_cmd *c = ctl_objects[i]->cmds; c->name; c++)
			if (!c->run && !covered(ctl_objects[i], c))
				fail_msg("no canonical line for %s %s", ctl_objects[i]->name,
					 c->name);
	for (size_t i = 0; i < ARRAY_SIZE(canonical); i++) {
		struct json_object *req = resolve(canonical[i]);
		char *line = format(req);

		if (strcmp(line, canonical[i]))
			fail_msg("\n got  %s\n want %s", line, canonical[i]);
		free(line);
		json_object_put(req);
	}
}

/* parse(format(req)) == req, for requests as vmqd writes them. */
static void test_format_requests(void **state)
{
	static const struct {
		const char *req, *line;
	} cases[] = {
		{ "{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"queues\":65536,"
		  "\"mark_mask\":4294901760,\"dev\":\"ens1f0\",\"default_txq\":0}}",
		  "dev attach ens1f0 default-txq 0 mark-mask 0xffff0000 queues 65536" },
		{ "{\"object\":\"dev\",\"command\":\"set\",\"args\":{\"dev\":\"eth0\",\"ports\":"
		  "\"\"}}",
		  "dev set eth0 ports none" },
		{ "{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"owner\":\"port\","
		  "\"placement\":\"auto\",\"vm\":\"web\",\"txq\":3,\"id\":5,\"dev\":\"eth0\"}}",
		  "queue add eth0 id 5 txq 3 vm web placement auto owner port" },
		{ "{\"version\":1,\"object\":\"group\",\"command\":\"add\",\"args\":{\"dev\":"
		  "\"eth0\","
		  "\"id\":1,\"txqs\":[4,5]}}",
		  "group add eth0 id 1 txqs 4,5" },
		{ "{\"object\":\"port\",\"command\":\"bind\",\"args\":{\"queue\":5,\"dev\":"
		  "\"eth0\","
		  "\"port\":\"vnet0\"},\"pending\":true}",
		  "port bind vnet0 dev eth0 queue 5" },
		{ "{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"rx\":\"on\",\"dev\":"
		  "\"eth0\",\"default_txq\":\"auto\"}}",
		  "dev attach eth0 default-txq auto rx on" },
		{ "{\"object\":\"queue\",\"command\":\"set\",\"args\":{\"cpu\":3,\"rx\":\"cpu\","
		  "\"id\":7,\"dev\":\"eth0\"}}",
		  "queue set eth0 id 7 rx cpu 3" },
		{ "{\"object\":\"filter\",\"command\":\"add\",\"args\":{\"vlan\":10,\"mac\":"
		  "\"52:54:00:ab:cd:ef\",\"queue\":7,\"dev\":\"eth0\"}}",
		  "filter add eth0 queue 7 mac 52:54:00:ab:cd:ef vlan 10" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *req = json_tokener_parse(cases[i].req), *back, *a, *b;
		char *line = format(req);

		if (strcmp(line, cases[i].line))
			fail_msg("\n got  %s\n want %s", line, cases[i].line);
		back = resolve(line);
		assert_true(json_object_object_get_ex(req, "args", &a));
		assert_true(json_object_object_get_ex(back, "args", &b));
		assert_true(json_object_equal(a, b));
		free(line);
		json_object_put(back);
		json_object_put(req);
	}
}

/* What the grammar cannot write is an error, not a line that means else. */
static void test_format_refuses(void **state)
{
	static const struct {
		const char *req, *msg;
	} cases[] = {
		{ "{\"object\":\"queue\",\"command\":\"del\",\"args\":{\"dev\":\"eth0\",\"id\":1,"
		  "\"colour\":\"red\"}}",
		  "queue del: unknown argument \"colour\"" },
		{ "{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":\"eth0\",\"id\":1,"
		  "\"txq\":1,\"vm\":\"a b\"}}",
		  "queue add: vm \"a b\": a value the grammar cannot write" },
		{ "{\"object\":\"queue\",\"command\":\"del\",\"args\":{\"dev\":\"id\",\"id\":1}}",
		  "queue del: dev \"id\": a value the grammar cannot write" },
		{ "{\"object\":\"dev\",\"command\":\"set\",\"args\":{\"dev\":\"eth0\",\"ports\":"
		  "\"none\"}}",
		  "dev set: ports \"none\": a value the grammar cannot write" },
		{ "{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":\"eth0\",\"id\":"
		  "99999,"
		  "\"txq\":1}}",
		  "queue add: id 99999: a value the grammar cannot write" },
		{ "{\"object\":\"queue\",\"command\":\"set\",\"args\":{\"dev\":\"eth0\",\"id\":3,"
		  "\"txq\":\"auto\"}}",
		  "queue set eth0 id 3 txq auto: does not read back as the same request" },
		{ "{\"object\":\"save\",\"command\":\"run\",\"args\":{}}",
		  "unknown request \"save run\"" },
		{ "{\"object\":\"queue\",\"command\":\"set\",\"args\":{\"dev\":\"eth0\",\"id\":3,"
		  "\"rx\":\"cpu\"}}",
		  "queue set: rx cpu: without cpu" },
		{ "{\"object\":\"filter\",\"command\":\"add\",\"args\":{\"dev\":\"eth0\","
		  "\"queue\":3,\"mac\":\"01:00:5e:00:00:01\"}}",
		  "filter add: mac \"01:00:5e:00:00:01\": a value the grammar cannot write" },
		{ "{\"object\":\"queue\",\"command\":\"frob\",\"args\":{}}",
		  "unknown request \"queue frob\"" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *req = json_tokener_parse(cases[i].req);
		struct ctl_err e = { 0 };
		char *line = NULL;

		assert_non_null(req);
		if (!ctl_request_format(req, &line, &e))
			fail_msg("%s: formatted as %s", cases[i].req, line);
		if (strcmp(e.msg, cases[i].msg))
			fail_msg("\n got  %s\n want %s", e.msg, cases[i].msg);
		assert_null(line);
		json_object_put(req);
	}
}

/* --- the plan -------------------------------------------------------------- */

/* Batch lines as requests; for want, with their line numbers. */
static struct json_object *state_of(const char *text, bool lines)
{
	struct json_object *arr = json_object_new_array();
	char buf[4096], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct json_object *req = resolve(l);

		n++;
		json_object_object_del(req, "version");
		if (lines)
			json_object_object_add(req, "line", json_object_new_int(n));
		json_object_array_add(arr, req);
	}
	return arr;
}

/* The plan as "op line" lines, then "kept N". */
static char *plan_text(const char *want_text, const char *have_text, bool prune, int *err,
		       struct ctl_err *e)
{
	struct json_object *want = state_of(want_text, true), *have = state_of(have_text, false);
	struct ctl_plan plan;
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);

	*err = ctl_plan_make(want, have, prune, &plan, e);
	if (!*err) {
		for (size_t i = 0; i < plan.n; i++) {
			char *line = format(plan.steps[i].req);

			fprintf(out, "%s %s\n", ctl_plan_op_name(plan.steps[i].op), line);
			free(line);
		}
		fprintf(out, "kept %zu\n", plan.kept);
		ctl_plan_free(&plan);
	}
	fclose(out);
	json_object_put(want);
	json_object_put(have);
	return text;
}

static void expect_plan(const char *want, const char *have, bool prune, const char *steps)
{
	struct ctl_err e = { 0 };
	int err;
	char *got = plan_text(want, have, prune, &err, &e);

	if (err)
		fail_msg("plan failed: line %d: %s", e.line, e.msg);
	if (strcmp(got, steps))
		fail_msg("\n--- got\n%s--- want\n%s", got, steps);
	free(got);
}

static void expect_refused(const char *want, const char *have, int errnum, int line,
			   const char *msg)
{
	struct ctl_err e = { 0 };
	int err;
	char *got = plan_text(want, have, true, &err, &e);

	if (!err)
		fail_msg("planned:\n%s", got);
	if (err != -errnum || e.line != line || strcmp(e.msg, msg))
		fail_msg("\n got  %d line %d: %s\n want %d line %d: %s", -err, e.line, e.msg,
			 errnum, line, msg);
	free(got);
}

/* What vmqd's save might say. */
#define RUNNING                                                                                    \
	"dev attach eth0 default-txq auto mark-mask 0xffff queues 4096\n"                          \
	"dev set eth0 ports vnet*\n"                                                               \
	"group add eth0 id 1 txqs 4,5\n"                                                           \
	"queue set eth0 id 0 txq auto\n"                                                           \
	"queue add eth0 id 5 txq 3 vm web placement auto owner port\n"                             \
	"queue add eth0 id 7 group 1 vm db\n"                                                      \
	"queue add eth0 id 8 txq 2 vm app name app-tx\n"                                           \
	"port bind vnet0 dev eth0 queue 5\n"                                                       \
	"port bind tap-db dev eth0 queue 7\n"

static void test_plan_no_change(void **state)
{
	(void)state;
	expect_plan(RUNNING, RUNNING, true, "kept 0\n");
	/* defaults and implicit values are no difference */
	expect_plan("dev attach eth0\n"
		    "dev set eth0 ports vnet*\n"
		    "group add eth0 id 1 txqs 4,5\n"
		    "queue add eth0 id 5 txq any vm web owner port\n"
		    "queue add eth0 id 7 group 1 vm db placement operator\n"
		    "queue add eth0 id 8 txq 2 vm app name app-tx\n"
		    "port bind tap-db dev eth0 queue 7\n"
		    "port bind vnet0 dev eth0 queue 5\n",
		    RUNNING, true, "kept 0\n");
	/* an auto-placed queue is where vmqd put it */
	expect_plan("dev attach eth0\nqueue add eth0 id 5 txq 6 placement auto\n",
		    "dev attach eth0\nqueue add eth0 id 5 txq 3 placement auto\n", true,
		    "kept 0\n");
	/* no ports policy and "ports none" are the same */
	expect_plan("dev attach eth0\ndev set eth0 ports none\n", "dev attach eth0\n", true,
		    "kept 0\n");
	expect_plan("", "", true, "kept 0\n");
	expect_plan("dev attach eth0\n", "dev attach eth0\ndev set eth0 ports none\n", true,
		    "kept 0\n");
}

/* New objects go in dependency order, whatever the file's order. */
static void test_plan_add(void **state)
{
	(void)state;
	expect_plan("port bind vnet1 dev eth1 queue 3\n"
		    "queue add eth1 id 3 group 2\n"
		    "queue set eth1 id 0 txq 1\n"
		    "group add eth1 id 2 txqs 0,1\n"
		    "dev set eth1 ports tap*\n"
		    "dev attach eth1 default-txq 1\n",
		    "", false,
		    "add dev attach eth1 default-txq 1\n"
		    "add dev set eth1 ports tap*\n"
		    "add group add eth1 id 2 txqs 0,1\n"
		    "add queue set eth1 id 0 txq 1\n"
		    "add queue add eth1 id 3 group 2\n"
		    "add port bind vnet1 dev eth1 queue 3\n"
		    "kept 0\n");
	/* onto a running device: only what it lacks */
	expect_plan(RUNNING "queue add eth0 id 9 txq 1\nport bind vnet9 dev eth0 queue 9\n",
		    RUNNING, false,
		    "add queue add eth0 id 9 txq 1\n"
		    "add port bind vnet9 dev eth0 queue 9\n"
		    "kept 0\n");
}

static void test_plan_change(void **state)
{
	(void)state;
	/* the target only: queue set; a label: del and add; a port: bind again */
	expect_plan("dev attach eth0 default-txq 2\n"
		    "dev set eth0 ports vnet*,tap*\n"
		    "group add eth0 id 1 txqs 4,5\n"
		    "queue add eth0 id 5 txq 3 vm web owner port\n"
		    "queue add eth0 id 7 txq 6 vm db\n"
		    "queue add eth0 id 8 txq 2 vm app2 name app-tx\n"
		    "port bind vnet0 dev eth0 queue 8\n"
		    "port bind tap-db dev eth0 queue 7\n",
		    RUNNING, false,
		    "remove queue del eth0 id 8\n"
		    "change dev set eth0 ports vnet*,tap*\n"
		    "change queue set eth0 id 0 txq 2\n"
		    "change queue set eth0 id 5 txq 3\n"
		    "change queue set eth0 id 7 txq 6\n"
		    "add queue add eth0 id 8 txq 2 vm app2 name app-tx\n"
		    "change port bind vnet0 dev eth0 queue 8\n"
		    "kept 0\n");
	/* operator-placed, wanted auto: vmqd places it again */
	expect_plan("dev attach eth0\nqueue add eth0 id 5 txq any\n",
		    "dev attach eth0\nqueue add eth0 id 5 txq 3\n", false,
		    "change queue set eth0 id 5 txq any\nkept 0\n");
	/* a group no queue uses: del and add */
	expect_plan("dev attach eth0\ngroup add eth0 id 2 txqs 1,2,3\n",
		    "dev attach eth0\ngroup add eth0 id 2 txqs 1,2\n", false,
		    "remove group del eth0 id 2\nadd group add eth0 id 2 txqs 1,2,3\nkept 0\n");
}

static void test_plan_prune(void **state)
{
	(void)state;
	/* without --prune: left alone, and counted */
	expect_plan("dev attach eth0\n", RUNNING, false, "kept 7\n");
	/* with it: in reverse dependency order; vnet0's own queue goes with
	 * its unbind, so it gets no queue del */
	expect_plan("dev attach eth0\n", RUNNING, true,
		    "remove port unbind vnet0\n"
		    "remove port unbind tap-db\n"
		    "remove queue del eth0 id 7\n"
		    "remove queue del eth0 id 8\n"
		    "remove group del eth0 id 1\n"
		    "remove dev set eth0 ports none\n"
		    "kept 0\n");
	expect_plan("", "dev attach eth0\nqueue add eth0 id 3 txq 1\n", true,
		    "remove queue del eth0 id 3\nremove dev detach eth0\nkept 0\n");
}

/* Balancing travels in dev set with the port policy: compared, changed,
 * turned off by what the file leaves out, removed with prune. */
static void test_plan_balance(void **state)
{
	(void)state;
	/* the defaults (10 s, 25 %) are no difference; balance off is none */
	expect_plan("dev attach eth0\ndev set eth0 balance on\n",
		    "dev attach eth0\ndev set eth0 balance on interval 10 threshold 25\n", true,
		    "kept 0\n");
	expect_plan("dev attach eth0\ndev set eth0 balance off\n", "dev attach eth0\n", true,
		    "kept 0\n");
	expect_plan("dev attach eth0\ndev set eth0 ports vnet* balance on interval 1\n",
		    "dev attach eth0\ndev set eth0 ports vnet* balance on\n", true,
		    "change dev set eth0 ports vnet* balance on interval 1\nkept 0\n");
	/* the file has the policy only: balancing goes off */
	expect_plan("dev attach eth0\ndev set eth0 ports vnet*\n",
		    "dev attach eth0\ndev set eth0 ports vnet* balance on\n", true,
		    "change dev set eth0 ports vnet* balance off\nkept 0\n");
	/* and balancing only: the policy goes */
	expect_plan("dev attach eth0\ndev set eth0 balance on\n",
		    "dev attach eth0\ndev set eth0 ports vnet*\n", true,
		    "change dev set eth0 ports none balance on\nkept 0\n");
	expect_plan("dev attach eth0\n", "dev attach eth0\ndev set eth0 balance on\n", false,
		    "kept 1\n");
	expect_plan("dev attach eth0\n", "dev attach eth0\ndev set eth0 balance on\n", true,
		    "remove dev set eth0 ports none balance off\nkept 0\n");
}

/* The receive side: rx on/off, modes and filters, by identity. */
#define RX_RUNNING                                                                                 \
	"dev attach eth0 rx on\n"                                                                  \
	"queue add eth0 id 5 txq 3 vm web\n"                                                       \
	"queue add eth0 id 7 txq 2 vm db\n"                                                        \
	"port bind vnet0 dev eth0 queue 5\n"                                                       \
	"queue set eth0 id 5 rx port\n"                                                            \
	"queue set eth0 id 7 rx cpu 1\n"                                                           \
	"filter add eth0 queue 5 mac 52:54:00:00:00:05\n"                                          \
	"filter add eth0 queue 7 mac 52:54:00:00:00:07 vlan 10\n"

static void test_plan_rx(void **state)
{
	(void)state;
	expect_plan(RX_RUNNING, RX_RUNNING, true, "kept 0\n");
	/* in dependency order: the port before port mode, filters last */
	expect_plan(RX_RUNNING, "", false,
		    "add dev attach eth0 rx on\n"
		    "add queue add eth0 id 5 txq 3 vm web\n"
		    "add queue add eth0 id 7 txq 2 vm db\n"
		    "add port bind vnet0 dev eth0 queue 5\n"
		    "add queue set eth0 id 5 rx port\n"
		    "add queue set eth0 id 7 rx cpu 1\n"
		    "add filter add eth0 queue 5 mac 52:54:00:00:00:05\n"
		    "add filter add eth0 queue 7 mac 52:54:00:00:00:07 vlan 10\n"
		    "kept 0\n");
	/* rx off, another CPU, a filter moved to another queue, one gone */
	expect_plan("dev attach eth0\n"
		    "queue add eth0 id 5 txq 3 vm web\n"
		    "queue add eth0 id 7 txq 2 vm db\n"
		    "port bind vnet0 dev eth0 queue 5\n"
		    "queue set eth0 id 5 rx port\n"
		    "queue set eth0 id 7 rx cpu 0\n"
		    "filter add eth0 queue 7 mac 52:54:00:00:00:05\n",
		    RX_RUNNING, true,
		    "remove filter del eth0 mac 52:54:00:00:00:05\n"
		    "remove filter del eth0 mac 52:54:00:00:00:07 vlan 10\n"
		    "change dev set eth0 rx off\n"
		    "change queue set eth0 id 7 rx cpu 0\n"
		    "add filter add eth0 queue 7 mac 52:54:00:00:00:05\n"
		    "kept 0\n");
	/* a queue deleted and added again (its label) loses its filters and
	 * mode in vmqd: both go in again */
	expect_plan("dev attach eth0 rx on\n"
		    "queue add eth0 id 7 txq 2 vm db2\n"
		    "queue set eth0 id 7 rx cpu 1\n"
		    "filter add eth0 queue 7 mac 52:54:00:00:00:07 vlan 10\n",
		    "dev attach eth0 rx on\n"
		    "queue add eth0 id 7 txq 2 vm db\n"
		    "queue set eth0 id 7 rx cpu 1\n"
		    "filter add eth0 queue 7 mac 52:54:00:00:00:07 vlan 10\n",
		    false,
		    "remove queue del eth0 id 7\n"
		    "add queue add eth0 id 7 txq 2 vm db2\n"
		    "add queue set eth0 id 7 rx cpu 1\n"
		    "add filter add eth0 queue 7 mac 52:54:00:00:00:07 vlan 10\n"
		    "kept 0\n");
	/* without --prune, a mode and a filter the file lacks are kept */
	expect_plan("dev attach eth0 rx on\nqueue add eth0 id 5 txq 3 vm web\n"
		    "queue add eth0 id 7 txq 2 vm db\nport bind vnet0 dev eth0 queue 5\n",
		    RX_RUNNING, false, "kept 4\n");
	expect_refused("dev attach eth0\nfilter add eth0 queue 5 mac 52:54:00:00:00:05\n"
		       "filter add eth0 queue 6 mac 52:54:00:00:00:05\n",
		       "", EINVAL, 3,
		       "filter 52:54:00:00:00:05 on eth0 given twice (first on line 2)");
}

static void test_plan_refuses(void **state)
{
	(void)state;
	expect_refused("dev attach eth0 mark-mask 0xff00\n", RUNNING, EBUSY, 1,
		       "dev attach eth0: mark-mask 0xff00, but eth0 runs with 0xffff; apply does "
		       "not re-attach a device (dev detach eth0 first, then apply)");
	expect_refused("dev attach eth0\ngroup add eth0 id 1 txqs 4\n", RUNNING, EBUSY, 2,
		       "group 1 on eth0: its TX queues differ, and queue 7 steers into it; vmqd "
		       "cannot change a group in use (move its queues first)");
	expect_refused("dev attach eth0\nqueue add eth0 id 3 txq 1\nqueue add eth0 id 3 txq 2\n",
		       "", EINVAL, 3, "queue 3 on eth0 given twice (first on line 2)");
	expect_refused("dev attach eth0\nqueue del eth0 id 3\n", "", EINVAL, 2,
		       "\"queue del\": not a state line (apply takes dev attach, dev set, group "
		       "add, queue set (queue 0, or rx), queue add, port bind and filter add)");
	expect_refused("queue set eth0 id 3 txq 1\n", "", EINVAL, 1,
		       "queue set: apply sets only queue 0 (write queue 3's target in its queue "
		       "add)");
	expect_refused("queue add eth0 id auto txq 1\n", "", EINVAL, 1,
		       "queue add: id auto has no identity to compare; write the ID (as vmqctl "
		       "save does)");
	expect_refused("port bind vnet0 dev eth0 queue auto\n", "", EINVAL, 1,
		       "port bind: queue auto has no identity to compare; write the queue (as "
		       "vmqctl save does: queue add ... owner port, then port bind ... queue ID)");
	expect_refused("", "daemon ping\n", EINVAL, 0,
		       "vmqd's state: \"daemon ping\": not a state line (apply takes dev attach, "
		       "dev set, group add, queue set (queue 0, or rx), queue add, port bind and "
		       "filter add)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_round_trip), cmocka_unit_test(test_format_requests),
		cmocka_unit_test(test_format_refuses),	  cmocka_unit_test(test_plan_no_change),
		cmocka_unit_test(test_plan_add),	  cmocka_unit_test(test_plan_change),
		cmocka_unit_test(test_plan_prune),	  cmocka_unit_test(test_plan_balance),
		cmocka_unit_test(test_plan_rx),		  cmocka_unit_test(test_plan_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
