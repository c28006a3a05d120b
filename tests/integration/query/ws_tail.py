#!/usr/bin/env python3
"""ws_tail.py - a minimal websocket client (RFC 6455, standard library only)
for test_loki.sh: opens PATH on 127.0.0.1:PORT, checks the 101 and the
Sec-WebSocket-Accept, prints the first text frame, runs PUSH_CMD, then
waits (at most 15 s) for a frame that contains WANT and prints it, sends a
close frame and expects the server's close. Exit 0 when all of that held.
With PUSH_CMD "-" it holds the connection after the first frame until the
server closes it (prints "server closed")."""
import base64, hashlib, os, socket, subprocess, sys, time

port, path, push_cmd, want = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=15)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("connection closed during the handshake: %r" % buf)
    buf += chunk
head, buf = buf.split(b"\r\n\r\n", 1)
lines = head.decode().split("\r\n")
if " 101 " not in lines[0]:
    sys.exit("no 101: %s" % head.decode())
accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
if not any(l.lower() == "sec-websocket-accept: " + accept.lower() for l in lines):
    sys.exit("bad or missing Sec-WebSocket-Accept: %s" % head.decode())

def need(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk

def frame():
    global buf
    need(2)
    op, ln = buf[0] & 0x0F, buf[1] & 0x7F
    off = 2
    if ln == 126:
        need(4); ln = int.from_bytes(buf[2:4], "big"); off = 4
    elif ln == 127:
        need(10); ln = int.from_bytes(buf[2:10], "big"); off = 10
    need(off + ln)
    data, buf = buf[off:off + ln], buf[off + ln:]
    return op, data

op, data = frame()
if op != 1:
    sys.exit("first frame has opcode %d" % op)
print(data.decode(), flush=True)
if push_cmd == "-":
    s.settimeout(60)
    try:
        while frame()[0] != 8:
            pass
    except EOFError:
        pass
    print("server closed", flush=True)
    sys.exit(0)
subprocess.run(push_cmd, shell=True, check=True)
deadline = time.time() + 15
while time.time() < deadline:
    op, data = frame()
    if op == 1 and want.encode() in data:
        print(data.decode())
        break
else:
    sys.exit("no frame with %r" % want)
mask = os.urandom(4)
payload = (1000).to_bytes(2, "big")
s.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
try:
    while True:
        op, data = frame()
        if op == 8:
            break
except EOFError:
    pass
print("closed")
