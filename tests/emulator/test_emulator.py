#!/usr/bin/env python3
"""tests/emulator/test_emulator.py: the emulator's own tests, printing TAP.

Uses the emulator named by EMU_URL and ASTRO_CRED_CA_FILE when they are set
(tests/t/t0100-emulator.sh starts one with lib-emu.sh), else starts its own.
With EMU_TAP_EMBED=1 it prints unnumbered "ok - ..." lines and no plan, for
the shell wrapper to fold into its own TAP stream; the last line is then
"# test_emulator.py complete".  Python 3 standard library only.
"""

import base64
import gzip
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ORG = "clorgemulator000000000001"
DEFAULT_DEPLOYMENT = "cldepemulator000000000001"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUIRED = ("createdAt", "description", "id", "kind", "name", "scope",
            "shortToken", "startAt", "updatedAt")
TIMES = ("createdAt", "startAt", "updatedAt", "endAt", "lastUsedAt",
         "lastRotatedAt")


class Tap:
    def __init__(self, embed):
        self.embed = embed
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, *diag):
        self.n += 1
        word = "ok" if cond else "not ok"
        num = "" if self.embed else " %d" % self.n
        print("%s%s - %s" % (word, num, desc))
        if not cond:
            self.failed += 1
            for d in diag:
                for line in str(d).splitlines():
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r" % (got,),
                       "want: %r" % (want,))

    def done(self):
        if self.embed:
            print("# test_emulator.py complete")
        else:
            print("1..%d" % self.n)
        return 1 if self.failed else 0


class Emu:
    """A client for one emulator: API calls and control calls."""

    def __init__(self, url, ca):
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.ca = ca
        self.ctx = ssl.create_default_context(cafile=ca)

    def conn(self, timeout=20, port=None, host=None):
        return http.client.HTTPSConnection(
            host or self.host, port or self.port, context=self.ctx,
            timeout=timeout)

    def raw(self, method, path, token=None, body=None, headers=None,
            conn=None):
        """(status, headers, bytes); body is a dict (sent as JSON) or bytes."""
        c = conn or self.conn()
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, r, data
        finally:
            if conn is None:
                c.close()

    def call(self, method, path, token=None, body=None, base="/v1",
             **kw):
        """(status, decoded JSON or None, response)."""
        status, r, data = self.raw(method, base + path, token, body, **kw)
        obj = json.loads(data) if data.strip() else None
        return status, obj, r

    def ctl(self, method, path, body=None):
        status, r, data = self.raw(method, "/__emu/" + path, body=body)
        if r.getheader("Content-Type", "").startswith("application/json"):
            return status, json.loads(data)
        return status, data.decode()

    def bootstrap(self, **kw):
        status, tok = self.ctl("POST", "bootstrap", kw)
        assert status == 200, tok
        return tok

    def fault(self, **kw):
        status, out = self.ctl("POST", "faults", kw)
        assert status == 200, out

    def log(self):
        return [json.loads(line) for line in
                self.ctl("GET", "log")[1].splitlines()]

    def state(self, tid):
        return self.ctl("GET", "tokens/" + tid)[1]


def jwt_parts(token):
    parts = token.split(".")

    def dec(s):
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    return parts, dec(parts[0]), dec(parts[1])


def epoch(iso):
    return time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) - \
        time.mktime(time.gmtime(0))


def start_emulator(args=()):
    """Start a private emulator; returns (Popen, Emu, state dir)."""
    d = tempfile.mkdtemp(prefix="emu-test-")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "emulator.py"),
                          "--state-dir", d] + list(args),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while not os.path.exists(os.path.join(d, "port")):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("emulator did not start: %s" %
                               p.stderr.read().decode(errors="replace"))
        time.sleep(0.05)
    port = open(os.path.join(d, "port")).read().strip()
    return p, Emu("https://127.0.0.1:" + port, os.path.join(d, "ca.pem")), d


def token_fields(t, tok, what, secret):
    missing = [f for f in REQUIRED if f not in tok]
    bad_times = [f for f in TIMES if f in tok and not TIME_RE.match(tok[f])]
    t.ok(not missing and not bad_times, what + ": every required field, "
         "times as YYYY-MM-DDTHH:MM:SSZ", "missing %s, bad times %s in %r" %
         (missing, bad_times, tok))
    t.eq("token" in tok, secret, what + (": body includes the secret token"
                                         if secret else ": no token field"))


def error_body(t, obj, status, what, field=None):
    ok = isinstance(obj, dict) and obj.get("statusCode") == status and \
        isinstance(obj.get("message"), str) and obj["message"] and \
        isinstance(obj.get("requestId"), str) and obj["requestId"]
    if ok and field:
        ok = any(e.get("field") == field and e.get("code") and
                 e.get("message") for e in obj.get("fieldErrors") or [])
    t.ok(ok, what + ": Error body%s" % (" with fieldErrors[%s]" % field
                                        if field else ""), repr(obj))


# ---------------------------------------------------------------------------

