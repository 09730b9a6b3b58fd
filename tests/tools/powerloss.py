#!/usr/bin/env python3
"""tests/tools/powerloss.py: power-loss states of a recorded run (C-03).

An ALICE-style crash explorer ("All File Systems Are Not Created Equal",
OSDI'14) with the fault model of LazyFS (clear and torn-op faults of the
data that was not fsynced).  Python 3 standard library only.

Input: a trace of the real program, recorded with

    strace -f -y -xx -s 65536 -o TRACE -e trace=openat,open,creat,write,
      pwrite64,writev,ftruncate,fsync,fdatasync,syncfs,sync,rename,
      renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat,link,linkat,
      symlink,symlinkat,close,connect,sendto,sendmsg PROGRAM...

and a copy of ROOT (the directory tree the program changes) as it was
before the run.  Only what happens under ROOT counts; every path strace
shows is absolute and resolved (-y), every string is hex (-xx).

The model.  The persistent state is (directory entries, file contents):

  * Directory operations (create, mkdir, rename, link, unlink, rmdir) are
    kept in program order.  fsync of a directory makes every operation so
    far that changed an entry of that directory durable (a rename counts
    for both of its directories).  The others persist as a prefix in
    program order, of any length: journaled metadata as on ext4 or XFS,
    where nothing later survives without everything earlier.  So a crash
    keeps the durable operations plus the first j of the others, for every
    j.  An entry under a directory whose own creation was lost is lost too
    (it would be an orphan in lost+found).
  * File data: fsync or fdatasync of a file makes its current content
    durable.  What was written since (write, pwrite64, writev, ftruncate,
    O_TRUNC) is pending, and a crash keeps, for each file reachable in the
    kept tree, one of: all of it (keep), none of it (clear, LazyFS's
    "clear" fault), the first i pending operations (prefix-i), the first i
    and the first or second half of operation i (torn-head-i, torn-tail-i:
    LazyFS's "torn-op"; the other half reads as the old bytes or as a hole
    of zeros), or all of it with zeros for the bytes (zero: the size
    reached the disk but not the data).  A new name whose content was
    never fsynced appears with whatever variant applies, possibly empty.
  * sync and syncfs make everything durable.

Crash points: before the first call and after every recorded call (full),
or (smoke) right before and right after every fsync, fdatasync, sync,
rename, link, unlink, mkdir and rmdir, and at the end.  A point whose
model state equals an earlier one's is explored once.  For each point the
states are every kept prefix of the directory operations times every data
variant of each reachable pending file (full; at most --cap per point), or
two (smoke): all directory operations with every pending file cleared, and
the durable ones only with every pending file torn (first half of its
last write).  States equal in content and phase are checked once.

Each point has a phase: "pre" before the program first connected to an
AF_INET/AF_INET6 address (the API request going out), "net" after that,
"done" once the program printed on its standard output (a write to fd 1)
or exited with status 0 (the point after the end of the trace).

    powerloss.py explore --trace T --root DIR --template DIR --out DIR
                         [--full] [--cap N]

writes OUT/NNNNN/ (a materialized ROOT: directories 0700, files 0600, the
template's files keep their modification times) for every distinct state,
OUT/manifest with one line per state:

    NNNNN POINT PHASE CALL VARIANT

(POINT the number of calls before the crash, CALL the last one's name,
VARIANT how the state was made), and prints one summary line:

    calls C points P distinct D states S unique U capped K

    powerloss.py selftest

checks the model on hand-written traces: a rename without fsync must
show an empty file, a new directory whose parent was not fsynced must
lose what was put in it, the full recipe must show only the new file at
the exit.
"""

import argparse
import hashlib
import itertools
import os
import re
import shutil
import stat
import sys
import tempfile
import time

DIR_CALLS = {"rename", "renameat", "renameat2", "link", "linkat", "unlink",
             "unlinkat", "rmdir", "mkdir", "mkdirat", "symlink", "symlinkat"}
