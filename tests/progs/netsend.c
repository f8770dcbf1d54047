// SPDX-License-Identifier: GPL-2.0
/*
 * netsend.c - known packets on loopback:
 *   netsend udp ADDR SIZE N   N datagrams of SIZE bytes to a socket of its own
 *                             on ADDR (IPv4 or IPv6), each received back
 *   netsend ping ADDR N       N ICMP echo requests to IPv4 ADDR (raw socket,
 *                             root), each answered before the next
 * Exit 0 when every datagram or reply came back, 1 otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int udp(const char *addr, long size, long n)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*a4);
	struct timeval tv = { 5, 0 };
	char *buf = calloc(1, (size_t)size + 1);
	int rx, tx;

	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		len = sizeof(*a6);
	} else {
		return 2;
	}
	rx = socket(ss.ss_family, SOCK_DGRAM, 0);
	tx = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (!buf || rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&ss, len) ||
	    getsockname(rx, (struct sockaddr *)&ss, &len))
		return 1;
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (long i = 0; i < n; i++) {
		if (sendto(tx, buf, (size_t)size, 0, (struct sockaddr *)&ss, len) != size ||
		    recv(rx, buf, (size_t)size + 1, 0) != size)
			return 1;
	}
	return 0;
}

static int ping(const char *addr, long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { 5, 0 };
	unsigned short id = (unsigned short)getpid();
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (s < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return 1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (long i = 0; i < n; i++) {
		struct icmphdr h = { .type = ICMP_ECHO };
		unsigned int sum = 0;
		unsigned short *w = (unsigned short *)&h;
		char in[1500];

		h.un.echo.id = htons(id);
		h.un.echo.sequence = htons((unsigned short)i);
		for (size_t k = 0; k < sizeof(h) / 2; k++)
			sum += w[k];
		sum = (sum >> 16) + (sum & 0xffff);
		h.checksum = (unsigned short)~(sum + (sum >> 16));
		if (sendto(s, &h, sizeof(h), 0, (struct sockaddr *)&a, sizeof(a)) != sizeof(h))
			return 1;
		for (;;) {	/* the raw socket sees our request too, and others' ICMP */
			ssize_t r = recv(s, in, sizeof(in), 0);
			struct icmphdr *rh = (struct icmphdr *)(in + ((in[0] & 0xf) << 2));

			if (r < 0)
				return 1;
			if (rh->type == ICMP_ECHOREPLY && rh->un.echo.id == htons(id) &&
			    rh->un.echo.sequence == htons((unsigned short)i))
				break;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "udp"))
		return udp(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "ping"))
		return ping(argv[2], atol(argv[3]));
	return 2;
}
