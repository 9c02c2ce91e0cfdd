#!/usr/bin/env python3
"""signal_sweep.py CSVREG WORKDIR: signals at random points during -o (issue 17).

`fit -o` and `predict -o` are started on a file large enough to take a
fraction of a second, and a terminating signal (INT, TERM, HUP, QUIT, USR1,
USR2, ALRM, VTALRM, PROF, XCPU) is sent after a random delay between 0 and
1.2 times the command's clean run time: during the pass, the solve, the
write or after it. After each run the target must be the old file
untouched, or absent when there was none, or (the command finished before
the signal, or the signal came after the rename) the clean run's bytes; no `.NAME.tmp.*` may be left and
no run may hang. Delays come from random.Random(SEED) (deterministic seeds;
CSVREG_SIGNAL_SEED, CSVREG_SIGNAL_RUNS to change), about 10 s in all.
"""
import os
import random
import signal
import subprocess
import sys
import time

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
           signal.SIGUSR2, signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU]


def main():
    prog, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    seed = int(os.environ.get("CSVREG_SIGNAL_SEED", "1"))
    runs = int(os.environ.get("CSVREG_SIGNAL_RUNS", "40"))
    rng = random.Random(seed)
    data = os.path.join(work, "d.csv")
    gen = random.Random(7)
    with open(data, "w") as f:
        f.write("y," + ",".join("x%d" % j for j in range(40)) + "\n")
        for _ in range(6000):
            xs = [gen.random() for _ in range(40)]
            f.write("%.6f," % (sum(xs) + gen.random()) + ",".join("%.6f" % x for x in xs) + "\n")
    model = os.path.join(work, "model.json")
    subprocess.run([prog, "fit", "-y", "y", "--quiet", "-o", model, data], check=True,
                   stdout=subprocess.DEVNULL)
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, "target")
    cmds = {
        "fit": [prog, "fit", "-y", "y", "--quiet", "-o", target, data],
        "predict": [prog, "predict", "-m", model, "-o", target, data],
    }
    clean, took = {}, {}
    for name, cmd in cmds.items():
        if os.path.exists(target):
            os.unlink(target)
        t0 = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        took[name] = time.monotonic() - t0
        with open(target, "rb") as f:
            clean[name] = f.read()
    old = b"the old target, kept byte for byte\n"
    fails, finished, killed = [], 0, 0
    for i in range(runs):
        name = "fit" if i % 2 == 0 else "predict"
        sig = SIGNALS[rng.randrange(len(SIGNALS))]
        delay = rng.uniform(0, 1.2 * took[name])
        had_old = rng.random() < 0.5
        for leftover in os.listdir(out):
            os.unlink(os.path.join(out, leftover))
        if had_old:
            with open(target, "wb") as f:
                f.write(old)
        p = subprocess.Popen(cmds[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            fails.append("%d %s %s after %.3fs: hung" % (i, name, sig.name, delay))
            continue
        what = "%d %s %s after %.3fs (exit %d)" % (i, name, sig.name, delay, p.returncode)
        if os.path.exists(target):
            with open(target, "rb") as f:
                got = f.read()
        else:
            got = None
        temps = [x for x in os.listdir(out) if x.startswith(".target.tmp.")]
        if temps:
            fails.append("%s: temporary files left: %s" % (what, temps))
        if p.returncode == 0:
            finished += 1
            if got != clean[name]:
                fails.append("%s: exit 0 but the target is not the clean output" % what)
        else:
            killed += 1
            want = old if had_old else None
            # a signal after the rename finds the new file complete: atomic
            if got != want and got != clean[name]:
                fails.append("%s: the target is %s, want %s" % (
                    what, "absent" if got is None else "%d other bytes" % len(got),
                    "the old file" if had_old else "absent"))
            if b"AddressSanitizer" in err or b"runtime error" in err:
                fails.append("%s: sanitizer report: %s" % (what, err.decode(errors="replace")))
    print("%d runs: %d interrupted, %d finished before the signal" % (runs, killed, finished))
    for f in fails:
        print("FAIL", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
