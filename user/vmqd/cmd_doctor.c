// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * doctor run: what silently defeats steering on one uplink, each check
 * PASS, WARN or FAIL with one line of detail, then an active probe that
 * sends marked frames through the device and reads which TX queue the
 * kernel used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "vmqd.h"

enum status { PASS, WARN, FAIL };
static const char *const status_names[] = { "PASS", "WARN", "FAIL" };

#define PROBE_FRAMES	8      /* per probed queue */
#define PROBE_QUEUES	16     /* queues probed at most: queue 0 and a sample */
#define PROBE_ETHERTYPE 0x88b5 /* IEEE 802 local experimental: dropped by any receiver */

struct report {
	struct json_object *checks;
	enum status worst;
};

__attribute__((format(printf, 4, 5))) static void check(struct report *rep, const char *name,
							enum status st, const char *fmt, ...)
{
	struct json_object *c = vmqd_json_object();
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	vmqd_json_add(c, "name", vmqd_json_string(name));
	vmqd_json_add(c, "status", vmqd_json_string(status_names[st]));
	vmqd_json_add(c, "detail", vmqd_json_string(detail));
	vmqd_json_append(rep->checks, c);
	if (st > rep->worst)
		rep->worst = st;
}

static void check_pins(struct report *rep, struct vmqd_dev *dev)
{
	char path[PATH_MAX + 64];
	bool attached = false;

	snprintf(path, sizeof(path), "%s/%s", dev->dp.pin_dir, VMQ_PIN_PROG);
	if (access(path, F_OK)) {
		check(rep, "pins", FAIL,
		      "%s is missing: the data plane would not survive "
		      "vmqd; detach and attach again",
		      path);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/vmq_queues", dev->dp.pin_dir, VMQ_PIN_MAPS);
	if (access(path, F_OK)) {
		check(rep, "pins", FAIL, "%s is missing", path);
		return;
	}
	if (vmq_dev_is_attached(&dev->dp, &attached) || !attached) {
		check(rep, "pins", FAIL,
		      "the pinned program is not what vmq's %s runs on %s egress",
		      vmq_dev_is_tcx(&dev->dp) ? "tcx link" : "clsact filter", dev->dp.ifname);
		return;
	}
	check(rep, "pins", PASS, "program and maps pinned in %s, program attached, adopted",
	      dev->dp.pin_dir);
}

static void check_xps(struct report *rep, struct vmqd_dev *dev, unsigned int ntxqs)
{
	unsigned int set = 0, first = 0;

	for (unsigned int q = 0; q < ntxqs; q++) {
		struct vmq_xps_saved x;

		if (!vmq_xps_read(dev->dp.ifname, q, &x) &&
		    (vmq_xps_text_set(x.cpus) || vmq_xps_text_set(x.rxqs)) && !set++)
			first = q;
	}
	if (set) {
		check(rep, "xps", FAIL,
		      "XPS is set on %u TX queue(s), first tx-%u: it "
		      "outranks vmq (detach and attach again to clear it)",
		      set, first);
		return;
	}
	check(rep, "xps", PASS, "no XPS map on the %u TX queues", ntxqs);
}

static void check_txqs(struct report *rep, struct vmqd_dev *dev, unsigned int ntxqs,
		       const struct vmq_queue_entry *entries)
{
	unsigned int beyond = 0, first = 0, degraded = vmqd_degraded_count(dev);

	for (__u32 id = 0; id < dev->dp.nr_queues; id++) {
		const struct vmq_queue_entry *e = &entries[id];
		struct vmq_group_entry g;
		bool out = e->state == VMQ_QUEUE_TXQ && e->target >= ntxqs;

		if (e->state == VMQ_QUEUE_GROUP && !vmq_group_read(&dev->dp, e->target, &g))
			for (__u16 i = 0; i < g.ntxqs; i++)
				out |= g.txqs[i] >= ntxqs;
		if (out && !beyond++)
			first = id;
	}
	if (beyond) {
		check(rep, "txq-range", FAIL,
		      "%u queue(s) steer beyond the %u TX queues, "
		      "first queue %u: the kernel wraps them onto other TX queues",
		      beyond, ntxqs, first);
		return;
	}
	if (degraded) {
		check(rep, "txq-range", FAIL,
		      "%u queue(s) degraded: their TX queues are gone (%u now), their packets "
		      "leave on the default queue until the TX queues come back",
		      degraded, ntxqs);
		return;
	}
	check(rep, "txq-range", PASS, "every queue's TX queue exists (%u TX queues)", ntxqs);
}

static const char *prog_label(__u32 id, char *buf, size_t size)
{
	vmq_prog_name(id, buf, size);
	return buf[0] ? buf : "no name";
}

/* tcx mode: vmq's link pinned, live here, running the pinned program,
 * first in the chain. clsact mode: no tcx program runs before the filter. */
static void check_hook(struct report *rep, struct vmqd_dev *dev)
{
	struct vmq_tcx_chain chain;
	struct vmq_tcx_link link = { 0 };
	char path[PATH_MAX + 64], name[VMQ_PROG_NAME_SIZE];
	__u32 ours = 0, pos = 0, first = 0;
	int err;

	if (!vmq_dev_is_tcx(&dev->dp)) {
		err = vmq_tcx_query(dev->dp.ifindex, VMQ_TC_EGRESS, &chain);
		/* tcx programs (kernel 6.6+) run before every clsact filter. */
		if (!err && chain.count) {
			check(rep, "hook", FAIL,
			      "clsact mode, but %u tcx egress program(s) run before vmq's filter, "
			      "first %u (%s): they may set queue_mapping or end the egress hook",
			      chain.count, chain.prog_ids[0],
			      prog_label(chain.prog_ids[0], name, sizeof(name)));
			return;
		}
		/* Whether the filter is there is the "filters" check's. */
		check(rep, "hook", PASS,
		      "clsact mode: no tcx egress program runs before vmq's filter (pref %u, "
		      "handle 0x%x) on %s",
		      VMQ_TC_PRIORITY, VMQ_TC_HANDLE, dev->dp.ifname);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dev->dp.pin_dir, VMQ_PIN_LINK);
	err = vmq_tcx_link_get(path, &link);
	if (err) {
		check(rep, "hook", FAIL, "tcx mode, but no tcx link pinned at %s: %s", path,
		      strerror(-err));
		return;
	}
	if (link.ifindex != (__u32)dev->dp.ifindex) {
		check(rep, "hook", FAIL, "tcx link %u (%s) is not on %s (its ifindex: %u)", link.id,
		      path, dev->dp.ifname, link.ifindex);
		return;
	}
	if (!vmq_prog_id(dev->dp.prog_fd, &ours) && ours != link.prog_id) {
		check(rep, "hook", FAIL, "tcx link %u runs program %u, not the pinned %u", link.id,
		      link.prog_id, ours);
		return;
	}
	err = vmq_dev_tcx_position(&dev->dp, &pos, &first, &chain);
	if (err) {
		check(rep, "hook", FAIL, "tcx link %u is not in %s's tcx egress chain: %s", link.id,
		      dev->dp.ifname, strerror(-err));
		return;
	}
	if (pos) {
		check(rep, "hook", WARN,
		      "tcx program %u (%s) runs before vmq's link (position %u of %u): it asked "
		      "to run first; \"vmqctl dev attach %s force\" puts vmq first again",
		      first, prog_label(first, name, sizeof(name)), pos + 1, chain.count,
		      dev->dp.ifname);
		return;
	}
	if (chain.count > 1) {
		check(rep, "hook", WARN,
		      "%u tcx program(s) run after vmq's link, first %u (%s): one that sets "
		      "queue_mapping overrides vmq",
		      chain.count - 1, chain.prog_ids[1],
		      prog_label(chain.prog_ids[1], name, sizeof(name)));
		return;
	}
	check(rep, "hook", PASS,
	      "tcx link %u runs the pinned program %u, alone in %s's tcx egress chain", link.id,
	      link.prog_id, dev->dp.ifname);
}

struct filter_scan {
	bool tcx; /* vmq is not on clsact: every filter there is another's */
	unsigned int before, after;
	bool ours; /* clsact mode: vmq's filter was seen */
	__u32 first_pref;
	char first_kind[16];
	char first_name[64];
};

static int scan_filter(const struct nlmsghdr *nh, void *arg)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	const struct rtattr *kind = vmq_nl_attr(nh, sizeof(*tc), TCA_KIND);
	const struct rtattr *opts = vmq_nl_attr(nh, sizeof(*tc), TCA_OPTIONS);
	const struct rtattr *name = opts ? vmq_nl_nested(opts, TCA_BPF_NAME) : NULL;
	struct filter_scan *f = arg;
	__u32 pref = TC_H_MAJ(tc->tcm_info) >> 16;

	if (nh->nlmsg_type != RTM_NEWTFILTER || !tc->tcm_handle)
		return 0;
	if (!f->tcx && vmq_tc_is_ours(tc)) {
		f->ours = true;
		return 0;
	}
	if (!f->tcx && pref <= VMQ_TC_PRIORITY) {
		f->before++;
	} else if (!f->after++) {
		f->first_pref = pref;
		snprintf(f->first_kind, sizeof(f->first_kind), "%s",
			 kind ? (const char *)RTA_DATA(kind) : "?");
		if (name && kind && !strcmp(RTA_DATA(kind), "bpf"))
			snprintf(f->first_name, sizeof(f->first_name), " %s",
				 (const char *)RTA_DATA(name));
	}
	return 0;
}

