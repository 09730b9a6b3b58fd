"""gdb script for t0860-residue.sh (security.md M-02): run the program to a
syscall catchpoint (its last moment, or the moment before exec), then count
the copies of some secrets in every readable mapping of the stopped process
and write a core of it with gcore.

    RESIDUE_PATTERNS=F RESIDUE_OUT=R gdb -batch -nx -x residue.py \
        --args PROGRAM ARGS...
    RESIDUE_PATTERNS=F [RESIDUE_NEW=T] python3 residue.py core CORE
        (outside gdb) "core NAME ALL LOAD NOTES" lines: the copies of each
        pattern in the core file, over the whole file as grep would count
        them, in its memory segments, and in its notes (the registers)

Environment (secrets never go through argv):
  RESIDUE_PATTERNS  file of "NAME HEX" lines: the secrets to look for
  RESIDUE_NEW       optional file holding a token that exists only at the
                    catchpoint (what a renewal printed): read there, and
                    looked for as new, new.payload and new.sig
  RESIDUE_OUT       the report, one line per hit and a summary:
                      hit NAME REGION ADDRESS CLASS BEFORE-HEX
                      count NAME REGION CLASS N  (N > 0 only)
                      patterns NAME...           (what was looked for)
                      mappings N bytes B
                      error TEXT                 (nothing was scanned)
  RESIDUE_CORE      if set, write a core there (gcore; with gdb's default
                    dump-excluded-mappings off it leaves out the
                    MADV_DONTDUMP mappings, as the kernel would)
  RESIDUE_STOP      the syscall to stop at: exit_group (default), execve,
                    write (the first one), or write-stdout (the return of
                    the first write to fd 1: what it wrote is in
                    RESIDUE_STDOUT, so RESIDUE_NEW can name that file)
  RESIDUE_STDIN, RESIDUE_STDOUT  the program's stdin and stdout
  RESIDUE_WATCH     an address (0x...): to find who put a hit there, a
                    watchpoint on its 8 bytes from main on; each write is
                    reported as "write NEW-HEX FRAME <- FRAME ...".  gdb
                    turns address randomization off, so a hit's address
                    recurs in a run of the same scenario.

Classes: for a whole token, what precedes it: environ (ASTRO_API_TOKEN=,
the environment handed to execve), http-request (an Authorization header),
http-body (the API's JSON answer), dbus (a record in a Secret Service
message), other; for a payload or signature part, whole (inside a whole
copy) or fragment; "-" for the key and the passphrase.

Regions: [heap], [stack], arena (anonymous and MADV_DONTDUMP: the secret
arena and the other sodium_malloc regions), anon (other anonymous mappings:
large malloc blocks, other threads' malloc arenas and stacks), and the file
name of a file mapping (the data segment of a library or the executable).
"""
import os
import re
import struct
import sys

try:
    import gdb
except ImportError:  # python3 residue.py core CORE: the core-file grep
    gdb = None


def parts(name, tok):
    """A token, and its payload and signature parts (JWT) when it has them."""
    out = [(name, tok)]
    dots = tok.split(b".")
    if len(dots) == 3:
        out += [(name + ".payload", dots[1]), (name + ".sig", dots[2])]
    return out


def patterns():
    pats = []
    with open(os.environ["RESIDUE_PATTERNS"]) as f:
        for line in f:
            name, _, value = line.strip().partition(" ")
            if value:
                pats.append((name, bytes.fromhex(value)))
    new = os.environ.get("RESIDUE_NEW")
    if new:
        with open(new, "rb") as f:
            tok = f.read().strip()
        if tok:
            pats += parts("new", tok)
    return pats


def dontdump(pid):
    """Start addresses of the mappings whose VmFlags carry dd."""
    dd, start = set(), None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()[0]
            if head == "VmFlags:":
                if "dd" in line.split()[1:]:
                    dd.add(start)
            elif "-" in head and not head.endswith(":"):
                start = int(head.split("-")[0], 16)
    return dd


def mappings(pid):
    dd = dontdump(pid)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(None, 5)
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            path = fields[5].strip() if len(fields) > 5 else ""
            if fields[1][0] != "r" or path.startswith("[vvar") or \
               path == "[vsyscall]":
                continue
            if path.startswith("["):
                region = path
            elif path:
                region = os.path.basename(path)
            else:
                region = "arena" if lo in dd else "anon"
            yield lo, hi, region


# What comes right before a whole copy of a token says whose it is.
CONTEXTS = [
    ("environ", re.compile(rb"ASTRO_API_TOKEN=$")),
    ("http-request", re.compile(rb"Authorization: Bearer $")),
    ("http-body", re.compile(rb'"token": "$')),
    # ... the session's object path, an empty parameters array, the
    # record's length, the record: a Secret struct in a message.
    ("dbus", re.compile(rb'/session/s[0-9]+\0+.{4}\{"v":1,"token":"$', re.S)),
]


def context(before):
    for name, rx in CONTEXTS:
        if rx.search(before):
            return name
    return "other"


def classify(pats, mem):
    """(name, offset, class) of every hit in MEM.  A whole token's class is
    its context; a payload or signature part's is "whole" inside a whole
    copy of its token, else "fragment"."""
    hits, wholes = [], {}
    for name, value in pats:
        i = mem.find(value)
        while i >= 0:
            hits.append((name, i))
            if "." not in name:
                wholes.setdefault(name, []).append((i, i + len(value)))
            i = mem.find(value, i + 1)
    for name, i in hits:
        if "." in name:
            base = name.split(".")[0]
            inside = any(lo <= i < hi for lo, hi in wholes.get(base, []))
            yield name, i, "whole" if inside else "fragment"
        elif name in ("old", "new"):
            yield name, i, context(mem[max(0, i - 64):i])
        else:
            yield name, i, "-"


