#!/usr/bin/env python3
"""Print an unsigned-looking JWT with the claims Astro tokens carry, for tests
that store a token with --no-verify (no API involved).

    jwt.py [--org ORG] [--id ID] [--exp-in SECONDS] [--workspace W] [--deployment D]
           [--jti JTI]  (a canary string, for the leak tests)
"""
import argparse, base64, json, os, time

def b64(d):
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()

p = argparse.ArgumentParser()
p.add_argument("--org", default="org-test")
p.add_argument("--id", default="tok-" + os.urandom(6).hex())
p.add_argument("--exp-in", type=int)
p.add_argument("--iat-ago", type=int, default=0)
p.add_argument("--workspace")
p.add_argument("--deployment")
p.add_argument("--jti", default=os.urandom(8).hex())
a = p.parse_args()
now = int(time.time())
perms = ["organizationId:" + a.org]
if a.workspace:
    perms.append("workspaceId:" + a.workspace)
if a.deployment:
    perms.append("deploymentId:" + a.deployment)
claims = {"apiTokenId": a.id, "org_id": a.org, "permissions": perms,
          "iat": now - a.iat_ago, "jti": a.jti}
if a.exp_in is not None:
    claims["exp"] = now + a.exp_in
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps(claims).encode())
print(head + "." + body + "." + b64(os.urandom(32)), end="")
