#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""redfish_sim: a Redfish BMC for the integration tests (Debian has no Redfish simulator).

It powers a real qemu node the way ipmi_sim does in tests/integ/lib_bmc.sh: through the
same chassis-control program (`get power`, `set power 0|1`, `set boot pxe`, `set reset 1`),
which starts qemu, stops it and resets it over the monitor. It speaks the subset of the
DMTF Redfish schema bootsvc's client uses:

  /redfish/v1                                 ServiceRoot (no credentials needed)
  /redfish/v1/SessionService/Sessions[/N]     login (POST, X-Auth-Token), logout (DELETE)
  /redfish/v1/Systems[/1]                     PowerState, Boot override (PATCH), LogServices
  /redfish/v1/Systems/1/Actions/ComputerSystem.Reset
  /redfish/v1/Systems/1/LogServices[/Log[/Entries]]
  /redfish/v1/Chassis[/1[/Thermal|/Power|/Sensors[/NAME]]]

over HTTPS (--cert/--key), with sessions or, with --no-sessions, basic auth only.
Users: --user/--password (Administrator) and "viewer" with the same password (ReadOnly:
GET only).

Fault injection through files in --dir that only the test writes (read on every request):
  fault        "503": answer 503; "hang": accept but never answer; "garbage": 200 with
               malformed JSON; "cert": present --alt-cert instead of --cert. Empty or
               missing: behave.
  sensors      "NAME VALUE" lines overriding a reading: "CPU Temp 90", "Fan1 600",
               "Pwr Consumption 240".
  log          one JSON object per line, a LogEntry without Id (the line number is its
               Id); truncate it to clear the log.
  log-page     "N": the log's Entries collection in pages of N (Members@odata.nextLink,
               "?$skip=K"), as iDRAC pages at 50; "N loop": the last page's nextLink is
               the first page's path again (a broken BMC a client must not follow for ever).
  sensors-mode "sensors": the Chassis links only its Sensors collection (Redfish
               2019.4+, no Thermal/Power); "sensors-404": it links Thermal and Power
               but they answer 404 (deprecated), and Sensors; with "expand" as well,
               the service root says it takes $expand=.($levels=1) and the collection
               answers it with its members inline. Empty or missing: Thermal and Power.
  requests     appended: one "METHOD PATH[?QUERY]" line per request served (for tests).
  sessions     appended: "login N" per session opened, "logout N" per session deleted.
  hang-addrs   addresses (one a line) whose BMC hangs as with fault "hang": with several
               --addr, one process is many BMCs, some of them dead (make bench uses
               tests/tools/redfish_bench, in C, for its 200).
