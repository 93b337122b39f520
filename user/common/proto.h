/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The vmqd control protocol's constants (docs/protocol.md), for both ends. */
#ifndef VMQ_PROTO_H
#define VMQ_PROTO_H

#define VMQ_PROTO_VERSION     1
#define VMQ_SOCKET_DEFAULT    "/run/vmq/vmqd.sock"
#define VMQ_BPFFS_DIR_DEFAULT "/sys/fs/bpf/vmq"
/* A request or response line, including its newline, never exceeds this. */
#define VMQ_REQUEST_MAX 65536
/* Responses can be large (queue show of 65536 queues). */
#define VMQ_RESPONSE_MAX (64 * 1024 * 1024)
/* Names carried on queues: vm and name. */
#define VMQ_NAME_MAX 31

#endif /* VMQ_PROTO_H */
