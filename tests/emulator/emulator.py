#!/usr/bin/env python3
"""tests/emulator/emulator.py: local Astro API emulator for astro-cred's tests.

Python 3 standard library only.  HTTPS on 127.0.0.1 with a throw-away CA made
by the `openssl` command.  It emulates the token paths of the Astro Platform
API (../shared/reference/astro-api-v1.openapi.yml: ListApiTokens,
CreateApiToken, GetApiToken, UpdateApiToken, UpdateApiTokenRoles,
RotateApiToken, DeleteApiToken, ListAgentTokens, CreateAgentToken,
GetAgentToken, DeleteAgentToken) under /v1 and under the deprecated v1beta1
bases: /iam/v1beta1 for the /tokens paths and /platform/v1beta1 for the
agent-tokens paths (identical to /v1, except that the token's scope field is
called `type` there, in requests and in responses).

    emulator.py --state-dir DIR [--port 0] [--trap-port 0] [--day-seconds N]
                [--exit-with-parent] [--verbose]

DIR receives ca.pem (the CA to trust), the server key and certificate, pid,
trap_port and, last and atomically once both listeners listen, port.

Permission model (scope decides; a token's role is recorded, not enforced)
--------------------------------------------------------------------------
Every API call needs `Authorization: Bearer <token>`.  A missing, malformed,
badly signed, unknown, rotated-away, deleted or expired token gets 401.  A
path naming an organization other than the caller's gets 403.  Then:
  * ORGANIZATION token: every operation on every token of its organization,
    agent tokens included.
  * WORKSPACE token (workspace W): list (only the tokens it manages; 403 when
    asking for another workspace or for organization tokens only), create,
    get, update, roles, rotate and delete of WORKSPACE tokens of W and of
    DEPLOYMENT tokens of deployments in W; agent tokens of deployments in W.
    Roles it grants must lie inside W (its deployments and their DAGs).
  * DEPLOYMENT token (deployment D): get, rotate and delete itself; list,
    create, get and delete agent tokens of D.
  * Agent token: get itself (agent-tokens path) and nothing else.
  * Any ORGANIZATION/WORKSPACE/DEPLOYMENT token may get and rotate itself.
  Everything else is 403.  Deployments map to workspaces: a deployment is
  placed in a workspace on first use (a WORKSPACE token touching an unknown
  deployment claims it for its own workspace; anything else places it in
  DEFAULT_WORKSPACE), or explicitly by bootstrap --workspace / deployments.

Tokens are HS256 JWTs signed with a per-run secret: apiTokenId, org_id,
permissions ("organizationId:O" plus "workspaceId:W" or "deploymentId:D";
agent tokens carry the deployment and its workspace), iat, exp (absent when
the token never expires), iss, sub and a random jti, so every secret is
unique.  Rotation mints a new jti; only the newest jti of a token is valid.
One "day" of tokenExpiryPeriodInDays lasts --day-seconds real seconds.

Control endpoints (no auth, never logged, never faulted), behind emuctl
-----------------------------------------------------------------------
  GET    /__emu/health                 {"ok": true}
  POST   /__emu/bootstrap              {scope, role, org, entity, workspace,
                                        expiresIn, name, description, kind}
                                       -> token object (v1 shape) with token
  POST   /__emu/bootstrap-agent        {org, deployment, workspace,
                                        expiresIn, name, description}
  POST   /__emu/deployments            {deployment, workspace}: map one
  GET    /__emu/log                    request log, JSON lines
  DELETE /__emu/log                    clear it
  GET    /__emu/count?op=OP[&status=N] {"count": N}
  GET    /__emu/faults                 the pending faults
  POST   /__emu/faults                 {type, count, op, ...}: add one
  DELETE /__emu/faults                 clear them
  GET    /__emu/tokens/ID              {exists, valid, rotations, deleted,
                                        expiresAt, ...}
  POST   /__emu/tokens/ID/expire       force-expire now
  GET    /__emu/trap-log               trap listener's log, JSON lines
  DELETE /__emu/trap-log               clear it
  GET    /__emu/state                  every token (no secrets), the map
  POST   /__emu/snapshots/NAME         save the tokens and the map as NAME
  POST   /__emu/snapshots/NAME/restore put them back as they were (the
                                       log, faults and signing key stay)

Request log entry (one per API request, written before the response):
  {"method","path","query","op","tokenId" (the caller's, when the bearer is
  a well-signed emulator token, else null),"target","auth","status","fault",
  "time"}; op is list, create, get, update, roles, rotate, delete,
  agent_list, agent_create, agent_get, agent_delete or unknown.

Faults (each applies to the next matching API requests, `count` of them,
0 meaning until cleared; `op` restricts it to one operation):
  latency {ms}                     sleep, then answer normally (combines
                                   with one of the others)
  status {code, retryAfter}        answer code with an Error body and the
                                   Retry-After header verbatim
  drop-after-commit {op, mode}     perform the operation, log it, then reset
                                   the TCP connection (mode rst, default) or
                                   close it (fin), sending no response
  redirect {location, code}        answer code (302) with Location
  slow-body {intervalMs}           headers with Content-Length 1 MiB, then one
                                   byte every intervalMs (2000) until the
                                   client goes
  big-body {bytes, chunked, gzip}  200 with that many bytes of JSON-ish
                                   filler, streamed; gzip sends it
                                   Content-Encoding: gzip (chunked)
  html                             200 text/html captive portal page
"""

import argparse
import base64
import copy
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_ORG = "clorgemulator000000000001"
DEFAULT_WORKSPACE = "clwsemulator0000000000001"
DEFAULT_DEPLOYMENT = "cldepemulator000000000001"
BOOTSTRAP_USER = {
    "id": "clusremulator000000000001",
    "subjectType": "USER",
    "username": "bootstrap@emulator.invalid",
    "fullName": "Emulator Bootstrap",
}

SCOPES = ("ORGANIZATION", "WORKSPACE", "DEPLOYMENT")
KINDS = ("STANDARD", "DIRECT_ACCESS")
ENTITY_TYPES = ("ORGANIZATION", "WORKSPACE", "DEPLOYMENT", "DAG", "DAG_TAG")
ORG_ROLES = ("ORGANIZATION_OWNER", "ORGANIZATION_BILLING_ADMIN",
             "ORGANIZATION_MEMBER", "ORGANIZATION_OBSERVE_ADMIN",
             "ORGANIZATION_OBSERVE_MEMBER")
