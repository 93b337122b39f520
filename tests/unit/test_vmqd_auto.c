// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Automatic allocation in vmqd: "id auto", "txq any" (fewest queues, then
 * the lowest recent load), "port bind ... queue auto" and its queue's life,
 * and port policies. Runs in a sandbox with a veth of 8 TX queues.
 */
#include <json-c/json.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vmq_test.h"
#include "vmqd/vmqd.h"
#include "vmqd/log.h"

static const char *root;
static struct vmqd daemon_state;
static struct vmqd *d = &daemon_state;

#define REQ(obj, cmd, args)                                                                        \
	"{\"version\":1,\"object\":\"" obj "\",\"command\":\"" cmd "\",\"args\":" args "}"

/* The result of a request that must succeed (caller puts it). */
static struct json_object *ok(const char *line)
{
	bool malformed;
	char *answer = vmqd_handle_line(d, line, strlen(line), &malformed);
	struct json_object *resp, *result;

	assert_non_null(answer);
	resp = json_tokener_parse(answer);
	free(answer);
	assert_non_null(resp);
	if (!json_object_get_boolean(json_object_object_get(resp, "ok")))
		fail_msg("%s -> %s", line, json_object_to_json_string(resp));
	result = json_object_get(json_object_object_get(resp, "result"));
	json_object_put(resp);
	return result;
}

static int64_t ok_int(const char *line, const char *key)
{
	struct json_object *result = ok(line), *v;
	int64_t n;

	if (!json_object_object_get_ex(result, key, &v))
		fail_msg("%s: no \"%s\" in %s", line, key, json_object_to_json_string(result));
	n = json_object_get_int64(v);
	json_object_put(result);
	return n;
}

static void expect_error(const char *line, int err, const char *part)
{
	bool malformed;
	char *answer = vmqd_handle_line(d, line, strlen(line), &malformed);

	assert_non_null(answer);
	if (!strstr(answer, "\"ok\":false") || !strstr(answer, part))
		fail_msg("%s -> %s, wanted errno %d and \"%s\"", line, answer, err, part);
	free(answer);
}

/* One queue as "queue show" prints it. */
static char *queue_text(unsigned int id)
{
	char line[160];
	struct json_object *result, *q;
	char *text;

	snprintf(line, sizeof(line), REQ("queue", "show", "{\"dev\":\"up0\",\"id\":%u}"), id);
	result = ok(line);
	q = json_object_array_get_idx(json_object_object_get(result, "queues"), 0);
	text = strdup(json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
	json_object_put(result);
	return text;
}

static bool queue_exists(unsigned int id)
{
	struct vmqd_dev *dev = vmqd_find_dev(d, "up0");
	struct vmq_queue_entry e;

	assert_non_null(dev);
	assert_int_equal(vmq_queue_read(&dev->dp, id, &e), 0);
	return e.state != VMQ_QUEUE_FREE;
}

static int setup(void **state)
{
	(void)state;
	root = vmq_test_sandbox();
	vmqd_log_init(getenv("VMQ_TEST_VERBOSE") ? VMQD_LOG_DEBUG : VMQD_LOG_ERR);
	if (vmq_test_veth("up0", "up1", 8) || vmq_test_veth("vm0", "pa0", 1) ||
	    vmq_test_veth("vm1", "pa1", 1) || vmq_test_veth("vmxa", "pa2", 1) ||
	    vmq_test_veth("other0", "pa3", 1))
		return -1;
	/* Per-TX-queue counters (the load placement reads) are mq's. */
	if (system("tc qdisc replace dev up0 root handle 1: mq"))
		return -1;
	if (vmqd_init(d, root))
		return -1;
	json_object_put(ok(REQ("dev", "attach", "{\"dev\":\"up0\",\"default_txq\":7}")));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vmqd_fini(d);
	vmq_test_sandbox_done();
	return 0;
}

/* Sends `bytes` of frames out of up0 on one TX queue, as a VM's traffic
 * would: steered by a queue ID of its own (gone again afterwards), counted
 * by the kernel in up0's mq class, where placement reads the load. */
static void add_txq_bytes(unsigned int txq, __u64 bytes)
{
	enum { FRAME = 1000, TMP_ID = 200 };
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	static unsigned char frame[FRAME];
	int mark = TMP_ID, fd;
	char line[160];

	snprintf(line, sizeof(line), REQ("queue", "add", "{\"dev\":\"up0\",\"id\":%d,\"txq\":%u}"),
		 TMP_ID, txq);
	json_object_put(ok(line));
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0);
	to.sll_ifindex = (int)if_nametoindex("up0");
	memset(frame, 0xff, ETH_ALEN);	    /* broadcast */
	frame[6] = 0x02;		    /* a local source MAC */
	frame[12] = 0x88, frame[13] = 0xb5; /* local experimental ethertype */
	for (__u64 sent = 0; sent < bytes; sent += FRAME)
		assert_int_equal(sendto(fd, frame, FRAME, 0, (struct sockaddr *)&to, sizeof(to)),
				 FRAME);
	close(fd);
	snprintf(line, sizeof(line), REQ("queue", "del", "{\"dev\":\"up0\",\"id\":%d}"), TMP_ID);
	json_object_put(ok(line));
}

