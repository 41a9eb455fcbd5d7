/*
 * listen.h - a server's listening socket.
 *
 * listen_socket("[ADDRESS]:PORT[/PATH]") binds and listens (":8080" is every
 * address, IPv6 and IPv4; "[::1]:8080" one IPv6 address) and sets *PATH to
 * the "/PATH" part, or NULL; a bad address is a usage error (exit 64), one
 * that cannot be bound exit 69.  listen_activated() is the socket systemd
 * passed (fd 3, when LISTEN_PID is this process and LISTEN_FDS >= 1), or -1.
 */
#ifndef ETL_LISTEN_H
#define ETL_LISTEN_H

int listen_socket(const char *spec, const char **path);
int listen_activated(void);

#endif