WORKSPACE_ROLES = ("WORKSPACE_OWNER", "WORKSPACE_OPERATOR", "WORKSPACE_AUTHOR",
                   "WORKSPACE_MEMBER", "WORKSPACE_ACCESSOR")
DEFAULT_ROLES = {"ORGANIZATION": "ORGANIZATION_OWNER",
                 "WORKSPACE": "WORKSPACE_OWNER",
                 "DEPLOYMENT": "DEPLOYMENT_ADMIN"}
TOKEN_SORTS = ("name", "description", "createdAt", "updatedAt", "tokenStartAt")
AGENT_SORTS = TOKEN_SORTS + ("createdById", "updatedById")
EXPIRY_MIN, EXPIRY_MAX = 1, 3650
LIMIT_DEFAULT, LIMIT_MAX = 20, 1000
UPDATE_NAME_MAX, UPDATE_DESCRIPTION_MAX = 256, 500
BODY_MAX = 1 << 20
SLOW_BODY_LENGTH = 1 << 20
OPS = ("list", "create", "get", "update", "roles", "rotate", "delete",
       "agent_list", "agent_create", "agent_get", "agent_delete")
FAULT_TYPES = ("latency", "status", "drop-after-commit", "redirect",
               "slow-body", "big-body", "html")
CAPTIVE_PORTAL = (b"<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi</title>"
                  b"</head><body><h1>Welcome</h1><p>Please accept the terms "
                  b"to continue.</p><form method=\"post\" action=\"/login\">"
                  b"<button>Accept</button></form></body></html>\n")


def iso(t):
    """Seconds since the epoch -> YYYY-MM-DDTHH:MM:SSZ (UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def new_id():
    """A cuid-looking id: 'cl' and 23 lowercase letters or digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "cl" + "".join(secrets.choice(alphabet) for _ in range(23))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ApiError(Exception):
    """An API failure, sent as {message, requestId, statusCode}."""

    def __init__(self, status, message, field_errors=None, auth=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field_errors = field_errors
        self.auth = auth


def field_error(field, code, message):
    return {"field": field, "code": code, "message": message}


def bad_request(errors):
    return ApiError(400, "invalid request: " +
                    "; ".join(e["message"] for e in errors), errors)


class Token:
    """One API or agent token as the emulator holds it (never the secret)."""

    def __init__(self, **kw):
        self.id = new_id()
        self.org = kw["org"]
        self.name = kw["name"]
        self.description = kw.get("description") or ""
        self.scope = kw["scope"]
        self.entity = kw["entity"]
        self.kind = kw.get("kind") or "STANDARD"
        self.agent = kw.get("agent", False)
        self.roles = kw.get("roles") or []
        now = time.time()
        self.created = self.updated = self.start = now
        self.days = kw.get("days")
        self.period = kw.get("period")
        self.end = math.ceil(now + self.period) if self.period else None
        self.last_rotated = None
        self.last_used = None
        self.created_by = kw["by"]
        self.updated_by = kw["by"]
        self.jti = None
        self.old_jtis = set()
        self.rotations = 0
        self.deleted = False
        self.seq = 0

    def profile(self):
        """The BasicSubjectProfile of this token as a creator or updater."""
        return {"id": self.id, "subjectType": "SERVICEKEY",
                "apiTokenName": self.name}

    def expired(self, now=None):
        return self.end is not None and (now or time.time()) >= self.end


class State:
    """Every token, the deployment->workspace map, the logs and the faults.

    One lock guards all of it; handlers hold it while they read or change
    tokens, never while they sleep or write to a socket."""

    def __init__(self, day_seconds):
        self.lock = threading.Lock()
        self.day_seconds = day_seconds
        self.key = secrets.token_bytes(32)
        self.tokens = {}
        self.workspace_of_deployment = {DEFAULT_DEPLOYMENT: DEFAULT_WORKSPACE}
        self.log = []
        self.trap_log = []
        self.faults = []
        self.seq = 0
        self.snapshots = {}

    # Deployments -------------------------------------------------------

    def workspace_of(self, deployment, claim=None):
        """The workspace of a deployment; an unknown one is placed now."""
        if deployment not in self.workspace_of_deployment:
            self.workspace_of_deployment[deployment] = claim or \
                DEFAULT_WORKSPACE
        return self.workspace_of_deployment[deployment]

    # Tokens and secrets ------------------------------------------------

    def add(self, tok):
        self.seq += 1
        tok.seq = self.seq
        self.tokens[tok.id] = tok
        return self.mint(tok)

    def permissions(self, tok):
        perms = ["organizationId:" + tok.org]
        if tok.agent:
            perms.append("workspaceId:" + self.workspace_of(tok.entity))
            perms.append("deploymentId:" + tok.entity)
        elif tok.scope == "WORKSPACE":
            perms.append("workspaceId:" + tok.entity)
        elif tok.scope == "DEPLOYMENT":
            perms.append("deploymentId:" + tok.entity)
        return perms

    def mint(self, tok):
        """A fresh secret for tok; every earlier secret of tok dies."""
        if tok.jti:
            tok.old_jtis.add(tok.jti)
        tok.jti = secrets.token_hex(16)
        claims = {"apiTokenId": tok.id, "org_id": tok.org,
                  "permissions": self.permissions(tok),
                  "iat": int(time.time()), "iss": "astro-api-emulator",
                  "sub": tok.id, "jti": tok.jti}
        if tok.end is not None:
            claims["exp"] = int(tok.end)
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"},
                                 separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = (head + "." + body).encode()
        sig = hmac.new(self.key, signing_input, hashlib.sha256).digest()
        return head + "." + body + "." + b64url(sig)

    def verify(self, secret):
        """(token, None) for a live secret, else (token or None, reason)."""
        parts = secret.split(".")
        if len(parts) != 3:
            return None, "malformed"
        try:
            signing_input = (parts[0] + "." + parts[1]).encode()
            want = hmac.new(self.key, signing_input, hashlib.sha256).digest()
            if not hmac.compare_digest(want, b64url_decode(parts[2])):
                return None, "bad-signature"
            claims = json.loads(b64url_decode(parts[1]))
            tok = self.tokens.get(claims.get("apiTokenId"))
            jti = claims.get("jti")
        except (ValueError, AttributeError, TypeError, UnicodeDecodeError):
            return None, "malformed"
        if tok is None:
            return None, "unknown"
        if tok.deleted:
            return tok, "deleted"
        if jti != tok.jti:
            return tok, "rotated" if jti in tok.old_jtis else "unknown"
        if tok.expired():
            return tok, "expired"
        return tok, None

    # Serialisation -----------------------------------------------------

    def token_json(self, tok, beta, secret=None):
        out = {"id": tok.id, "name": tok.name, "description": tok.description,
               "shortToken": tok.jti[:10], "kind": tok.kind,
               "startAt": iso(tok.start), "createdAt": iso(tok.created),
               "updatedAt": iso(tok.updated),
               "createdBy": tok.created_by, "updatedBy": tok.updated_by}
        out["type" if beta else "scope"] = tok.scope
        if tok.end is not None:
            out["endAt"] = iso(tok.end)
        if tok.days is not None:
            out["expiryPeriodInDays"] = tok.days
        if tok.last_used is not None:
            out["lastUsedAt"] = iso(tok.last_used)
        if tok.last_rotated is not None:
            out["lastRotatedAt"] = iso(tok.last_rotated)
        if not tok.agent:
            out["roles"] = [dict(r) for r in tok.roles]
        if secret is not None:
            out["token"] = secret
        return out

    def token_state(self, tok):
        now = time.time()
        return {"exists": not tok.deleted,
                "valid": not tok.deleted and not tok.expired(now),
                "rotations": tok.rotations, "deleted": tok.deleted,
                "expiresAt": iso(tok.end) if tok.end is not None else None,
                "id": tok.id, "org": tok.org, "scope": tok.scope,
                "entityId": tok.entity, "agent": tok.agent,
                "name": tok.name,
                "lastRotatedAt": iso(tok.last_rotated)
                if tok.last_rotated else None}

    # Faults ------------------------------------------------------------

    def take_fault(self, op, latency):
        """Consume and return the first pending fault matching op."""
        for f in self.faults:
            if (f["type"] == "latency") != latency:
                continue
            if f.get("op") and f["op"] != op:
                continue
            if f["remaining"] is not None:
                f["remaining"] -= 1
                if f["remaining"] <= 0:
                    self.faults.remove(f)
            return f
        return None


# ---------------------------------------------------------------------------
# Request validation

def require_object(body):
    if body is None or body.strip() == b"":
        raise ApiError(400, "request body is required")
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "malformed JSON in request body: %s" % e)
    if not isinstance(obj, dict):
        raise ApiError(400, "request body must be a JSON object")
    return obj


