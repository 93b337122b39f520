// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Port policies: "dev set DEV ports vnet*,tap*" binds every matching link
 * of vmqd's namespace to a queue of its own on DEV, now and whenever one
 * appears (link events); a vanished port's binding and queue are freed
 * where link events are handled. The virtual switch's zero-touch half.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "log.h"
#include "vmqd.h"

bool vmqd_policy_matches(const char *policy, const char *ifname)
{
	char buf[VMQD_PORTS_POLICY_MAX], *save = NULL, *pat;

	if (!policy[0] || strlen(policy) >= sizeof(buf))
		return false;
	strcpy(buf, policy);
	for (pat = strtok_r(buf, ",", &save); pat; pat = strtok_r(NULL, ",", &save))
		if (!fnmatch(pat, ifname, 0))
			return true;
	return false;
}

static bool port_bound(struct vmqd *d, const char *ifname)
{
	struct vmq_port_entry e;
	unsigned int ifindex = if_nametoindex(ifname);

	return !ifindex || (d->ports.map_fd >= 0 && !vmq_port_get(&d->ports, ifindex, &e));
}

static int bind_auto(struct vmqd *d, struct vmqd_dev *uplink, const char *ifname)
{
	struct json_object *req = vmqd_json_object(), *args = vmqd_json_object();
	struct json_object *result = NULL;
	char message[256];
	int err;

	vmqd_json_add(req, "object", vmqd_json_string("port"));
	vmqd_json_add(req, "command", vmqd_json_string("bind"));
	vmqd_json_add(args, "port", vmqd_json_string(ifname));
	vmqd_json_add(args, "dev", vmqd_json_string(uplink->dp.ifname));
	vmqd_json_add(args, "queue", vmqd_json_string("auto"));
	vmqd_json_add(req, "args", args);
	err = vmqd_run(d, req, &result, message, sizeof(message));
	json_object_put(req);
	json_object_put(result);
	if (err)
		log_warn("port %s: matches the port policy of %s but cannot be bound: %s", ifname,
			 uplink->dp.ifname, message);
	return err;
}

int vmqd_policy_apply(struct vmqd *d, const char *ifname)
{
	if (vmqd_find_dev(d, ifname) || port_bound(d, ifname))
		return 0;
	for (size_t i = 0; i < d->ndevs; i++) {
		struct vmqd_dev *uplink = d->devs[i];

		if (uplink->missing || !vmqd_policy_matches(uplink->ports, ifname))
			continue;
		/* The first uplink whose policy matches takes the port. */
		return bind_auto(d, uplink, ifname) ? 0 : 1;
	}
	return 0;
}

void vmqd_links_sweep(struct vmqd *d)
{
	struct if_nameindex *links = if_nameindex();

	for (struct if_nameindex *l = links; l && l->if_index; l++) {
		vmqd_state_link_appeared(d, l->if_name);
		vmqd_policy_apply(d, l->if_name);
	}
	if (links)
		if_freenameindex(links);
}

/* Patterns: printable, no blanks or '/', none empty. */
static int check_policy(const char *s, size_t len, const char *what, struct vmqd_reply *r)
{
	if (len >= VMQD_PORTS_POLICY_MAX || strlen(s) != len)
		return vmqd_reply_error(r, EINVAL, "%s: ports must be at most %d bytes", what,
					VMQD_PORTS_POLICY_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		if (!isgraph((unsigned char)s[i]) || s[i] == '/')
			return vmqd_reply_error(r, EINVAL,
						"%s: ports has a space, '/' or non-printable byte",
						what);
		if (s[i] == ',' && (i == 0 || i + 1 == len || s[i + 1] == ','))
			return vmqd_reply_error(r, EINVAL, "%s: ports has an empty pattern", what);
	}
	return 0;
}

int vmqd_dev_set(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *v, *bound;
	struct if_nameindex *links;
	struct vmqd_dev *dev;
	bool balance = false;
	char what[64];
	const char *s;
	bool rx_given, rx_on;
	int err;

	err = vmqd_req_dev(d, args, "dev set", r, &dev);
	if (err)
		return err;
	snprintf(what, sizeof(what), "dev %s", dev->dp.ifname);
	err = vmqd_req_rx(args, what, r, &rx_given, &rx_on);
	if (err)
		return err;
	if (!json_object_object_get_ex(args, "ports", &v)) {
		if (!rx_given && !vmqd_req_has(args, "balance"))
			return vmqd_reply_error(r, EINVAL,
						"%s: nothing to set (ports, rx or balance)", what);
	} else if (!json_object_is_type(v, json_type_string)) {
		return vmqd_reply_error(r, EINVAL, "%s: ports must be a string", what);
	} else {
		err = check_policy(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				   what, r);
		if (err)
			return err;
	}
	/* Checked whole before anything changes: a refused request changes nothing. The
	 * receive side goes first, as the one part that can still fail. */
	err = vmqd_balance_set(dev, args, what, r, false, &balance);
	if (!err && rx_given)
		err = rx_on ? vmqd_rx_on(dev, what, r) : vmqd_rx_off(dev, what, r);
	if (!err)
		err = vmqd_balance_set(dev, args, what, r, true, &balance);
	if (err)
		return err;
	r->result = vmqd_json_object();
	if (balance)
		vmqd_balance_dev_json(dev, r->result);
	if (!v)
		return 0;
	s = json_object_get_string(v);
	strcpy(dev->ports, s);
	log_info("%s: port policy %s%s%s", what, s[0] ? "\"" : "", s[0] ? s : "cleared",
		 s[0] ? "\"" : "");
	bound = vmqd_json_array();
	links = dev->missing || !s[0] ? NULL : if_nameindex();
	for (struct if_nameindex *l = links; l && l->if_index; l++) {
		if (vmqd_find_dev(d, l->if_name) || port_bound(d, l->if_name) ||
		    !vmqd_policy_matches(s, l->if_name))
			continue;
		if (!bind_auto(d, dev, l->if_name))
			vmqd_json_append(bound, vmqd_json_string(l->if_name));
	}
	if (links)
		if_freenameindex(links);
	vmqd_json_add(r->result, "bound", bound);
	return 0;
}

const char *const vmqd_dev_set_keys[] = { "dev",      "ports",	   "rx", "balance",
					  "interval", "threshold", NULL };
