import os
import stat
import subprocess
import sys
import tempfile
import threading
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# What `fit -o PATH` does with what is at PATH (README "Output files"): a
# regular file is replaced atomically keeping its mode; a symlink is followed
# and stays a link; a FIFO or a device is written directly, never replaced by
# a regular file; past `ulimit -f` the write fails with exit 4 "File too
# large", the old file intact and no temporary file left. The devices are
# private copies made with mknod (as root): a regression must not destroy the
# machine's /dev/null. (cmd: a plain fit.)
DATA = os.path.abspath("longley.csv")
tmp = tempfile.mkdtemp()


def fit(out, **kw):
    return subprocess.run([CSVREG, "fit", "-y", "Employed", DATA, "-o", out, "--quiet"],
                          capture_output=True, text=True, **kw)


def leftovers():
    return [n for n in os.listdir(tmp) if ".tmp." in n]


model = os.path.join(tmp, "m.json")
p = fit(model)
if p.returncode:
    fail(f"fit -o: exit {p.returncode} {p.stderr}")
good = open(model).read()

# The mode an owner gave the model is kept.
os.chmod(model, 0o600)
p = fit(model)
if p.returncode or stat.S_IMODE(os.stat(model).st_mode) != 0o600:
    fail(f"mode 0600 not kept: exit {p.returncode}, mode {oct(os.stat(model).st_mode)}")

# A symlink is followed: the link stays, its target gets the model.
link = os.path.join(tmp, "link.json")
os.symlink("m.json", link)
os.unlink(model)
p = fit(link)
if p.returncode or not os.path.islink(link) or open(model).read() != good:
    fail(f"-o symlink: exit {p.returncode}, link kept {os.path.islink(link)}")
# A dangling one names the file to create.
os.mkdir(os.path.join(tmp, "sub"))
dang = os.path.join(tmp, "dang.json")
os.symlink("sub/new.json", dang)
p = fit(dang)
if p.returncode or not os.path.islink(dang) or open(os.path.join(tmp, "sub/new.json")).read() != good:
    fail(f"-o dangling symlink: exit {p.returncode}")

# Hard links: the name given is replaced, with a warning for the others.
hard = os.path.join(tmp, "hard.json")
os.link(model, hard)
p = fit(model)
if p.returncode or "hard link" not in p.stderr:
    fail(f"-o with a hard link: exit {p.returncode}, stderr {p.stderr!r}")

# A FIFO is written into, and is still a FIFO.
fifo = os.path.join(tmp, "ff")
os.mkfifo(fifo)
got = []
reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
reader.start()
p = fit(fifo)
reader.join(30)
if p.returncode or not stat.S_ISFIFO(os.stat(fifo).st_mode) or not got or got[0] != good:
    fail(f"-o FIFO: exit {p.returncode}, still a FIFO {stat.S_ISFIFO(os.stat(fifo).st_mode)}")

# /dev/stdout into a pipe: the model comes out on stdout.
p = subprocess.run([CSVREG, "fit", "-y", "Employed", DATA, "-o", "/dev/stdout", "--format", "csv"],
                   capture_output=True, text=True)
if p.returncode or good.strip() not in p.stdout:
    fail(f"-o /dev/stdout: exit {p.returncode} {p.stderr}")

# Character devices (as root, private ones): a null device stays a device;
# a full one gives an I/O error naming the cause, and stays a device.
if os.geteuid() == 0:
    null = os.path.join(tmp, "null")
    full = os.path.join(tmp, "full")
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    p = fit(null)
    if p.returncode or not stat.S_ISCHR(os.stat(null).st_mode):
        fail(f"-o null device: exit {p.returncode}, still a device {stat.S_ISCHR(os.stat(null).st_mode)}")
    p = fit(full)
    if p.returncode != 4 or "No space left on device" not in p.stderr or \
            not stat.S_ISCHR(os.stat(full).st_mode):
        fail(f"-o full device: exit {p.returncode} {p.stderr!r}")
else:
    # Without root no device can be made; /dev/full is safe to aim at only
    # because a plain user cannot replace it.
    p = fit("/dev/full")
    if p.returncode != 4 or "No space left on device" not in p.stderr:
        fail(f"-o /dev/full: exit {p.returncode} {p.stderr!r}")

# ulimit -f: EFBIG, exit 4, the old model intact, no temporary file.
before = open(model).read()
p = subprocess.run(["sh", "-c", 'ulimit -f 1; exec "$0" fit -y Employed "$1" -o "$2" --quiet',
                    CSVREG, DATA, model], capture_output=True, text=True)
if p.returncode != 4 or "File too large" not in p.stderr:
    fail(f"ulimit -f: exit {p.returncode} {p.stderr!r}")
if open(model).read() != before:
    fail("ulimit -f changed the old model")
if leftovers() or [n for n in os.listdir(os.path.join(tmp, "sub")) if ".tmp." in n]:
    fail(f"temporary files left: {leftovers()}")
finish()
