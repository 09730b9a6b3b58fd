#!/usr/bin/env python3
"""bench.py: the python3 helpers of tests/bench/run (stdlib only).

  bench.py token [--exp-in S]          print a JWT with Astro's claims
  bench.py stampede --driver BIN --n N --json FILE --err-dir DIR \\
                   -- CMD ARGS... <OLD  start N copies of CMD at once
                                       (stampede.c) and sum up their
                                       latencies and outputs
  bench.py report --work DIR --out DIR write DIR/results.md, the chart's
                                       data and gnuplot script

tests/bench/run drives these; see its header for what is measured.
"""

import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cmd_token(a):
    """A token shaped like the emulator's (and Astro's): HS256, our claims.

    Only its shape matters: `store --no-verify` and every peer keep it
    opaque.  tests/t/jwt.py makes the same when it is there."""
    now = int(time.time())
    tid = "cl" + secrets.token_hex(12)
    org = "cl" + secrets.token_hex(12)
    claims = {"apiTokenId": tid, "org_id": org,
              "permissions": ["organizationId:" + org],
              "iat": now, "iss": "astro-cred-bench", "sub": tid,
              "jti": secrets.token_hex(16), "exp": now + a.exp_in}
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"},
                             separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secrets.token_bytes(32), (head + "." + body).encode(),
                   hashlib.sha256).digest()
    sys.stdout.write(head + "." + body + "." + b64url(sig))
    return 0


# The stampede ----------------------------------------------------------

def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    k = max(1, math.ceil(p / 100.0 * len(s)))
    return s[k - 1]


def parse_driver(text):
    """stampede.c's lines: (t0, (oldlen, oldhash), {idx: child fields})."""
    t0, old, kids = None, None, {}
    for line in text.splitlines():
        f = line.split()
        if f[0] == "t0":
            t0 = int(f[1])
        elif f[0] == "old":
            old = (int(f[1]), f[2])
        elif f[0] == "child":
            kids[int(f[1])] = {"start": int(f[2]), "end": int(f[3]),
                               "code": int(f[4]), "len": int(f[5]),
                               "hash": f[6]}
    return t0, old, kids


def cmd_stampede(a):
    """Run tests/bench/stampede.c's driver, the old token on its stdin.

    A process fails when it exits non-zero, prints nothing, prints the old
    token or a token the majority did not; only hashes are compared."""
    import subprocess
    os.makedirs(a.err_dir, exist_ok=True)
    res = subprocess.run([a.driver, str(a.n), a.err_dir] + a.cmd,
                         stdin=sys.stdin, stdout=subprocess.PIPE,
                         check=True, text=True)
    t0, old, kids = parse_driver(res.stdout)
    seen = {}
    for k in kids.values():
        if k["len"]:
            seen[k["hash"]] = seen.get(k["hash"], 0) + 1
    major = max(seen, key=seen.get) if seen else ""
    renewed = bool(major) and major != old[1]
    failed = [i for i in range(a.n) if i not in kids
              or kids[i]["code"] != 0 or not kids[i]["len"]
              or kids[i]["hash"] != major or not renewed]
    rel = [(k["end"] - t0) / 1e6 for k in kids.values()]
    own = [(k["end"] - k["start"]) / 1e6 for k in kids.values()]
    out = {"n": a.n, "reported": len(kids), "failures": len(failed),
           "exit_codes": sorted(set(k["code"] for k in kids.values())),
           "distinct_tokens": len(seen), "renewed": renewed,
           "wall_ms": max(rel) if rel else 0,
           "release": summary(rel) if rel else None,
           "own_start": summary(own) if own else None,
           "command": " ".join(a.cmd)}
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0


def summary(ms):
    return {"p50": percentile(ms, 50), "p90": percentile(ms, 90),
            "p99": percentile(ms, 99), "max": max(ms), "min": min(ms)}


# The report ------------------------------------------------------------