def check_string(obj, field, errors, required, min_len=None, max_len=None,
                 label=None):
    label = label or field
    value = obj.get(field)
    if value is None or (required and value == ""):
        if required:
            errors.append(field_error(label, "required",
                                      "%s is required" % label))
        return None
    if not isinstance(value, str):
        errors.append(field_error(label, "type",
                                  "%s must be a string" % label))
        return None
    if min_len is not None and len(value) < min_len:
        errors.append(field_error(label, "min", "%s must be at least %d "
                                  "characters" % (label, min_len)))
    if max_len is not None and len(value) > max_len:
        errors.append(field_error(label, "max", "%s must be at most %d "
                                  "characters" % (label, max_len)))
    return value


def check_enum(obj, field, values, errors, required, label=None):
    value = check_string(obj, field, errors, required, label=label)
    if value is not None and value not in values:
        errors.append(field_error(label or field, "oneof",
                                  "%s must be one of %s" %
                                  (label or field, " ".join(values))))
        return None
    return value


def check_expiry(obj, errors):
    value = obj.get("tokenExpiryPeriodInDays")
    if value is None:
        return None
    field = "tokenExpiryPeriodInDays"
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(field_error(field, "type", field +
                                  " must be an integer"))
        return None
    if value < EXPIRY_MIN:
        errors.append(field_error(field, "min", "%s must be at least %d" %
                                  (field, EXPIRY_MIN)))
    elif value > EXPIRY_MAX:
        errors.append(field_error(field, "max", "%s must be at most %d" %
                                  (field, EXPIRY_MAX)))
    return value


def check_role_for(entity_type, role, field, errors):
    """Organization and workspace roles come from fixed lists."""
    allowed = {"ORGANIZATION": ORG_ROLES,
               "WORKSPACE": WORKSPACE_ROLES}.get(entity_type)
    if role is not None and allowed and role not in allowed:
        errors.append(field_error(field, "oneof", "%s must be one of %s for "
                                  "%s" % (field, " ".join(allowed),
                                          entity_type)))


def query_int(query, name, default, lo, hi, errors):
    values = query.get(name)
    if not values:
        return default
    text = values[-1]
    if not re.fullmatch(r"-?[0-9]{1,9}", text):
        errors.append(field_error(name, "type", name + " must be an integer"))
        return default
    value = int(text)
    if value < lo:
        errors.append(field_error(name, "min", "%s must be at least %d" %
                                  (name, lo)))
    elif hi is not None and value > hi:
        errors.append(field_error(name, "max", "%s must be at most %d" %
                                  (name, hi)))
    return value


def query_bool(query, name, errors):
    values = query.get(name)
    if not values:
        return False
    text = values[-1]
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    errors.append(field_error(name, "type", name + " must be a boolean"))
    return False


def query_sorts(query, allowed, errors):
    sorts = []
    for i, s in enumerate(query.get("sorts", [])):
        field, _, direction = s.partition(":")
        if field not in allowed or direction not in ("asc", "desc"):
            errors.append(field_error("sorts[%d]" % i, "oneof",
                                      "sorts must be <field>:asc or "
                                      "<field>:desc with field one of " +
                                      " ".join(allowed)))
            continue
        sorts.append((field, direction == "desc"))
    return sorts


SORT_KEYS = {
    "name": lambda t: t.name,
    "description": lambda t: t.description,
    "createdAt": lambda t: t.created,
    "updatedAt": lambda t: t.updated,
    "tokenStartAt": lambda t: t.start,
    "createdById": lambda t: t.created_by.get("id", ""),
    "updatedById": lambda t: t.updated_by.get("id", ""),
}