def test_tls(t, e):
    for name in ("127.0.0.1", "localhost"):
        with socket.create_connection((e.host, e.port), timeout=10) as raw:
            with e.ctx.wrap_socket(raw, server_hostname=name) as s:
                t.ok(s.version() in ("TLSv1.2", "TLSv1.3"),
                     "certificate verifies for %s via ca.pem (%s)" %
                     (name, s.version()))
    ctx = ssl.create_default_context()
    try:
        with socket.create_connection((e.host, e.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                pass
        t.ok(False, "the system CA store does not trust the emulator")
    except ssl.SSLCertVerificationError:
        t.ok(True, "the system CA store does not trust the emulator")


def test_auth(t, e, boot):
    path = "/organizations/%s/tokens" % DEFAULT_ORG
    s, obj, _ = e.call("GET", path)
    t.eq(s, 401, "no Authorization header: 401")
    error_body(t, obj, 401, "401")
    s, _, _ = e.call("GET", path, headers={"Authorization": "Basic eDp5"})
    t.eq(s, 401, "Basic scheme: 401")
    s, _, _ = e.call("GET", path, "not-a-jwt")
    t.eq(s, 401, "garbage token: 401")
    parts = boot["token"].split(".")
    forged = parts[0] + "." + parts[1] + "." + parts[2][::-1]
    s, _, _ = e.call("GET", path, forged)
    t.eq(s, 401, "token with a bad signature: 401")
    s, obj, _ = e.call("GET", path, boot["token"])
    t.eq(s, 200, "bootstrap token lists: 200")


def test_create(t, e, boot):
    path = "/organizations/%s/tokens" % DEFAULT_ORG
    s, tok, _ = e.call("POST", path, boot["token"],
                       {"name": "org one", "role": "ORGANIZATION_MEMBER",
                        "scope": "ORGANIZATION", "description": "d1"})
    t.eq(s, 200, "create ORGANIZATION token: 200 (not 201)")
    token_fields(t, tok, "create", True)
    t.ok(tok.get("scope") == "ORGANIZATION" and tok["kind"] == "STANDARD" and
         tok["description"] == "d1" and tok["name"] == "org one",
         "create echoes name, description, scope, kind STANDARD", repr(tok))
    t.ok("endAt" not in tok and "expiryPeriodInDays" not in tok,
         "no expiry: no endAt", repr(tok))
    t.eq(tok.get("roles"), [{"entityId": DEFAULT_ORG, "entityType":
                             "ORGANIZATION", "role": "ORGANIZATION_MEMBER"}],
         "create: roles hold the scope's role")
    parts, head, claims = jwt_parts(tok["token"])
    t.ok(len(parts) == 3 and "=" not in tok["token"] and
         head == {"alg": "HS256", "typ": "JWT"}, "token is an HS256 JWT, "
         "base64url without padding", tok["token"])
    t.ok(claims.get("apiTokenId") == tok["id"] and
         claims.get("org_id") == DEFAULT_ORG and
         claims.get("permissions") == ["organizationId:" + DEFAULT_ORG] and
         isinstance(claims.get("iat"), int) and "exp" not in claims and
         claims.get("jti"), "claims: apiTokenId, org_id, permissions, iat, "
         "jti; no exp when it never expires", repr(claims))

    s, ws, _ = e.call("POST", path, boot["token"],
                      {"name": "ws", "role": "WORKSPACE_MEMBER",
                       "scope": "WORKSPACE", "entityId": "clwsone",
                       "tokenExpiryPeriodInDays": 30,
                       "kind": "DIRECT_ACCESS"})
    t.eq(s, 200, "create WORKSPACE token with expiry: 200")
    _, _, claims = jwt_parts(ws["token"])
    span = epoch(ws.get("endAt", "1970-01-01T00:00:00Z")) - \
        epoch(ws["startAt"])
    t.ok(ws.get("expiryPeriodInDays") == 30 and
         abs(span - 30 * 86400) <= 2, "expiry: endAt = startAt + 30 days, "
         "expiryPeriodInDays 30", repr(ws))
    t.ok(claims.get("exp") == epoch(ws["endAt"]) and
         claims["permissions"] == ["organizationId:" + DEFAULT_ORG,
                                   "workspaceId:clwsone"] and
         ws["kind"] == "DIRECT_ACCESS",
         "WORKSPACE token: exp = endAt, workspaceId permission, kind kept",
         repr(claims))
    s, dep, _ = e.call("POST", path, boot["token"],
                       {"name": "dep", "role": "DEPLOYMENT_ADMIN",
                        "scope": "DEPLOYMENT", "entityId": "cldepone"})
    _, _, claims = jwt_parts(dep["token"])
    t.ok(s == 200 and claims["permissions"] ==
         ["organizationId:" + DEFAULT_ORG, "deploymentId:cldepone"],
         "DEPLOYMENT token carries deploymentId", repr(claims))
    s, again, _ = e.call("POST", path, boot["token"],
                         {"name": "org one", "role": "ORGANIZATION_MEMBER",
                          "scope": "ORGANIZATION"})
    t.ok(s == 200 and again["token"] != tok["token"] and
         again["id"] != tok["id"], "two creates: distinct ids and secrets")
    return tok, ws, dep


def test_create_validation(t, e, boot):
    path = "/organizations/%s/tokens" % DEFAULT_ORG
    good = {"name": "n", "role": "WORKSPACE_MEMBER", "scope": "WORKSPACE",
            "entityId": "clws"}
    cases = [
        ({}, ["name", "role", "scope"]),
        ({"role": "ORGANIZATION_OWNER", "scope": "ORGANIZATION"}, ["name"]),
        ({"name": "", "role": "ORGANIZATION_OWNER", "scope": "ORGANIZATION"},
         ["name"]),
        (dict(good, entityId=None), ["entityId"]),
        (dict(good, scope="DEPLOYMENT", entityId=None), ["entityId"]),
        (dict(good, tokenExpiryPeriodInDays=0), ["tokenExpiryPeriodInDays"]),
        (dict(good, tokenExpiryPeriodInDays=3651),
         ["tokenExpiryPeriodInDays"]),
        (dict(good, tokenExpiryPeriodInDays="30"),
         ["tokenExpiryPeriodInDays"]),
        (dict(good, kind="BOGUS"), ["kind"]),
        (dict(good, scope="TEAM"), ["scope"]),
        (dict(good, scope="ORGANIZATION"), ["role"]),
        (dict(good, name=7), ["name"]),
    ]
    for body, fields in cases:
        body = {k: v for k, v in body.items() if v is not None}
        s, obj, _ = e.call("POST", path, boot["token"], body)
        got = sorted(f["field"] for f in (obj or {}).get("fieldErrors", []))
        t.ok(s == 400 and got == sorted(fields) and
             obj.get("statusCode") == 400,
             "create %s: 400 on %s" % (json.dumps(body), ",".join(fields)),
             "status %d body %r" % (s, obj))
    for s_body, what in ((dict(good, tokenExpiryPeriodInDays=1), "1"),
                         (dict(good, tokenExpiryPeriodInDays=3650), "3650")):
        s, _, _ = e.call("POST", path, boot["token"], s_body)
        t.eq(s, 200, "tokenExpiryPeriodInDays %s accepted" % what)
    for raw, what in ((b"{", "malformed JSON"), (b"", "empty body"),
                      (b"[1]", "a JSON array")):
        s, obj, _ = e.call("POST", path, boot["token"], raw)
        t.eq(s, 400, "create with %s: 400" % what)
    error_body(t, obj, 400, "400")


def test_get_update(t, e, boot, tok):
    base = "/organizations/%s/tokens/" % DEFAULT_ORG
    s, got, _ = e.call("GET", base + tok["id"], boot["token"])
    t.eq(s, 200, "get: 200")
    token_fields(t, got, "get", False)
    t.eq(got["id"], tok["id"], "get: same id")
    s, obj, _ = e.call("GET", base + "clnosuchtoken000000000000",
                       boot["token"])
    t.eq(s, 404, "get unknown id: 404")
    error_body(t, obj, 404, "404")
    s, up, _ = e.call("POST", base + tok["id"], boot["token"],
                      {"name": "renamed", "description": "new d"})
    t.ok(s == 200 and up["name"] == "renamed" and
         up["description"] == "new d" and "token" not in up,
         "update: 200, new name and description, no token", repr(up))
    s, up, _ = e.call("POST", base + tok["id"], boot["token"],
                      {"name": "renamed again"})
    t.ok(s == 200 and up["description"] == "new d",
         "update without description keeps it", repr(up))
    for body, field, what in (({"name": ""}, "name", "empty name"),
                              ({}, "name", "no name"),
                              ({"name": "x" * 257}, "name", "257-char name"),
                              ({"name": "x", "description": "d" * 501},
                               "description", "501-char description")):
        s, obj, _ = e.call("POST", base + tok["id"], boot["token"], body)
        t.eq(s, 400, "update with %s: 400" % what)
        error_body(t, obj, 400, "update " + what, field)
    s, _, _ = e.call("POST", base + tok["id"], boot["token"],
                     {"name": "x" * 256, "description": "d" * 500})
    t.eq(s, 200, "update at the limits (256, 500): 200")
    s, _, _ = e.call("POST", base + "clnosuchtoken000000000000",
                     boot["token"], {"name": "x"})
    t.eq(s, 404, "update unknown id: 404")


def test_roles(t, e, boot, tok):
    path = "/organizations/%s/tokens/%s/roles" % (DEFAULT_ORG, tok["id"])
    roles = [{"entityId": "clwsr", "entityType": "WORKSPACE",
              "role": "WORKSPACE_AUTHOR"},
             {"entityId": "cldepr", "entityType": "DEPLOYMENT",
              "role": "DEPLOYMENT_ADMIN"},
             {"entityId": "my_dag", "entityType": "DAG", "role": "DAG_VIEWER",
              "deploymentId": "cldepr"}]
    s, obj, _ = e.call("POST", path, boot["token"], {"roles": roles})
    t.eq(s, 200, "roles: 200")
    t.eq(obj, {"workspaceRoles": [{"workspaceId": "clwsr",
                                   "role": "WORKSPACE_AUTHOR"}],
               "deploymentRoles": [{"deploymentId": "cldepr",
                                    "role": "DEPLOYMENT_ADMIN"}],
               "dagRoles": [{"deploymentId": "cldepr", "role": "DAG_VIEWER",
                             "dagId": "my_dag"}]},
         "roles answers SubjectRoles")
    s, got, _ = e.call("GET", path[:-len("/roles")], boot["token"])
    t.eq(got.get("roles"), roles, "roles replaced the whole set")
    bad = [({"roles": []}, "roles"), ({}, "roles"),
           ({"roles": [dict(roles[0], entityType="TEAM")]},
            "roles[0].entityType"),
           ({"roles": [{"entityId": "d", "entityType": "DAG",
                        "role": "DAG_VIEWER"}]}, "roles[0].deploymentId"),
           ({"roles": [{"entityType": "WORKSPACE",
                        "role": "WORKSPACE_OWNER"}]}, "roles[0].entityId")]
    for body, field in bad:
        s, obj, _ = e.call("POST", path, boot["token"], body)
        t.eq(s, 400, "roles %s: 400" % json.dumps(body))
        error_body(t, obj, 400, "roles", field)


def test_rotate(t, e, boot):
    base = "/organizations/%s/tokens" % DEFAULT_ORG
    s, tok, _ = e.call("POST", base, boot["token"],
                       {"name": "rot", "role": "ORGANIZATION_MEMBER",
                        "scope": "ORGANIZATION",
                        "tokenExpiryPeriodInDays": 2})
    time.sleep(1.1)
    s, rot, _ = e.call("POST", base + "/%s/rotate" % tok["id"], boot["token"])
    t.eq(s, 200, "rotate: 200")
    token_fields(t, rot, "rotate", True)
    t.ok(rot["id"] == tok["id"] and rot["token"] != tok["token"] and
         TIME_RE.match(rot.get("lastRotatedAt", "")),
         "rotate: same id, new secret, lastRotatedAt", repr(rot))
    t.ok(epoch(rot["endAt"]) > epoch(tok["endAt"]) and
         abs(epoch(rot["endAt"]) - time.time() - 2 * 86400) <= 3 and
         rot["expiryPeriodInDays"] == 2,
         "rotate keeps the period: endAt = now + 2 days", repr(rot))
    s, _, _ = e.call("GET", base + "/" + tok["id"], tok["token"])
    t.eq(s, 401, "the old secret is dead at once: 401")
    last = e.log()[-1]
    t.ok(last["auth"] == "rotated" and last["tokenId"] == tok["id"],
         "the log tells a rotated-away secret apart", repr(last))
    s, _, _ = e.call("GET", base + "/" + tok["id"], rot["token"])
    t.eq(s, 200, "the new secret works")
    s, self_rot, _ = e.call("POST", base + "/%s/rotate" % tok["id"],
                            rot["token"])
    t.eq(s, 200, "a token may rotate itself")
    s, _, _ = e.call("GET", base + "/" + tok["id"], rot["token"])
    t.eq(s, 401, "after self-rotation its previous secret is dead")
    st = e.state(tok["id"])
    t.ok(st["rotations"] == 2 and st["valid"] and st["exists"],
         "token-state counts 2 rotations", repr(st))
    s, _, _ = e.call("POST", base + "/clnosuchtoken000000000000/rotate",
                     boot["token"])
    t.eq(s, 404, "rotate unknown id: 404")
    return self_rot


def test_delete(t, e, boot):
    base = "/organizations/%s/tokens" % DEFAULT_ORG
    s, tok, _ = e.call("POST", base, boot["token"],
                       {"name": "del", "role": "ORGANIZATION_MEMBER",
                        "scope": "ORGANIZATION"})
    s, r, data = e.raw("DELETE", "/v1" + base + "/" + tok["id"],
                       boot["token"])
    t.ok(s == 204 and data == b"", "delete: 204 with an empty body",
         "%d %r" % (s, data))
    s, _, _ = e.call("GET", base + "/" + tok["id"], boot["token"])
    t.eq(s, 404, "get after delete: 404")
    s, _, _ = e.call("DELETE", base + "/" + tok["id"], boot["token"])
    t.eq(s, 404, "delete again: 404")
    s, _, _ = e.call("GET", base + "/" + tok["id"], tok["token"])
    t.eq(s, 401, "a deleted token's secret: 401")
    st = e.state(tok["id"])
    t.ok(st["deleted"] and not st["exists"] and not st["valid"],
         "token-state: deleted", repr(st))


def test_pagination(t, e):
    org = "clorgpages00000000000000a"
    boot = e.bootstrap(org=org, name="page-boot")
    path = "/organizations/%s/tokens" % org
    c = e.conn()
    ids = {boot["id"]}
    for i in range(45):
        s, tok, _ = e.call("POST", path, boot["token"],
                           {"name": "page-%02d" % i, "role":
                            "ORGANIZATION_MEMBER", "scope": "ORGANIZATION",
                            "description": "%d" % (i % 3)}, conn=c)
        ids.add(tok["id"])
    c.close()
    seen, sizes = [], []
    for off in (0, 20, 40):
        s, page, _ = e.call("GET", path + "?offset=%d&limit=20" % off,
                            boot["token"])
        sizes.append((s, len(page["tokens"]), page["offset"], page["limit"],
                      page["totalCount"]))
        seen += [x["id"] for x in page["tokens"]]
    t.eq(sizes, [(200, 20, 0, 20, 46), (200, 20, 20, 20, 46),
                 (200, 6, 40, 20, 46)],
         "46 tokens in pages of 20: 20, 20, 6; totalCount 46")
    t.ok(len(seen) == 46 and set(seen) == ids,
         "the pages hold every token exactly once")
    s, page, _ = e.call("GET", path, boot["token"])
    t.ok(len(page["tokens"]) == 20 and page["limit"] == 20 and
         page["offset"] == 0, "default limit 20, offset 0")
    for q, n in (("limit=0", 0), ("limit=1000", 46), ("offset=46", 0),
                 ("offset=45&limit=5", 1)):
        s, page, _ = e.call("GET", path + "?" + q, boot["token"])
        t.ok(s == 200 and len(page["tokens"]) == n and
             page["totalCount"] == 46, "%s: %d tokens" % (q, n))
    for q, field in (("limit=1001", "limit"), ("limit=-1", "limit"),
                     ("offset=-1", "offset"), ("limit=ten", "limit"),
                     ("sorts=name:up", "sorts[0]"),
                     ("sorts=bogus:asc", "sorts[0]")):
        s, obj, _ = e.call("GET", path + "?" + q, boot["token"])
        t.eq(s, 400, "list %s: 400" % q)
        error_body(t, obj, 400, q, field)
    names = sorted(x for x in ["page-%02d" % i for i in range(45)] +
                   ["page-boot"])
    s, page, _ = e.call("GET", path + "?limit=100&sorts=name:asc",
                        boot["token"])
    t.eq([x["name"] for x in page["tokens"]], names, "sorts=name:asc")
    s, page, _ = e.call("GET", path + "?limit=100&sorts=name:desc",
                        boot["token"])
    t.eq([x["name"] for x in page["tokens"]], names[::-1], "sorts=name:desc")
    s, page, _ = e.call("GET", path + "?limit=100&sorts=description:desc&"
                        "sorts=name:asc", boot["token"])
    want = sorted(page["tokens"], key=lambda x: x["name"])
    want.sort(key=lambda x: x["description"], reverse=True)
    t.ok(s == 200 and [x["id"] for x in page["tokens"]] ==
         [x["id"] for x in want], "repeated sorts: description:desc, "
         "then name:asc")


def test_filters(t, e):
    org = "clorgfilters000000000000a"
    boot = e.bootstrap(org=org)
    path = "/organizations/%s/tokens" % org

    def create(**kw):
        s, tok, _ = e.call("POST", path, boot["token"], kw)
        assert s == 200, tok
        return tok["id"]
    o1 = create(name="o1", role="ORGANIZATION_MEMBER", scope="ORGANIZATION",
                kind="DIRECT_ACCESS")
    w1 = create(name="w1", role="WORKSPACE_OWNER", scope="WORKSPACE",
                entityId="clwsA")
    create(name="w2", role="WORKSPACE_OWNER", scope="WORKSPACE",
           entityId="clwsB")
    d1 = create(name="d1", role="DEPLOYMENT_ADMIN", scope="DEPLOYMENT",
                entityId="cldepX")
    s, _, _ = e.call("POST", path + "/%s/roles" % o1, boot["token"],
                     {"roles": [{"entityId": org, "entityType": "ORGANIZATION",
                                 "role": "ORGANIZATION_MEMBER"},
                                {"entityId": "cldepX",
                                 "entityType": "DEPLOYMENT",
                                 "role": "DEPLOYMENT_ADMIN"}]})

    def ids(q):
        s, page, _ = e.call("GET", path + "?" + q, boot["token"])
        assert s == 200, page
        return sorted(x["id"] for x in page["tokens"])
    t.eq(ids("includeOnlyOrganizationTokens=true"), sorted([boot["id"], o1]),
         "includeOnlyOrganizationTokens=true: organization tokens only")
    t.eq(len(ids("includeOnlyOrganizationTokens=false")), 5,
         "includeOnlyOrganizationTokens=false: all")
    t.eq(ids("workspaceId=clwsA"), [w1], "workspaceId filter")
    t.eq(ids("deploymentId=cldepX"), sorted([o1, d1]),
         "deploymentId: every token holding a role on the deployment")
    t.eq(ids("kind=DIRECT_ACCESS"), [o1], "kind filter")
    for q in ("kind=BAD", "includeOnlyOrganizationTokens=maybe"):
        s, _, _ = e.call("GET", path + "?" + q, boot["token"])
        t.eq(s, 400, "list %s: 400" % q)


def test_agent(t, e, boot):
    base = "/organizations/%s/deployments/cldepag/agent-tokens" % DEFAULT_ORG
    s, ag, _ = e.call("POST", base, boot["token"],
                      {"name": "agent", "tokenExpiryPeriodInDays": 7})
    t.eq(s, 200, "agent create: 200")
    token_fields(t, ag, "agent create", True)
    _, _, claims = jwt_parts(ag["token"])
    t.ok("deploymentId:cldepag" in claims["permissions"] and
         claims["apiTokenId"] == ag["id"] and ag["scope"] == "DEPLOYMENT" and
         ag["expiryPeriodInDays"] == 7,
         "agent token carries its deployment", repr(claims))
    s, page, _ = e.call("GET", base, boot["token"])
    t.ok(s == 200 and [x["id"] for x in page["tokens"]] == [ag["id"]] and
         page["totalCount"] == 1 and page["limit"] == 20 and
         page["offset"] == 0, "agent list: {tokens, limit, offset, "
         "totalCount}", repr(page))
    s, got, _ = e.call("GET", base + "/" + ag["id"], boot["token"])
    t.eq(s, 200, "agent get: 200")
    token_fields(t, got, "agent get", False)
    s, _, _ = e.call("GET", base + "/" + ag["id"], ag["token"])
    t.eq(s, 200, "an agent token may read itself")
    s, _, _ = e.call("GET", "/organizations/%s/tokens" % DEFAULT_ORG,
                     ag["token"])
    t.eq(s, 403, "an agent token may not list API tokens")
    s, page, _ = e.call("GET", "/organizations/%s/tokens?limit=1000" %
                        DEFAULT_ORG, boot["token"])
    t.ok(ag["id"] not in [x["id"] for x in page["tokens"]],
         "agent tokens are not in the /tokens collection")
    s, _, _ = e.call("POST", "/organizations/%s/tokens/%s/rotate" %
                     (DEFAULT_ORG, ag["id"]), boot["token"])
    t.eq(s, 404, "agent tokens cannot be rotated: 404 on /tokens/{id}/rotate")
    s, _, r = e.call("POST", base + "/" + ag["id"], boot["token"],
                     {"name": "x"})
    t.ok(s == 405 and "GET" in r.getheader("Allow", ""),
         "agent tokens cannot be updated: 405 with Allow")
    s, _, _ = e.call("GET", "/organizations/%s/deployments/clother/"
                     "agent-tokens/%s" % (DEFAULT_ORG, ag["id"]),
                     boot["token"])
    t.eq(s, 404, "agent get under another deployment: 404")
    for body, field in (({}, "name"), ({"name": "a",
                                        "tokenExpiryPeriodInDays": 0},
                                       "tokenExpiryPeriodInDays")):
        s, obj, _ = e.call("POST", base, boot["token"], body)
        t.eq(s, 400, "agent create %s: 400" % json.dumps(body))
        error_body(t, obj, 400, "agent create", field)
    s, _, data = e.raw("DELETE", "/v1" + base + "/" + ag["id"],
                       boot["token"])
    t.ok(s == 204 and data == b"", "agent delete: 204, empty")
    s, _, _ = e.call("GET", base + "/" + ag["id"], boot["token"])
    t.eq(s, 404, "agent get after delete: 404")
    s, _, _ = e.call("GET", base, ag["token"])
    t.eq(s, 401, "a deleted agent token's secret: 401")


def test_beta(t, e, boot):
    path = "/organizations/%s/tokens" % DEFAULT_ORG
    s, tok, _ = e.call("POST", path, boot["token"],
                       {"name": "beta", "role": "WORKSPACE_MEMBER",
                        "type": "WORKSPACE", "entityId": "clwsbeta"},
                       base="/iam/v1beta1")
    t.ok(s == 200 and tok.get("type") == "WORKSPACE" and "scope" not in tok,
         "v1beta1 create takes and answers `type`", repr(tok))
    s, obj, _ = e.call("POST", path, boot["token"],
                       {"name": "beta", "role": "WORKSPACE_MEMBER",
                        "scope": "WORKSPACE", "entityId": "clwsbeta"},
                       base="/iam/v1beta1")
    t.eq(s, 400, "v1beta1 create with `scope` instead of `type`: 400")
    error_body(t, obj, 400, "v1beta1", "type")
    s, page, _ = e.call("GET", path, boot["token"], base="/iam/v1beta1")
    t.ok(s == 200 and all("type" in x and "scope" not in x
                          for x in page["tokens"]),
         "v1beta1 list items use `type`")
    s, got, _ = e.call("GET", path + "/" + tok["id"], boot["token"])
    t.ok(s == 200 and got.get("scope") == "WORKSPACE" and "type" not in got,
         "the same token read through /v1 has `scope`")
    s, rot, _ = e.call("POST", path + "/%s/rotate" % tok["id"],
                       boot["token"], base="/iam/v1beta1")
    t.ok(s == 200 and rot.get("type") == "WORKSPACE" and rot.get("token"),
         "v1beta1 rotate")
    # v1beta1 split the API: agent tokens are the platform API's.
    agents = "/organizations/%s/deployments/%s/agent-tokens" % (
        DEFAULT_ORG, DEFAULT_DEPLOYMENT)
    s, ag, _ = e.call("POST", agents, boot["token"], {"name": "beta-agent"},
                      base="/platform/v1beta1")
    t.ok(s == 200 and ag.get("token") and ag.get("type") == "DEPLOYMENT" and
         "scope" not in ag, "v1beta1 agent create under /platform/v1beta1",
         repr(ag))
    s, got, _ = e.call("GET", agents + "/" + ag["id"], boot["token"],
                       base="/platform/v1beta1")
    t.ok(s == 200 and got.get("id") == ag["id"],
         "v1beta1 agent get under /platform/v1beta1")
    s, page, _ = e.call("GET", agents, boot["token"],
                        base="/platform/v1beta1")
    t.ok(s == 200 and ag["id"] in [x["id"] for x in page["tokens"]],
         "v1beta1 agent list under /platform/v1beta1")
    for method in ("GET", "POST"):
        s, _, _ = e.call(method, agents, boot["token"],
                         {"name": "x"} if method == "POST" else None,
                         base="/iam/v1beta1")
        t.eq(s, 404, "no agent tokens under /iam/v1beta1 (%s)" % method)
    s, _, _ = e.call("GET", agents + "/" + ag["id"], boot["token"],
                     base="/iam/v1beta1")
    t.eq(s, 404, "no agent token get under /iam/v1beta1")
    s, _, _ = e.call("GET", path, boot["token"], base="/platform/v1beta1")
    t.eq(s, 404, "no /tokens under /platform/v1beta1")
    s, _, _ = e.call("DELETE", agents + "/" + ag["id"], boot["token"],
                     base="/platform/v1beta1")
    t.eq(s, 204, "v1beta1 agent delete under /platform/v1beta1")


def test_routing(t, e, boot):
    org_path = "/organizations/%s/tokens" % DEFAULT_ORG
    for method, path, want in (
            ("GET", "/v1/organizations", 404),
            ("GET", "/v2" + org_path, 404),
            ("GET", "/v1" + org_path + "/", 404),
            ("PUT", "/v1" + org_path, 405),
            ("DELETE", "/v1" + org_path, 405),
            ("PATCH", "/v1" + org_path + "/clx", 405),
            ("GET", "/v1" + org_path + "/clx/rotate", 405)):
        s, r, data = e.raw(method, path, boot["token"])
        t.eq(s, want, "%s %s: %d" % (method, path, want))
    obj = json.loads(data)
    error_body(t, obj, 405, "405")
    t.eq(r.getheader("Allow"), "POST", "405 names the allowed methods")


def test_permissions(t, e, boot_other):
    org = "clorgperms00000000000000a"
    root = e.bootstrap(org=org)
    path = "/organizations/%s/tokens" % org
    e.ctl("POST", "deployments", {"deployment": "cldepB",
                                  "workspace": "clwsB"})

    def create(by, **kw):
        s, tok, _ = e.call("POST", path, by["token"], kw)
        return s, tok
    _, wa = create(root, name="wa", role="WORKSPACE_OWNER",
                   scope="WORKSPACE", entityId="clwsA")
    _, wb = create(root, name="wb", role="WORKSPACE_OWNER",
                   scope="WORKSPACE", entityId="clwsB")
    s, da = create(wa, name="da", role="DEPLOYMENT_ADMIN",
                   scope="DEPLOYMENT", entityId="cldepA")
    t.eq(s, 200, "WORKSPACE token creates a DEPLOYMENT token for a new "
         "deployment (claims it)")
    s, page, _ = e.call("GET", path + "?limit=100", wa["token"])
    t.ok(s == 200 and sorted(x["id"] for x in page["tokens"]) ==
         sorted([wa["id"], da["id"]]), "WORKSPACE token lists only what it "
         "manages", repr(page))
    agents = "/organizations/%s/deployments/%%s/agent-tokens" % org
    checks = [
        ("WORKSPACE lists another workspace", wa, "GET",
         path + "?workspaceId=clwsB", None, 403),
        ("WORKSPACE lists organization tokens only", wa, "GET",
         path + "?includeOnlyOrganizationTokens=true", None, 403),
        ("WORKSPACE creates an ORGANIZATION token", wa, "POST", path,
         {"name": "o", "role": "ORGANIZATION_OWNER",
          "scope": "ORGANIZATION"}, 403),
        ("WORKSPACE creates a token of another workspace", wa, "POST", path,
         {"name": "w", "role": "WORKSPACE_OWNER", "scope": "WORKSPACE",
          "entityId": "clwsB"}, 403),
        ("WORKSPACE creates a token of its workspace", wa, "POST", path,
         {"name": "w", "role": "WORKSPACE_OWNER", "scope": "WORKSPACE",
          "entityId": "clwsA"}, 200),
        ("WORKSPACE creates a token of another workspace's deployment", wa,
         "POST", path, {"name": "d", "role": "DEPLOYMENT_ADMIN",
                        "scope": "DEPLOYMENT", "entityId": "cldepB"}, 403),
        ("WORKSPACE reads another workspace's token", wa, "GET",
         path + "/" + wb["id"], None, 403),
        ("WORKSPACE reads an ORGANIZATION token", wa, "GET",
         path + "/" + root["id"], None, 403),
        ("WORKSPACE reads its deployment's token", wa, "GET",
         path + "/" + da["id"], None, 200),
        ("WORKSPACE updates another workspace's token", wa, "POST",
         path + "/" + wb["id"], {"name": "x"}, 403),
        ("WORKSPACE rotates another workspace's token", wa, "POST",
         path + "/%s/rotate" % wb["id"], None, 403),
        ("WORKSPACE deletes another workspace's token", wa, "DELETE",
         path + "/" + wb["id"], None, 403),
        ("WORKSPACE grants a role in another workspace", wa, "POST",
         path + "/%s/roles" % da["id"],
         {"roles": [{"entityId": "clwsB", "entityType": "WORKSPACE",
                     "role": "WORKSPACE_OWNER"}]}, 403),
        ("WORKSPACE grants a role on its deployment", wa, "POST",
         path + "/%s/roles" % da["id"],
         {"roles": [{"entityId": "cldepA", "entityType": "DEPLOYMENT",
                     "role": "DEPLOYMENT_ADMIN"}]}, 200),
        ("DEPLOYMENT lists tokens", da, "GET", path, None, 403),
        ("DEPLOYMENT reads itself", da, "GET", path + "/" + da["id"], None,
         200),
        ("DEPLOYMENT reads another token", da, "GET", path + "/" + wa["id"],
         None, 403),
        ("DEPLOYMENT updates itself", da, "POST", path + "/" + da["id"],
         {"name": "x"}, 403),
        ("DEPLOYMENT deletes another token", da, "DELETE",
         path + "/" + wb["id"], None, 403),
        ("DEPLOYMENT creates an agent token of its deployment", da, "POST",
         agents % "cldepA", {"name": "ag"}, 200),
        ("DEPLOYMENT lists agent tokens of its deployment", da, "GET",
         agents % "cldepA", None, 200),
        ("DEPLOYMENT creates an agent token of another deployment", da,
         "POST", agents % "cldepB", {"name": "ag"}, 403),
        ("WORKSPACE creates an agent token outside its workspace", wa,
         "POST", agents % "cldepB", {"name": "ag"}, 403),
        ("WORKSPACE creates an agent token of a mapped deployment", wb,
         "POST", agents % "cldepB", {"name": "ag"}, 200),
        ("ORGANIZATION lists another organization", root, "GET",
         "/organizations/%s/tokens" % DEFAULT_ORG, None, 403),
        ("ORGANIZATION reads itself under another organization", root,
         "GET", "/organizations/%s/tokens/%s" % (DEFAULT_ORG, root["id"]),
         None, 403),
        ("ORGANIZATION reads another organization's token by its own path",
         root, "GET", path + "/" + boot_other["id"], None, 404),
    ]
    for what, who, method, p, body, want in checks:
        s, obj, _ = e.call(method, p, who["token"], body)
        t.ok(s == want, "%s: %d" % (what, want), "got %d %r" % (s, obj))
    s, rot, _ = e.call("POST", path + "/%s/rotate" % da["id"], da["token"])
    t.eq(s, 200, "DEPLOYMENT token rotates itself")
    s, _, _ = e.call("DELETE", path + "/" + da["id"], rot["token"])
    t.eq(s, 204, "DEPLOYMENT token deletes itself")
    s, _, _ = e.call("GET", path + "/" + da["id"], rot["token"])
    t.eq(s, 401, "and is then dead")


def test_expiry(t, e):
    p, e2, d = start_emulator(["--day-seconds", "1"])
    try:
        short = e.bootstrap(expiresIn=1, name="short")
        forced = e.bootstrap(name="forced")
        _, _, claims = jwt_parts(short["token"])
        own = "/organizations/%s/tokens/" % DEFAULT_ORG
        s, _, _ = e.call("GET", own + short["id"], short["token"])
        t.ok(s == 200 and "exp" in claims, "--expires-in 1: valid at first, "
             "exp claim present")
        e.ctl("POST", "tokens/%s/expire" % forced["id"])
        s, obj, _ = e.call("GET", own + forced["id"], forced["token"])
        t.ok(s == 401 and "expired" in obj["message"],
             "force-expired token: 401 'expired'", repr(obj))
        boot2 = e2.bootstrap()
        s, tok, _ = e2.call("POST", own[:-1], boot2["token"],
                            {"name": "2 days", "role": "ORGANIZATION_MEMBER",
                             "scope": "ORGANIZATION",
                             "tokenExpiryPeriodInDays": 2})
        span = epoch(tok["endAt"]) - epoch(tok["startAt"])
        t.ok(s == 200 and 2 <= span <= 3 and tok["expiryPeriodInDays"] == 2,
             "--day-seconds 1: a 2-day token lasts 2 s", repr(tok))
        s, _, _ = e2.call("GET", own + tok["id"], tok["token"])
        t.eq(s, 200, "--day-seconds 1: valid at first")
        time.sleep(max(0, epoch(tok["endAt"]) - time.time()) + 0.3)
        for emu, what, tk in ((e, "--expires-in 1", short),
                              (e2, "2 emulated days", tok)):
            s, obj, _ = emu.call("GET", own + tk["id"], tk["token"])
            t.ok(s == 401 and "expired" in obj["message"],
                 what + ": 401 'expired' once past endAt", repr(obj))
        st = e.state(short["id"])
        t.ok(st["exists"] and not st["valid"], "token-state: not valid",
             repr(st))
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        t.ok(rc == 0 and not os.path.exists(os.path.join(d, "port")),
             "SIGTERM stops the emulator and removes its port file",
             "rc %r" % rc)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def expect_conn_error(t, e, method, path, token, what):
    try:
        s, _, _ = e.raw(method, path, token)
        t.ok(False, what, "got status %d" % s)
    except (OSError, http.client.HTTPException) as ex:
        t.ok(True, what + " (%s)" % type(ex).__name__)


def test_faults(t, e, boot):
    path = "/v1/organizations/%s/tokens" % DEFAULT_ORG
    tk = boot["token"]
    e.ctl("DELETE", "faults")
    e.fault(type="latency", ms=400)
    t0 = time.time()
    s, _, _ = e.raw("GET", path, tk)
    t.ok(s == 200 and time.time() - t0 >= 0.35, "latency 400 ms: delayed, "
         "then answered")
    t.eq(e.ctl("GET", "faults")[1]["faults"], [], "a count-1 fault is used up")
    e.fault(type="status", code=503, retryAfter="7")
    s, r, data = e.raw("GET", path, tk)
    t.ok(s == 503 and r.getheader("Retry-After") == "7" and
         json.loads(data)["statusCode"] == 503, "status 503 with Retry-After "
         "7", "%d %r" % (s, data))
    error_body(t, json.loads(data), 503, "injected 503")
    s, _, _ = e.raw("GET", path, tk)
    t.eq(s, 200, "the request after it is normal")
    for ra in ("Wed, 21 Oct 2015 07:28:00 GMT", "-5", "garbage", "86400"):
        e.fault(type="status", code=429, retryAfter=ra)
        s, r, _ = e.raw("GET", path, tk)
        t.ok(s == 429 and r.getheader("Retry-After") == ra,
             "429 with Retry-After %r verbatim" % ra)
    e.fault(type="status", code=500, count=2)
    got = [e.raw("GET", path, tk)[0] for _ in range(3)]
    t.eq(got, [500, 500, 200], "--count 2: two 500s, then normal")
    e.fault(type="status", code=503)
    s, r, _ = e.raw("GET", path, tk)
    t.ok(s == 503 and r.getheader("Retry-After") is None,
         "503 without Retry-After when none given")

    s, victim, _ = e.call("POST", path[3:], tk,
                          {"name": "victim", "role": "ORGANIZATION_MEMBER",
                           "scope": "ORGANIZATION"})
    vpath = path + "/" + victim["id"]
    e.fault(type="status", code=500, op="rotate")
    s, _, _ = e.raw("GET", vpath, tk)
    t.eq(s, 200, "--op rotate leaves a get alone")
    s, _, _ = e.raw("POST", vpath + "/rotate", tk)
    t.ok(s == 500 and e.state(victim["id"])["rotations"] == 0,
         "--op rotate: the rotate gets 500 and is not performed")

    e.ctl("DELETE", "log")
    e.fault(type="drop-after-commit", op="rotate")
    expect_conn_error(t, e, "POST", vpath + "/rotate", tk,
                      "drop-after-commit rotate: no response")
    st = e.state(victim["id"])
    t.eq(st["rotations"], 1, "drop-after-commit: the rotation was committed")
    s, _, _ = e.raw("GET", vpath, victim["token"])
    t.eq(s, 401, "drop-after-commit: the old secret is dead")
    s, n = e.ctl("GET", "count?op=rotate")
    t.eq(n["count"], 1, "the log counts exactly one rotate")
    e.fault(type="drop-after-commit", op="create", mode="fin")
    s, before, _ = e.call("GET", path[3:] + "?limit=1", tk)
    expect_conn_error(t, e, "POST", path, tk,
                      "drop-after-commit create (fin): no response")
    # raw() sent no body; the create failed validation but was still
    # answered by silence.  Now a real one:
    e.fault(type="drop-after-commit", op="create")
    c = e.conn()
    try:
        c.request("POST", path, body=json.dumps(
            {"name": "lost", "role": "ORGANIZATION_MEMBER",
             "scope": "ORGANIZATION"}), headers={
                "Authorization": "Bearer " + tk})
        c.getresponse()
        t.ok(False, "drop-after-commit create: no response")
    except (OSError, http.client.HTTPException):
        t.ok(True, "drop-after-commit create: no response")
    finally:
        c.close()
    s, after, _ = e.call("GET", path[3:] + "?limit=1", tk)
    t.eq(after["totalCount"], before["totalCount"] + 1,
         "drop-after-commit create: the token was created")
    e.fault(type="drop-after-commit", op="delete")
    expect_conn_error(t, e, "DELETE", vpath, tk,
                      "drop-after-commit delete: no response")
    t.ok(e.state(victim["id"])["deleted"], "drop-after-commit delete: "
         "the token was deleted")

    trap = "https://127.0.0.1:%d/stolen?x=1" % e.trap_port
    e.fault(type="redirect", location=trap)
    s, r, _ = e.raw("GET", path, tk)
    t.ok(s == 302 and r.getheader("Location") == trap, "redirect: 302 with "
         "Location", "%d %r" % (s, r.getheader("Location")))
    e.fault(type="redirect", location=trap, code=308)
    s, r, _ = e.raw("GET", path, tk)
    t.eq(s, 308, "redirect --code 308")
    e.ctl("DELETE", "trap-log")
    s, _, data = e.raw("GET", "/stolen?x=1", conn=e.conn(port=e.trap_port))
    s2, _, data2 = e.raw("POST", "/stolen", "secret-here",
                         conn=e.conn(port=e.trap_port))
    log = [json.loads(x) for x in e.ctl("GET", "trap-log")[1].splitlines()]
    t.ok(s == 200 and s2 == 200 and json.loads(data) == {} and
         [(x["method"], x["path"], x["authorization"]) for x in log] ==
         [("GET", "/stolen", False), ("POST", "/stolen", True)],
         "trap: answers 200 {} and records method, path, Authorization",
         repr(log))

    e.fault(type="slow-body", intervalMs=2000)
    c = e.conn(timeout=10)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + tk})
        r = c.getresponse()
        c.sock.settimeout(1.0)
        got = b""
        try:
            while len(got) < 100:
                b = r.read(1)
                if not b:
                    break
                got += b
        except (socket.timeout, TimeoutError):
            pass
        t.ok(r.status == 200 and int(r.getheader("Content-Length")) >=
             1 << 20 and 1 <= len(got) < 10, "slow-body: headers, a big "
             "Content-Length, then a trickle", "%d bytes" % len(got))
    finally:
        c.close()
    s, _, _ = e.raw("GET", path, tk)
    t.eq(s, 200, "after slow-body the emulator answers normally")

    n = 3 * 1000 * 1000 + 7
    e.fault(type="big-body", bytes=n)
    s, r, data = e.raw("GET", path, tk)
    t.ok(s == 200 and len(data) == n and r.getheader("Content-Length") ==
         str(n) and data.startswith(b'{"tokens":[],"filler":"'),
         "big-body: %d bytes with Content-Length" % n)
    e.fault(type="big-body", bytes=n, chunked=True)
    s, r, data = e.raw("GET", path, tk)
    t.ok(s == 200 and len(data) == n and r.getheader("Content-Length") is
         None and r.getheader("Transfer-Encoding") == "chunked",
         "big-body --chunked: %d bytes chunked" % n)
    e.fault(type="big-body", bytes=n, gzip=True)
    s, r, data = e.raw("GET", path, tk)
    t.ok(s == 200 and r.getheader("Content-Encoding") == "gzip" and
         len(data) < n // 100 and len(gzip.decompress(data)) == n,
         "big-body --gzip: %d compressed bytes inflate to %d" %
         (len(data), n))

    e.fault(type="html")
    s, r, data = e.raw("GET", path, tk)
    t.ok(s == 200 and r.getheader("Content-Type").startswith("text/html") and
         b"<html>" in data, "html: 200 text/html captive portal")

    e.fault(type="status", code=503, count=0)
    got = [e.raw("GET", path, tk)[0] for _ in range(3)]
    s, health = e.ctl("GET", "health")
    e.ctl("DELETE", "faults")
    got.append(e.raw("GET", path, tk)[0])
    t.ok(got == [503, 503, 503, 200] and health == {"ok": True},
         "--count 0 lasts until fault clear; control endpoints unaffected",
         repr(got))
    s, out = e.ctl("POST", "faults", {"type": "nonsense"})
    t.eq(s, 400, "an unknown fault type is refused")