static void check_filters(struct report *rep, struct vmqd_dev *dev)
{
	struct filter_scan f = { .tcx = vmq_dev_is_tcx(&dev->dp) };

	if (vmq_nl_tc_dump(RTM_GETTFILTER, dev->dp.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
			   scan_filter, &f)) {
		check(rep, "filters", WARN, "cannot list clsact egress filters");
		return;
	}
	if (f.tcx && f.after) {
		/* Whether it writes queue_mapping cannot be known in general. */
		check(rep, "filters", WARN,
		      "%u clsact egress filter(s), first pref %u (%s%s): clsact runs after vmq's "
		      "tcx link, so one that sets queue_mapping overrides vmq",
		      f.after, f.first_pref, f.first_kind, f.first_name);
		return;
	}
	if (f.tcx) {
		check(rep, "filters", PASS, "no clsact egress filter runs after vmq's tcx link");
		return;
	}
	/* No filter at all is not "vmq's is the only one". */
	if (!f.ours) {
		check(rep, "filters", FAIL,
		      "vmq's egress filter is not on %s (%u other egress filter(s)): nothing "
		      "steers",
		      dev->dp.ifname, f.before + f.after);
		return;
	}
	if (f.before) {
		check(rep, "filters", FAIL,
		      "%u egress filter(s) share pref %u with vmq's "
		      "and may run first",
		      f.before, VMQ_TC_PRIORITY);
		return;
	}
	if (f.after) {
		check(rep, "filters", WARN,
		      "%u egress filter(s) run after vmq's (first pref "
		      "%u, %s%s): one that sets queue_mapping overrides vmq",
		      f.after, f.first_pref, f.first_kind, f.first_name);
		return;
	}
	check(rep, "filters", PASS, "vmq's is the only egress filter");
}

