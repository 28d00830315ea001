/* tun: the Linux TUN interface egressd carries IP packets through. */
#ifndef EGRESS_OS_TUN_H
#define EGRESS_OS_TUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates (or attaches to) the TUN interface `name`, non-blocking, with
 * the given MTU. Returns the fd or -errno; EBUSY means another process
 * holds an interface of that name. */
int tun_open(const char *name, uint32_t mtu);
ssize_t tun_read(int fd, void *buf, size_t cap);
/* Writes one IP packet; returns 0 or -errno. */
int tun_write_packet(int fd, const void *buf, size_t len);

#endif
