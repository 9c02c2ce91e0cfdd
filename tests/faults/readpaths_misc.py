#!/usr/bin/env python3
"""readpaths_misc.py CSVREG WORKDIR [CASE...]: built behaviours of the read
paths that had no test (audit items 9; issue 17 item 11, issue 16).

- fifo: `fit --threads 2 FIFO` (a named pipe given by name) is read as a
  stream, like `-`: the same JSON report as `--threads 2 -` and as one thread.
- record_too_long: a 64 MiB + 1 record on line 10 is named as line 10 in
  every mode: plain, --threads 2, --range 1/1, --emit-state, --threads 2 on
  standard input (the shard modes once said line 9 or 11).
- progress_eta: the progress line on a terminal (a pty) shows percent and an
  ETA once it means something, and never "ETA 0 s". The run is held with
  SIGSTOP for 1.5 s after it has read 4 MB so that the ETA is at least a
  second on any machine.
"""
import json
import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time

fails = []


def check(what, ok, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""))
    if not ok:
        fails.append(what)


def make_data(path, rows):
    gen = random.Random(5)
    with open(path, "w") as f:
        f.write("y,x1,x2\n")
        for _ in range(rows):
            a, b = gen.random(), gen.random()
            f.write("%.6f,%.6f,%.6f\n" % (a - 2 * b + 0.1 * gen.random(), a, b))


def case_fifo(prog):
    make_data("f.csv", 200000)
    one = subprocess.run([prog, "fit", "-y", "y", "--format", "json", "f.csv"], capture_output=True)
    # standard input as a pipe: a stream, as the FIFO is (a regular file on
    # standard input is read by byte ranges, like a named file)
    with open("f.csv", "rb") as f:
        dash = subprocess.run([prog, "fit", "-y", "y", "--threads", "2", "--format", "json", "-"],
                              input=f.read(), capture_output=True)
    if os.path.exists("fifo"):
        os.unlink("fifo")
    os.mkfifo("fifo")
    writer = threading.Thread(target=lambda: open("fifo", "wb").write(open("f.csv", "rb").read()))
    writer.start()
    pipe = subprocess.run([prog, "fit", "-y", "y", "--threads", "2", "--format", "json", "fifo"],
                          capture_output=True, timeout=120)
    writer.join()
    check("fit --threads 2 FIFO exits 0", pipe.returncode == 0, pipe.stderr.decode())
    check("fit --threads 2 FIFO == --threads 2 -", pipe.stdout == dash.stdout)
    # Threads merge in input order: equal to one thread to rounding.
    check("fit --threads 2 FIFO == one thread (1e-10)",
          close(json.loads(pipe.stdout), json.loads(one.stdout)))


def close(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(close, a, b))
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-10 * max(abs(a), abs(b), 1e-300)
    return a == b


def case_record_too_long(prog):
    with open("huge10.csv", "wb") as f:
        f.write(b"y,x\n" + b"".join(b"%d,%d\n" % (i, i * i % 7) for i in range(8)))
        f.write(b"5," + b"1" * (64 * 1024 * 1024 + 1) + b"\n1,2\n")
    want = "csvreg: %s:10: record starting on line 10 is longer than 67108864 bytes\n"
    for args, stdin in ([[], None], [["--threads", "2"], None], [["--range", "1/1"], None],
                        [["--emit-state"], None], [["--threads", "2"], "huge10.csv"]):
        name = "-" if stdin else "huge10.csv"
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
            p = subprocess.run([prog, "fit", "-y", "y"] + args + [name], stdin=f,
                               capture_output=True)
        err = p.stderr.decode()
        check("record too long, fit %s %s: exit 3, line 10" % (" ".join(args), name),
              p.returncode == 3 and err == want % ("<stdin>" if stdin else "huge10.csv"),
              "exit %d, %r" % (p.returncode, err))
    os.unlink("huge10.csv")


def case_progress_eta(prog):
    make_data("p.csv", 1000000)
    size = os.path.getsize("p.csv")
    master, slave = pty.openpty()
    p = subprocess.Popen([prog, "fit", "-y", "y", "p.csv"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    got = bytearray()

    def drain(wait):
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([master], [], [], max(left, 0))
            if not r:
                if left <= 0:
                    return
                continue
            try:
                b = os.read(master, 4096)
            except OSError:
                return
            if not b:
                return
            got.extend(b)

    base = None
    stopped = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        try:
            with open("/proc/%d/io" % p.pid) as f:
                r = int([x for x in f if x.startswith("rchar:")][0].split()[1])
        except (OSError, IndexError):
            break
        base = r if base is None else base
        if r - base >= 4 << 20:
            p.send_signal(signal.SIGSTOP)
            stopped = r - base < size - (8 << 20)
            time.sleep(1.5)
            p.send_signal(signal.SIGCONT)
            break
        time.sleep(0.0005)
    while p.poll() is None:
        drain(0.2)
    drain(0.2)
    os.close(master)
    text = got.decode(errors="replace")
    lines = [x for x in re.split(r"[\r\n]", text) if x.strip()]
    check("progress: the run was held mid-read", stopped)
    check("progress: exit 0", p.returncode == 0, text)
    eta = [x for x in lines if re.search(r"\d+%, ETA \d+ (s|min)", x)]
    check("progress: a line with percent and an ETA", bool(eta), repr(text[-500:]))
    check("progress: never 'ETA 0 s'", not any("ETA 0 s" in x for x in lines))
    check("progress: the line is erased at the end", text.endswith("\r") or not lines,
          repr(text[-80:]))


CASES = {"fifo": case_fifo, "record_too_long": case_record_too_long,
         "progress_eta": case_progress_eta}


def main():
    prog, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    for name in sys.argv[3:] or list(CASES):
        CASES[name](prog)
    print("%d failures" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