SYNC_CALLS = {"fsync", "fdatasync", "sync", "syncfs"}
SMOKE_CALLS = DIR_CALLS | SYNC_CALLS


class TraceError(Exception):
    pass


# --- parsing strace -f -y -xx output ----------------------------------------

LINE = re.compile(r"^(\d+)\s+(.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(.*)$")
EXITED = re.compile(r"^\+\+\+ exited with (\d+) \+\+\+$")


def unhex(text):
    """Bytes of strace -xx text: \\xHH escapes (other characters as is)."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\x", i):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += text[i].encode()
            i += 1
    return bytes(out)


def split_args(text):
    """Top-level comma-separated arguments (brackets and quotes nest)."""
    args, depth, cur, quoted = [], 0, [], False
    for ch in text:
        if quoted:
            cur.append(ch)
            if ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if cur or args:
        args.append("".join(cur).strip())
    return args


def string_arg(a):
    """The bytes of a quoted string argument (-xx)."""
    m = re.match(r'^"(.*)"(\.\.\.)?$', a, re.S)
    if not m:
        raise TraceError("not a string: %r" % a[:80])
    if m.group(2):
        raise TraceError("string truncated (raise strace -s)")
    return unhex(m.group(1))


def fd_arg(a):
    """(fd number or "AT_FDCWD", annotated path or None) of 3<\\x2f..>."""
    m = re.match(r"^(-?\d+|AT_FDCWD)(?:<(.*)>)?$", a, re.S)
    if not m:
        raise TraceError("not a descriptor: %r" % a[:80])
    path = None
    if m.group(2) is not None:
        path = unhex(m.group(2)).decode("utf-8", "surrogateescape")
        if path.endswith(" (deleted)"):
            path = path[:-len(" (deleted)")]
    return m.group(1), path


def parse_return(text):
    """(value or None, annotated path or None) of '= 3<..>', '= -1 E..'."""
    m = re.match(r"^(-?\d+|\?)(?:<(.*?)>)?", text)
    if not m or m.group(1) == "?":
        return None, None
    path = None
    if m.group(2) is not None:
        path = unhex(m.group(2)).decode("utf-8", "surrogateescape")
    return int(m.group(1)), path


def parse_trace(path):
    """The calls in order: dicts name, args, ret, ret_path; and the exit
    status of the first process (None if it did not exit)."""
    calls, pending, status, first_pid = [], {}, None, None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, rest = m.group(1), m.group(2)
            if first_pid is None:
                first_pid = pid
            e = EXITED.match(rest)
            if e:
                if pid == first_pid:
                    status = int(e.group(1))
                continue
            if rest.startswith(("+++", "---")):
                continue
            if rest.endswith("<unfinished ...>"):
                pending[pid] = rest[:-len("<unfinished ...>")].rstrip()
                continue
            r = RESUMED.match(rest)
            if r:
                head = pending.pop(pid, None)
                if head is None:
                    raise TraceError("resumed call never started: %s" % raw)
                rest = head + r.group(2)
            c = CALL.match(rest)
            if not c:
                raise TraceError("cannot parse: %s" % raw[:200])
            ret, ret_path = parse_return(c.group(3))
            calls.append({"name": c.group(1), "args": split_args(c.group(2)),
                          "ret": ret, "ret_path": ret_path})
    return calls, status


# --- the model ----------------------------------------------------------------

class Inode:
    def __init__(self, kind, data=b"", mtime=None):
        self.kind = kind          # "f" or "d"
        self.durable = data       # content after the last fsync
        self.pending = []         # ("w", off, bytes) / ("t", length)
        self.mtime = mtime        # the template's, else None (now)


def apply_ops(data, ops):
    buf = bytearray(data)
    for op in ops:
        if op[0] == "t":
            n = op[1]
            del buf[n:]
            buf.extend(b"\0" * (n - len(buf)))
        else:
            off, b = op[1], op[2]
            if off > len(buf):
                buf.extend(b"\0" * (off - len(buf)))
            buf[off:off + len(b)] = b
    return bytes(buf)


def data_variants(ino):
    """[(name, content)] for a file with pending operations."""
    d, p = ino.durable, ino.pending
    out = [("keep", apply_ops(d, p)), ("clear", d)]
    for i in range(1, len(p)):
        out.append(("prefix-%d" % i, apply_ops(d, p[:i])))
    for i, op in enumerate(p):
        if op[0] != "w" or len(op[2]) < 2:
            continue
        off, b = op[1], op[2]
        h = len(b) // 2
        out.append(("torn-head-%d" % i,
                    apply_ops(d, p[:i] + [("w", off, b[:h])])))
        out.append(("torn-tail-%d" % i,
                    apply_ops(d, p[:i] + [("w", off + h, b[h:])])))
    out.append(("zero", apply_ops(d, [o if o[0] == "t" else
                                      ("w", o[1], b"\0" * len(o[2]))
                                      for o in p])))
    return out


def smoke_torn(ino):
    """The smoke run's torn variant: the first half of the last write."""
    for name, content in reversed(data_variants(ino)):
        if name.startswith("torn-head-"):
            return name, content
    return "keep", apply_ops(ino.durable, ino.pending)