def paginate(tokens, query, allowed_sorts, errors):
    offset = query_int(query, "offset", 0, 0, None, errors)
    limit = query_int(query, "limit", LIMIT_DEFAULT, 0, LIMIT_MAX, errors)
    sorts = query_sorts(query, allowed_sorts, errors)
    if errors:
        raise bad_request(errors)
    ordered = sorted(tokens, key=lambda t: (t.created, t.seq))
    for field, desc in reversed(sorts):
        ordered.sort(key=SORT_KEYS[field], reverse=desc)
    return ordered[offset:offset + limit], offset, limit, len(ordered)


# ---------------------------------------------------------------------------
# The API: one method per operation.  Each takes a Request and returns
# (status, json-or-None), or raises ApiError.

class Request:
    def __init__(self, beta, org, params, query, body, caller):
        self.beta = beta
        self.org = org
        self.params = params
        self.query = query
        self.body = body
        self.caller = caller


class Api:
    def __init__(self, state):
        self.s = state

    # Permission helpers ---------------------------------------------

    def manages(self, caller, tok):
        """Whether caller may manage tok (see the permission model above)."""
        if caller.org != tok.org or caller.agent:
            return False
        if caller.scope == "ORGANIZATION":
            return True
        if caller.scope == "WORKSPACE":
            if tok.agent or tok.scope == "DEPLOYMENT":
                return self.s.workspace_of(tok.entity) == caller.entity
            return tok.scope == "WORKSPACE" and tok.entity == caller.entity
        return tok.agent and tok.entity == caller.entity

    def manages_deployment(self, caller, deployment):
        if caller.agent:
            return False
        if caller.scope == "ORGANIZATION":
            self.s.workspace_of(deployment)
            return True
        if caller.scope == "WORKSPACE":
            return self.s.workspace_of(deployment, caller.entity) == \
                caller.entity
        return deployment == caller.entity

    def grants_inside(self, caller, role):
        """Whether a WORKSPACE caller may grant role (inside its workspace)."""
        if caller.scope == "ORGANIZATION":
            return True
        etype, eid = role["entityType"], role["entityId"]
        if etype == "WORKSPACE":
            return eid == caller.entity
        if etype == "DEPLOYMENT":
            return self.s.workspace_of(eid, caller.entity) == caller.entity
        if etype in ("DAG", "DAG_TAG"):
            return self.s.workspace_of(role["deploymentId"], caller.entity) \
                == caller.entity
        return False

    def forbid(self, what="this operation"):
        return ApiError(403, "the API token is not allowed to perform " + what)

    def find(self, req, agent, deployment=None):
        tok = self.s.tokens.get(req.params["id"])
        if tok is None or tok.deleted or tok.org != req.org or \
                tok.agent != agent or \
                (deployment is not None and tok.entity != deployment):
            raise ApiError(404, "%s token %s not found" %
                           ("agent" if agent else "API", req.params["id"]))
        return tok

    # /tokens ----------------------------------------------------------

    def op_list(self, req):
        errors = []
        q, caller = req.query, req.caller
        only_org = query_bool(q, "includeOnlyOrganizationTokens", errors)
        kind = q.get("kind", [None])[-1]
        if kind is not None and kind not in KINDS:
            errors.append(field_error(
                "kind", "oneof", "kind must be one of " + " ".join(KINDS)))
        workspace = q.get("workspaceId", [None])[-1]
        deployment = q.get("deploymentId", [None])[-1]
        dag = q.get("dagId", [None])[-1]
        dag_tags = q.get("dagTags", [])
        if caller.agent or caller.scope == "DEPLOYMENT":
            raise self.forbid("list API tokens")
        if caller.scope == "WORKSPACE" and (
                only_org or (workspace and workspace != caller.entity)):
            raise self.forbid("list tokens outside its workspace")

        def holds(tok, etype, eid, dep=None):
            return any(r["entityType"] == etype and r["entityId"] == eid and
                       (dep is None or r.get("deploymentId") == dep)
                       for r in tok.roles)

        def on_deployment(tok, d):
            return any((r["entityType"] == "DEPLOYMENT" and
                        r["entityId"] == d) or
                       (r["entityType"] in ("DAG", "DAG_TAG") and
                        r.get("deploymentId") == d) for r in tok.roles)

        chosen = []
        for tok in self.s.tokens.values():
            if tok.deleted or tok.agent or tok.org != req.org:
                continue
            if not self.manages(caller, tok):
                continue
            if only_org and tok.scope != "ORGANIZATION":
                continue
            if kind and tok.kind != kind:
                continue
            if workspace and not holds(tok, "WORKSPACE", workspace):
                continue
            if deployment and not on_deployment(tok, deployment):
                continue
            if dag and not holds(tok, "DAG", dag, deployment):
                continue
            if dag_tags and not any(holds(tok, "DAG_TAG", t, deployment)
                                    for t in dag_tags):
                continue
            chosen.append(tok)
        page, offset, limit, total = paginate(chosen, q, TOKEN_SORTS, errors)
        return 200, {"tokens": [self.s.token_json(t, req.beta) for t in page],
                     "limit": limit, "offset": offset, "totalCount": total}

    def op_create(self, req):
        body = require_object(req.body)
        errors = []
        scope_field = "type" if req.beta else "scope"
        name = check_string(body, "name", errors, True)
        role = check_string(body, "role", errors, True)
        scope = check_enum(body, scope_field, SCOPES, errors, True)
        description = check_string(body, "description", errors, False)
        days = check_expiry(body, errors)
        kind = check_enum(body, "kind", KINDS, errors, False)
        entity = None
        if scope in ("WORKSPACE", "DEPLOYMENT"):
            entity = check_string(body, "entityId", errors, True)
        check_role_for(scope, role, "role", errors)
        if errors:
            raise bad_request(errors)
        caller = req.caller
        if scope == "ORGANIZATION":
            entity = req.org
        probe = Token(org=req.org, name=name, scope=scope, entity=entity,
                      by=caller.profile())
        if scope == "DEPLOYMENT" and caller.scope == "WORKSPACE":
            self.s.workspace_of(entity, caller.entity)
        if not self.manages(caller, probe):
            raise self.forbid("create a %s token here" % scope)
        if scope == "DEPLOYMENT":
            self.s.workspace_of(entity)
        tok = Token(org=req.org, name=name, description=description,
                    scope=scope, entity=entity, kind=kind,
                    roles=[{"entityId": entity, "entityType": scope,
                            "role": role}],
                    days=days, period=days * self.s.day_seconds
                    if days else None, by=caller.profile())
        secret = self.s.add(tok)
        return 200, self.s.token_json(tok, req.beta, secret)

    def op_get(self, req):
        tok = self.find(req, False)
        if tok is not req.caller and not self.manages(req.caller, tok):
            raise self.forbid("read this token")
        return 200, self.s.token_json(tok, req.beta)

    def op_update(self, req):
        tok = self.find(req, False)
        if not self.manages(req.caller, tok):
            raise self.forbid("update this token")
        body = require_object(req.body)
        errors = []
        name = check_string(body, "name", errors, True, 1, UPDATE_NAME_MAX)
        description = check_string(body, "description", errors, False,
                                   max_len=UPDATE_DESCRIPTION_MAX)
        if errors:
            raise bad_request(errors)
        tok.name = name
        if description is not None:
            tok.description = description
        tok.updated = time.time()
        tok.updated_by = req.caller.profile()
        return 200, self.s.token_json(tok, req.beta)

    def check_roles(self, req, body):
        errors = []
        roles = body.get("roles")
        if roles is None:
            errors.append(field_error("roles", "required",
                                      "roles is required"))
        elif not isinstance(roles, list):
            errors.append(field_error("roles", "type",
                                      "roles must be an array"))
        elif len(roles) < 1:
            errors.append(field_error("roles", "min", "roles must hold at "
                                      "least 1 item"))
        else:
            out = []
            for i, r in enumerate(roles):
                label = "roles[%d]" % i
                if not isinstance(r, dict):
                    errors.append(field_error(label, "type", label +
                                              " must be an object"))
                    continue
                role = {}
                role["entityId"] = check_string(
                    r, "entityId", errors, True, label=label + ".entityId")
                role["entityType"] = check_enum(
                    r, "entityType", ENTITY_TYPES, errors, True,
                    label=label + ".entityType")
                role["role"] = check_string(r, "role", errors, True,
                                            label=label + ".role")
                dag = role["entityType"] in ("DAG", "DAG_TAG")
                dep = check_string(r, "deploymentId", errors, dag,
                                   label=label + ".deploymentId")
                if dep is not None:
                    role["deploymentId"] = dep
                check_role_for(role["entityType"], role["role"],
                               label + ".role", errors)
                if role["entityType"] == "ORGANIZATION" and \
                        role["entityId"] not in (None, req.org):
                    errors.append(field_error(
                        label + ".entityId", "oneof",
                        "an ORGANIZATION role must name this organization"))
                out.append(role)
            if not errors:
                return out
        raise bad_request(errors)

    def op_roles(self, req):
        tok = self.find(req, False)
        if not self.manages(req.caller, tok):
            raise self.forbid("change this token's roles")
        roles = self.check_roles(req, require_object(req.body))
        for role in roles:
            if not self.grants_inside(req.caller, role):
                raise self.forbid("grant roles outside its workspace")
        tok.roles = roles
        tok.updated = time.time()
        tok.updated_by = req.caller.profile()
        return 200, subject_roles(roles)

    def op_rotate(self, req):
        tok = self.find(req, False)
        if tok is not req.caller and not self.manages(req.caller, tok):
            raise self.forbid("rotate this token")
        now = time.time()
        tok.rotations += 1
        tok.last_rotated = tok.updated = tok.start = now
        tok.updated_by = req.caller.profile()
        if tok.period:
            tok.end = math.ceil(now + tok.period)
        secret = self.s.mint(tok)
        return 200, self.s.token_json(tok, req.beta, secret)

    def op_delete(self, req):
        tok = self.find(req, False)
        if tok is not req.caller and not self.manages(req.caller, tok):
            raise self.forbid("delete this token")
        tok.deleted = True
        return 204, None

    # /deployments/{d}/agent-tokens ------------------------------------

    def op_agent_list(self, req):
        d = req.params["deployment"]
        if not self.manages_deployment(req.caller, d):
            raise self.forbid("list agent tokens of this deployment")
        chosen = [t for t in self.s.tokens.values()
                  if t.agent and not t.deleted and t.org == req.org and
                  t.entity == d]
        page, offset, limit, total = paginate(chosen, req.query,
                                              AGENT_SORTS, [])
        return 200, {"tokens": [self.s.token_json(t, req.beta) for t in page],
                     "limit": limit, "offset": offset, "totalCount": total}

    def op_agent_create(self, req):
        d = req.params["deployment"]
        if not self.manages_deployment(req.caller, d):
            raise self.forbid("create agent tokens for this deployment")
        body = require_object(req.body)
        errors = []
        name = check_string(body, "name", errors, True)
        description = check_string(body, "description", errors, False)
        days = check_expiry(body, errors)
        if errors:
            raise bad_request(errors)
        tok = Token(org=req.org, name=name, description=description,
                    scope="DEPLOYMENT", entity=d, agent=True, days=days,
                    period=days * self.s.day_seconds if days else None,
                    by=req.caller.profile())
        secret = self.s.add(tok)
        return 200, self.s.token_json(tok, req.beta, secret)

    def op_agent_get(self, req):
        tok = self.find(req, True, req.params["deployment"])
        if tok is not req.caller and not self.manages(req.caller, tok):
            raise self.forbid("read this agent token")
        return 200, self.s.token_json(tok, req.beta)

    def op_agent_delete(self, req):
        tok = self.find(req, True, req.params["deployment"])
        if not self.manages(req.caller, tok):
            raise self.forbid("delete this agent token")
        tok.deleted = True
        return 204, None