/* One probe frame: to a locally administered address nobody has. */
static int probe_socket(struct vmqd_dev *dev, __u32 mark, struct sockaddr_ll *to)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(PROBE_ETHERTYPE));

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		int err = -errno;

		close(fd);
		return err;
	}
	*to = (struct sockaddr_ll){ .sll_family = AF_PACKET,
				    .sll_protocol = htons(PROBE_ETHERTYPE),
				    .sll_ifindex = dev->dp.ifindex,
				    .sll_halen = ETH_ALEN,
				    .sll_addr = { 0x02, 0x76, 0x6d, 0x71, 0x00, 0x01 } };
	return fd;
}

static int send_probes(struct vmqd_dev *dev, __u32 id)
{
	unsigned char frame[ETH_ZLEN] = { 0x02, 0x76, 0x6d, 0x71, 0x00, 0x01 };
	struct sockaddr_ll to;
	__u32 mark = vmq_mark_of(&dev->dp.cfg, id);
	int fd = probe_socket(dev, mark, &to), err = 0;

	if (fd < 0)
		return fd;
	frame[12] = PROBE_ETHERTYPE >> 8;
	frame[13] = PROBE_ETHERTYPE & 0xff;
	memcpy(frame + ETH_HLEN, "vmq doctor probe", 16);
	for (int i = 0; i < PROBE_FRAMES && !err; i++)
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			err = -errno;
	close(fd);
	return err;
}