Standard library only (http.server, ssl)."""

import argparse
import base64
import http.server
import json
import os
import secrets
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

# How long a "hang" keeps a request unanswered at most: longer than any client timeout the
# tests use, short enough that a forgotten fault does not keep threads for ever.
HANG_MAX_S = 120
# Bodies accepted from clients: login and PATCH bodies are a few hundred bytes.
MAX_BODY = 64 * 1024
# Sessions kept at once, as a real BMC caps them (iDRAC: 8): the oldest goes first.
MAX_SESSIONS = 16

ROOT = "/redfish/v1"
SYS = ROOT + "/Systems/1"
CH = ROOT + "/Chassis/1"
RESET_TARGET = SYS + "/Actions/ComputerSystem.Reset"

# The sensors, with the thresholds of lib_bmc.sh's ipmi_sim SDRs (CPU Temp UNC 75 UC 85
# UNR 95; Fan1 LNC 1800 LC 1200; power 120 W), so both kinds of BMC read alike.
SENSORS = {
    "CPU Temp": 40.0,
    "Fan1": 4800.0,
    "Pwr Consumption": 120.0,
}
# The same as members of the Chassis' Sensors collection (sensors-mode), and a voltage.
SENSOR_IDS = ["CPU_Temp", "Fan1", "Pwr_Consumption", "P12V"]


def status(value, lnc=None, lc=None, unc=None, uc=None, unr=None):
    health = "OK"
    if (unr is not None and value >= unr) or (uc is not None and value >= uc) or \
            (lc is not None and value <= lc):
        health = "Critical"
    elif (unc is not None and value >= unc) or (lnc is not None and value <= lnc):
        health = "Warning"
    return {"State": "Enabled", "Health": health}


class Sim:
    def __init__(self, a):
        self.a = a
        self.d = a.dir
        self.lock = threading.Lock()
        self.sessions = {}  # token -> (id, user)
        self.next_session = 1
        self.reset_types = a.reset_types.split(",")

    def file(self, name):
        try:
            with open(os.path.join(self.d, name)) as f:
                return f.read()
        except OSError:
            return ""

    def fault(self):
        return self.file("fault").strip()

    def chassis(self, *args):
        if self.a.chassis_control == "none":
            # no node behind it (make bench): always on, nothing to boot
            return "power:1\nboot:default\n" if args[0] == "get" else ""
        r = subprocess.run([self.a.chassis_control, *args], capture_output=True, text=True,
                           timeout=60)
        return r.stdout

    def power_on(self):
        return "power:1" in self.chassis("get", "power")

    def sensor(self, name):
        v = SENSORS[name]
        for line in self.file("sensors").splitlines():
            n, _, val = line.rpartition(" ")
            if n == name:
                try:
                    v = float(val)
                except ValueError:
                    pass
        return v

    # Threshold crossings logged as a BMC logs them (LogEntry EntryCode, IPMI's event
    # offsets by name): (sensor, SensorType, [(threshold, EntryCode going away from
    # normal, EntryCode coming back, Severity)]).
    THRESHOLDS = [
        ("CPU Temp", "Temperature", True,
         [(75, "Upper Non-critical - going high", "Upper Non-critical - going low", "Warning"),
          (85, "Upper Critical - going high", "Upper Critical - going low", "Critical"),
          (95, "Upper Non-recoverable - going high", "Upper Non-recoverable - going low",
           "Critical")]),
        ("Fan1", "Fan", False,
         [(1800, "Lower Non-critical - going low", "Lower Non-critical - going high", "Warning"),
          (1200, "Lower Critical - going low", "Lower Critical - going high", "Critical")]),
    ]

    def scan_events(self):
        """Log the threshold crossings since the last request, as a BMC's event generator."""
        with self.lock:
            last = getattr(self, "last_values", None)
            now = {name: self.sensor(name) for name, _, _, _ in self.THRESHOLDS}
            self.last_values = now
            if last is None:
                return
            lines = []
            for name, stype, upper, ths in self.THRESHOLDS:
                a, b = last[name], now[name]
                for th, away, back, sev in ths:
                    beyond_a = a >= th if upper else a <= th
                    beyond_b = b >= th if upper else b <= th
                    if beyond_b and not beyond_a:
                        code, severity = away, sev
                    elif beyond_a and not beyond_b:
                        code, severity = back, "OK"
                    else:
                        continue
                    lines.append(json.dumps({"Name": name, "SensorType": stype,
                                             "EntryCode": code, "Severity": severity,
                                             "Message": f"{name} {code}"}))
            if lines:
                with open(os.path.join(self.d, "log"), "a") as f:
                    f.write("".join(line + "\n" for line in lines))

    def sensors_mode(self):
        return self.file("sensors-mode").split()

    def log_page(self):
        """(page size, loop) from the log-page file; (0, False): one page."""
        w = self.file("log-page").split()
        try:
            return (int(w[0]) if w else 0), "loop" in w
        except ValueError:
            return 0, False

    def log_entries(self):
        out = []
        for i, line in enumerate(self.file("log").splitlines(), 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            e.update({"@odata.id": f"{SYS}/LogServices/Log/Entries/{i}", "Id": str(i),
                      "@odata.type": "#LogEntry.v1_9_0.LogEntry"})
            e.setdefault("EntryType", "SEL")
            e.setdefault("Name", "Log Entry")
            e.setdefault("Created", time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
            out.append(e)
        return out


def coll(path, members):
    return {"@odata.id": path, "Members": [{"@odata.id": m} for m in members],
            "Members@odata.count": len(members)}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "redfish-sim"

    def log_message(self, fmt, *args):
        sys.stderr.write("redfish_sim: " + (fmt % args) + "\n")

    def send(self, code, obj=None, headers=None, raw=None):
        body = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(code)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("OData-Version", "4.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def user(self):
        sim = self.server.sim
        tok = self.headers.get("X-Auth-Token")
        if tok:
            with sim.lock:
                s = sim.sessions.get(tok)
            return s[1] if s else None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None
            return u if self.check(u, p) else None
        return None

    def check(self, u, p):
        a = self.server.sim.a
        return p == a.password and u in (a.user, "viewer")

    def read_body(self):
        # Read it whatever the answer will be: a refused request's unread body would be
        # parsed as the next request on this keep-alive connection.
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            self.raw_body = None
            return
        self.raw_body = self.rfile.read(n) if n > 0 else b""

    def body(self):
        if self.raw_body is None:
            return None
        try:
            return json.loads(self.raw_body or b"{}")
        except ValueError:
            return None

    def handle_any(self, method):
        sim = self.server.sim
        path, _, query = self.path.partition("?")
        path = path.rstrip("/") or "/"
        self.query = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.read_body()
        with open(os.path.join(sim.d, "requests"), "a") as f:
            f.write(f"{method} {path}{'?' + query if query else ''}\n")
        sim.scan_events()
        fault = sim.fault()
        if self.server.server_address[0] in sim.file("hang-addrs").split():
            fault = "hang"
        if fault == "hang":
            t0 = time.monotonic()
            while (sim.fault() == "hang" or self.server.server_address[0] in
                   sim.file("hang-addrs").split()) and time.monotonic() - t0 < HANG_MAX_S:
                time.sleep(0.1)
            self.close_connection = True
            return
        if fault == "503":
            return self.send(503, {"error": {"code": "Base.1.8.ServiceTemporarilyUnavailable",
                                             "message": "busy"}}, {"Retry-After": "1"})
        if fault == "garbage":
            return self.send(200, raw=b'{"PowerState": "On", "Actions": {')
        if method == "GET" and path in ("/redfish", ROOT):
            return self.send(200, self.root())
        if method == "POST" and path == ROOT + "/SessionService/Sessions" and \
                not sim.a.no_sessions:
            return self.login()
        user = self.user()
        if not user:
            return self.send(401, {"error": {"code": "Base.1.8.NoValidSession"}})
        # anyone may end their own session; changes need Administrator
        if method == "DELETE" and path.startswith(ROOT + "/SessionService/Sessions/"):
            with sim.lock:
                for t, (sid, _) in list(sim.sessions.items()):
                    if path.endswith("/" + str(sid)):
                        del sim.sessions[t]
                        with open(os.path.join(sim.d, "sessions"), "a") as f:
                            f.write(f"logout {sid}\n")
                        return self.send(204)
            return self.send(404)
        if method != "GET" and user == "viewer":
            return self.send(403, {"error": {"code": "Base.1.8.InsufficientPrivilege"}})
        if method == "GET":
            obj = self.get(path)
            return self.send(200, obj) if obj is not None else self.send(404)
        if method == "PATCH" and path == SYS:
            return self.patch_system()
        if method == "POST" and path == RESET_TARGET:
            return self.reset()
        return self.send(405)

    def root(self):
        r = {"@odata.id": ROOT, "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot", "Id": "RootService",
             "RedfishVersion": "1.8.0", "Systems": {"@odata.id": ROOT + "/Systems"},
             "Chassis": {"@odata.id": ROOT + "/Chassis"},
             "Managers": {"@odata.id": ROOT + "/Managers"}}
        if "expand" in self.server.sim.sensors_mode():
            r["ProtocolFeaturesSupported"] = {"ExpandQuery": {
                "ExpandAll": False, "Levels": True, "Links": False, "NoLinks": True,
                "MaxLevels": 1}}
        if not self.server.sim.a.no_sessions:
            r["SessionService"] = {"@odata.id": ROOT + "/SessionService"}
            r["Links"] = {"Sessions": {"@odata.id": ROOT + "/SessionService/Sessions"}}
        return r

    def login(self):
        sim = self.server.sim
        b = self.body()
        if not isinstance(b, dict) or not self.check(b.get("UserName"), b.get("Password")):
            return self.send(401, {"error": {"code": "Base.1.8.NoValidSession"}})
        tok = secrets.token_hex(16)
        with sim.lock:
            sid = sim.next_session
            sim.next_session += 1
            if len(sim.sessions) >= MAX_SESSIONS:
                sim.sessions.pop(next(iter(sim.sessions)))
            sim.sessions[tok] = (sid, b["UserName"])
        with open(os.path.join(sim.d, "sessions"), "a") as f:
            f.write(f"login {sid}\n")
        loc = f"{ROOT}/SessionService/Sessions/{sid}"
        return self.send(201, {"@odata.id": loc, "Id": str(sid), "UserName": b["UserName"]},
                         {"X-Auth-Token": tok, "Location": loc})

    def get(self, path):
        sim = self.server.sim
        if path == ROOT + "/Systems":
            return coll(path, [SYS])
        if path == SYS:
            boot = sim.chassis("get", "boot")
            pxe = "boot:pxe" in boot
            return {"@odata.id": SYS, "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem", "Id": "1",
                    "Name": "node", "PowerState": "On" if sim.power_on() else "Off",
                    "Boot": {"BootSourceOverrideTarget": "Pxe" if pxe else "None",
                             "BootSourceOverrideEnabled": "Once" if pxe else "Disabled",
                             "BootSourceOverrideTarget@Redfish.AllowableValues":
                                 ["None", "Pxe", "Hdd"]},
                    "LogServices": {"@odata.id": SYS + "/LogServices"},
                    "Actions": {"#ComputerSystem.Reset": {
                        "target": RESET_TARGET,
                        "ResetType@Redfish.AllowableValues": sim.reset_types}}}
        if path == SYS + "/LogServices":
            return coll(path, [SYS + "/LogServices/Log"])
        if path == SYS + "/LogServices/Log":
            return {"@odata.id": path, "Id": "Log", "Entries": {"@odata.id": path + "/Entries"}}
        if path == SYS + "/LogServices/Log/Entries":
            m = sim.log_entries()
            out = {"@odata.id": path, "Members@odata.count": len(m)}
            size, loop = sim.log_page()
            if size <= 0:
                out["Members"] = m
                return out
            try:
                skip = int(self.query.get("$skip", ["0"])[0])
            except ValueError:
                return None
            out["Members"] = m[skip:skip + size]
            if skip + size < len(m):
                out["Members@odata.nextLink"] = f"{path}?$skip={skip + size}"
            elif loop:
                out["Members@odata.nextLink"] = path
            return out
        if path == ROOT + "/Chassis":
            return coll(path, [CH])
        mode = sim.sensors_mode()
        if path == CH:
            c = {"@odata.id": CH, "Id": "1"}
            if "sensors" not in mode:
                c["Thermal"] = {"@odata.id": CH + "/Thermal"}
                c["Power"] = {"@odata.id": CH + "/Power"}
            if "sensors" in mode or "sensors-404" in mode:
                c["Sensors"] = {"@odata.id": CH + "/Sensors"}
            return c
        if path in (CH + "/Thermal", CH + "/Power") and ("sensors" in mode or
                                                         "sensors-404" in mode):
            return None
        if path == CH + "/Sensors" and ("sensors" in mode or "sensors-404" in mode):
            members = [self.sensor_res(n) for n in SENSOR_IDS]
            if "expand" in mode and self.query.get("$expand") == [".($levels=1)"]:
                return {"@odata.id": path, "Members": members,
                        "Members@odata.count": len(members)}
            return coll(path, [m["@odata.id"] for m in members])
        if path.startswith(CH + "/Sensors/") and path[len(CH + "/Sensors/"):] in SENSOR_IDS \
                and ("sensors" in mode or "sensors-404" in mode):
            return self.sensor_res(path[len(CH + "/Sensors/"):])
        if path == CH + "/Thermal":
            t, f = sim.sensor("CPU Temp"), sim.sensor("Fan1")
            return {"@odata.id": path,
                    "Temperatures": [{"MemberId": "0", "Name": "CPU Temp", "ReadingCelsius": t,
                                      "UpperThresholdNonCritical": 75,
                                      "UpperThresholdCritical": 85, "UpperThresholdFatal": 95,
                                      "Status": status(t, unc=75, uc=85, unr=95)}],
                    "Fans": [{"MemberId": "0", "Name": "Fan1", "Reading": f,
                              "ReadingUnits": "RPM", "LowerThresholdNonCritical": 1800,
                              "LowerThresholdCritical": 1200,
                              "Status": status(f, lnc=1800, lc=1200)}]}
        if path == CH + "/Power":
            return {"@odata.id": path,
                    "PowerControl": [{"MemberId": "0", "Name": "Pwr Consumption",
                                      "PowerConsumedWatts": sim.sensor("Pwr Consumption"),
                                      "Status": {"State": "Enabled", "Health": "OK"}}]}
        return None

    def sensor_res(self, sid):
        """A Sensor (Sensor.v1_2) with the values and thresholds Thermal/Power give."""
        sim = self.server.sim
        p = f"{CH}/Sensors/{sid}"
        if sid == "CPU_Temp":
            t = sim.sensor("CPU Temp")
            return {"@odata.id": p, "@odata.type": "#Sensor.v1_2_0.Sensor", "Id": sid,
                    "Name": "CPU Temp", "ReadingType": "Temperature", "Reading": t,
                    "ReadingUnits": "Cel", "PhysicalContext": "CPU",
                    "Status": status(t, unc=75, uc=85, unr=95),
                    "Thresholds": {"UpperCaution": {"Reading": 75},
                                   "UpperCritical": {"Reading": 85},
                                   "UpperFatal": {"Reading": 95}}}
        if sid == "Fan1":
            f = sim.sensor("Fan1")
            return {"@odata.id": p, "@odata.type": "#Sensor.v1_2_0.Sensor", "Id": sid,
                    "Name": "Fan1", "ReadingType": "Rotational", "Reading": f,
                    "ReadingUnits": "RPM", "PhysicalContext": "Fan",
                    "Status": status(f, lnc=1800, lc=1200),
                    "Thresholds": {"LowerCaution": {"Reading": 1800},
                                   "LowerCritical": {"Reading": 1200}}}
        if sid == "Pwr_Consumption":
            return {"@odata.id": p, "@odata.type": "#Sensor.v1_2_0.Sensor", "Id": sid,
                    "Name": "Pwr Consumption", "ReadingType": "Power",
                    "Reading": sim.sensor("Pwr Consumption"), "ReadingUnits": "W",
                    "PhysicalContext": "Chassis", "Status": {"State": "Enabled", "Health": "OK"}}
        # a reading no health rule reads: must be skipped, not fail the read
        return {"@odata.id": p, "@odata.type": "#Sensor.v1_2_0.Sensor", "Id": sid,
                "Name": "P12V", "ReadingType": "Voltage", "Reading": 12.1,
                "ReadingUnits": "V", "Status": {"State": "Enabled", "Health": "OK"}}

    def patch_system(self):
        sim = self.server.sim
        b = self.body()
        boot = b.get("Boot") if isinstance(b, dict) else None
        if not isinstance(boot, dict):
            return self.send(400, {"error": {"code": "Base.1.8.PropertyMissing"}})
        target = boot.get("BootSourceOverrideTarget")
        if target == "Pxe" and boot.get("BootSourceOverrideEnabled") == "Once":
            sim.chassis("set", "boot", "pxe")
        elif target in ("None", None):
            sim.chassis("set", "boot", "default")
        else:
            return self.send(400, {"error": {"code": "Base.1.8.PropertyValueNotInList"}})
        return self.send(204)

    def reset(self):
        sim = self.server.sim
        b = self.body()
        rt = b.get("ResetType") if isinstance(b, dict) else None
        if rt not in sim.reset_types:
            return self.send(400, {"error": {"code": "Base.1.8.ActionParameterNotSupported"}})
        with open(os.path.join(sim.d, "resets-redfish"), "a") as f:
            f.write(rt + "\n")
        if rt in ("On", "ForceOn"):
            sim.chassis("set", "power", "1")
        elif rt in ("ForceOff", "GracefulShutdown"):
            sim.chassis("set", "power", "0")
        elif rt in ("ForceRestart", "GracefulRestart"):
            sim.chassis("set", "reset", "1")
        elif rt == "PowerCycle":
            sim.chassis("set", "power", "0")
            sim.chassis("set", "power", "1")
        return self.send(204)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def finish_request(self, request, client_address):
        # TLS per connection, in the connection's thread: the fault file picks the
        # certificate, and a slow handshake holds up no one else.
        ctx = self.alt_ctx if self.sim.fault() == "cert" else self.ctx
        try:
            request.settimeout(30)
            tls = ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write(f"redfish_sim: TLS from {client_address[0]}: {e}\n")
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def tls_ctx(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", required=True, action="append",
                   help="listen here; several: one BMC per address, sharing the rest")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--alt-cert", required=True)
    p.add_argument("--alt-key", required=True)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", required=True)
    p.add_argument("--chassis-control", required=True,
                   help='the program ipmi_sim would run; "none": a BMC with no node, on')
    p.add_argument("--dir", required=True)
    p.add_argument("--no-sessions", action="store_true")
    p.add_argument("--reset-types", default="On,ForceOff,GracefulShutdown,ForceRestart,PowerCycle")
    a = p.parse_args()
    sim = Sim(a)
    sim.scan_events()  # the readings at start are the baseline
    ctx, alt_ctx = tls_ctx(a.cert, a.key), tls_ctx(a.alt_cert, a.alt_key)
    servers = []
    for addr in a.addr:
        srv = Server((addr, a.port), Handler)
        srv.sim, srv.ctx, srv.alt_ctx = sim, ctx, alt_ctx
        servers.append(srv)
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stderr.write(f"redfish_sim: listening on {', '.join(a.addr)} port {a.port}\n")
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