def parent(path):
    return path.rsplit("/", 1)[0] if "/" in path else ""


class Model:
    """The volatile tree, the directory operations and the inodes."""

    def __init__(self, root, template):
        self.root = os.path.realpath(root)
        self.inodes = {0: Inode("d")}
        self.start = {"": 0}      # the durable tree at the start
        self.tree = {"": 0}       # the volatile tree (path -> inode)
        self.ops = []             # (kind, path, path2, inode, dirs)
        self.forced = set()       # indexes of durable directory ops
        self.fds = {}             # fd -> [inode, offset]
        self.data_version = 0     # bumped by every change of file data
        self.load_template(template)

    def new_inode(self, kind, data=b"", mtime=None):
        n = len(self.inodes)
        self.inodes[n] = Inode(kind, data, mtime)
        return n

    def load_template(self, top):
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            rel = "" if rel == "." else rel
            for d in sorted(dirnames):
                p = d if not rel else rel + "/" + d
                self.start[p] = self.tree[p] = self.new_inode("d")
            for fn in sorted(filenames):
                p = fn if not rel else rel + "/" + fn
                full = os.path.join(dirpath, fn)
                st = os.lstat(full)
                if not stat.S_ISREG(st.st_mode):
                    raise TraceError("template: %s is not a file" % p)
                with open(full, "rb") as f:
                    data = f.read()
                self.start[p] = self.tree[p] = self.new_inode(
                    "f", data, st.st_mtime)

    def rel(self, path):
        """The path relative to the root, or None when outside it."""
        if path is None:
            return None
        path = os.path.normpath(path)
        if path == self.root:
            return ""
        if path.startswith(self.root + "/"):
            return path[len(self.root) + 1:]
        return None

    def at(self, dirfd, name):
        """Resolve (dirfd arg, path arg) to an absolute path."""
        name = string_arg(name).decode("utf-8", "surrogateescape")
        if name.startswith("/"):
            return name
        _, base = fd_arg(dirfd)
        if base is None:
            raise TraceError("no path for descriptor %s (use strace -y)" %
                             dirfd)
        return base + "/" + name

    def dir_op(self, kind, path, path2=None, ino=None):
        # The directories whose entries change (a link leaves its source's).
        dirs = {parent(path)} | ({parent(path2)} if kind == "rename"
                                 else set())
        self.ops.append((kind, path, path2, ino, frozenset(dirs)))

    def fd_inode(self, arg):
        fd, path = fd_arg(arg)
        if fd in self.fds:
            return self.inodes[self.fds[fd][0]], self.fds[fd]
        r = self.rel(path)
        if r is not None and r in self.tree:
            ent = self.fds[fd] = [self.tree[r], 0]
            return self.inodes[ent[0]], ent
        if r is not None:
            raise TraceError("unknown file under the root: %s" % path)
        return None, None

    # One call -> what it did to the model; returns a marker or None.
    def step(self, c):
        name, a, ret = c["name"], c["args"], c["ret"]
        if name == "connect":
            return "net" if re.search(r"AF_INET6?\b", c["args"][1]) else None
        if name in ("sendto", "sendmsg"):
            return None
        if name in ("write", "writev", "pwrite64") and a and \
                fd_arg(a[0])[0] == "1" and ret and ret > 0:
            self.data_call(c)
            return "printed"
        if ret is None or ret < 0:
            return None
        if name in ("open", "openat", "creat"):
            self.open_call(c)
        elif name == "close":
            self.fds.pop(fd_arg(a[0])[0], None)
        elif name in ("write", "writev", "pwrite64", "ftruncate"):
            self.data_call(c)
        elif name in ("fsync", "fdatasync"):
            ino, _ = self.fd_inode(a[0])
            if ino is None:
                return None
            if ino.kind == "f":
                ino.durable = apply_ops(ino.durable, ino.pending)
                ino.pending = []
                self.data_version += 1
            else:
                self.dir_sync(self.rel(self.dir_path(a[0])))
        elif name in ("sync", "syncfs"):
            self.forced = set(range(len(self.ops)))
            self.data_version += 1
            for ino in self.inodes.values():
                ino.durable = apply_ops(ino.durable, ino.pending)
                ino.pending = []
        elif name in DIR_CALLS:
            self.dir_call(c)
        return None

    def dir_path(self, arg):
        fd, path = fd_arg(arg)
        if fd in self.fds:
            for p, n in self.tree.items():
                if n == self.fds[fd][0]:
                    return self.root + ("/" + p if p else "")
        return path

    def dir_sync(self, d):
        for i, op in enumerate(self.ops):
            if d in op[4]:
                self.forced.add(i)

    def open_call(self, c):
        a = c["args"]
        if c["name"] == "openat":
            path, flags = self.at(a[0], a[1]), a[2]
        elif c["name"] == "open":
            path, flags = self.at("AT_FDCWD", a[0]), a[1]
        else:
            path, flags = self.at("AT_FDCWD", a[0]), "O_CREAT|O_TRUNC"
        real = c["ret_path"] or path
        r = self.rel(real)
        if r is None:
            return
        fl = set(flags.split("|"))
        if r in self.tree:
            n = self.tree[r]
            if "O_TRUNC" in fl and self.inodes[n].kind == "f":
                self.inodes[n].pending.append(("t", 0))
                self.data_version += 1
        elif "O_CREAT" in fl:
            n = self.tree[r] = self.new_inode("f")
            self.dir_op("create", r, None, n)
        else:
            raise TraceError("opened a file the model does not know: %s" % r)
        self.fds[str(c["ret"])] = [n, 0]

    def data_call(self, c):
        a, n = c["args"], c["ret"]
        ino, ent = self.fd_inode(a[0])
        if ino is None:
            return
        self.data_version += 1
        if c["name"] == "ftruncate":
            ino.pending.append(("t", int(a[1])))
            return
        if c["name"] == "writev":
            data = b"".join(string_arg(m.group(1)) for m in re.finditer(
                r'iov_base=("[^"]*"(?:\.\.\.)?)', a[1]))
        else:
            data = string_arg(a[1])
        data = data[:n]
        off = int(a[3]) if c["name"] == "pwrite64" else ent[1]
        ino.pending.append(("w", off, data))
        if c["name"] != "pwrite64":
            ent[1] += n

    def dir_call(self, c):
        name, a = c["name"], c["args"]
        if name in ("rename", "link", "symlink"):
            src, dst = self.at("AT_FDCWD", a[0]), self.at("AT_FDCWD", a[1])
        elif name in ("renameat", "renameat2", "linkat"):
            src, dst = self.at(a[0], a[1]), self.at(a[2], a[3])
        elif name == "symlinkat":
            src, dst = None, self.at(a[1], a[2])
        elif name in ("unlink", "rmdir", "mkdir"):
            src, dst = None, self.at("AT_FDCWD", a[0])
        else:                     # unlinkat, mkdirat
            src, dst = None, self.at(a[0], a[1])
        rs, rd = self.rel(src), self.rel(dst)
        if rd is None and rs is None:
            return
        if name.startswith("symlink"):
            raise TraceError("symbolic link under the root: %s" % dst)
        if name.startswith("mkdir"):
            n = self.tree[rd] = self.new_inode("d")
            self.dir_op("mkdir", rd, None, n)
        elif name == "rmdir" or (name == "unlinkat" and
                                 "AT_REMOVEDIR" in a[2]):
            self.dir_op("rmdir", rd, None, self.tree.pop(rd))
        elif name.startswith("unlink"):
            self.dir_op("unlink", rd, None, self.tree.pop(rd))
        else:
            if rs is None or rd is None:
                raise TraceError("%s across the root: %s -> %s" %
                                 (name, src, dst))
            n = self.tree[rs]
            if self.inodes[n].kind == "d":
                raise TraceError("directory %s renamed or linked" % rs)
            kind = "link" if name.startswith("link") else "rename"
            if kind == "rename":
                del self.tree[rs]
            self.tree[rd] = n
            self.dir_op(kind, rd, rs, n)

    # --- crash states -----------------------------------------------------

    def key(self, phase):
        """What decides the states of a crash point."""
        return (phase, len(self.ops), frozenset(self.forced),
                self.data_version)

    def kept_tree(self, kept):
        """The tree made by the operations kept, in program order."""
        t = dict(self.start)
        for i in sorted(kept):
            kind, path, src, n, _ = self.ops[i]
            if kind in ("create", "mkdir", "link", "rename"):
                if kind == "rename" and t.get(src) == n:
                    del t[src]
                p = parent(path)
                if p in t and self.inodes[t[p]].kind == "d":
                    t[path] = n
            elif t.get(path) == n:
                del t[path]
        # An entry under a lost directory is lost.
        return {p: n for p, n in t.items()
                if all(q in t for q in ancestors(p))}

    def dir_variants(self):
        """[(label, kept set)]: the durable ops plus every prefix."""
        loose = [i for i in range(len(self.ops)) if i not in self.forced]
        out = []
        for j in range(len(loose) + 1):
            cut = loose[j] if j < len(loose) else len(self.ops)
            kept = set(self.forced) | set(range(cut))
            out.append(("dir%d/%d" % (j, len(loose)), kept))
        return out

    def states(self, full, cap):
        """[(variant, {path: (inode, content)})] of the current point;
        and whether the cap cut it short."""
        out, capped = [], False
        dvs = self.dir_variants()
        if not full:
            dvs = [dvs[-1], dvs[0]] if len(dvs) > 1 else dvs
        for k, (dlabel, kept) in enumerate(dvs):
            t = self.kept_tree(kept)
            dirty = sorted(n for n in set(t.values())
                           if self.inodes[n].pending)
            if full:
                choices = [data_variants(self.inodes[n]) for n in dirty]
            elif k == 0:
                choices = [[("clear", self.inodes[n].durable)]
                           for n in dirty]
            else:
                choices = [[smoke_torn(self.inodes[n])] for n in dirty]
            for combo in itertools.product(*choices):
                if len(out) >= cap:
                    return out, True
                data = dict(zip(dirty, combo))
                label = ",".join([dlabel] + ["%s:%s" % (
                    name_of(t, n), data[n][0]) for n in dirty])
                files = {}
                for p, n in t.items():
                    ino = self.inodes[n]
                    if ino.kind == "d":
                        files[p] = (n, None)
                    else:
                        files[p] = (n, data[n][1] if n in data
                                    else ino.durable)
                out.append((label, files))
        return out, capped