def subject_roles(roles):
    """ApiTokenRole list -> the SubjectRoles answer of UpdateApiTokenRoles."""
    out = {"workspaceRoles": [], "deploymentRoles": [], "dagRoles": []}
    for r in roles:
        t = r["entityType"]
        if t == "ORGANIZATION":
            out["organizationRole"] = r["role"]
        elif t == "WORKSPACE":
            out["workspaceRoles"].append({"workspaceId": r["entityId"],
                                          "role": r["role"]})
        elif t == "DEPLOYMENT":
            out["deploymentRoles"].append({"deploymentId": r["entityId"],
                                           "role": r["role"]})
        else:
            dag = {"deploymentId": r["deploymentId"], "role": r["role"]}
            dag["dagId" if t == "DAG" else "dagTag"] = r["entityId"]
            out["dagRoles"].append(dag)
    return out


# ---------------------------------------------------------------------------
# Routing

# (base, beta, which routes): v1 serves every route; the deprecated
# v1beta1 split them between the IAM API (tokens) and the platform API
# (deployments, and so their agent tokens).
BASES = (("/v1", False, ("tokens", "agent")),
         ("/iam/v1beta1", True, ("tokens",)),
         ("/platform/v1beta1", True, ("agent",)))
ID = r"([^/]+)"
ROUTES = [
    ("tokens", r"/organizations/%s/tokens" % ID, ("org",),
     {"GET": "list", "POST": "create"}),
    ("tokens", r"/organizations/%s/tokens/%s" % (ID, ID), ("org", "id"),
     {"GET": "get", "POST": "update", "DELETE": "delete"}),
    ("tokens", r"/organizations/%s/tokens/%s/roles" % (ID, ID), ("org", "id"),
     {"POST": "roles"}),
    ("tokens", r"/organizations/%s/tokens/%s/rotate" % (ID, ID),
     ("org", "id"), {"POST": "rotate"}),
    ("agent", r"/organizations/%s/deployments/%s/agent-tokens" % (ID, ID),
     ("org", "deployment"), {"GET": "agent_list", "POST": "agent_create"}),
    ("agent",
     r"/organizations/%s/deployments/%s/agent-tokens/%s" % (ID, ID, ID),
     ("org", "deployment", "id"),
     {"GET": "agent_get", "DELETE": "agent_delete"}),
]
ROUTES = [(group, re.compile(p), names, methods)
          for group, p, names, methods in ROUTES]