/* Whether TX queue q is one the entry may send on. */
static bool expected(struct vmqd_dev *dev, const struct vmq_queue_entry *e, __u32 q)
{
	struct vmq_group_entry g;

	if (e->state == VMQ_QUEUE_TXQ)
		return e->target == q;
	if (e->state == VMQ_QUEUE_GROUP && !vmq_group_read(&dev->dp, e->target, &g))
		for (__u16 i = 0; i < g.ntxqs; i++)
			if (g.txqs[i] == q)
				return true;
	return false;
}

/* Probes one queue: every frame must show up on an expected TX queue. */
static int probe_one(struct vmqd_dev *dev, __u32 id, const struct vmq_queue_entry *e,
		     unsigned int ntxqs, struct vmq_txq_kernel *before,
		     struct vmq_txq_kernel *after, char *why, size_t size)
{
	const struct timespec settle = { .tv_nsec = 20 * 1000 * 1000 };
	__u64 on_expected = 0, elsewhere = 0;
	__u32 where = 0;
	int err = vmq_netdev_txq_kernel(dev->dp.ifname, dev->dp.ifindex, ntxqs, before);

	if (!err)
		err = send_probes(dev, id);
	nanosleep(&settle, NULL); /* let the qdiscs dequeue */
	if (!err)
		err = vmq_netdev_txq_kernel(dev->dp.ifname, dev->dp.ifindex, ntxqs, after);
	if (err)
		return err;
	for (__u32 q = 0; q < ntxqs; q++) {
		__u64 delta = after[q].packets - before[q].packets;

		if (expected(dev, e, q)) {
			on_expected += delta;
		} else if (delta) {
			elsewhere += delta;
			where = q;
		}
	}
	/* Other traffic may add to any queue: at least the probe's frames on
	 * an expected one, and fewer than that elsewhere. On a busy device a
	 * PASS is weaker; a FAIL is not. */
	if (on_expected >= PROBE_FRAMES && elsewhere < PROBE_FRAMES)
		return 0;
	snprintf(why, size, "queue %u: %d frames sent, %llu on its TX queue(s)%s", id, PROBE_FRAMES,
		 (unsigned long long)on_expected, elsewhere ? ", others seen on" : "");
	if (elsewhere)
		snprintf(why + strlen(why), size - strlen(why), " tx-%u", where);
	return 1;
}