def test_concurrency(t, e, boot):
    n = 128
    barrier = threading.Barrier(n, timeout=30)
    results = [None] * n
    path = "/v1/organizations/%s/tokens/%s" % (DEFAULT_ORG, boot["id"])

    def worker(i):
        c = e.conn(timeout=30)
        try:
            c.connect()
            barrier.wait()
            statuses = []
            for _ in range(2):
                statuses.append(e.raw("GET", path, boot["token"], conn=c)[0])
            results[i] = statuses
        except Exception as ex:
            results[i] = repr(ex)
        finally:
            c.close()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    bad = [r for r in results if r != [200, 200]]
    t.ok(not bad, "%d simultaneous connections, 2 keep-alive requests each: "
         "all 200" % n, "%d failed: %r" % (len(bad), bad[:3]))


def test_log(t, e, boot):
    e.ctl("DELETE", "log")
    path = "/v1/organizations/%s/tokens/%s" % (DEFAULT_ORG, boot["id"])
    e.raw("GET", path, boot["token"])
    e.raw("GET", path)
    e.ctl("GET", "health")
    log = e.log()
    t.ok(len(log) == 2 and all(k in log[0] for k in
                               ("method", "path", "tokenId", "status", "op")),
         "log: one entry per API request, none for control", repr(log))
    t.ok(log and log[0]["op"] == "get" and log[0]["status"] == 200 and
         log[0]["tokenId"] == boot["id"] and log[0]["path"] == path and
         log[1]["status"] == 401 and log[1]["tokenId"] is None,
         "log entries: op, status, caller's tokenId", repr(log))
    s, n = e.ctl("GET", "count?op=get&status=401")
    t.eq(n["count"], 1, "count by op and status")
    s, out = e.ctl("GET", "tokens/clnosuch")
    t.eq(s, 404, "token-state of an unknown id: 404")


