#!/usr/bin/env python3
"""env_quoting.py EMIT SANDBOX WORK: the differential round trip of t0500.

Generates more than 10,000 values (every byte 0x01..0xff alone and at the
start, middle and end of a token and of a time, hostile strings, random
JWT-like tokens, random hostile strings), runs them through `env-emit
--batch` (the code `astro-cred env` uses), then through real shells:
bash, dash, busybox ash and zsh with `eval "$(...)"`, the forgotten quotes `eval $(...)`
and the forgotten quotes with IFS=:; fish with `... | source` and
`eval (...)`.  All of it runs in SANDBOX, a directory of glob-bait files.
Checks: the emitter accepts exactly the values of the alphabet; every
accepted output matches a strict per-shell regex (S-06); every accepted
value arrives intact and exported; every refused value leaves stdout empty
and the variables unset; no file appears.  A smaller set of hostile values
also goes through the real tool, `eval "$("$EMIT" sh FILE)"` and friends.

Prints one line per check, "ok<TAB>name" or "not ok<TAB>name", with
diagnostics on lines starting with '#'; t0500 turns them into TAP.
"""
import json
import os
import random
import re
import shlex
import subprocess
import sys

EMIT, SANDBOX, WORK = sys.argv[1:4]
SEED = int(os.environ.get("ASTRO_CRED_SEED", "20261129"))
rng = random.Random(SEED)

NAMES = (b"ASTRO_API_TOKEN", b"ASTRO_API_TOKEN_EXPIRES_AT")
FIXED_TOKEN = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmaXhlZCJ9.c2ln"
FIXED_TIME = b"2026-11-29T04:37:12Z"
TOKEN_RE = re.compile(rb"[A-Za-z0-9._-]{1,16384}\Z")
TIME_RE = re.compile(rb"[0-9TZ:-]{1,64}\Z")
B64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
JWT_CHARS = B64URL + b"."
SPECIALS = b"'\"$`\\\n\t\r *?[]{}();|&<>!#~%^=,+@/:"
UNSET = b"@unset@"

HOSTILE = [
    b"x'$(touch pwned)'", b"$(touch pwned)", b"`touch pwned`",
    b"a;touch pwned", b"ab'c; touch pwned #", b"a\ntouch pwned",
    b"a\rtouch pwned", b"'; touch pwned; '", b"\"; touch pwned; \"",
    b"$(touch${IFS}pwned)", b"a&&touch pwned", b"a|touch pwned",
    b"(touch pwned)", b"a\\", b"\\'", b"$(New-Item pwned)",
    b"'+$(New-Item pwned)+'", b"\xe2\x80\x98;New-Item pwned;\xe2\x80\x98",
    b"ab*", b"*", b"?", b"[a]", b"[", b"ab[Z]", b"a b", b" ", b"\t", b"\n",
    b"'", b'"', b"\\", b"$HOME", b"${IFS}", b"~", b"~root", b"$", b"!!",
    b"a=b", b"a#b", b"#", b"%s%n", b"\x1b[2J", b"\x7f", b"\xff\xfe",
    b"a\x00b"[:1] + b"\x01",
    # in the alphabet, and tricky as words
    b"-e", b"-n", b"--help", b"-", b"--", b".", b"..", b"_", b"-gx",
    b"ASTRO_API_TOKEN", b"export", b"ab", b"abZZZ", b"Z", b"T", b"0",
    b"a" * 16384, b"a" * 16385,
]
TIME_GOOD = [FIXED_TIME, b"1970-01-01T00:00:00Z", b"9999-12-31T23:59:59Z",
             b"-", b"::", b"1" * 64, b"1" * 65, b"2026-11-29t04:37:12z",
             b"2026-11-29 04:37:12Z", b"2026-11-29T04:37:12+00:00",
             b"2026-11-29T04:37:12.5Z"]


