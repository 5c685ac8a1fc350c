#!/usr/bin/env python3
# Stand-in for bootsvc's node-facing endpoints, used by tests/integ/init_*.sh only until
# bootsvc lands (issue 3): GET /images/<id>/rootfs with Range, GET the node overlay,
# POST phases. Faults on request: a file "cut-once" beside a rootfs makes the first
# full-length GET stop half way and close the connection.
import json, os, re, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT, ADDR, PORT, TOKEN = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
LOG = open(os.path.join(ROOT, "requests.log"), "a", buffering=1)
PHASES = open(os.path.join(ROOT, "phases.jsonl"), "a", buffering=1)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self, status, extra=""):
        LOG.write(f"{self.command} {self.path} range={self.headers.get('Range', '-')} "
                  f"status={status} {extra}\n")

    def reply(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if status != 204:
            self.wfile.write(body)
        self.note(status)
        self.close_connection = True

    def authorized(self):
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def do_GET(self):
        m = re.fullmatch(r"/images/([0-9a-f]{64})/rootfs", self.path)
        if m:
            return self.rootfs(os.path.join(ROOT, "images", m.group(1)))
        m = re.fullmatch(r"/api/v1/nodes/([a-z0-9-]+)/overlay", self.path)
        if m:
            if not self.authorized():
                return self.reply(401, b'{"error":{"code":"unauthorized","message":"bad token"}}')
            with open(os.path.join(ROOT, "overlay.cpio"), "rb") as f:
                return self.reply(200, f.read(), "application/x-cpio")
        self.reply(404, b'{"error":{"code":"not_found","message":"no such path"}}')

    def rootfs(self, d):
        path = os.path.join(d, "rootfs")
        if not os.path.exists(path):
            return self.reply(404, b"{}")
        data = open(path, "rb").read()
        size = len(data)
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            start = int(m.group(1)) if m else size
            if start >= size:
                return self.reply(416, b"", headers=[("Content-Range", f"bytes */{size}")])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            body = data[start:]
            status = 206
        else:
            self.send_response(200)
            body = data
            status = 200
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        cut = os.path.join(d, "cut-once")
        if status == 200 and os.path.exists(cut):
            os.unlink(cut)
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            self.note(status, f"CUT after {half} of {len(body)} bytes")
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)
        self.note(status, f"sent={len(body)}")
        self.close_connection = True

    def do_POST(self):
        m = re.fullmatch(r"/api/v1/nodes/([a-z0-9-]+)/phase", self.path)
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if 0 < n < 65536 else b""
        if not m:
            return self.reply(404, b"{}")
        if not self.authorized():
            return self.reply(401, b'{"error":{"code":"unauthorized","message":"bad token"}}')
        try:
            body = json.loads(raw)
        except ValueError:
            return self.reply(400, b'{"error":{"code":"bad_json","message":"body is not JSON"}}')
        PHASES.write(json.dumps({"node": m.group(1), "body": body}) + "\n")
        self.reply(204)


ThreadingHTTPServer((ADDR, PORT), H).serve_forever()