def ancestors(p):
    parts = p.split("/")[:-1]
    return ["/".join(parts[:i + 1]) for i in range(len(parts))]


def name_of(t, n):
    names = sorted(p for p, m in t.items() if m == n)
    return names[0].rsplit("/", 1)[-1] if names else "?"


def digest(files):
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(p.encode("utf-8", "surrogateescape") + b"\0")
        c = files[p][1]
        h.update(b"D" if c is None else b"F" + c)
        h.update(b"\0")
    return h.hexdigest()


def materialize(model, files, dest):
    os.makedirs(dest, mode=0o700)
    os.chmod(dest, 0o700)
    for p in sorted(files, key=lambda x: (x.count("/"), x)):
        if not p:
            continue
        n, content = files[p]
        full = os.path.join(dest, p)
        if content is None:
            os.mkdir(full, 0o700)
            continue
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        mt = model.inodes[n].mtime
        if mt is not None:
            os.utime(full, (mt, mt))


# --- exploring ---------------------------------------------------------------

def explore(trace, root, template, out, full, cap):
    calls, status = parse_trace(trace)
    model = Model(root, template)
    os.makedirs(out, exist_ok=True)
    seen_points, seen_states = set(), set()
    npoints = nstates = ncapped = 0
    manifest = []
    phase = "pre"
    n_net = n_done = False

    def point(i, label, smoke_ok):
        nonlocal npoints, nstates, ncapped
        if not full and not smoke_ok:
            return
        npoints += 1
        k = model.key(phase)
        if k in seen_points:
            return
        seen_points.add(k)
        sts, capped = model.states(full, cap)
        ncapped += capped
        for variant, files in sts:
            nstates += 1
            d = (phase, digest(files))
            if d in seen_states:
                continue
            seen_states.add(d)
            sid = "%05d" % len(manifest)
            materialize(model, files, os.path.join(out, sid))
            manifest.append("%s %d %s %s %s" % (sid, i, phase, label,
                                                 variant))

    point(0, "start", True)
    for i, c in enumerate(calls, 1):
        relevant = c["name"] in SMOKE_CALLS
        # Smoke: the crash right before a boundary call...
        if relevant and i > 1 and not full:
            point(i - 1, calls[i - 2]["name"], True)
        mark = model.step(c)
        if mark == "net" and not n_net:
            n_net = True
            if phase == "pre":
                phase = "net"
        if mark == "printed" and not n_done:
            n_done = True
            phase = "done"
        # ... and right after it.
        point(i, c["name"], relevant or mark is not None)
    if status == 0:
        phase = "done"
    point(len(calls), "exit%s" % ("" if status is None else status), True)
    with open(os.path.join(out, "manifest"), "w") as f:
        f.write("".join(m + "\n" for m in manifest))
    print("calls %d points %d distinct %d states %d unique %d capped %d" %
          (len(calls), npoints, len(seen_points), nstates, len(manifest),
           ncapped))
    return 0