def gen_values():
    """Return (token_values, time_values): lists of bytes without NUL."""
    tok, tim = [], []
    base_t, base_d = FIXED_TOKEN, FIXED_TIME
    for b in range(1, 256):
        c = bytes([b])
        tok += [c, c + base_t, base_t[:12] + c + base_t[12:], base_t + c]
        tim += [c, c + base_d, base_d[:10] + c + base_d[10:], base_d + c]
    tok += HOSTILE + [FIXED_TOKEN]
    tim += HOSTILE + TIME_GOOD
    for _ in range(4000):
        segs = [bytes(rng.choice(B64URL) for _ in range(rng.randint(1, 400)))
                for _ in range(3)]
        tok.append(b".".join(segs))
    for _ in range(4000):
        s = bytearray()
        for _ in range(rng.randint(1, 48)):
            r = rng.random()
            if r < 0.5:
                s.append(rng.choice(JWT_CHARS))
            elif r < 0.8:
                s.append(rng.choice(SPECIALS))
            else:
                s.append(rng.randint(1, 255))
        tok.append(bytes(s))
    for _ in range(1000):
        s = bytearray(b"%04d-%02d-%02dT%02d:%02d:%02dZ" % (
            rng.randint(1970, 9999), rng.randint(1, 12), rng.randint(1, 28),
            rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)))
        if rng.random() < 0.5:
            s[rng.randrange(len(s))] = rng.choice(SPECIALS + b"tz .+")
        tim.append(bytes(s))
    return tok, tim


def expected(kind, v):
    """(accepted, token, time) the way env must treat value v."""
    if kind == "token":
        return bool(TOKEN_RE.match(v)), v, FIXED_TIME
    return bool(TIME_RE.match(v)), FIXED_TOKEN, v


