/*
 * kpc-echo: tiny TCP/UDP/SCTP echo server and client for the kpc test VM.
 * Built statically by test/vm/build-vm.sh (gcc -static) and put in the VM's
 * initramfs as /usr/bin/kpc-echo. Only libc; IPv4 and IPv6.
 *
 * Server:
 *   kpc-echo server -n NAME [-t PORT]... [-u PORT]... [-s PORT]... [-D]
 *     Listens on every address ([::] dual-stack, falling back to 0.0.0.0).
 *     -t TCP port, -u UDP port, -s SCTP port (one-to-one style socket).
 *     -D: daemonize after all sockets are bound (so the caller can connect
 *         as soon as the command returns; no sleep needed).
 *     For every request (first line of a TCP/SCTP stream, or a datagram) it
 *     answers one line:
 *       NAME proto=tcp peer=10.0.0.2:40000 local=10.244.1.2:8080 msg=hello
 *     peer is the source the server saw (shows whether traffic was
 *     masqueraded), local the address it was reached on (shows the DNAT).
 *
 * Client:
 *   kpc-echo client [-p tcp|udp|sctp] [-w SECONDS] [-c COUNT] [-m MSG] HOST PORT
 *     Sends MSG (default "hello") COUNT times (default 1), each time on a new
 *     socket (new source port, so IPVS / iptables see new connections), and
 *     prints each reply line. UDP sockets are connected, so a reply from
 *     any other address than HOST (e.g. a missing un-DNAT) is not accepted.
 *     A request that fails or times out prints
 *       ERROR proto=udp dst=HOST:PORT err=...
 *     on stdout and makes the exit status 1. Exit status 2: usage error.
 *
 * Probe:
 *   kpc-echo probe-sctp   prints "sctp=yes" or "sctp=no err=..." (can an
 *                         SCTP socket be created?) and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

#define MAXSOCK 64
#define BUFSZ 2048

static const char *proto_name(int type, int proto) {
  if (proto == IPPROTO_SCTP) return "sctp";
  return type == SOCK_DGRAM ? "udp" : "tcp";
}

/* Formats an address; v4-mapped v6 addresses are shown as plain v4. */
static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const void *)ss;
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
    port = ntohs(s->sin_port);
    snprintf(out, n, "%s:%d", ip, port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const void *)ss;
    port = ntohs(s->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
      inet_ntop(AF_INET, &s->sin6_addr.s6_addr[12], ip, sizeof ip);
      snprintf(out, n, "%s:%d", ip, port);
    } else {
      inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
      snprintf(out, n, "[%s]:%d", ip, port);
    }
  } else {
    snprintf(out, n, "?");
  }
}

/* Keeps the first line of buf, without CR/LF; never empty. */
static void first_line(char *buf) {
  buf[strcspn(buf, "\r\n")] = 0;
  if (!buf[0]) strcpy(buf, "-");
}

static int listen_one(int type, int proto, int port) {
  int fd = socket(AF_INET6, type, proto);
  int on = 1, off = 0;
  if (fd >= 0) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    a.sin6_port = htons(port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bind(fd, (void *)&a, sizeof a) == 0) goto bound;
    close(fd);
  }
  /* No IPv6 (disabled in this namespace?): plain IPv4. */
  fd = socket(AF_INET, type, proto);
  if (fd < 0) return -1;
  {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons(port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, (void *)&a, sizeof a) != 0) { close(fd); return -1; }
  }
bound:
  if (type == SOCK_DGRAM) {
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  }
  if (type == SOCK_STREAM && listen(fd, 128) != 0) { close(fd); return -1; }
  return fd;
}

static void serve_stream(int cfd, const char *name, int proto) {
  char buf[BUFSZ], peer[80], local[80], out[BUFSZ + 256];
  struct sockaddr_storage ps, ls;
  socklen_t pl = sizeof ps, ll = sizeof ls;
  struct timeval tv = {2, 0};
  size_t got = 0;
  setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  getpeername(cfd, (void *)&ps, &pl);
  getsockname(cfd, (void *)&ls, &ll);
  fmt_addr(&ps, peer, sizeof peer);
  fmt_addr(&ls, local, sizeof local);
  /* Read until a newline, EOF, a full buffer or the 2 s timeout. */
  while (got < sizeof buf - 1) {
    ssize_t r = recv(cfd, buf + got, sizeof buf - 1 - got, 0);
    if (r <= 0) break;
    got += (size_t)r;
    if (memchr(buf, '\n', got)) break;
  }
  buf[got] = 0;
  first_line(buf);
  int n = snprintf(out, sizeof out, "%s proto=%s peer=%s local=%s msg=%s\n", name,
                   proto_name(SOCK_STREAM, proto), peer, local, buf);
  if (send(cfd, out, (size_t)n, MSG_NOSIGNAL) < 0) { /* client went away */ }
  shutdown(cfd, SHUT_WR);
  close(cfd);
}