# --- self test ---------------------------------------------------------------

def hexs(b):
    return '"' + "".join("\\x%02x" % x for x in b) + '"'


def fdann(n, path):
    return "%s<%s>" % (n, "".join("\\x%02x" % x for x in path.encode()))


def selftest():
    """Hand-written traces with known answers."""
    top = tempfile.mkdtemp()
    try:
        return run_selftest(top)
    finally:
        shutil.rmtree(top)


def write_trace(path, root, fsync_file, fsync_dir, sub=None,
                sync_parent=False):
    """A temp file written, maybe fsynced, renamed to live (in the new
    directory sub when given, maybe with its parent fsynced)."""
    d = root if sub is None else root + "/" + sub
    t, live = root + "/tmp.x", d + "/live"
    lines = []
    if sub is not None:
        lines.append("1 mkdir(%s, 0700) = 0" % hexs(d.encode()))
        if sync_parent:
            lines += ["1 openat(%s, %s, O_RDONLY|O_DIRECTORY) = %s" % (
                fdann("AT_FDCWD", "/"), hexs(root.encode()),
                fdann(5, root)), "1 fsync(%s) = 0" % fdann(5, root)]
    lines += [
        "1 openat(%s, %s, O_WRONLY|O_CREAT|O_EXCL, 0600) = %s" % (
            fdann("AT_FDCWD", "/"), hexs(t.encode()), fdann(3, t)),
        # (another thread's call in the middle, as strace -f shows it)
        "1 write(%s, %s, 6 <unfinished ...>" % (fdann(3, t),
                                                hexs(b"new!!\n")),
        "2 close(%s) = 0" % fdann(9, "/dev/null"),
        "1 <... write resumed>) = 6",
    ]
    if fsync_file:
        lines.append("1 fsync(%s) = 0" % fdann(3, t))
    lines += [
        "1 close(%s) = 0" % fdann(3, t),
        "1 rename(%s, %s) = 0" % (hexs(t.encode()), hexs(live.encode())),
    ]
    if fsync_dir:
        lines += ["1 openat(%s, %s, O_RDONLY|O_DIRECTORY) = %s" % (
            fdann("AT_FDCWD", "/"), hexs(d.encode()), fdann(4, d)),
            "1 fsync(%s) = 0" % fdann(4, d)]
    lines.append("1 +++ exited with 0 +++")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def live_contents(out, name, phase=None):
    """The contents of NAME over the states (None: absent)."""
    got = set()
    with open(os.path.join(out, "manifest")) as f:
        for line in f:
            sid, _, ph = line.split()[:3]
            if phase and ph != phase:
                continue
            p = os.path.join(out, sid, name)
            got.add(open(p, "rb").read() if os.path.exists(p) else None)
    return got