static void check_probe(struct report *rep, struct vmqd_dev *dev, unsigned int ntxqs,
			const struct vmq_queue_entry *entries)
{
	struct vmq_txq_kernel *before = calloc(ntxqs, sizeof(*before));
	struct vmq_txq_kernel *after = calloc(ntxqs, sizeof(*after));
	unsigned int probed = 0, failed = 0;
	char why[160] = "";
	int err = before && after ? 0 : -ENOMEM;

	if (!err)
		err = vmq_netdev_txq_kernel(dev->dp.ifname, dev->dp.ifindex, ntxqs, before);
	if (!err && (!ntxqs || !before[0].has_counters)) {
		check(rep, "probe", WARN,
		      "no per-TX-queue counters on %s (root qdisc is not mq): "
		      "cannot see which TX queue the kernel used",
		      dev->dp.ifname);
		goto out;
	}
	for (__u32 id = 0; !err && id < dev->dp.nr_queues && probed < PROBE_QUEUES; id++) {
		const struct vmq_queue_entry *e = &entries[id];
		char one[160];
		int bad;

		if (e->state != VMQ_QUEUE_TXQ && e->state != VMQ_QUEUE_GROUP)
			continue;
		bad = probe_one(dev, id, e, ntxqs, before, after, one, sizeof(one));
		if (bad < 0)
			err = bad;
		else if (bad && !failed++)
			memcpy(why, one, sizeof(why));
		probed++;
	}
	if (err)
		check(rep, "probe", WARN, "cannot probe: %s", strerror(-err));
	else if (failed)
		check(rep, "probe", FAIL,
		      "%u of %u probed queue(s) did not leave where vmq sent "
		      "them (%s): something ranks above vmq, such as the driver's own queue "
		      "selection",
		      failed, probed, why);
	else if (!probed)
		check(rep, "probe", PASS, "no queue with a fixed TX queue or group to probe");
	else
		check(rep, "probe", PASS,
		      "%u queue(s) probed with %d marked frames each: all "
		      "left on their TX queues",
		      probed, PROBE_FRAMES);
out:
	free(before);
	free(after);
}

/* xdp: vmq_rx runs on the device, the pinned program, and in which mode. */
static void check_xdp(struct report *rep, struct vmqd_dev *dev, const struct vmq_rx_status *st)
{
	char prog[VMQ_PROG_NAME_SIZE];

	if (!st->attached) {
		if (st->found_prog_id) {
			check(rep, "xdp", FAIL,
			      "receive side off, and XDP program %u (%s) holds %s: vmq_rx cannot "
			      "attach while it is there",
			      st->found_prog_id, prog_label(st->found_prog_id, prog, sizeof(prog)),
			      dev->dp.ifname);
			return;
		}
		check(rep, "xdp", st->filters ? WARN : PASS,
		      "receive side off: %u filter(s) kept, none looked up (dev set %s rx on)",
		      st->filters, dev->dp.ifname);
		return;
	}
	if (st->found_prog_id != st->prog_id) {
		check(rep, "xdp", FAIL,
		      "%s runs XDP program %u (%s), not vmq_rx's pinned program %u: its filters "
		      "are not looked up",
		      dev->dp.ifname, st->found_prog_id,
		      prog_label(st->found_prog_id, prog, sizeof(prog)), st->prog_id);
		return;
	}
	if (st->generic) {
		check(rep, "xdp", WARN,
		      "vmq_rx runs in generic XDP (program %u, %s): each frame gets an skb "
		      "before the lookup, and redirected frames lose native XDP's speed; the "
		      "driver has no native XDP, or VMQ_XDP_MODE=generic asked for it",
		      st->prog_id, st->link ? "pinned link" : "netlink");
		return;
	}
	check(rep, "xdp", PASS, "vmq_rx runs in native XDP (program %u, %s), %u filter(s)",
	      st->prog_id, st->link ? "pinned link" : "netlink", st->filters);
}

struct filter_count {
	const struct vmq_queue_entry *entries;
	__u32 nr_queues, not_live, first;
};

static int count_not_live(const struct vmq_rx_filter_key *key, const struct vmq_rx_filter *f,
			  void *arg)
{
	struct filter_count *c = arg;

	(void)key;
	if ((f->queue_id >= c->nr_queues || c->entries[f->queue_id].state == VMQ_QUEUE_FREE) &&
	    !c->not_live++)
		c->first = f->queue_id;
	return 0;
}

