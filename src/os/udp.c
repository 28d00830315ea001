/* udp: socket setup and batched I/O with recvmmsg/sendmmsg. */
#include "os/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_SOCKET_BUFFER (4 << 20)
#define CMSG_SPACE_MAX (CMSG_SPACE(sizeof(struct in6_pktinfo)))

void udp_sockets_init(struct udp_sockets *s)
{
	s->fd4 = s->fd6 = -1;
	s->port = 0;
	s->fwmark = 0;
}

static void set_buffers(int fd)
{
	int size = UDP_SOCKET_BUFFER;

	/* FORCE works as root past net.core.*mem_max; fall back if not. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int open_socket(int family, uint16_t port, uint32_t fwmark, uint16_t *bound)
{
	union wg_sockaddr a;
	socklen_t len = family == AF_INET6 ? sizeof(a.in6) : sizeof(a.in);
	int one = 1, fd, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	a.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET6) {
		a.in6.sin6_port = htons(port);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	} else {
		a.in.sin_port = htons(port);
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	set_buffers(fd);
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	if (bind(fd, &a.sa, len) < 0 || getsockname(fd, &a.sa, &len) < 0)
		goto fail;
	*bound = ntohs(family == AF_INET6 ? a.in6.sin6_port : a.in.sin_port);
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

/* Binds a v6 and a v4 socket to one port. With port 0 the kernel picks
 * the v6 port and v4 must follow; if that port is taken for v4, retry. */
static int bind_pair(uint16_t port, uint32_t fwmark, int *fd4, int *fd6, uint16_t *bound)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		uint16_t p6 = 0, p4 = 0;
		int s6 = open_socket(AF_INET6, port, fwmark, &p6);
		int s4;

		if (s6 < 0 && s6 != -EAFNOSUPPORT)
			return s6;
		s4 = open_socket(AF_INET, s6 >= 0 ? p6 : port, fwmark, &p4);
		if (s4 < 0) {
			if (s6 >= 0)
				close(s6);
			if (s4 == -EADDRINUSE && port == 0)
				continue;
			return s4;
		}
		*fd4 = s4;
		*fd6 = s6 >= 0 ? s6 : -1;
		*bound = p4;
		return 0;
	}
	return -EADDRINUSE;
}

int udp_sockets_bind(struct udp_sockets *s, uint16_t port)
{
	int fd4 = -1, fd6 = -1, ret;
	uint16_t bound = 0;

	/* The old sockets hold the port: a rebind to the same port is a no-op. */
	if (s->fd4 >= 0 && port == s->port && port != 0)
		return 0;
	ret = bind_pair(port, s->fwmark, &fd4, &fd6, &bound);
	if (ret < 0)
		return ret;
	udp_sockets_close(s);
	s->fd4 = fd4;
	s->fd6 = fd6;
	s->port = bound;
	return 0;
}

int udp_sockets_set_fwmark(struct udp_sockets *s, uint32_t fwmark)
{
	int fds[2] = { s->fd4, s->fd6 };

	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0 &&
		    setsockopt(fds[i], SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
			return -errno;
	s->fwmark = fwmark;
	return 0;
}

void udp_sockets_close(struct udp_sockets *s)
{
	if (s->fd4 >= 0)
		close(s->fd4);
	if (s->fd6 >= 0)
		close(s->fd6);
	s->fd4 = s->fd6 = -1;
}

static void read_pktinfo(struct msghdr *mh, struct wg_endpoint *ep)
{
	ep->has_src = false;
	ep->src_ifindex = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ep->src4 = pi.ipi_addr;
			ep->src_ifindex = pi.ipi_ifindex;
			ep->has_src = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ep->src6 = pi.ipi6_addr;
			ep->src_ifindex = (int)pi.ipi6_ifindex;
			ep->has_src = true;
		}
	}
}

size_t udp_recv_batch(int fd, struct pkt **pkts, size_t n)
{
	struct mmsghdr msgs[PKT_BATCH_MAX];
	struct iovec iov[PKT_BATCH_MAX];
	uint8_t cbuf[PKT_BATCH_MAX][CMSG_SPACE_MAX];
	int got;

	if (n > PKT_BATCH_MAX)
		n = PKT_BATCH_MAX;
	memset(msgs, 0, n * sizeof(msgs[0]));
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = pkts[i]->data;
		iov[i].iov_len = MESSAGE_MAX_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &pkts[i]->ep.addr;
		msgs[i].msg_hdr.msg_namelen = sizeof(pkts[i]->ep.addr);
		msgs[i].msg_hdr.msg_control = cbuf[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
	}
	got = recvmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
	if (got <= 0)
		return 0;
	for (int i = 0; i < got; i++) {
		/* A truncated datagram is longer than any valid message. */
		pkts[i]->len = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ?
			       MESSAGE_MAX_LEN + 1 : msgs[i].msg_len;
		read_pktinfo(&msgs[i].msg_hdr, &pkts[i]->ep);
	}
	return (size_t)got;
}

static void write_pktinfo(struct msghdr *mh, uint8_t *cbuf, const struct wg_endpoint *ep)
{
	struct cmsghdr *c;

	if (!ep->has_src)
		return;
	mh->msg_control = cbuf;
	if (ep->addr.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = ep->src4 };

		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = ep->src6,
					  .ipi6_ifindex = (unsigned)ep->src_ifindex };

		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

/* Sends pkts[0..n) that all share one family on fd; returns the count
 * sent. A source address that is no longer ours (EINVAL) is forgotten and
 * the packet retried without it, as the Linux driver does. */
static size_t send_run(int fd, struct pkt **pkts, size_t n)
{
	struct mmsghdr msgs[PKT_BATCH_MAX];
	struct iovec iov[PKT_BATCH_MAX];
	uint8_t cbuf[PKT_BATCH_MAX][CMSG_SPACE_MAX] __attribute__((aligned(8)));
	size_t done = 0, ok = 0;

	memset(msgs, 0, n * sizeof(msgs[0]));
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = pkts[i]->data;
		iov[i].iov_len = pkts[i]->len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &pkts[i]->ep.addr;
		msgs[i].msg_hdr.msg_namelen = wg_sockaddr_len(&pkts[i]->ep.addr);
		memset(cbuf[i], 0, sizeof(cbuf[i]));
		write_pktinfo(&msgs[i].msg_hdr, cbuf[i], &pkts[i]->ep);
	}
	while (done < n) {
		int sent = sendmmsg(fd, msgs + done, (unsigned)(n - done), MSG_DONTWAIT);

		if (sent > 0) {
			done += (size_t)sent;
			ok += (size_t)sent;
			continue;
		}
		if (errno == EINVAL && msgs[done].msg_hdr.msg_controllen) {
			msgs[done].msg_hdr.msg_control = NULL;
			msgs[done].msg_hdr.msg_controllen = 0;
			continue;
		}
		if (errno == EAGAIN || errno == ENOBUFS)
			break;	/* the socket is full: the rest is dropped */
		done++;		/* this destination failed (unreachable...): skip it */
	}
	return ok;
}

size_t udp_send_batch(struct udp_sockets *s, struct pkt **pkts, size_t n)
{
	size_t sent = 0, i = 0;

	while (i < n) {
		int family = pkts[i]->ep.addr.sa.sa_family;
		int fd = family == AF_INET6 ? s->fd6 : s->fd4;
		size_t j = i;

		while (j < n && pkts[j]->ep.addr.sa.sa_family == family)
			j++;
		if (fd >= 0)
			sent += send_run(fd, pkts + i, j - i);
		i = j;
	}
	return sent;
}