def route(path):
    """path -> (beta, params, {method: op}) or None."""
    for base, beta, groups in BASES:
        if not path.startswith(base + "/"):
            continue
        rest = path[len(base):]
        for group, rx, names, methods in ROUTES:
            if group not in groups:
                continue
            m = rx.fullmatch(rest)
            if m:
                params = {n: unquote(v) for n, v in zip(names, m.groups())}
                return beta, params, methods
    return None


# ---------------------------------------------------------------------------
# HTTP

class Dropped(Exception):
    """The handler closed the connection on purpose; answer nothing."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "astro-api-emulator/1"
    sys_version = ""
    timeout = 60

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("emulator: %s\n" % (fmt % args))

    def handle(self):
        try:
            super().handle()
        except (Dropped, OSError, ssl.SSLError):
            self.close_connection = True

    # Plumbing ---------------------------------------------------------

    def read_body(self):
        """The request body (Content-Length or chunked), at most BODY_MAX."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline(64).split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    return data
                if len(data) + size > BODY_MAX:
                    raise ValueError("body too large")
                data += self.rfile.read(size)
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0 or n > BODY_MAX:
            raise ValueError("body too large")
        return self.rfile.read(n)

    def send_bytes(self, status, body, ctype="application/json",
                   headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        # One write for head and body: no Nagle/delayed-ACK stall.
        if self.command != "HEAD" and status not in (204, 304):
            self._headers_buffer.append(b"\r\n" + body)
        else:
            self._headers_buffer.append(b"\r\n")
        self.flush_headers()

    def send_json(self, status, obj, headers=()):
        body = b"" if obj is None else json.dumps(obj).encode() + b"\n"
        self.send_bytes(status, body, headers=headers)

    def drop(self, mode):
        """Close without answering: RST (linger 0) or a plain FIN."""
        sock = self.connection
        try:
            if mode == "rst":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            sock.close()
        finally:
            raise Dropped()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def dispatch(self):
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            self.send_json(413, {"message": "request body too large",
                                 "requestId": str(uuid.uuid4()),
                                 "statusCode": 413})
            return
        if url.path.startswith("/__emu/"):
            try:
                control(self, url, body)
            except Dropped:
                raise
            except Exception as e:  # a control bug must be visible
                traceback.print_exc()
                self.send_json(500, {"error": str(e)})
            return
        self.api(url, body)

    # The API ----------------------------------------------------------

    def api(self, url, body):
        s = self.server.state
        found = route(url.path)
        op = "unknown"
        if found and self.command in found[2]:
            op = found[2][self.command]
        entry = {"method": self.command, "path": url.path,
                 "query": url.query, "op": op, "tokenId": None,
                 "target": found[1].get("id") if found else None,
                 "auth": None, "status": None, "fault": None,
                 "time": round(time.time(), 3)}
        with s.lock:
            latency = s.take_fault(op, True)
            fault = s.take_fault(op, False)
        if latency:
            time.sleep(latency["ms"] / 1000.0)
        if fault and fault["type"] != "drop-after-commit":
            entry["fault"] = fault["type"]
            self.faulted(fault, entry)
            return
        request_id = str(uuid.uuid4())
        headers = [("X-Request-Id", request_id)]
        with s.lock:
            status, obj = self.perform(found, op, url, body, entry)
            if status >= 400:
                obj["requestId"] = request_id
            if status == 405:
                headers.append(("Allow", ", ".join(sorted(found[2]))))
            if fault:
                entry["fault"] = fault["type"]
            entry["status"] = status
            s.log.append(entry)
        if fault:
            self.drop(fault.get("mode", "rst"))
        self.send_json(status, obj, headers)

    def perform(self, found, op, url, body, entry):
        """Route, authenticate, run; returns (status, json-or-None)."""
        s = self.server.state
        try:
            if not found:
                raise ApiError(404, "no such path: " + url.path)
            beta, params, methods = found
            if op == "unknown":
                raise ApiError(405, "method %s not allowed on %s" %
                               (self.command, url.path))
            caller = self.authenticate(entry)
            if caller.org != params["org"]:
                raise ApiError(403, "the API token belongs to another "
                               "organization")
            req = Request(beta, params["org"], params,
                          parse_qs(url.query, keep_blank_values=True),
                          body, caller)
            return getattr(Api(s), "op_" + op)(req)
        except ApiError as e:
            err = {"message": e.message, "requestId": "",
                   "statusCode": e.status}
            if e.field_errors:
                err["fieldErrors"] = e.field_errors
            return e.status, err
        except Exception as e:  # an emulator bug must be visible
            traceback.print_exc()
            return 500, {"message": "emulator bug: %s" % e, "requestId": "",
                         "statusCode": 500}

    def authenticate(self, entry):
        s = self.server.state
        values = self.headers.get_all("Authorization") or []
        if len(values) != 1:
            entry["auth"] = "missing" if not values else "multiple"
            raise ApiError(401, "Authorization: Bearer <token> is required")
        scheme, _, secret = values[0].strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            entry["auth"] = "malformed"
            raise ApiError(401, "Authorization: Bearer <token> is required")
        tok, reason = s.verify(secret.strip())
        if tok is not None:
            entry["tokenId"] = tok.id
        entry["auth"] = reason or "ok"
        if reason == "expired":
            raise ApiError(401, "token is expired")
        if reason:
            raise ApiError(401, "invalid or revoked API token")
        tok.last_used = time.time()
        return tok

    # Faults -----------------------------------------------------------

    def faulted(self, fault, entry):
        s = self.server.state
        kind = fault["type"]
        status = {"status": fault.get("code"), "redirect": fault.get("code"),
                  "slow-body": 200, "big-body": 200, "html": 200}[kind]
        entry["status"] = status
        with s.lock:
            s.log.append(entry)
        if kind == "status":
            headers = []
            if fault.get("retryAfter") is not None:
                headers.append(("Retry-After", str(fault["retryAfter"])))
            self.send_json(status, {"message": "injected failure",
                                    "requestId": str(uuid.uuid4()),
                                    "statusCode": status}, headers)
        elif kind == "redirect":
            self.send_bytes(status, b"", headers=[("Location",
                                                   fault["location"])])
        elif kind == "html":
            self.send_bytes(200, CAPTIVE_PORTAL, "text/html; charset=utf-8")
        elif kind == "slow-body":
            self.slow_body(fault.get("intervalMs", 2000) / 1000.0)
        else:
            self.big_body(fault)

    def slow_body(self, interval):
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(SLOW_BODY_LENGTH))
        self.end_headers()
        for _ in range(SLOW_BODY_LENGTH):
            self.wfile.write(b" ")
            time.sleep(interval)

    def big_body(self, fault):
        total = int(fault["bytes"])
        chunked = fault.get("chunked") or fault.get("gzip")
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if fault.get("gzip"):
            self.send_header("Content-Encoding", "gzip")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        gz = zlib.compressobj(6, zlib.DEFLATED, 31) if fault.get("gzip") \
            else None

        def emit(data):
            if gz:
                data = gz.compress(data)
            if not data:
                return
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.wfile.write(data)

        for piece in filler(total):
            emit(piece)
        if gz:
            tail = gz.flush()
            if tail:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def filler(total, piece=65536):
    """Exactly total bytes of {"tokens":[],"filler":"AAAA..."} in pieces."""
    head, tail = b'{"tokens":[],"filler":"', b'"}\n'
    if total < len(head) + len(tail):
        yield b" " * total
        return
    yield head
    left = total - len(head) - len(tail)
    block = b"A" * piece
    while left > 0:
        n = min(left, piece)
        yield block[:n]
        left -= n
    yield tail