/* One queue's receive mode against the cpumap and the devmap; 0 or the
 * status, with detail written. */
static enum status rx_target(struct vmqd *d, struct vmqd_dev *dev, __u32 id, bool live,
			     char *detail, size_t size, unsigned int *cpu_n, unsigned int *port_n)
{
	struct vmq_rx_queue_entry e;
	__u32 port = 0, bound = 0, qsize;
	unsigned int n;
	bool online = false;

	if (vmq_rx_mode_get(&dev->dp, id, &e, &port)) {
		snprintf(detail, size, "queue %u: cannot read its receive mode", id);
		return FAIL;
	}
	if (e.mode == VMQ_RX_MODE_CPU && live) {
		++*cpu_n;
		if (vmq_cpu_online(e.cpu, &online) || !online) {
			snprintf(detail, size, "queue %u: rx cpu %u, a CPU that is offline or gone",
				 id, e.cpu);
			return FAIL;
		}
		if (vmq_rx_cpu_entry(&dev->dp, e.cpu, &qsize)) {
			snprintf(detail, size,
				 "queue %u: rx cpu %u, but the cpumap has no entry for CPU %u: its "
				 "frames take the stack",
				 id, e.cpu, e.cpu);
			return FAIL;
		}
	}
	if (e.mode == VMQ_RX_MODE_PORT && live) {
		++*port_n;
		n = vmqd_rx_bound_ports(d, dev, id, &bound);
		if (n == 1 && port != bound) {
			snprintf(detail, size,
				 "queue %u: rx port, bound to ifindex %u, but the devmap sends to "
				 "%u",
				 id, bound, port);
			return FAIL;
		}
		if (n != 1) {
			snprintf(detail, size,
				 "queue %u: rx port, but %s port is bound to it: its frames take "
				 "the stack",
				 id, n ? "more than one" : "no");
			return WARN;
		}
	}
	if ((e.mode != VMQ_RX_MODE_PORT || !live) && port) {
		snprintf(detail, size,
			 "queue %u: rx %s%s, but the devmap still sends to ifindex %u", id,
			 vmq_rx_mode_name(e.mode) ? vmq_rx_mode_name(e.mode) : "?",
			 live ? "" : " (not live)", port);
		return FAIL;
	}
	return PASS;
}

/* rx-targets: the cpumap and devmap entries point where the queues say. */
static void check_rx_targets(struct report *rep, struct vmqd *d, struct vmqd_dev *dev,
			     const struct vmq_queue_entry *entries)
{
	struct filter_count fc = { .entries = entries, .nr_queues = dev->dp.nr_queues };
	unsigned int cpu_n = 0, port_n = 0;
	enum status worst = PASS;
	char detail[200], first[200] = "";

	for (__u32 id = 1; id < dev->dp.nr_queues; id++) {
		enum status st = rx_target(d, dev, id, entries[id].state != VMQ_QUEUE_FREE, detail,
					   sizeof(detail), &cpu_n, &port_n);

		if (st > worst) {
			worst = st;
			snprintf(first, sizeof(first), "%s", detail);
		}
	}
	if (worst != PASS) {
		check(rep, "rx-targets", worst, "%s", first);
		return;
	}
	vmq_rx_filter_for_each(&dev->dp, count_not_live, &fc);
	if (fc.not_live) {
		check(rep, "rx-targets", WARN,
		      "%u filter(s) name a queue that is not live, first queue %u: their frames "
		      "take the stack",
		      fc.not_live, fc.first);
		return;
	}
	check(rep, "rx-targets", PASS,
	      "%u queue(s) in cpu mode, %u in port mode: the cpumap and devmap entries match",
	      cpu_n, port_n);
}

