"""
sockdiag.py: questions about this host's TCP sockets put to the kernel by netlink
(NETLINK_SOCK_DIAG), for the test backends and the harness. /proc/net/tcp answers the
same questions by listing every socket, TIME_WAIT ones included: after the tests that
open 100,000 connections it held 130,000 lines and took 0.2-0.3 s to read, long enough to
delay a health check's answer past what the tests allow. Here a lookup by exact address
asks for one socket, and a listening-state dump walks only the listening table.
"""
import socket
import struct

SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
TCP_LISTEN = 10
NETLINK_SOCK_DIAG = 4
MSG = 72        # struct inet_diag_msg


def _addr(ip):
    return socket.inet_aton(ip).ljust(16, b"\0")


def _ask(flags, states, sport=0, dport=0, src="0.0.0.0", dst="0.0.0.0"):
    """Sends one inet_diag_req_v2 for IPv4 TCP; yields each inet_diag_msg of the answer."""
    sockid = struct.pack("!HH16s16s", sport, dport, _addr(src), _addr(dst))
    sockid += struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF)       # any interface, no cookie
    req = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, states) + sockid
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    try:
        nl.settimeout(2.0)
        nl.sendto(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, flags, 1, 0) + req,
                  (0, 0))
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if kind in (NLMSG_DONE, NLMSG_ERROR) or length < 16:
                    return
                if kind == SOCK_DIAG_BY_FAMILY and length >= 16 + MSG:
                    yield data[off + 16:off + 16 + MSG]
                off += (length + 3) & ~3
            if not flags & NLM_F_DUMP:
                return
    finally:
        nl.close()


def inode_of(local, remote):
    """The inode of the IPv4 TCP socket bound to local (ip, port) and connected to remote,
    as a string; None when there is none. OSError when netlink cannot be asked."""
    for m in _ask(NLM_F_REQUEST, 0xFFFFFFFF, local[1], remote[1], local[0], remote[0]):
        return str(struct.unpack_from("=I", m, 68)[0])
    return None


def listening(port, host="127.0.0.1"):
    """True when an IPv4 TCP socket listens on host:port. OSError when netlink cannot be
    asked."""
    for m in _ask(NLM_F_REQUEST | NLM_F_DUMP, 1 << TCP_LISTEN):
        sport, = struct.unpack_from("!H", m, 4)
        if sport == port and m[8:12] == socket.inet_aton(host):
            return True
    return False