static void test_id_auto_txq_any(void **state)
{
	char *text;

	(void)state;
	/* The lowest free ID, from 1. */
	assert_int_equal(
		ok_int(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":\"auto\",\"txq\":0}"), "id"),
		1);
	json_object_put(ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":3,\"txq\":1}")));
	assert_int_equal(
		ok_int(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":\"auto\",\"txq\":1}"), "id"),
		2);
	json_object_put(ok(REQ("group", "add", "{\"dev\":\"up0\",\"id\":9,\"txqs\":[5,6]}")));
	assert_int_equal(
		ok_int(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":\"auto\",\"group\":9}"), "id"),
		4);

	/* Queues per TX queue: 0:1, 1:2, 5:1 and 6:1 (the group's queue weighs
	 * on each member), 7:1 (the default queue). The emptiest come first,
	 * the lowest index on a tie of count and load. */
	assert_int_equal(
		ok_int(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":\"auto\",\"txq\":\"any\"}"),
		       "txq"),
		2);
	/* Load breaks a tie of counts: 3..6 have no queue, 3 is busy. */
	add_txq_bytes(3, 100000);
	assert_int_equal(
		ok_int(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":6,\"txq\":\"any\"}"), "txq"),
		4);
	text = queue_text(6);
	assert_string_equal(text, "{\"dev\":\"up0\",\"id\":6,\"txq\":4,\"placement\":\"auto\"}");
	free(text);
	/* Set by hand, the queue is the operator's again; "any" makes it
	 * vmqd's, and never counts the queue against itself: 3 and 4 are
	 * empty again, and 3 is still the busier. */
	json_object_put(ok(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":6,\"txq\":5}")));
	text = queue_text(6);
	assert_string_equal(text, "{\"dev\":\"up0\",\"id\":6,\"txq\":5}");
	free(text);
	assert_int_equal(
		ok_int(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":6,\"txq\":\"any\"}"), "txq"),
		4);
	expect_error(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":0,\"txq\":\"any\"}"), EINVAL,
		     "the default queue takes a txq or auto, not any");
	expect_error(
		REQ("queue", "add", "{\"dev\":\"up0\",\"id\":9,\"txq\":2,\"placement\":\"x\"}"),
		EINVAL, "placement must be \\\"operator\\\" or \\\"auto\\\"");
	for (unsigned int id = 1; id <= 6; id++) {
		char line[128];

		if (id == 4 || !queue_exists(id))
			continue;
		snprintf(line, sizeof(line), REQ("queue", "del", "{\"dev\":\"up0\",\"id\":%u}"),
			 id);
		json_object_put(ok(line));
	}
}