static void serve_dgram(int fd, const char *name) {
  char buf[BUFSZ], peer[80], local[80], out[BUFSZ + 256];
  char cbuf[256];
  struct sockaddr_storage ps, ls;
  socklen_t ll = sizeof ls;
  struct iovec iov = {buf, sizeof buf - 1};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = &ps;
  mh.msg_namelen = sizeof ps;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t r = recvmsg(fd, &mh, 0);
  if (r < 0) return;
  buf[r] = 0;
  first_line(buf);
  fmt_addr(&ps, peer, sizeof peer);
  /* Local (destination) address of this datagram, from IP(V6)_PKTINFO. */
  getsockname(fd, (void *)&ls, &ll);
  int lport = ls.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ls)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ls)->sin_port);
  snprintf(local, sizeof local, "*:%d", lport);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    char ip[INET6_ADDRSTRLEN];
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      inet_ntop(AF_INET, &pi.ipi_addr, ip, sizeof ip);
      snprintf(local, sizeof local, "%s:%d", ip, lport);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
        inet_ntop(AF_INET, &pi.ipi6_addr.s6_addr[12], ip, sizeof ip);
        snprintf(local, sizeof local, "%s:%d", ip, lport);
      } else {
        inet_ntop(AF_INET6, &pi.ipi6_addr, ip, sizeof ip);
        snprintf(local, sizeof local, "[%s]:%d", ip, lport);
      }
    }
  }
  int n = snprintf(out, sizeof out, "%s proto=udp peer=%s local=%s msg=%s\n", name, peer,
                   local, buf);
  /* Reply from the address the request was sent to (as a connected UDP
     server would): hand the PKTINFO back with the source set. */
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      pi.ipi_spec_dst = pi.ipi_addr;
      pi.ipi_ifindex = 0;
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      pi.ipi6_ifindex = 0;
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
  }
  iov.iov_base = out;
  iov.iov_len = (size_t)n;
  if (sendmsg(fd, &mh, 0) < 0) {
    mh.msg_control = NULL; /* e.g. source no longer local: let the kernel pick */
    mh.msg_controllen = 0;
    sendmsg(fd, &mh, 0);
  }
}

static int do_server(int argc, char **argv) {
  const char *name = "echo";
  int fds[MAXSOCK], types[MAXSOCK], protos[MAXSOCK], nfd = 0, daemonize = 0, opt;
  while ((opt = getopt(argc, argv, "n:t:u:s:D")) != -1) {
    int type = SOCK_STREAM, proto = 0;
    switch (opt) {
      case 'n': name = optarg; continue;
      case 'D': daemonize = 1; continue;
      case 't': break;
      case 'u': type = SOCK_DGRAM; break;
      case 's': proto = IPPROTO_SCTP; break;
      default: fprintf(stderr, "usage: kpc-echo server -n NAME [-t P] [-u P] [-s P] [-D]\n"); return 2;
    }
    if (nfd >= MAXSOCK) { fprintf(stderr, "kpc-echo: too many sockets\n"); return 2; }
    int port = atoi(optarg);
    int fd = listen_one(type, proto, port);
    if (fd < 0) {
      fprintf(stderr, "kpc-echo: cannot listen on %s/%d: %s\n", proto_name(type, proto), port,
              strerror(errno));
      return 1;
    }
    fds[nfd] = fd; types[nfd] = type; protos[nfd] = proto; nfd++;
  }
  if (!nfd) { fprintf(stderr, "kpc-echo server: no port given\n"); return 2; }
  signal(SIGCHLD, SIG_IGN); /* auto-reap per-connection children */
  signal(SIGPIPE, SIG_IGN);
  if (daemonize) {
    pid_t p = fork();
    if (p < 0) { perror("fork"); return 1; }
    if (p > 0) return 0;
    setsid();
  }
  struct pollfd pf[MAXSOCK];
  for (int i = 0; i < nfd; i++) { pf[i].fd = fds[i]; pf[i].events = POLLIN; }
  for (;;) {
    if (poll(pf, (nfds_t)nfd, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      return 1;
    }
    for (int i = 0; i < nfd; i++) {
      if (!(pf[i].revents & POLLIN)) continue;
      if (types[i] == SOCK_DGRAM) { serve_dgram(fds[i], name); continue; }
      int cfd = accept(fds[i], NULL, NULL);
      if (cfd < 0) continue;
      pid_t p = fork();
      if (p == 0) {
        for (int j = 0; j < nfd; j++) close(fds[j]);
        serve_stream(cfd, name, protos[i]);
        _exit(0);
      }
      if (p < 0) serve_stream(cfd, name, protos[i]); /* no fork: serve inline */
      else close(cfd);
    }
  }
}

struct target {
  int family;
  socklen_t len;
  struct sockaddr_storage addr;
};

/* Numeric IPv4 or IPv6 address ("[...]" brackets allowed); no resolver. */
static int parse_target(const char *host, const char *port, struct target *t) {
  char h[INET6_ADDRSTRLEN + 2];
  int p = atoi(port);
  if (p <= 0 || p > 65535) return -1;
  snprintf(h, sizeof h, "%s", host);
  if (h[0] == '[') {
    memmove(h, h + 1, strlen(h));
    h[strcspn(h, "]")] = 0;
  }
  memset(t, 0, sizeof *t);
  struct sockaddr_in *a4 = (void *)&t->addr;
  struct sockaddr_in6 *a6 = (void *)&t->addr;
  if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
    a4->sin_family = t->family = AF_INET;
    a4->sin_port = htons(p);
    t->len = sizeof *a4;
    return 0;
  }
  if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
    a6->sin6_family = t->family = AF_INET6;
    a6->sin6_port = htons(p);
    t->len = sizeof *a6;
    return 0;
  }
  return -1;
}

