#!/usr/bin/env python3
"""changed_sweep.py CSVREG WORKDIR: an input file truncated or grown while it
is read (issue 17 item 8).

Each read path (plain fit, --threads 2, --range 1/1, --emit-state, --update,
eval, predict, a .gz file, standard input redirected from the file, and
--threads 2 on it) is started on a 27 MB file. Once the process has read
4 MB more than at its start (/proc/PID/io rchar: read() and pread() both
count), it is stopped with SIGSTOP, the file is changed, and it is let go
with SIGCONT. The stop makes the change land mid-read however loaded the
machine is; a run that had already read (nearly) everything when it was
stopped is tried again, up to five times.

- Truncated (to a record boundary 1 MB in, behind the reader: the case
  that used to fold a silent partial fit; or to one three quarters in, ahead
  of it: the case that used to blame the data): exit 4, stderr exactly
  "csvreg: FILE: file changed while reading (N bytes at open, M now)", no
  signal, no -o output written.
- Grown (rows appended): the rows are not read (the input is the file as
  it was opened, docs/limits.md): exit 0 and the clean run's output.
"""
import gzip
import os
import random
import shutil
import signal
import subprocess
import sys
import time

ROWS = 1_000_000
STOP_AFTER = 4 << 20  # past --update's fold-record probes (the first and last MiB)


def rchar(pid):
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def make_data(path):
    gen = random.Random(3)
    lines = ["y,x1,x2\n"]
    for _ in range(ROWS):
        a, b = gen.random(), gen.random()
        lines.append("%.6f,%.6f,%.6f\n" % (2 * a - b + 0.1 * gen.random(), a, b))
    text = "".join(lines).encode()
    with open(path, "wb") as f:
        f.write(text)
    return text


def boundary_near(text, at):
    """The offset just after the line end at or after `at`."""
    return text.index(b"\n", at) + 1


