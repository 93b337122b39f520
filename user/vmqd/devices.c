// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The uplinks vmqd manages: adopted from the pins at start, added by
 * attach, removed by detach. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "log.h"
#include "vmqd.h"

int vmqd_init(struct vmqd *d, const char *bpffs_dir)
{
	bool mounted = false;
	int err;

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	vmq_ports_init(&d->ports);
	if (strlen(bpffs_dir) >= sizeof(d->bpffs_dir)) {
		log_err("--bpffs-dir %s: path too long", bpffs_dir);
		return -ENAMETOOLONG;
	}
	strcpy(d->bpffs_dir, bpffs_dir);
	err = vmq_bpffs_ensure(bpffs_dir, &mounted);
	if (err) {
		log_err("%s: not on a bpffs and cannot mount one: %s; mount one with "
			"\"mount -t bpf bpf %s\" or pass --bpffs-dir on a bpffs",
			bpffs_dir, strerror(-err), bpffs_dir);
		return err;
	}
	if (mounted)
		log_info("mounted a bpffs for the pins at %s", bpffs_dir);
	return 0;
}

void vmqd_fini(struct vmqd *d)
{
	for (size_t i = 0; i < d->ndevs; i++) {
		vmq_dev_close(&d->devs[i]->dp);
		free(d->devs[i]->load_prev);
		vmqd_balance_free(d->devs[i]);
		free(d->devs[i]);
	}
	free(d->devs);
	d->devs = NULL;
	d->ndevs = 0;
	vmq_ports_close(&d->ports);
	vmqd_state_fini(d);
}

/*
 * The uplink a name means now: the one on the device of that name (found by
 * ifindex: a rename not yet read from the link events still finds it),
 * else a missing one of that name. An uplink whose device now has another
 * name is not found by its old one, even before vmqd follows the rename.
 */
struct vmqd_dev *vmqd_find_dev(struct vmqd *d, const char *ifname)
{
	unsigned int ifindex = if_nametoindex(ifname);
	char now[IF_NAMESIZE];

	for (size_t i = 0; ifindex && i < d->ndevs; i++)
		if (!d->devs[i]->missing && d->devs[i]->dp.ifindex == (int)ifindex)
			return d->devs[i];
	for (size_t i = 0; i < d->ndevs; i++) {
		struct vmqd_dev *dev = d->devs[i];

		if (strcmp(dev->dp.ifname, ifname))
			continue;
		if (!dev->missing && dev->dp.ifindex > 0 &&
		    if_indextoname((unsigned int)dev->dp.ifindex, now) && strcmp(now, ifname))
			continue;
		return dev;
	}
	return NULL;
}

/* The uplink's device is called ifname now: its pins follow (a rename of
 * its pin directory) and so does the state file. */
void vmqd_dev_renamed(struct vmqd *d, struct vmqd_dev *dev, const char *ifname)
{
	char old[IF_NAMESIZE];
	int err;

	if (!strcmp(dev->dp.ifname, ifname))
		return;
	snprintf(old, sizeof(old), "%s", dev->dp.ifname);
	err = vmq_dev_rename(&dev->dp, ifname);
	if (err)
		log_warn("dev %s: renamed from %s, but its pins stay under %s: %s", ifname, old,
			 dev->dp.pin_dir, strerror(-err));
	else
		log_info("dev %s: renamed from %s; pins now under %s", ifname, old,
			 dev->dp.pin_dir);
	d->state_dirty = true;
}

int vmqd_add_dev(struct vmqd *d, struct vmqd_dev *dev)
{
	struct vmqd_dev **devs = reallocarray(d->devs, d->ndevs + 1, sizeof(struct vmqd_dev *));

	if (!devs)
		return -ENOMEM;
	devs[d->ndevs++] = dev;
	d->devs = devs;
	return 0;
}

/* Forgets the device; the caller has closed or unpinned what it must. */
void vmqd_remove_dev(struct vmqd *d, struct vmqd_dev *dev)
{
	for (size_t i = 0; i < d->ndevs; i++) {
		if (d->devs[i] != dev)
			continue;
		memmove(&d->devs[i], &d->devs[i + 1], (d->ndevs - i - 1) * sizeof(*d->devs));
		d->ndevs--;
		vmq_dev_close(&dev->dp);
		free(dev->load_prev);
		vmqd_balance_free(dev);
		free(dev);
		return;
	}
}

/*
 * Maps of another ABI version: migrated when this vmqd knows how (then
 * adopted), else left as they are, steering on, with the reason logged.
 */