def main():
    embed = os.environ.get("EMU_TAP_EMBED") == "1"
    t = Tap(embed)
    own = None
    try:
        if os.environ.get("EMU_URL") and os.environ.get("ASTRO_CRED_CA_FILE"):
            e = Emu(os.environ["EMU_URL"], os.environ["ASTRO_CRED_CA_FILE"])
            d = os.path.dirname(os.environ["ASTRO_CRED_CA_FILE"])
        else:
            own, e, d = start_emulator()
        e.trap_port = int(open(os.path.join(d, "trap_port")).read())
        boot = e.bootstrap()
        test_tls(t, e)
        test_auth(t, e, boot)
        tok, ws, dep = test_create(t, e, boot)
        test_create_validation(t, e, boot)
        test_get_update(t, e, boot, tok)
        test_roles(t, e, boot, ws)
        test_rotate(t, e, boot)
        test_delete(t, e, boot)
        test_pagination(t, e)
        test_filters(t, e)
        test_agent(t, e, boot)
        test_beta(t, e, boot)
        test_routing(t, e, boot)
        test_permissions(t, e, boot)
        test_faults(t, e, boot)
        test_concurrency(t, e, boot)
        test_log(t, e, boot)
        test_expiry(t, e)
    except Exception:
        t.ok(False, "test_emulator.py ran to the end", traceback.format_exc())
    finally:
        if own is not None:
            own.terminate()
            own.wait()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