def run_selftest(top):
    root, tpl = os.path.join(top, "root"), os.path.join(top, "tpl")
    os.makedirs(root)
    os.makedirs(tpl)
    with open(os.path.join(tpl, "live"), "wb") as f:
        f.write(b"old\n")
    old, new = b"old\n", b"new!!\n"
    fails = 0
    cases = [
        # (trace arguments, full, a state must show, at exit exactly)
        ((False, True), True, b"", None),          # no fsync: empty file
        ((True, False), True, None, {old, new}),   # no dir fsync: either
        ((True, True), True, None, {new}),         # the recipe: new
        ((False, True), False, b"", None),         # smoke finds it too
        ((True, True, "sub"), True, None, {None, new}),  # new dir lost
        ((True, True, "sub", True), True, None, {new}),  # parent fsynced
    ]
    for k, (targs, full, want_any, want_done) in enumerate(cases):
        tr, out = os.path.join(top, "t%d" % k), os.path.join(top, "o%d" % k)
        write_trace(tr, root, *targs)
        name = "live" if len(targs) < 3 else targs[2] + "/live"
        with open(os.devnull, "w") as quiet:
            saved, sys.stdout = sys.stdout, quiet
            try:
                explore(tr, root, tpl, out, full, 1000)
            finally:
                sys.stdout = saved
        every = live_contents(out, name)
        bad = {c for c in every if c not in (None, old, new)}
        if want_any is not None and want_any not in every:
            print("selftest %d: no state with %r in %r" % (k, want_any,
                                                          every))
            fails += 1
        if want_any is None and bad:
            print("selftest %d: torn states %r" % (k, bad))
            fails += 1
        done = live_contents(out, name, "done")
        if want_done is not None and done != want_done:
            print("selftest %d: at exit %r, want %r" % (k, done, want_done))
            fails += 1
    print("selftest: %s" % ("ok" if not fails else "%d failed" % fails))
    return 1 if fails else 0


def main():
    p = argparse.ArgumentParser(prog="powerloss.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("explore")
    e.add_argument("--trace", required=True)
    e.add_argument("--root", required=True)
    e.add_argument("--template", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--full", action="store_true")
    e.add_argument("--cap", type=int, default=256)
    sub.add_parser("selftest")
    a = p.parse_args()
    try:
        if a.cmd == "selftest":
            return selftest()
        return explore(a.trace, a.root, a.template, a.out, a.full, a.cap)
    except (TraceError, OSError, ValueError) as ex:
        sys.stderr.write("powerloss.py: %s\n" % ex)
        return 2


if __name__ == "__main__":
    sys.exit(main())