# ---------------------------------------------------------------------------
# Control endpoints

def control(h, url, body):
    s = h.server.state
    path, method = url.path, h.command
    query = parse_qs(url.query)
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        return h.send_json(400, {"error": "malformed JSON"})
    m = re.fullmatch(r"/__emu/tokens/([^/]+)(/expire)?", path)
    if path == "/__emu/health":
        return h.send_json(200, {"ok": True})
    if path == "/__emu/bootstrap" and method == "POST":
        return control_bootstrap(h, data, agent=False)
    if path == "/__emu/bootstrap-agent" and method == "POST":
        return control_bootstrap(h, data, agent=True)
    if path == "/__emu/deployments" and method == "POST":
        with s.lock:
            s.workspace_of_deployment[data["deployment"]] = data["workspace"]
        return h.send_json(200, {"ok": True})
    if path in ("/__emu/log", "/__emu/trap-log"):
        which = "log" if path == "/__emu/log" else "trap_log"
        with s.lock:
            lines = list(getattr(s, which))
            if method == "DELETE":
                getattr(s, which).clear()
        text = "".join(json.dumps(e) + "\n" for e in lines)
        return h.send_bytes(200, text.encode(), "application/x-ndjson")
    if path == "/__emu/count":
        op = query.get("op", [None])[0]
        status = query.get("status", [None])[0]
        with s.lock:
            n = sum(1 for e in s.log if (op is None or e["op"] == op) and
                    (status is None or str(e["status"]) == status))
        return h.send_json(200, {"count": n})
    if path == "/__emu/faults":
        return control_faults(h, method, data)
    if m:
        with s.lock:
            tok = s.tokens.get(unquote(m.group(1)))
            if tok is None:
                return h.send_json(404, {"error": "no such token"})
            if m.group(2) and method == "POST":
                tok.end = time.time()
            return h.send_json(200, s.token_state(tok))
    snap = re.fullmatch(r"/__emu/snapshots/([A-Za-z0-9_.-]+)(/restore)?",
                        path)
    if snap and method == "POST":
        return control_snapshot(h, snap.group(1), bool(snap.group(2)))
    if path == "/__emu/state":
        with s.lock:
            return h.send_json(200, {
                "tokens": [s.token_state(t) for t in s.tokens.values()],
                "deployments": s.workspace_of_deployment,
                "daySeconds": s.day_seconds})
    return h.send_json(404, {"error": "no such control endpoint"})


def control_snapshot(h, name, restore):
    """Save or restore the tokens, the deployment map and the sequence
    (what a client's requests change), so that a test can replay many
    clients against one server state."""
    s = h.server.state
    with s.lock:
        if not restore:
            s.snapshots[name] = copy.deepcopy(
                (s.tokens, s.workspace_of_deployment, s.seq))
        elif name not in s.snapshots:
            return h.send_json(404, {"error": "no such snapshot"})
        else:
            s.tokens, s.workspace_of_deployment, s.seq = copy.deepcopy(
                s.snapshots[name])
        n = len(s.tokens)
    return h.send_json(200, {"ok": True, "tokens": n})