def run_batch(shell, kind, values):
    vals = os.path.join(WORK, "values-%s" % kind)
    out = os.path.join(WORK, "out-%s-%s" % (shell, kind))
    if not os.path.exists(vals):
        with open(vals, "wb") as f:
            for v in values:
                f.write(v + b"\0")
    subprocess.run([EMIT, "--batch", shell, kind, vals, out], check=True,
                   stderr=subprocess.DEVNULL)
    recs = []
    with open(out, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        st, n = (int(x) for x in data[pos:nl].split())
        recs.append((st, data[nl + 1:nl + 1 + n]))
        pos = nl + 1 + n
    if len(recs) != len(values):
        raise SystemExit("batch output has %d records for %d values"
                         % (len(recs), len(values)))
    return recs


TOK_G, TIME_G = rb"([A-Za-z0-9._-]+)", rb"([0-9TZ:-]+)"
STATEMENT = {
    "sh": rb"export %s='%s';\n",
    "bash": rb"export %s='%s';\n",
    "zsh": rb"export %s='%s';\n",
    "fish": rb"set -gx %s '%s';\n",
    "powershell": rb"\$Env:%s = '%s';\n",
    "dotenv": rb"%s=%s\n",
}


def strict_re(shell):
    if shell == "json":
        return re.compile(rb'\{"%s":"%s","%s":"%s"\}\n\Z' % (
            NAMES[0], TOK_G, NAMES[1], TIME_G))
    st = STATEMENT[shell]
    return re.compile(st % (NAMES[0], TOK_G) + st % (NAMES[1], TIME_G)
                      + rb"\Z")


def check_emitter(shell, kind, values, recs, report):
    """Oracle and S-06 checks of one batch; returns #accepted."""
    rx = strict_re(shell)
    bad, acc = [], 0
    for v, (st, out) in zip(values, recs):
        ok_, tok, tim = expected(kind, v)
        if not ok_:
            if st != 2 or out:
                bad.append("refused value %r: status %d, %d bytes out"
                           % (v[:40], st, len(out)))
            continue
        acc += 1
        m = rx.match(out)
        if st != 0 or not m or m.groups() != (tok, tim):
            bad.append("accepted value %r: status %d, output %r"
                       % (v[:40], st, out[:120]))
        elif shell == "json" and json.loads(out) != {
                NAMES[0].decode(): tok.decode(),
                NAMES[1].decode(): tim.decode()}:
            bad.append("json value %r does not load back" % v[:40])
    report(not bad, "%s/%s emitter: %d values, %d accepted = alphabet, "
           "%d refused with empty stdout, strict regex (S-06), %d bad"
           % (shell, kind, len(values), acc, len(values) - acc, len(bad)),
           bad[:5])
    return acc


def posix_quote(b):
    return shlex.quote(b.decode("latin-1")).encode("latin-1")


def fish_quote(b):
    return b"'" + b.replace(b"\\", b"\\\\").replace(b"'", b"\\'") + b"'"


EVAL_FORMS = {
    "quoted": b'eval "$o"\n',
    "unquoted": b"eval $o\n",
    "unquoted-ifs": b"eval $o\n",
}


def posix_script(shell, form, outs, probe):
    """A script that evals every output as `eval "$(...)"` would."""
    lines = [b"set -u\n", b"cd %s\n" % posix_quote(SANDBOX.encode()),
             b"p() { printf '%s\\000%s\\000' \"${ASTRO_API_TOKEN-@unset@}\" "
             b"\"${ASTRO_API_TOKEN_EXPIRES_AT-@unset@}\"; }\n"]
    if form == "unquoted-ifs":
        lines.append(b"IFS=:\n")
    ev = EVAL_FORMS[form]
    if shell == "zsh" and form != "quoted":
        ev = b"eval ${=o}\n"  # zsh splits $(...) but not $o: force it
    for out in outs + [probe]:
        # $(...) drops trailing newlines: so does the emulation.
        lines += [b"unset ASTRO_API_TOKEN ASTRO_API_TOKEN_EXPIRES_AT\n",
                  b"o=" + posix_quote(out.rstrip(b"\n")) + b"\n", ev, b"p\n"]
    lines.append(b"printf '%s\\000' \"$(printenv ASTRO_API_TOKEN)\"\n")
    return b"".join(lines)


def fish_script(form, outs, probe):
    lines = [b"cd %s\n" % fish_quote(SANDBOX.encode()),
             b"function p\n for n in %s %s\n  if set -q $n\n"
             b"   printf '%%s\\000' \"$$n\"\n  else\n"
             b"   printf '@unset@\\000'\n  end\n end\nend\n" % NAMES]
    ev = (b"printf '%s' $o | source\n" if form == "source"
          else b"eval (printf '%s' $o)\n")
    for out in outs + [probe]:
        lines += [b"set -e -g ASTRO_API_TOKEN; set -e -g "
                  b"ASTRO_API_TOKEN_EXPIRES_AT\n",
                  b"set o " + fish_quote(out) + b"\n", ev, b"p\n"]
    lines.append(b"printf '%s\\000' (printenv ASTRO_API_TOKEN)\n")
    return b"".join(lines)


# Shells that are not a command of their own name.
SHELL_CMD = {"ash": ["busybox", "ash"]}


def run_script(shell, form, script):
    path = os.path.join(WORK, "script-%s-%s" % (shell, form))
    with open(path, "wb") as f:
        f.write(script)
    env = dict(os.environ)
    for n in NAMES:
        env.pop(n.decode(), None)
    r = subprocess.run(SHELL_CMD.get(shell, [shell]) + [path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, cwd=SANDBOX,
                       timeout=120)
    return r.returncode, r.stdout.split(b"\0"), r.stderr


def check_shell(shell, form, kind, values, recs, report):
    outs = [out for _, out in recs]
    probe_v = FIXED_TOKEN if kind == "token" else FIXED_TIME
    probe = next(out for v, (_, out) in zip(values, recs) if v == probe_v)
    if shell == "fish":
        script = fish_script(form, outs, probe)
    else:
        script = posix_script(shell, form, outs, probe)
    rc, fields, err = run_script(shell, form, script)
    bad = []
    if rc != 0 or err:
        bad.append("exit %d, stderr %r" % (rc, err[:200]))
    want_fields = 2 * (len(values) + 1) + 2  # pairs, probe, printenv, ""
    if len(fields) != want_fields:
        bad.append("%d fields, want %d" % (len(fields), want_fields))
    acc = ref = 0
    for i, v in enumerate(values + [probe_v]):
        ok_, tok, tim = expected(kind, v)
        got = tuple(fields[2 * i:2 * i + 2])
        want = (tok, tim) if ok_ else (UNSET, UNSET)
        if form == "unquoted-ifs" and ok_:
            # Known limit (shell.h): IFS=: splits the time at its colons.
            got, want = got[:1], want[:1]
        if got != want:
            bad.append("value %r: got %r, want %r" % (v[:40], got, want))
        if i < len(values):
            acc, ref = acc + ok_, ref + (not ok_)
    if fields[-2:-1] != [FIXED_TOKEN]:
        bad.append("not exported: a child saw %r" % fields[-2:-1])
    report(not bad, "%s %s (%s): %d values, %d accepted arrived intact and "
           "exported, %d refused left the variables unset, %d mismatches"
           % (shell, form, kind, len(values), acc, ref, len(bad)), bad[:5])
    return len(values)


REAL = [b"x'$(touch pwned)'", b"$(touch pwned)", b"`touch pwned`",
        b"a;touch pwned", b"a\ntouch pwned", b"(touch pwned)", b"ab*",
        b"*", b"a b", b"'", b"\\", b"$HOME", b"a\x00b", b"",
        b"ab\n", b"\xe2\x80\x98", FIXED_TOKEN, b"abZZZ", b"-n", b"Z"]


def check_real(report):
    """The real tool, real command substitution, for a few values."""
    files = []
    for i, v in enumerate(REAL):
        p = os.path.join(WORK, "real-%d" % i)
        with open(p, "wb") as f:
            f.write(v)
        files.append(p)
    q = posix_quote
    for shell in ("bash", "dash", "ash", "zsh", "fish"):
        em = "fish" if shell == "fish" else ("sh" if shell in ("dash", "ash")
                                            else shell)
        if shell == "fish":
            forms = {"| source": b"%s fish %s 2>>%s | source\n",
                     "eval (...)": b"eval (%s fish %s 2>>%s)\n"}
            pr = (b"printf '%s\\000' \"$ASTRO_API_TOKEN\"\n"
                  b"set -e -g ASTRO_API_TOKEN\n")
        else:
            forms = {'eval "$(...)"': b'eval "$(%s ' + em.encode()
                     + b' %s 2>>%s)"\n',
                     "eval $(...)": b"eval $(%s " + em.encode()
                     + b" %s 2>>%s)\n"}
            pr = (b"printf '%s\\000' \"${ASTRO_API_TOKEN-@unset@}\"\n"
                  b"unset ASTRO_API_TOKEN\n")
        for fname, tmpl in forms.items():
            errf = os.path.join(WORK, "real-err")
            quote = fish_quote if shell == "fish" else q
            lines = [b"cd %s\n" % quote(SANDBOX.encode())]
            for p in files:
                lines += [tmpl % (quote(EMIT.encode()), quote(p.encode()),
                                  quote(errf.encode())), pr]
            rc, fields, err = run_script(shell, "real", b"".join(lines))
            bad = []
            for v, got in zip(REAL, fields):
                want = v if TOKEN_RE.match(v) else (
                    b"" if shell == "fish" else UNSET)
                if got != want:
                    bad.append("value %r: got %r" % (v, got))
            if len(fields) != len(REAL) + 1:
                bad.append("%d fields for %d values" % (len(fields) - 1,
                                                        len(REAL)))
            with open(errf, "rb") as f:
                errs = f.read()
            if b"pwned" in errs or b"\x1b" in errs:
                bad.append("a refusal message shows the value")
            report(not bad, "real tool, %s %s: %d values (NUL, empty, "
                   "hostile, valid), accepted intact, refused empty"
                   % (shell, fname, len(REAL)), bad[:5])


def main():
    results = []

    def report(passed, name, diags=()):
        results.append(passed)
        print("%s\t%s" % ("ok" if passed else "not ok", name))
        for d in () if passed else diags:
            print("#   %s" % d)
        sys.stdout.flush()

    before = sorted(os.listdir(SANDBOX))
    tok, tim = gen_values()
    print("#   seed %d; %d token values, %d time values"
          % (SEED, len(tok), len(tim)))
    total = {"accepted": 0, "refused": 0}
    for kind, values in (("token", tok), ("time", tim)):
        recs = {}
        for shell in ("sh", "bash", "zsh", "fish", "powershell", "json",
                      "dotenv"):
            recs[shell] = run_batch(shell, kind, values)
            acc = check_emitter(shell, kind, values, recs[shell], report)
        total["accepted"] += acc
        total["refused"] += len(values) - acc
        for shell, forms in (("bash", EVAL_FORMS), ("dash", EVAL_FORMS),
                             ("ash", EVAL_FORMS), ("zsh", EVAL_FORMS),
                             ("fish", ("source", "eval"))):
            em = "sh" if shell in ("dash", "ash") else shell
            for form in forms:
                check_shell(shell, form, kind, values, recs[em], report)
    check_real(report)
    after = sorted(os.listdir(SANDBOX))
    report(before == after, "no side-effect file appeared in the glob-bait "
           "sandbox", ["new: %r" % sorted(set(after) - set(before))])
    print("#   %d values in all: %d accepted, %d refused, %d failed checks"
          % (len(tok) + len(tim), total["accepted"], total["refused"],
             results.count(False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