def run_stopped(cmd, stdin_path, change, work, size):
    """Runs cmd, stops it once it has read STOP_AFTER bytes, calls change(),
    lets it go. Returns (returncode, stdout, stderr) or None (it had read
    too much before the stop: try again)."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=work)
    if stdin_path:
        stdin.close()
    base = None
    deadline = time.monotonic() + 60
    stopped = False
    while time.monotonic() < deadline:
        r = rchar(p.pid)
        if r is None or p.poll() is not None:
            break
        if base is None:
            base = r
        if r - base >= STOP_AFTER:
            p.send_signal(signal.SIGSTOP)
            r = rchar(p.pid)
            stopped = True
            break
        time.sleep(0.0005)
    if not stopped:
        p.kill()
        p.communicate()
        return None
    if r is not None and r - base > size - (6 << 20):
        p.send_signal(signal.SIGCONT)
        p.communicate()
        return None  # nearly done before the stop: not a mid-read change
    change()
    p.send_signal(signal.SIGCONT)
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return (-999, b"", b"hung")
    return (p.returncode, out, err)


def main():
    prog, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    orig = os.path.abspath("orig.csv")
    text = make_data(orig)
    size = len(text)
    with open("orig.csv.gz", "wb") as f:
        f.write(gzip.compress(text, 1))
    gz = open("orig.csv.gz", "rb").read()
    # A small model for --update, eval and predict (its columns are the input's).
    with open("small.csv", "wb") as f:
        f.write(text[:boundary_near(text, 100000)])
    subprocess.run([prog, "fit", "-y", "y", "--quiet", "-o", "m.json", "small.csv"], check=True,
                   stdout=subprocess.DEVNULL)
    m_bytes = open("m.json", "rb").read()

    t = "t.csv"
    cases = [
        # name, argv (t = the input), read from stdin, output file (-o), compressed
        ("fit", ["fit", "-y", "y", "--format", "json", "-o", "out.json", t], False, "out.json", 0),
        ("fit_threads", ["fit", "-y", "y", "--threads", "2", "--format", "json", t], False, None, 0),
        ("fit_range", ["fit", "-y", "y", "--range", "1/1", "--format", "json", t], False, None, 0),
        ("emit_state", ["fit", "-y", "y", "--emit-state", "-o", "s.json", t], False, "s.json", 0),
        ("update", ["fit", "--update", "m.json", "-o", "u.json", t], False, "u.json", 0),
        ("eval", ["eval", "-m", "m.json", "--format", "json", t], False, None, 0),
        ("eval_threads", ["eval", "-m", "m.json", "--threads", "2", "--format", "json", t], False,
         None, 0),
        ("predict", ["predict", "-m", "m.json", "-o", "p.csv", t], False, "p.csv", 0),
        ("stdin", ["fit", "-y", "y", "--format", "json", "-"], True, None, 0),
        ("stdin_threads", ["fit", "-y", "y", "--threads", "2", "--format", "json", "-"], True,
         None, 0),
        ("gzip", ["fit", "-y", "y", "--format", "json", t], False, None, 1),
    ]
    only = sys.argv[3:]
    fails = []
    for name, args, from_stdin, output, compressed in cases:
        if only and name not in only:
            continue
        data = gz if compressed else text
        cmd = [prog] + args

        def reset():
            with open(t, "wb") as f:
                f.write(data)
            for o in ("out.json", "s.json", "u.json", "p.csv"):
                if os.path.exists(o):
                    os.unlink(o)

        reset()
        clean = subprocess.run(cmd, stdin=open(t, "rb") if from_stdin else subprocess.DEVNULL,
                               capture_output=True)
        if clean.returncode != 0:
            fails.append("%s: clean run exit %d: %s" % (name, clean.returncode,
                                                        clean.stderr.decode()[:300]))
            continue
        clean_out = open(output, "rb").read() if output else clean.stdout
        for kind in ("truncate_behind", "truncate_ahead", "grow"):
            res = None
            for attempt in range(5):
                reset()
                if kind == "truncate_behind":
                    new = boundary_near(data, 1 << 20) if not compressed else 1 << 20
                elif kind == "truncate_ahead":
                    new = boundary_near(data, len(data) * 3 // 4) if not compressed else \
                        len(data) * 3 // 4

                def change():
                    if kind == "grow":
                        with open(t, "ab") as f:
                            f.write(b"1e6,1,2\n" * 1000 if not compressed
                                    else gzip.compress(b"1e6,1,2\n" * 1000))
                    else:
                        os.truncate(t, new)

                res = run_stopped(cmd, t if from_stdin else None, change, work, len(data))
                if res is not None:
                    break
            label = "%s %s" % (name, kind)
            if res is None:
                fails.append("%s: never stopped mid-read in 5 tries" % label)
                continue
            rc, out, err = res
            err = err.decode(errors="replace")
            print("%s: exit %d %s" % (label, rc, err.strip()[:200]))
            if rc < 0 or rc == -999:
                fails.append("%s: killed by signal %d (or hung): %s" % (label, -rc, err[:300]))
                continue
            if kind == "grow":
                got = open(output, "rb").read() if output and os.path.exists(output) else out
                if rc != 0 or got != clean_out:
                    fails.append("%s: exit %d, output %s the clean run's: %s" %
                                 (label, rc, "equal to" if got == clean_out else "differs from",
                                  err[:300]))
                continue
            src = "<stdin>" if from_stdin else t
            want = "csvreg: %s: file changed while reading (%d bytes at open, %d now)\n" % (
                src, len(data), new)
            if rc != 4 or err != want:
                fails.append("%s: exit %d, stderr %r (want exit 4, %r)" % (label, rc, err, want))
            if output and os.path.exists(output):
                fails.append("%s: %s written" % (label, output))
            if out and not output and b"coefficients" in out:
                fails.append("%s: a report was printed" % label)
        if open("m.json", "rb").read() != m_bytes:
            fails.append("%s: the model m.json changed" % name)
    for f in fails:
        print("FAIL " + f)
    print("%d failures" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