def control_bootstrap(h, data, agent):
    s = h.server.state
    org = data.get("org") or DEFAULT_ORG
    scope = "DEPLOYMENT" if agent else (data.get("scope") or "ORGANIZATION")
    if scope not in SCOPES:
        return h.send_json(400, {"error": "scope must be one of " +
                                 " ".join(SCOPES)})
    entity = {"ORGANIZATION": org, "WORKSPACE": DEFAULT_WORKSPACE,
              "DEPLOYMENT": DEFAULT_DEPLOYMENT}[scope]
    entity = data.get("deployment" if agent else "entity") or entity
    role = data.get("role") or DEFAULT_ROLES[scope]
    expires = data.get("expiresIn")
    period = float(expires) if expires is not None else None
    if period is not None and period <= 0:
        return h.send_json(400, {"error": "expiresIn must be positive"})
    with s.lock:
        if scope == "DEPLOYMENT":
            if data.get("workspace"):
                s.workspace_of_deployment[entity] = data["workspace"]
            s.workspace_of(entity)
        days = None
        if period is not None:
            days = max(1, math.ceil(period / s.day_seconds))
        tok = Token(org=org, name=data.get("name") or
                    ("bootstrap agent token" if agent else
                     "bootstrap %s token" % scope.lower()),
                    description=data.get("description"), scope=scope,
                    entity=entity, agent=agent, kind=data.get("kind"),
                    roles=None if agent else
                    [{"entityId": entity, "entityType": scope, "role": role}],
                    days=days, period=period, by=dict(BOOTSTRAP_USER))
        secret = s.add(tok)
        out = s.token_json(tok, False, secret)
    return h.send_json(200, out)


def control_faults(h, method, data):
    s = h.server.state
    if method == "GET":
        with s.lock:
            return h.send_json(200, {"faults": list(s.faults)})
    if method == "DELETE":
        with s.lock:
            s.faults.clear()
        return h.send_json(200, {"ok": True})
    kind = data.get("type")
    need = {"latency": ("ms",), "status": ("code",),
            "drop-after-commit": ("op",), "redirect": ("location",),
            "big-body": ("bytes",)}.get(kind, ())
    if kind not in FAULT_TYPES or any(data.get(k) is None for k in need):
        return h.send_json(400, {"error": "fault needs a type (%s) and %s" %
                                 (", ".join(FAULT_TYPES),
                                  ", ".join(need) or "nothing else")})
    if data.get("op") and data["op"] not in OPS + ("unknown",):
        return h.send_json(400, {"error": "op must be one of " +
                                 " ".join(OPS)})
    code = data.get("code")
    if kind == "status" and not (isinstance(code, int) and 400 <= code <= 599):
        return h.send_json(400, {"error": "status code must be 400..599"})
    if kind == "redirect" and code is not None and \
            not (isinstance(code, int) and 300 <= code <= 399):
        return h.send_json(400, {"error": "redirect code must be 300..399"})
    count = int(data.get("count", 1))
    fault = dict(data)
    fault["remaining"] = count if count > 0 else None
    if kind == "redirect":
        fault.setdefault("code", 302)
    with s.lock:
        s.faults.append(fault)
    return h.send_json(200, {"ok": True})


# ---------------------------------------------------------------------------
# The trap: any request, 200 {}, and a note of whether it carried a secret.

class TrapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "astro-api-emulator-trap/1"
    sys_version = ""
    timeout = 30

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(min(max(n, 0), BODY_MAX))
        except ValueError:
            self.close_connection = True
        url = urlsplit(self.path)
        s = self.server.state
        entry = {"method": self.command, "path": url.path, "query": url.query,
                 "authorization": self.headers.get("Authorization")
                 is not None,
                 "time": round(time.time(), 3)}
        with s.lock:
            s.trap_log.append(entry)
        body = b"{}\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET


class TlsServer(ThreadingHTTPServer):
    """Thread per connection; the TLS handshake runs in that thread, so a
    stalled client never blocks accept()."""
    daemon_threads = True
    block_on_close = False
    request_queue_size = 512

    def __init__(self, addr, handler, ctx, state, verbose):
        self.ctx = ctx
        self.state = state
        self.verbose = verbose
        super().__init__(addr, handler)

    def server_bind(self):
        # HTTPServer.server_bind would ask DNS for the host's name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        request.settimeout(15)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# Start-up

def openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs(d):
    """A P-256 CA (ca.pem) and a server certificate for 127.0.0.1 and
    localhost signed by it; kept if the state dir already has them."""
    names = ("ca.pem", "ca.key", "server.pem", "server.key")
    if all(os.path.exists(os.path.join(d, n)) for n in names):
        return
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "3650", "-subj", "/CN=astro-cred emulator test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\n")
    openssl("req", "-new", *ec, "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-set_serial", "0x" + secrets.token_hex(16), "-days",
            "365", "-out", "server.pem", "-extfile", "server.ext", cwd=d)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description="Local Astro API emulator")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--trap-port", type=int, default=0)
    p.add_argument("--day-seconds", type=float, default=86400.0)
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit when the parent process goes away")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if args.day_seconds <= 0:
        p.error("--day-seconds must be positive")
    d = os.path.abspath(args.state_dir)
    os.makedirs(d, mode=0o700, exist_ok=True)
    for n in ("port", "trap_port", "pid"):
        if os.path.exists(os.path.join(d, n)):
            os.unlink(os.path.join(d, n))
    try:
        make_certs(d)
    except subprocess.CalledProcessError as e:
        sys.stderr.write("emulator: openssl failed: %s\n" %
                         e.stderr.decode(errors="replace"))
        return 1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(d, "server.pem"),
                        os.path.join(d, "server.key"))
    state = State(args.day_seconds)
    api = TlsServer(("127.0.0.1", args.port), Handler, ctx, state,
                    args.verbose)
    trap = TlsServer(("127.0.0.1", args.trap_port), TrapHandler, ctx, state,
                     args.verbose)
    threading.Thread(target=trap.serve_forever, daemon=True).start()

    def stop(signum, frame):
        threading.Thread(target=api.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(1)
            stop(None, None)

        threading.Thread(target=watch, daemon=True).start()
    write_atomic(os.path.join(d, "pid"), "%d\n" % os.getpid())
    write_atomic(os.path.join(d, "trap_port"), "%d\n" %
                 trap.server_address[1])
    write_atomic(os.path.join(d, "port"), "%d\n" % api.server_address[1])
    sys.stderr.write("emulator: listening on https://127.0.0.1:%d "
                     "(trap %d)\n" % (api.server_address[1],
                                      trap.server_address[1]))
    try:
        api.serve_forever(poll_interval=0.2)
    finally:
        for n in ("port", "trap_port", "pid"):
            try:
                os.unlink(os.path.join(d, n))
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