static int adopt_migrate(struct vmqd *d, struct vmqd_dev *dev, const char *ifname)
{
	struct vmq_upgrade_opts opts = { .obj_path = d->bpf_object, .keep_hook = true };
	struct vmq_upgrade_result res;
	char msg[256];
	size_t steps;
	__u32 abi;
	int err;

	err = vmq_dev_pinned_abi(d->bpffs_dir, ifname, &abi);
	if (err || !abi || abi == VMQ_ABI_VERSION)
		return -EPROTO;
	if (vmq_abi_migration(abi, &steps)) {
		vmqd_abi_refusal(ifname, abi, msg, sizeof(msg));
		log_err("%s; its data plane is left running as it is", msg);
		return -EPROTO;
	}
	err = vmq_dev_migrate(d->bpffs_dir, ifname, &opts, &res);
	if (err) {
		log_err("dev %s: cannot migrate its maps from ABI version %u to %u: %s", ifname,
			abi, VMQ_ABI_VERSION, strerror(-err));
		return err;
	}
	log_info("dev %s: maps migrated from ABI version %u to %u (%u rebuilt), program %u -> %u",
		 ifname, abi, VMQ_ABI_VERSION, res.maps_migrated, res.old_prog_id, res.new_prog_id);
	return vmq_dev_adopt(&dev->dp, d->bpffs_dir, ifname);
}

struct rollback_ctx {
	__u32 uplink;
	size_t n;
	__u32 ports[VMQ_PORTS_MAX];
};

static int uplink_port(__u32 ifindex, const struct vmq_port_entry *e, void *arg)
{
	struct rollback_ctx *ctx = arg;

	if (e->uplink_ifindex == ctx->uplink && ctx->n < VMQ_PORTS_MAX)
		ctx->ports[ctx->n++] = ifindex;
	return 0;
}

/* An attach or detach cut short (adopt_one): the ports bound to it are
 * unbound (the slots go with its pins), its hook, XPS and pins undone. */
static int rollback(struct vmqd *d, struct vmqd_dev *dev)
{
	struct rollback_ctx *ctx = calloc(1, sizeof(*ctx));
	int err;

	if (ctx && d->ports.map_fd >= 0 && dev->dp.ifindex > 0) {
		ctx->uplink = (__u32)dev->dp.ifindex;
		vmq_port_for_each(&d->ports, uplink_port, ctx);
		for (size_t i = 0; i < ctx->n; i++)
			vmq_port_unbind(&d->ports, ctx->ports[i], &dev->dp);
	}
	free(ctx);
	err = vmq_dev_rollback(&dev->dp);
	if (err)
		log_warn("dev %s: an attach or detach was cut short; not fully rolled back: %s",
			 dev->dp.ifname, strerror(-err));
	else
		log_warn("dev %s: an attach or detach was cut short (never marked attached): "
			 "rolled back, hook and pins removed, XPS restored; attach it again",
			 dev->dp.ifname);
	return err;
}

/* Takes one pinned uplink over. The filter or tcx link is left as it is
 * when it runs our program: adoption never opens a gap in steering. */