static int count_vlan(const struct vmq_rx_filter_key *key, const struct vmq_rx_filter *f, void *arg)
{
	(void)f;
	*(unsigned int *)arg += key->vlan != VMQ_RX_VLAN_NONE;
	return 0;
}

/* rx-vlan, with VLAN filters only: a device that strips VLAN tags on
 * receive hands XDP tagged frames as untagged (kernel-notes, rx 7). */
static void check_rx_vlan(struct report *rep, struct vmqd_dev *dev)
{
	unsigned int vlans = 0;
	bool strips = false;

	if (vmq_rx_filter_for_each(&dev->dp, count_vlan, &vlans) || !vlans)
		return;
	if (vmq_netdev_rxvlan(dev->dp.ifname, &strips)) {
		check(rep, "rx-vlan", WARN, "%u VLAN filter(s); cannot read %s's rx-vlan-offload",
		      vlans, dev->dp.ifname);
		return;
	}
	if (strips) {
		check(rep, "rx-vlan", WARN,
		      "%u VLAN filter(s), but %s strips VLAN tags before XDP (rx-vlan-offload on): "
		      "a frame whose tag it took out never matches them (ethtool -K %s rxvlan off)",
		      vlans, dev->dp.ifname, dev->dp.ifname);
		return;
	}
	check(rep, "rx-vlan", PASS, "%u VLAN filter(s); %s leaves VLAN tags in the frames", vlans,
	      dev->dp.ifname);
}

static void check_rx(struct report *rep, struct vmqd *d, struct vmqd_dev *dev,
		     const struct vmq_queue_entry *entries)
{
	struct vmq_rx_status st = {};

	/* Never loaded: nothing of the receive side to check. */
	if (!vmqd_rx_loaded(dev))
		return;
	if (vmq_rx_status(&dev->dp, &st)) {
		check(rep, "xdp", FAIL, "cannot read the receive side's status");
		return;
	}
	check_xdp(rep, dev, &st);
	check_rx_targets(rep, d, dev, entries);
	check_rx_vlan(rep, dev);
}

static int doctor_run(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct report rep = { .checks = vmqd_json_array(), .worst = PASS };
	struct vmq_queue_entry *entries = NULL;
	struct vmqd_dev *dev;
	unsigned int ntxqs = 0;
	int err = vmqd_req_dev(d, args, "doctor", r, &dev);

	if (err) {
		json_object_put(rep.checks);
		return err;
	}
	if (dev->missing || vmq_netdev_txqs(dev->dp.ifname, &ntxqs)) {
		check(&rep, "device", FAIL,
		      "%s is gone; its queues wait, pinned, for it to come "
		      "back",
		      dev->dp.ifname);
		goto done;
	}
	check(&rep, "device", PASS, "%s has %u TX queues", dev->dp.ifname, ntxqs);
	entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	if (!entries || vmq_queue_read_all(&dev->dp, entries)) {
		json_object_put(rep.checks);
		free(entries);
		return vmqd_reply_error(r, EIO, "doctor %s: cannot read its queues",
					dev->dp.ifname);
	}
	check_pins(&rep, dev);
	check_hook(&rep, dev);
	check_xps(&rep, dev, ntxqs);
	check_txqs(&rep, dev, ntxqs, entries);
	check_filters(&rep, dev);
	check_rx(&rep, d, dev, entries);
	/* The probe sends frames: not for a read-only client. */
	if (!d->read_only)
		check_probe(&rep, dev, ntxqs, entries);
done:
	free(entries);
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "dev", vmqd_json_string(dev->dp.ifname));
	vmqd_json_add(r->result, "checks", rep.checks);
	vmqd_json_add(r->result, "worst", vmqd_json_string(status_names[rep.worst]));
	return 0;
}

static const char *const run_keys[] = { "dev", NULL };

const struct vmqd_command vmqd_doctor_commands[] = {
	{ "run", doctor_run, run_keys, false },
	{ NULL, NULL, NULL, false },
};