def scan(out):
    inf = gdb.selected_inferior()
    pats = patterns()
    counts = {}
    nmaps = nbytes = 0
    for lo, hi, region in mappings(inf.pid):
        try:
            mem = bytes(inf.read_memory(lo, hi - lo))
        except gdb.MemoryError:
            out.append("unreadable %s %x-%x" % (region, lo, hi))
            continue
        nmaps += 1
        nbytes += len(mem)
        for name, i, cls in classify(pats, mem):
            out.append("hit %s %s %#x %s %s" % (
                name, region, lo + i, cls, mem[max(0, i - 32):i].hex()))
            key = (name, region, cls)
            counts[key] = counts.get(key, 0) + 1
    for (name, region, cls), n in sorted(counts.items()):
        out.append("count %s %s %s %d" % (name, region, cls, n))
    out.append("patterns %s" % " ".join(name for name, _ in pats))
    out.append("mappings %d bytes %d" % (nmaps, nbytes))


def run_command():
    # gdb.parameter("args") is empty in gdb 13: parse "show args".
    shown = gdb.execute("show args", to_string=True)
    run = "run %s" % shown[shown.index('"') + 1:shown.rindex('"')]
    if os.environ.get("RESIDUE_STDIN"):
        run += " <%s" % os.environ["RESIDUE_STDIN"]
    if os.environ.get("RESIDUE_STDOUT"):
        run += " >%s" % os.environ["RESIDUE_STDOUT"]
    return run


def watch_writes(addr, out):
    """A watchpoint that logs each write to ADDR with the writer's frames."""
    class Writes(gdb.Breakpoint):
        def __init__(self, addr, out):
            super().__init__("*(long *)%d" % addr, gdb.BP_WATCHPOINT)
            self.addr, self.log = addr, out

        def stop(self):
            val = bytes(gdb.selected_inferior().read_memory(self.addr, 8))
            frames, f = [], gdb.newest_frame()
            while f is not None and len(frames) < 16:
                lib = gdb.solib_name(f.pc())
                frames.append(f.name() or os.path.basename(lib or "?"))
                f = f.older()
            self.log.append("write %s %s" % (val.hex(), " <- ".join(frames)))
            return False

    return Writes(addr, out)


def main():
    out = []
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    stop = os.environ.get("RESIDUE_STOP", "exit_group")
    if stop == "write-stdout":
        # Stop at the return of the first write(2) to fd 1 (x86-64: the
        # first argument in rdi, which the syscall leaves as it was): its
        # bytes are then in RESIDUE_STDOUT.  Entry, then return.
        gdb.execute("catch syscall write")
        gdb.execute("condition $bpnum $rdi == 1")
    else:
        gdb.execute("catch syscall %s" % stop)
    try:
        watch = os.environ.get("RESIDUE_WATCH")
        if watch:
            start = gdb.Breakpoint("main", internal=True)
            gdb.execute(run_command(), to_string=True)
            start.delete()
            watch_writes(int(watch, 16), out)
            gdb.execute("continue", to_string=True)
        else:
            gdb.execute(run_command(), to_string=True)
        if stop == "write-stdout" and gdb.selected_inferior().pid:
            gdb.execute("continue", to_string=True)
        if not gdb.selected_inferior().pid:
            raise gdb.error("the program ended before the catchpoint")
        scan(out)
        if os.environ.get("RESIDUE_CORE"):
            gdb.execute("gcore %s" % os.environ["RESIDUE_CORE"],
                        to_string=True)
        gdb.execute("kill", to_string=True)
    except (gdb.error, OSError, ValueError) as e:
        out.append("error %s" % str(e).replace("\n", " "))
    with open(os.environ["RESIDUE_OUT"], "w") as f:
        f.write("\n".join(out) + "\n")


def core_segments(core):
    """(type, start, end) of each program header's bytes in an ELF64 core."""
    if core[:4] != b"\x7fELF" or core[4] != 2:
        sys.exit("not an ELF64 core")
    phoff, = struct.unpack_from("<Q", core, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from(
            "<IIQQQQ", core, phoff + i * phentsize)
        yield ptype, off, off + filesz


def grep_core(path):
    """Copies of each pattern in a core file, counted over the whole file
    as grep would, and split into memory (PT_LOAD) and notes (PT_NOTE:
    the registers): "core NAME ALL LOAD NOTES" lines."""
    with open(path, "rb") as f:
        core = f.read()
    segs = list(core_segments(core))
    for name, value in patterns():
        n = {"all": 0, 1: 0, 4: 0}
        i = core.find(value)
        while i >= 0:
            n["all"] += 1
            for ptype, lo, hi in segs:
                if lo <= i < hi and ptype in n:
                    n[ptype] += 1
            i = core.find(value, i + 1)
        print("core %s %d %d %d" % (name, n["all"], n[1], n[4]))


if gdb is not None:
    main()
elif len(sys.argv) == 3 and sys.argv[1] == "core":
    grep_core(sys.argv[2])
else:
    sys.exit("usage: gdb -batch -nx -x residue.py --args PROGRAM ARGS... "
             "| python3 residue.py core CORE")