static int one_request(int type, int proto, const struct target *ai, const char *msg,
                       int wait_s, char *reply, size_t rn, const char **err) {
  int fd = socket(ai->family, type, proto);
  if (fd < 0) { *err = strerror(errno); return -1; }
  struct timeval tv = {wait_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  char line[BUFSZ];
  int ln = snprintf(line, sizeof line, "%s\n", msg);
  size_t got = 0;
  if (type == SOCK_DGRAM) {
    /* Connected: only a reply from the address we sent to is accepted (as a
       real client such as a DNS resolver would), and ICMP errors show up. */
    if (connect(fd, (const struct sockaddr *)&ai->addr, ai->len) < 0) goto fail;
    if (send(fd, line, (size_t)ln, 0) < 0) goto fail;
    ssize_t r = recv(fd, reply, rn - 1, 0);
    if (r < 0) goto fail;
    got = (size_t)r;
  } else {
    if (connect(fd, (const struct sockaddr *)&ai->addr, ai->len) < 0) goto fail;
    if (send(fd, line, (size_t)ln, MSG_NOSIGNAL) < 0) goto fail;
    while (got < rn - 1) {
      ssize_t r = recv(fd, reply + got, rn - 1 - got, 0);
      if (r < 0) goto fail;
      if (r == 0) break;
      got += (size_t)r;
      if (memchr(reply, '\n', got)) break;
    }
    if (!got) { errno = ECONNRESET; goto fail; }
  }
  reply[got] = 0;
  reply[strcspn(reply, "\r\n")] = 0;
  close(fd);
  return 0;
fail:
  *err = (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout" : strerror(errno);
  close(fd);
  return -1;
}

static int do_client(int argc, char **argv) {
  const char *pname = "tcp", *msg = "hello";
  int wait_s = 2, count = 1, opt;
  while ((opt = getopt(argc, argv, "p:w:c:m:")) != -1) {
    switch (opt) {
      case 'p': pname = optarg; break;
      case 'w': wait_s = atoi(optarg); break;
      case 'c': count = atoi(optarg); break;
      case 'm': msg = optarg; break;
      default: goto usage;
    }
  }
  if (argc - optind != 2) goto usage;
  int type = SOCK_STREAM, proto = 0;
  if (!strcmp(pname, "udp")) type = SOCK_DGRAM;
  else if (!strcmp(pname, "sctp")) proto = IPPROTO_SCTP;
  else if (strcmp(pname, "tcp")) goto usage;
  const char *host = argv[optind], *port = argv[optind + 1];
  struct target tgt;
  if (parse_target(host, port, &tgt) != 0) {
    printf("ERROR proto=%s dst=%s:%s err=bad numeric address or port\n", pname, host, port);
    return 1;
  }
  int status = 0;
  for (int i = 0; i < count; i++) {
    char reply[BUFSZ + 256];
    const char *err = "";
    if (one_request(type, proto, &tgt, msg, wait_s, reply, sizeof reply, &err) == 0) {
      printf("%s\n", reply);
    } else {
      printf("ERROR proto=%s dst=%s:%s err=%s\n", pname, host, port, err);
      status = 1;
    }
    fflush(stdout);
  }
  return status;
usage:
  fprintf(stderr, "usage: kpc-echo client [-p tcp|udp|sctp] [-w S] [-c N] [-m MSG] HOST PORT\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 2 && !strcmp(argv[1], "server")) return do_server(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "client")) return do_client(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "probe-sctp")) {
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0) printf("sctp=no err=%s\n", strerror(errno));
    else { printf("sctp=yes\n"); close(fd); }
    return 0;
  }
  fprintf(stderr, "usage: kpc-echo server|client|probe-sctp ...\n");
  return 2;
}