static int adopt_one(struct vmqd *d, const char *ifname)
{
	struct vmqd_dev *dev = calloc(1, sizeof(*dev));
	struct vmq_dev_info info;
	char now[IF_NAMESIZE];
	bool attached = false;
	unsigned int changed;
	int err;

	if (!dev)
		return -ENOMEM;
	err = vmq_dev_adopt(&dev->dp, d->bpffs_dir, ifname);
	if (err == -EPROTO)
		err = adopt_migrate(d, dev, ifname);
	if (err) {
		free(dev);
		return err;
	}
	err = vmq_dev_info_read(&dev->dp, &info);
	/* Attached by a current vmq but never marked so (or marked detached):
	 * an attach or a detach was cut short. Neither answered its client
	 * with success: roll it back, so the device can be attached afresh. */
	if (!err && info.abi_version == VMQ_ABI_VERSION && !(info.flags & VMQ_DEV_F_ATTACHED)) {
		if (!dev->dp.ifindex)
			dev->dp.ifindex = (int)info.ifindex;
		err = rollback(d, dev);
		vmq_dev_close(&dev->dp);
		free(dev);
		return err;
	}
	/* Renamed while no daemon watched: its ifindex has another name now. */
	if (!err && info.ifindex && (int)info.ifindex != dev->dp.ifindex &&
	    if_indextoname(info.ifindex, now) && strcmp(now, ifname)) {
		dev->dp.ifindex = (int)info.ifindex;
		vmqd_dev_renamed(d, dev, now);
	}
	/* Entries written to vmq_queues alone (the bpftool path, or while no
	 * vmqd ran) reach every CPU's copy now: from here on every write is
	 * vmq_queue_store's, which keeps them equal. */
	if (!err)
		err = vmq_queue_sync_copies(&dev->dp, &changed);
	if (!err && changed)
		log_info("dev %s: %u queue entries copied to the per-CPU copies", ifname, changed);
	if (!err && !dev->dp.ifindex) {
		/* Gone while no daemon watched: kept, and attached when it returns. */
		dev->missing = true;
		dev->dp.ifindex = (int)info.ifindex;
		log_warn("dev %s: pinned but absent; attached again when it comes back", ifname);
	} else if (!err && info.ifindex && (int)info.ifindex != dev->dp.ifindex) {
		/* Re-created while no daemon watched: its filter went with the old one. */
		log_warn("dev %s: re-created (ifindex %u -> %d); attaching again", ifname,
			 info.ifindex, dev->dp.ifindex);
		err = vmqd_dev_came_back(d, dev, (int)info.ifindex);
	} else if (!err) {
		err = vmq_dev_is_attached(&dev->dp, &attached);
		if (!err && !attached && (info.flags & VMQ_DEV_F_ATTACHED)) {
			/* The filter went away: put it back. */
			log_warn("dev %s: pinned but not attached; attaching again", ifname);
			err = vmq_dev_attach(&dev->dp);
		}
	}
	if (!err)
		err = vmqd_add_dev(d, dev);
	if (err) {
		vmq_dev_close(&dev->dp);
		free(dev);
		return err;
	}
	/* A vmqd with another program (a new build, --bpf-object) upgrades
	 * what it adopts, in place and on the hook it found. */
	if (!dev->missing) {
		struct vmq_upgrade_result res;
		bool rx_changed;

		vmqd_dev_upgrade(d, dev, NULL, true, &res, NULL);
		vmqd_rx_upgrade(dev, &rx_changed);
	}
	/* A vmqd killed mid-request may have left metadata without its queue. */
	err = vmqd_sweep_meta(dev, &changed);
	if (err)
		log_warn("dev %s: cannot sweep queue metadata: %s", ifname, strerror(-err));
	else if (changed)
		log_warn("dev %s: dropped metadata of %u queues that are not live (a request "
			 "cut short)",
			 ifname, changed);
	/* The TX queues may have changed while no daemon watched. */
	err = dev->missing ? 0 : vmqd_reconcile(dev, &changed);
	if (err)
		log_warn("dev %s: cannot reconcile its queues: %s", ifname, strerror(-err));
	log_info("dev %s: adopted (%s, %u queue IDs, mark mask 0x%08x)", dev->dp.ifname,
		 vmq_dev_is_tcx(&dev->dp) ? "tcx" : "clsact", dev->dp.nr_queues,
		 dev->dp.cfg.mark_mask);
	/* vmq's place may have changed while no daemon watched: said, not undone. */
	vmqd_tcx_report(dev);
	return 0;
}

int vmqd_adopt_all(struct vmqd *d)
{
	char ports[PATH_MAX + sizeof(VMQ_PORTS_PIN_DIR)];
	struct dirent *de;
	DIR *dir;
	int err;

	/* Port bindings first: an uplink that changed ifindex rebases them. */
	snprintf(ports, sizeof(ports), "%s/%s", d->bpffs_dir, VMQ_PORTS_PIN_DIR);
	if (!access(ports, F_OK)) {
		err = vmq_ports_open(&d->ports, d->bpffs_dir);
		if (err)
			log_warn("port bindings pinned under %s not adopted: %s", ports,
				 strerror(-err));
		else
			log_info("port bindings adopted");
		/* A vmqd with another port program upgrades it in place. */
		if (!err)
			vmqd_ports_upgrade(d, &(unsigned int){ 0 });
	}
	dir = opendir(d->bpffs_dir);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char ifname[IF_NAMESIZE], path[PATH_MAX + 256];
		bool seen = false;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    !strcmp(de->d_name, VMQ_PORTS_PIN_DIR))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->bpffs_dir, de->d_name);
		/* Pins of a load or a removal cut short (libvmq.h): never a device's. */
		if (strchr(de->d_name, ':')) {
			err = vmq_dev_unpin_dir(path);
			log_warn("%s: left by an attach or detach cut short: %s", path,
				 err ? strerror(-err) : "removed");
			continue;
		}
		/* Renamed during this walk (a device renamed while no daemon
		 * watched): adopted already under its new name. */
		for (size_t i = 0; i < d->ndevs; i++)
			seen |= !strcmp(d->devs[i]->dp.pin_dir, path);
		if (seen)
			continue;
		err = vmq_pin_name_decode(de->d_name, ifname, sizeof(ifname));
		if (!err)
			err = adopt_one(d, ifname);
		/* One bad uplink must not cost the others their daemon. */
		if (err)
			log_warn("dev %s: pinned under %s but not adopted: %s", de->d_name,
				 d->bpffs_dir, strerror(-err));
	}
	closedir(dir);
	if (d->ports.map_fd >= 0 && vmqd_prune_ports(d))
		log_warn("bindings of vanished ports not all removed");
	/* Masters may have changed while no vmqd watched (and bindings of an
	 * older vmqd are all stamped): each binding takes its mode now. */
	if (d->ports.map_fd >= 0 && vmqd_ports_refresh(d, 0))
		log_warn("port bindings not all in the mode their topology asks for");
	return 0;
}