static void test_port_queue_auto(void **state)
{
	struct json_object *result;
	int64_t q, q2;
	char *text;

	(void)state;
	expect_error(
		REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":0,\"vm\":\"x\"}"),
		EINVAL, "txq and vm go with \\\"queue auto\\\" only");
	q = ok_int(REQ("port", "bind",
		       "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":\"auto\",\"vm\":\"web\"}"),
		   "queue");
	assert_int_equal(q, 1);
	text = queue_text((unsigned int)q);
	assert_non_null(strstr(text, "\"vm\":\"web\",\"owner\":\"port\",\"placement\":\"auto\""));
	free(text);
	/* Asked again, a txq is still checked (it was taken, whatever it was). */
	expect_error(REQ("port", "bind",
			 "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":\"auto\",\"txq\":\"anyD\"}"),
		     EINVAL, "txq must be an integer");
	expect_error(REQ("port", "bind",
			 "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":\"auto\",\"txq\":8,"
			 "\"vm\":\"other\"}"),
		     ERANGE, "txq 8 out of range (up0 has 8 TX queues)");
	text = queue_text((unsigned int)q);
	assert_non_null(strstr(text, "\"vm\":\"web\""));
	free(text);
	/* Asked again (the hook and a policy may both ask), it keeps its queue. */
	assert_int_equal(
		ok_int(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":\"auto\"}"),
		       "queue"),
		q);
	/* Unbinding frees the queue it was given. */
	result = ok(REQ("port", "unbind", "{\"port\":\"vm0\"}"));
	assert_int_equal(json_object_get_int64(json_object_object_get(result, "freed_queue")), q);
	json_object_put(result);
	assert_false(queue_exists((unsigned int)q));

	/* txq N places it by hand; rebinding to an operator's queue frees it. */
	result = ok(REQ("port", "bind",
			"{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":\"auto\",\"txq\":5}"));
	q = json_object_get_int64(json_object_object_get(result, "queue"));
	assert_int_equal(json_object_get_int64(json_object_object_get(result, "txq")), 5);
	json_object_put(result);
	text = queue_text((unsigned int)q);
	assert_null(strstr(text, "placement"));
	free(text);
	json_object_put(ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":40,\"txq\":3}")));
	json_object_put(ok(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":40}")));
	assert_false(queue_exists((unsigned int)q));
	result = ok(REQ("port", "unbind", "{\"port\":\"vm0\"}"));
	assert_null(json_object_object_get(result, "freed_queue"));
	json_object_put(result);
	assert_true(queue_exists(40));
	json_object_put(ok(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":40}")));

	/* A port's own queue that another port was bound to stays while used. */
	q = ok_int(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":\"auto\"}"),
		   "queue");
	{
		char line[128];

		snprintf(line, sizeof(line),
			 REQ("port", "bind", "{\"port\":\"vmxa\",\"dev\":\"up0\",\"queue\":%lld}"),
			 (long long)q);
		json_object_put(ok(line));
	}
	result = ok(REQ("port", "unbind", "{\"port\":\"vm0\"}"));
	assert_null(json_object_object_get(result, "freed_queue"));
	json_object_put(result);
	assert_true(queue_exists((unsigned int)q));
	result = ok(REQ("port", "unbind", "{\"port\":\"vmxa\"}"));
	assert_int_equal(json_object_get_int64(json_object_object_get(result, "freed_queue")), q);
	json_object_put(result);
	assert_false(queue_exists((unsigned int)q));

	/* A port that vanishes takes its queue with it. */
	q2 = ok_int(REQ("port", "bind", "{\"port\":\"vm1\",\"dev\":\"up0\",\"queue\":\"auto\"}"),
		    "queue");
	assert_true(queue_exists((unsigned int)q2));
	assert_int_equal(system("ip link del vm1"), 0);
	assert_int_equal(vmqd_prune_ports(d), 0);
	assert_false(queue_exists((unsigned int)q2));
}

static void test_port_policy(void **state)
{
	struct json_object *result;
	struct vmq_port_entry e;
	char *text;

	(void)state;
	assert_true(vmqd_policy_matches("tap*,vmx?", "vmxa"));
	assert_true(vmqd_policy_matches("tap*,vmx?", "tap12"));
	assert_false(vmqd_policy_matches("tap*,vmx?", "vmxab"));
	assert_false(vmqd_policy_matches("", "vmxa"));
	expect_error(REQ("dev", "set", "{\"dev\":\"up0\",\"ports\":\"a,,b\"}"), EINVAL,
		     "ports has an empty pattern");
	expect_error(REQ("dev", "set", "{\"dev\":\"up0\",\"ports\":\"a b\"}"), EINVAL,
		     "ports has a space");
	expect_error(REQ("dev", "set", "{\"dev\":\"up0\"}"), EINVAL, "nothing to set");

	/* Links that match when the policy is set are bound at once. */
	result = ok(REQ("dev", "set", "{\"dev\":\"up0\",\"ports\":\"vmx*\"}"));
	assert_string_equal(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN),
			    "{\"bound\":[\"vmxa\"]}");
	json_object_put(result);
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("vmxa"), &e), 0);
	assert_int_not_equal(vmq_port_get(&d->ports, if_nametoindex("other0"), &e), 0);
	result = ok(REQ("dev", "show", "{\"dev\":\"up0\"}"));
	text = strdup(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN));
	json_object_put(result);
	assert_non_null(strstr(text, "\"ports\":\"vmx*\""));
	free(text);

	/* One that appears later is bound when its link event says so. */
	assert_int_equal(vmq_test_veth("vmxb", "pa4", 1), 0);
	assert_int_equal(vmqd_policy_apply(d, "vmxb"), 1);
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("vmxb"), &e), 0);
	assert_int_equal(vmqd_policy_apply(d, "vmxb"), 0); /* bound already */
	assert_int_equal(vmqd_policy_apply(d, "other0"), 0);
	text = queue_text(e.queue_id);
	assert_non_null(strstr(text, "\"owner\":\"port\""));
	free(text);

	/* Clearing the policy keeps the bindings it made. */
	json_object_put(ok(REQ("dev", "set", "{\"dev\":\"up0\",\"ports\":\"\"}")));
	assert_int_equal(vmqd_policy_apply(d, "vmxc"), 0);
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("vmxb"), &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_auto_txq_any),
		cmocka_unit_test(test_port_queue_auto),
		cmocka_unit_test(test_port_policy),
	};

	return cmocka_run_group_tests_name("vmqd automatic allocation", tests, setup, teardown);
}
