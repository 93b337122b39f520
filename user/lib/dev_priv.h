/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libvmq internals shared by dev.c, upgrade.c and port.c: vmq_tx as a libbpf
 * object (built in, or an object file), pin paths, fds. */
#ifndef VMQ_DEV_PRIV_H
#define VMQ_DEV_PRIV_H

#include <bpf/libbpf.h>

#include "libvmq.h"

/* Pin name of the .rodata map (the config), as the bpftool path has it. */
#define VMQ_PIN_RODATA "vmq_tx_rodata"

int vmq_tx_obj_open(const char *path, struct bpf_object **out);
int vmq_obj_open(const char *path, const void *elf, size_t size, const char *object_name,
		 const char *prog, struct bpf_object **out);
struct bpf_map *vmq_tx_obj_rodata(const struct bpf_object *obj);
const char *vmq_tx_obj_pin_name(const struct bpf_object *obj, const struct bpf_map *map);
int vmq_tx_obj_set_cfg(struct bpf_object *obj, const struct vmq_config *cfg);
int vmq_dev_take_fds(struct vmq_dev *dev, const struct bpf_object *obj);
int vmq_dev_load_store_prog(struct vmq_dev *dev);
int vmq_dev_set_names(struct vmq_dev *dev, const char *pin_root, const char *ifname);
int vmq_pin_path(char *buf, size_t size, const struct vmq_dev *dev, const char *name, bool map);
/* upgrade.c, for port.c too: a pinned map fits the object's map; a pin
 * replaced by a rename (the old one stays until the new one is there). */
bool vmq_map_fits(int fd, const struct bpf_map *map);
int vmq_replace_pin(int fd, const char *path);
/* maps.c, for upgrade.c too: keys 0..n-1 of a per-CPU array (values of
 * size bytes per possible CPU), chunk keys per batch syscall, handed to
 * each; its error ends the walk. */
int vmq_percpu_batch(int fd, __u32 n, size_t size, __u32 chunk,
		     int (*each)(const __u32 *keys, __u32 count, const void *vals, int ncpus,
				 void *arg),
		     void *arg);

/* maps.c: key's (or keys 0..n-1's) per-CPU values summed, __u64
 * counters from byte `skip`, the bytes before it CPU 0's. */
int vmq_percpu_sum(int fd, __u32 key, void *sum, size_t size, size_t skip);
int vmq_percpu_sum_all(int fd, __u32 n, size_t size, size_t skip, void *sums);

/* rx.c, for dev.c: the receive side's fds (all -1), closed; its pin
 * directories removed (rx/, and rx:new, rx:old a crash left). */
void vmq_rx_init(struct vmq_dev *dev);
void vmq_rx_close(struct vmq_dev *dev);
int vmq_rx_unpin_dirs(const char *pin_dir);

#endif /* VMQ_DEV_PRIV_H */