MIB = 1024.0


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def read_kv(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    out[k] = v
    return out


def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def load_rows(work):
    """rows.tsv: id, label, group, how, command, env; then the figures."""
    rows = []
    with open(os.path.join(work, "rows.tsv")) as f:
        for line in f:
            rid, label, group, how, command, env = \
                line.rstrip("\n").split("\t")
            rows.append({"id": rid, "label": label, "group": group,
                         "how": how, "command": command, "env": env})
    for r in rows:
        r["why"] = read_text(os.path.join(work, "status", r["id"]))
        times = []
        jdir = os.path.join(work, "json")
        for name in sorted(os.listdir(jdir)) if os.path.isdir(jdir) else []:
            if name.startswith(r["id"] + ".") and name.endswith(".json"):
                with open(os.path.join(jdir, name)) as f:
                    for res in json.load(f)["results"]:
                        times.extend(res["times"])
        r["times"] = [t * 1e3 for t in times]
        r["rss"] = load_rss(work, r["id"])
        if not r["times"] and not r["why"]:
            r["why"] = "no timing recorded"
    return {r["id"]: r for r in rows}, rows


def load_rss(work, rid):
    """Largest 'Maximum resident set size' (KiB) of the GNU time runs."""
    vals = []
    rdir = os.path.join(work, "rss")
    for name in sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []:
        if name.startswith(rid + "."):
            for line in read_text(os.path.join(rdir, name)).splitlines():
                if "Maximum resident set size" in line:
                    vals.append(int(line.rsplit(":", 1)[1]))
    return max(vals) if vals else None


def med(byid, rid):
    r = byid.get(rid)
    return median(r["times"]) if r and r["times"] else None


def fmt_ms(ms):
    if ms is None:
        return "-"
    return "%.3f ms" % ms if ms < 10 else "%.1f ms" % ms


def verdict_le(value, limit, unit="x", fmt="%.2f"):
    if value is None:
        return "not measured yet"
    if value <= limit:
        return "met"
    return ("**MISSED by " + fmt + "%s** (" + fmt + "%s, target at most "
            + fmt + "%s)") % (value - limit, unit, value, unit, limit, unit)


def verdict_ge(value, limit):
    if value is None:
        return "not measured yet"
    if value >= limit:
        return "met"
    return ("**MISSED by %.1fx** (%.1fx faster, target at least %.0fx)"
            % (limit - value, value, limit))


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(x, suffix="x"):
    return "-" if x is None else "%.2f%s" % (x, suffix)


def target_rows(byid, st, work):
    """(figure, target, measured, verdict) for each line of the issue."""
    floor, fk = med(byid, "floor"), med(byid, "ac_file_key")
    fp, kr = med(byid, "ac_file_pass"), med(byid, "ac_keyring")
    git, scale = med(byid, "git_libsecret"), med(byid, "ac_scale")
    out = []
    r = ratio(fk, floor)
    out.append(("cache-hit `get`, sealed file + key file, vs the bare C "
                "process", "at most 1.5x", fmt_ratio(r), verdict_le(r, 1.5)))
    r = ratio(git, fk)
    out.append(("the same, vs git-credential-libsecret `get`",
                "at least 25x faster", fmt_ratio(r, "x faster"),
                verdict_ge(r, 25)))
    r = ratio(fp, floor)
    out.append(("cache-hit `get`, sealed file + passphrase (kernel keyring "
                "key cache), vs the bare C process", "at most 3x",
                fmt_ratio(r), verdict_le(r, 3)))
    r = ratio(kr, git)
    out.append(("cache-hit `get`, keyring backend, vs "
                "git-credential-libsecret `get`", "at most 0.8x",
                fmt_ratio(r), verdict_le(r, 0.8)))
    out.append(stampede_target(st, work))
    r = ratio(scale, fk)
    n = read_kv(os.path.join(work, "scale.kv")).get("profiles", "10000")
    out.append(("cache-hit `get` with %s stored profiles vs with 1" % n,
                "at most 1.5x", fmt_ratio(r), verdict_le(r, 1.5)))
    for rid in ("ac_file_key", "ac_file_pass", "ac_keyring"):
        rss = byid[rid]["rss"] if rid in byid else None
        mib = rss / MIB if rss is not None else None
        out.append(("peak RSS of a cache-hit `get`, " + byid[rid]["label"],
                    "at most 3 MiB",
                    "-" if mib is None else "%.2f MiB" % mib,
                    verdict_le(mib, 3.0, " MiB")))
    return out


def stampede_target(st, work):
    fig = "128 concurrent `get`s in the renewal window, on loopback"
    want = "exactly 1 renewal, 0 failures, p99 at most 250 ms"
    if st is None:
        why = read_text(os.path.join(work, "status", "stampede"),
                        "not measured yet")
        return (fig, want, "-", "not measured yet (%s)" % why)
    fig = fig.replace("128", str(st["n"]))
    got = "%s renewal(s), %d failure(s), p99 %.0f ms" % (
        st["renewals"], st["failures"], st["release"]["p99"])
    missed = []
    if str(st["renewals"]) != "1":
        missed.append("%s renewals, not 1" % st["renewals"])
    if st["failures"]:
        missed.append("%d failures" % st["failures"])
    if st["release"]["p99"] > 250:
        missed.append("p99 by %.0f ms" % (st["release"]["p99"] - 250))
    return (fig, want, got,
            "met" if not missed else "**MISSED: %s**" % "; ".join(missed))


def md_table(head, rows):
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def latency_rows(rows, byid):
    floor, fk = med(byid, "floor"), med(byid, "ac_file_key")
    out = []
    for r in rows:
        rss = "-" if r["rss"] is None else "%.2f MiB" % (r["rss"] / MIB)
        if not r["times"]:
            out.append((r["label"], "not measured yet: " + r["why"],
                        "-", "-", "-", "-", "-", rss))
            continue
        t = r["times"]
        m = median(t)
        mean = sum(t) / len(t)
        sd = math.sqrt(sum((x - mean) ** 2 for x in t) / max(1, len(t) - 1))
        out.append((r["label"], fmt_ms(m),
                    "%s ± %s" % (fmt_ms(mean), fmt_ms(sd)),
                    fmt_ms(min(t)), len(t), fmt_ratio(ratio(m, floor)),
                    fmt_ratio(ratio(m, fk)), rss))
    return out


def stampede_section(st, work):
    lines = ["## Stampede", ""]
    if st is None:
        why = read_text(os.path.join(work, "status", "stampede"),
                        "not measured yet")
        return lines + ["Not measured yet: %s." % why, ""]
    rel, own = st["release"], st["own_start"] or {}
    lines += [
        "%d processes released at once, each running `%s` on a token "
        "with 397-398 s left, against the emulator over HTTPS on 127.0.0.1. "
        "The driver (tests/bench/stampede.c) forks them all first, holds "
        "them at a pipe, releases them together and stamps each exit as "
        "it reaps it (at nice -10 itself, so that its stamps are not "
        "late)." % (st["n"], st["command_shown"]), "",
        "- renewals (`emuctl count rotate`): %s" % st["renewals"],
        "- failures: %d (exit codes seen: %s); distinct tokens printed: %d;"
        " the printed token is %s" % (
            st["failures"], ", ".join(map(str, st["exit_codes"])),
            st["distinct_tokens"],
            "the renewed one" if st["renewed"] else "NOT a renewed one"),
        "- latency from the release: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms,"
        " max %.1f ms" % (rel["p50"], rel["p90"], rel["p99"], rel["max"]),
        "- latency from each process's own start (after the scheduler ran "
        "it): p50 %.1f ms, p99 %.1f ms" % (own.get("p50", 0),
                                            own.get("p99", 0)),
        "- all done %.0f ms after the release" % st["wall_ms"], ""]
    return lines


def load_diag(work, rid):
    """(calls, errors, top syscalls, relocations, inits) or None."""
    text = read_text(os.path.join(work, "diag", rid + ".strace"))
    if not text:
        return None
    calls, total, errors = [], 0, 0
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5 or not f[3].isdigit():
            continue
        if f[-1] == "total":
            total = int(f[3])
            errors = int(f[4]) if len(f) == 6 else 0
        else:
            calls.append((int(f[3]), f[-1]))
    calls.sort(reverse=True)
    ld = read_text(os.path.join(work, "diag", rid + ".ld")).splitlines()
    relocs = sum(int(x.rsplit(":", 1)[1]) for x in ld
                 if "number of relocations:" in x)
    inits = sum(1 for x in ld if "calling init" in x)
    top = ", ".join("%s %d" % (n, c) for c, n in calls[:6])
    return total, errors, top, relocs, inits


def diag_section(rows, work):
    out = []
    for r in rows:
        d = load_diag(work, r["id"])
        if d:
            out.append((r["label"], "%d (%d failed)" % (d[0], d[1]), d[2],
                        d[3], d[4]))
    if not out:
        return []
    lines = ["## Where a hit's time goes", "",
             "One run each under `strace -f -c` and `LD_DEBUG=statistics,"
             "libs` (not timed): system calls, the most frequent ones, the "
             "dynamic loader's symbol relocations and the shared objects "
             "whose initializers ran.", ""]
    lines += md_table(("tool", "system calls", "most frequent",
                       "relocations", "objects initialized"), out)
    return lines + [""]


def write_chart(rows, work):
    """latency.dat and latency.gp (horizontal bars, log scale)."""
    data = [r for r in rows if r["times"]]
    colors = {"floor": "#888888", "astro": "#1f77b4", "peer": "#d62728"}
    with open(os.path.join(work, "latency.dat"), "w") as f:
        for i, r in enumerate(data):
            f.write('%d "%s" %.6f 0x%s\n' % (
                i, r["label"].replace('"', "'"), median(r["times"]),
                colors[r["group"]][1:]))
    lo = min([median(r["times"]) for r in data] + [1.0])
    hi = max([median(r["times"]) for r in data] + [1.0])
    xmin = 10 ** math.floor(math.log10(lo) - 0.3)
    xmax = 10 ** math.ceil(math.log10(hi) + 0.3)
    gp = """set terminal svg size 960,%d dynamic enhanced font "sans,13" background "white"
set title "Cache-hit get: median wall time, log scale\\ngrey: the floor, blue: astro-cred, red: peers"
set logscale x
set xrange [%g:%g]
set yrange [%f:-0.6]
set xlabel "milliseconds"
set grid xtics mxtics
set ytics nomirror
set xtics nomirror
unset key
set style fill solid 0.85 noborder
set lmargin 44
plot "latency.dat" using (%g):1:(%g):3:($1-0.35):($1+0.35):4:ytic(2) with boxxyerror lc rgb variable, \\
     "" using 3:1:(sprintf(" %%.2f ms", $3)) with labels left offset 0.3,0
""" % (120 + 48 * len(data), xmin, xmax, len(data) - 0.4, xmin, xmin)
    with open(os.path.join(work, "latency.gp"), "w") as f:
        f.write(gp)


def cmd_report(a):
    work = a.work
    byid, rows = load_rows(work)
    machine = read_kv(os.path.join(work, "machine.kv"))
    st = None
    sp = os.path.join(work, "stampede.json")
    if os.path.exists(sp):
        with open(sp) as f:
            st = json.load(f)
        extra = read_kv(os.path.join(work, "stampede.kv"))
        st["renewals"] = extra.get("renewals", "?")
        st["command_shown"] = extra.get("command", st["command"])
    scale = read_kv(os.path.join(work, "scale.kv"))
    m = machine
    lines = [
        "# astro-cred benchmarks", "",
        "Written by `make bench` (tests/bench/run) on %s." % m.get("date"),
        "",
        "Machine: %s CPUs (%s), Linux %s, load average %s at the start and "
        "%s at the end; astro-cred %s; hyperfine %s." % (
            m.get("nproc"), m.get("cpu"), m.get("kernel"),
            m.get("load_start"), m.get("load_end"), m.get("commit"),
            m.get("hyperfine")),
        "Peers: git %s (git-credential-libsecret built here from its "
        "contrib source), golang-docker-credential-helpers %s, "
        "libsecret-tools %s, gnome-keyring %s, all on one unlocked "
        "gnome-keyring-daemon in a private D-Bus session." % (
            m.get("git"), m.get("docker_helpers"), m.get("secret_tool"),
            m.get("gnome_keyring")), "",
        "## Targets", ""]
    lines += md_table(("figure", "target", "measured", "result"),
                      target_rows(byid, st, work))
    lines += ["", "Ratios are of medians. Every `get` is a real hit: each "
              "tool was seeded with the same token first and its output "
              "checked before timing.", "",
              "## Cache-hit `get` latency", "",
              "![latency](latency.svg)", ""]
    lines += md_table(("tool", "median", "mean ± σ", "min", "runs",
                       "× floor", "× astro-cred (file, key file)",
                       "peak RSS"), latency_rows(rows, byid))
    lines += ["", "Runs: %s rounds, interleaved so that the shared "
              "machine's load falls on every row alike; each round is one "
              "hyperfine invocation per row (%s)." % (
                  m.get("rounds"), m.get("hyperfine_opts")),
              "Peak RSS: the largest `Maximum resident set size` of %s runs "
              "of `/usr/bin/time -v` (it includes what the forked child of "
              "`time` held before exec, hence the floor's figure)." %
              m.get("rss_runs"), ""]
    lines += stampede_section(st, work)
    lines += ["## Scale", ""]
    if scale.get("seconds"):
        lines += ["The %s-profile store was filled by %s background loops "
                  "of `astro-cred store -p pN --no-verify` in %s s (%s "
                  "failures); `get` then asked for `%s`." % (
                      scale.get("profiles"), scale.get("jobs"),
                      scale.get("seconds"), scale.get("failures"),
                      scale.get("profile")), ""]
    else:
        lines += ["Not measured yet: %s." % read_text(
            os.path.join(work, "status", "ac_scale"), "no store"), ""]
    lines += diag_section(rows, work)
    lines += ["## Commands", "",
              "As run (`$B` is build/bin/astro-cred, `$W` is bench/work; "
              "`-N` means no shell, `sh` means hyperfine ran it through "
              "`sh -c` and subtracted the measured cost of the shell):", ""]
    lines += md_table(("tool", "how", "environment", "command"),
                      [(r["label"], r["how"], r["env"] or "-",
                        "`%s`" % r["command"]) for r in rows])
    lines += [""]
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(lines))
    write_chart(rows, work)
    for t in target_rows(byid, st, work):
        print("%-8s %s: %s" % ("MISSED" if "MISSED" in t[3] else
                               ("-" if "not measured" in t[3] else "met"),
                               t[0], t[2]))
    return 0


def main():
    p = argparse.ArgumentParser(prog="bench.py")
    sub = p.add_subparsers(dest="cmd_name", required=True)
    b = sub.add_parser("token")
    b.add_argument("--exp-in", type=int, default=86400)
    b.set_defaults(fn=cmd_token)
    b = sub.add_parser("stampede")
    b.add_argument("--n", type=int, default=128)
    b.add_argument("--driver", required=True)
    b.add_argument("--json", required=True)
    b.add_argument("--err-dir", required=True)
    b.add_argument("cmd", nargs="+")
    b.set_defaults(fn=cmd_stampede)
    b = sub.add_parser("report")
    b.add_argument("--work", required=True)
    b.add_argument("--out", required=True)
    b.set_defaults(fn=cmd_report)
    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
