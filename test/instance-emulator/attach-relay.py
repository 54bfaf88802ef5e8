# `docker attach` of an emulated instance (test/instance-emulator; a test component, never shipped),
# run by docker-shim.sh: one upgraded HTTP connection to the docker stand-in at $DOCKER_HOST, which
# refuses with "<code>\n<message>" or streams frames of docker's 8-byte header (stream 1 stdout,
# 2 stderr; 3 is the stand-in's: the exit code, last). The caller's stdin goes to the container when
# the stand-in says so (run with -i, no --no-stdin); its end half-closes the connection. Signals are
# not proxied (as with --sig-proxy=false): the relay just ends on them.
import base64
import json
import os
import selectors
import socket
import struct
import sys


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def connect():
    host = os.environ.get("DOCKER_HOST", "")
    addr, _, port = host[len("tcp://"):].rpartition(":")
    try:
        return socket.create_connection((addr, int(port)))
    except (OSError, ValueError):
        sys.stderr.write("Cannot connect to the Docker daemon at %s. Is the docker daemon running?\n" % host)
        sys.exit(1)


def handshake(sock, argv):
    words = base64.b64encode(json.dumps(argv).encode("utf-8")).decode("ascii")
    sock.sendall(("POST /attach HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                  "X-Docker-Argv: %s\r\nContent-Length: 0\r\n\r\n" % words).encode("ascii"))
    head = b""
    while b"\r\n\r\n" not in head:
        more = sock.recv(4096)
        if not more:
            sys.stderr.write("error: the docker daemon closed the connection\n")
            sys.exit(1)
        head += more
    head, _, rest = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if " 101 " not in lines[0] + " ":
        refused(sock, rest)
    return "x-docker-stdin: 1" in (line.lower() for line in lines), rest


def refused(sock, body):
    while True:
        more = sock.recv(4096)
        if not more:
            break
        body += more
    code, _, message = body.decode("utf-8", "replace").partition("\n")
    sys.stderr.write(message)
    sys.exit(int(code) if code.isdigit() else 1)


def frames(buf):
    """Complete frames at the start of buf, and what is left."""
    out = []
    while len(buf) >= 8:
        stream, size = buf[0], struct.unpack(">I", buf[4:8])[0]
        if len(buf) < 8 + size:
            break
        out.append((stream, buf[8:8 + size]))
        buf = buf[8 + size:]
    return out, buf


def relay(sock, stdin, buf):
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    if stdin:
        sel.register(0, selectors.EVENT_READ)
    while True:
        ready, buf = frames(buf)
        for stream, data in ready:
            if stream == 3:
                return int(data)
            write_all(stream, data)
        for key, _ in sel.select():
            if key.fd == 0:
                try:
                    data = os.read(0, 65536)
                except OSError:
                    data = b""
                if data:
                    sock.sendall(data)
                else:
                    sel.unregister(0)
                    sock.shutdown(socket.SHUT_WR)
                continue
            more = sock.recv(65536)
            if not more:
                sys.stderr.write("error: the docker daemon ended the attach without an exit code\n")
                return 1
            buf += more


def main():
    sock = connect()
    stdin, rest = handshake(sock, sys.argv[1:])
    sys.exit(relay(sock, stdin, rest))


if __name__ == "__main__":
    main()
