#!/usr/bin/env python3
"""Compressed input (issue 14), end to end: comptest.py CSVREG TEST.

The data is generated here and compressed with the tools (gzip, igzip,
zstd, xz, bzip2) at test time; bgzip's format (members with a BC extra
field and an empty EOF member) is written by hand, as bgzip itself is not
installed everywhere. Every test compares the program's output on a
compressed input with its output on the plain one: byte for byte for
reports, models and predictions. Exit 77 = skipped (a tool is missing).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

CSVREG = sys.argv[1]
TEST = sys.argv[2]
FORMATS = ["gz", "zst", "xz", "bz2"]
TOOL = {"gz": ["gzip", "-c"], "zst": ["zstd", "-q", "-c"], "xz": ["xz", "-c"], "bz2": ["bzip2", "-c"],
        "igz": ["igzip", "-c"]}
NAME = {"gz": "gzip", "igz": "gzip", "bgz": "gzip", "zst": "zstd", "xz": "xz", "bz2": "bzip2"}
UNIT = {"gzip": "member", "zstd": "frame", "xz": "stream", "bzip2": "stream"}
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args, stdin=None, env=None, cwd=None):
    e = dict(os.environ)
    e.update(env or {})
    if isinstance(stdin, str):
        with open(stdin, "rb") as f:
            p = subprocess.run([CSVREG] + args, stdin=f, capture_output=True, env=e, cwd=cwd)
    else:
        p = subprocess.run([CSVREG] + args, input=stdin or b"", capture_output=True, env=e, cwd=cwd)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def compress(fmt, data):
    if fmt == "bgz":
        return bgzf(data)
    if not shutil.which(TOOL[fmt][0]):
        print("SKIP: no", TOOL[fmt][0])
        sys.exit(77)
    return subprocess.run(TOOL[fmt], input=data, capture_output=True, check=True).stdout


def bgzf(data, block=65280):
    """bgzip's BGZF: gzip members of at most 64 KiB with a BC extra field
    (the member's size) and an empty member at the end."""
    out = b""
    for i in range(0, len(data), block):
        out += bgzf_member(data[i:i + block])
    return out + bgzf_member(b"")


def bgzf_member(chunk):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = c.compress(chunk) + c.flush()
    size = 18 + len(raw) + 8
    head = b"\x1f\x8b\x08\x04" + b"\0\0\0\0" + b"\0\xff" + struct.pack("<H", 6) + b"BC" + \
        struct.pack("<HH", 2, size - 1)
    return head + raw + struct.pack("<II", zlib.crc32(chunk), len(chunk))


def bgzf_members(blob):
    """Where each BGZF member starts (its BSIZE field: the member's size - 1)."""
    at, starts = 0, []
    while at + 18 <= len(blob):
        starts.append(at)
        at += struct.unpack("<H", blob[at + 16:at + 18])[0] + 1
    return starts


def last_member(fmt, blob):
    """The start of the member (frame, stream) that `blob` ends in."""
    return bgzf_members(blob)[-1] if fmt == "bgz" else 0


def zstd_parts(blob, at=0):
    """A zstd frame's parts as RFC 8878 lays them out, to know where each
    starts independently of the decoder: (frame start, [block starts],
    checksum start or None, frame end)."""
    fhd = blob[at + 4]
    single = (fhd >> 5) & 1
    p = at + 5 + (0 if single else 1) + [0, 1, 2, 4][fhd & 3] + [single, 2, 4, 8][fhd >> 6]
    blocks = []
    while True:
        h = blob[p] | blob[p + 1] << 8 | blob[p + 2] << 16
        blocks.append(p)
        p += 3 + (1 if (h >> 1) & 3 == 1 else h >> 3)
        if h & 1:
            break
    csum = p if (fhd >> 2) & 1 else None
    return at, blocks, csum, p + (4 if csum is not None else 0)


def make_csv(rows=40000, seed=7):
    """Rows that need several ring blocks (512 KiB) and reader buffers."""
    x = seed
    lines = ["x1,x2,x3,y"]
    for i in range(rows):
        v = []
        for _ in range(3):
            x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            v.append((x >> 11) % 200000 / 1000.0 - 100.0)
        y = 1.5 + 2 * v[0] - 0.5 * v[1] + 0.25 * v[2] + ((x >> 20) % 1000) / 100.0
        lines.append("%.3f,%.3f,%.3f,%.4f" % (v[0], v[1], v[2], y))
    return ("\n".join(lines) + "\n").encode()


class Dir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="csvreg-comp-")
        self.csv = make_csv()
        self.write("d.csv", self.csv)

    def write(self, name, data):
        p = os.path.join(self.path, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def make(self, fmt, data=None, name=None):
        return self.write(name or "d.csv." + fmt, compress(fmt, self.csv if data is None else data))

    def done(self):
        shutil.rmtree(self.path)


def fit_json(args):
    return ["fit", "-y", "y", "--format", "json", "--quiet"] + args


def t_formats(d):
    """Every format, on a file and on standard input, gives the plain fit."""
    plain = d.path + "/d.csv"
    rc, want, _ = run(fit_json([plain]))
    check(rc == 0, "plain fit")
    for fmt in FORMATS + ["igz", "bgz"]:
        p = d.make(fmt)
        envs = [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}]
        if NAME[fmt] == "gzip":
            envs += [{"CSVREG_GZIP": "zlib"}, {"CSVREG_GZIP": "zlib", "CSVREG_DECOMPRESS_THREAD": "0"}]
        for env in envs:
            rc, out, err = run(fit_json([p]), env=env)
            check((rc, out) == (0, want), "%s file %s: %d %s" % (fmt, env, rc, err))
            rc, out, err = run(fit_json(["-"]), stdin=p, env=env)
            check((rc, out) == (0, want), "%s stdin %s: %d %s" % (fmt, env, rc, err))
        # --decompress none: the bytes as they are (not a CSV header; a NUL
        # in a header name is refused as such since state17)
        rc, out, err = run(fit_json(["--decompress", "none", p]))
        check(rc == 3 and ("no target column named 'y'" in err or "holds a NUL byte" in err),
              "%s none: %d %s" % (fmt, rc, err))


def t_multi(d):
    """Concatenated members, frames and streams, empty ones between."""
    rc, want, _ = run(fit_json([d.path + "/d.csv"]))
    lines = d.csv.splitlines(keepends=True)
    parts = [b"".join(lines[:5]), b"", b"".join(lines[5:20001]), b"", b"".join(lines[20001:])]
    for fmt in FORMATS + ["igz"]:
        blob = b"".join(compress(fmt, part) for part in parts)
        p = d.write("multi." + fmt, blob)
        for env in [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}] + \
                ([{"CSVREG_GZIP": "zlib"}] if NAME[fmt] == "gzip" else []):
            rc, out, err = run(fit_json([p]), env=env)
            check((rc, out) == (0, want), "multi %s %s: %d %s" % (fmt, env, rc, err))
            rc, out, err = run(fit_json(["-"]), stdin=p, env=env)
            check((rc, out) == (0, want), "multi %s stdin %s: %d %s" % (fmt, env, rc, err))


def t_multi_bgzip(d):
    """Two bgzip files concatenated (`cat a.gz b.gz`: bgzip's empty EOF
    member in the middle) read as the concatenated text, file and stdin."""
    rc, want, _ = run(fit_json([d.path + "/d.csv"]))
    lines = d.csv.splitlines(keepends=True)
    p = d.write("multi.bgz", bgzf(b"".join(lines[:12345])) + bgzf(b"".join(lines[12345:])))
    for env in [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}, {"CSVREG_GZIP": "zlib"}]:
        rc, out, err = run(fit_json([p]), env=env)
        check((rc, out) == (0, want), "multi bgzip %s: %d %s" % (env, rc, err))
        rc, out, err = run(fit_json(["-"]), stdin=p, env=env)
        check((rc, out) == (0, want), "multi bgzip stdin %s: %d %s" % (env, rc, err))


def t_empty(d):
    """An empty archive reads as an empty input."""
    e = d.write("empty.csv", b"")
    rc0, out0, err0 = run(fit_json([e]))
    for fmt in FORMATS + ["bgz"]:
        p = d.make(fmt, b"", "empty." + fmt)
        rc, out, err = run(fit_json([p]))
        check((rc, out, err.replace(p, e)) == (rc0, out0, err0),
              "empty %s: %d %s (plain: %d %s)" % (fmt, rc, err, rc0, err0))
        rc, out, err = run(fit_json(["-"]), stdin=p)
        rc1, out1, err1 = run(fit_json(["-"]), stdin=e)
        check((rc, out, err) == (rc1, out1, err1),
              "empty %s stdin: %d %s (plain: %d %s)" % (fmt, rc, err, rc1, err1))


def t_truncated(d):
    """A truncated archive: exit 4, the file and the offset, no report, no
    model file, after rows were already folded."""
    for fmt in FORMATS + ["bgz"]:
        blob = compress(fmt, d.csv)
        cut = len(blob) * 3 // 5
        p = d.write("trunc." + fmt, blob[:cut])
        # the member it is cut in starts at byte 0 (xz's one decoder of every
        # stream does not say where a stream starts)
        inside = "a compressed stream" if fmt == "xz" else \
            "the compressed %s that starts at byte %d" % (UNIT[NAME[fmt]], last_member(fmt, blob[:cut]))
        msg = "csvreg: %s: truncated %s data: the input ends at compressed byte %d, inside %s\n" \
            % (p, NAME[fmt], cut, inside)
        out_model = d.path + "/m-trunc.json"
        for env in [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}] + \
                ([{"CSVREG_GZIP": "zlib"}] if NAME[fmt] == "gzip" else []):
            rc, out, err = run(["fit", "-y", "y", "--quiet", "-o", out_model, p], env=env)
            # the reader's line number sits between the name and the message
            got = re.sub(r"^(csvreg: [^:]*):\d+:", r"\1:", err)
            check((rc, out, got) == (4, b"", msg), "trunc %s %s: %d %r" % (fmt, env, rc, err))
            check(not os.path.exists(out_model), "trunc %s: model written" % fmt)
            rc, out, err = run(["fit", "-y", "y", "--quiet", "-"], stdin=p, env=env)
            got = re.sub(r"^(csvreg: [^:]*):\d+:", r"\1:", err)
            check((rc, out, got) == (4, b"", msg.replace(p, "<stdin>")),
                  "trunc %s stdin %s: %d %r" % (fmt, env, rc, err))
        # cut inside the very first bytes: the header cannot be read
        p2 = d.write("head." + fmt, blob[:12])
        rc, out, err = run(["fit", "-y", "y", p2])
        check(rc == 4 and "truncated %s data: the input ends at compressed byte 12" % NAME[fmt] in err,
              "trunc head %s: %d %s" % (fmt, rc, err))
        left = [f for f in os.listdir(d.path) if f.startswith("m-trunc") or f.startswith(".m-trunc")]
        check(not left, "trunc %s: files left %s" % (fmt, left))


def t_corrupt(d):
    """A corrupt archive: exit 4, the format and an offset inside the file,
    no report, no model. Each format's checksum is damaged (at a member's
    or stream's end; damage mid-stream, below, often still inflates into
    text that fails to parse before the checksum is met)."""
    # byte from the end that lies in each format's check value
    where = {"gz": 6, "bgz": 34, "zst": 2, "xz": 30, "bz2": 3}
    for fmt in FORMATS + ["bgz"]:
        blob = bytearray(compress(fmt, d.csv))
        blob[len(blob) - where[fmt]] ^= 0x10
        p = d.write("bad." + fmt, bytes(blob))
        for env in [{}] + ([{"CSVREG_GZIP": "zlib"}] if NAME[fmt] == "gzip" else []):
            rc, out, err = run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m-bad.json", p], env=env)
            m = re.match(r"csvreg: (.*?):\d+: corrupt %s data at compressed byte (\d+)(?: \(.*\))?: "
                         r".+\n$" % NAME[fmt], err)
            check(rc == 4 and out == b"" and m and m.group(1) == p and
                  int(m.group(2)) <= len(blob), "corrupt %s %s: %d %r" % (fmt, env, rc, err))
            check(not os.path.exists(d.path + "/m-bad.json"), "corrupt %s: model written" % fmt)
        # damage mid-stream: the text it decodes to may fail to parse before
        # the checksum is met; the archive is still what is blamed (exit 4,
        # the offset), on a file and on standard input, at 10%, 50%, 90%,
        # and in the block that holds the header (byte 40, 1%, 3%: bzip2's
        # first block is ~900 kB of text, so its garbled header names fail
        # the spec before any check value is met: blamed at the header)
        good = compress(fmt, d.csv)
        for at in [40, int(len(good) * 0.01), int(len(good) * 0.03)] + \
                [int(len(good) * f) for f in (0.1, 0.5, 0.9)]:
            blob = bytearray(good)
            blob[at] ^= 0x55
            frac = at / len(blob)
            p = d.write("mid." + fmt, bytes(blob))
            for src, stdin, name in ((p, None, p), ("-", p, "<stdin>")):
                rc, out, err = run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m-mid.json", src],
                                   stdin=stdin)
                m = re.match(r"csvreg: (.*?)(?::\d+)?: (corrupt|truncated) %s data" % NAME[fmt],
                             err)
                check(rc == 4 and out == b"" and m and m.group(1) == name and
                      not os.path.exists(d.path + "/m-mid.json"),
                      "mid %s %.2f %s: %d %r" % (fmt, frac, name, rc, err))
        # the header's block damaged, read by predict and eval (their own
        # header checks: the model's columns) and by fit --holdout's
        # further pass: blamed on the archive too
        blob = bytearray(good)
        blob[40] ^= 0x55
        p = d.write("head." + fmt, bytes(blob))
        model = d.path + "/m-head.json"
        if not os.path.exists(model):
            check(run(["fit", "-y", "y", "--quiet", "-o", model, d.path + "/d.csv"])[0] == 0, "m-head")
        for args in (["predict", "--quiet", "-m", model, p], ["eval", "--quiet", "-m", model, p]):
            rc, out, err = run(args)
            m = re.match(r"csvreg: (.*?)(?::\d+)?: (corrupt|truncated) %s data" % NAME[fmt], err)
            # (predict streams its rows: those before a late check value's
            # failure are out already, as on a plain input's bad row)
            check(rc == 4 and (out == b"" or args[0] == "predict") and m and m.group(1) == p,
                  "head %s %s: %d %r" % (fmt, args[0], rc, err))
    # the exact message of one: a CRC-32 mismatch in the trailer, ISA-L
    blob = bytearray(compress("gz", d.csv))
    blob[-6] ^= 1
    p = d.write("crc.gz", bytes(blob))
    rc, out, err = run(["fit", "-y", "y", "--quiet", p])
    # ISA-L's message; zlib's (below) in a build without ISA-L
    member = " (in the member that starts at byte 0)"
    check(rc == 4 and re.sub(r":\d+:", ":", err, 1) in
          ["csvreg: %s: corrupt gzip data at compressed byte %d%s: %s\n" %
           (p, len(blob), member, "CRC-32 or length mismatch"),
           "csvreg: %s: corrupt gzip data at compressed byte %d%s: incorrect data check\n" %
           (p, len(blob) - 4, member)], "crc gz: %d %r" % (rc, err))
    rc, out, err = run(["fit", "-y", "y", "--quiet", p], env={"CSVREG_GZIP": "zlib"})
    check(rc == 4 and re.sub(r":\d+:", ":", err, 1) ==
          "csvreg: %s: corrupt gzip data at compressed byte %d%s: incorrect data check\n" %
          (p, len(blob) - 4, member), "crc gz zlib: %d %r" % (rc, err))
    # trailing bytes that are no member
    p = d.write("trail.gz", compress("gz", d.csv) + b"garbage")
    rc, out, err = run(["fit", "-y", "y", "--quiet", "--decompress", "auto", p],
                       env={"CSVREG_GZIP": "zlib"})
    check(rc == 4 and "corrupt gzip data at compressed byte" in err, "trail: %d %r" % (rc, err))


def t_offsets(d):
    """A corrupt archive's message names the part at fault, exactly: zstd
    the frame header, block K (its start, as the frame format lays it out)
    or the checksum, in the frame that holds it; gzip and bzip2 the member
    or stream it lies in and where the decoder stopped; xz where liblzma
    stopped. A damaged first block that garbles the text into bytes that
    look binary is the archive's fault (exit 4), not "not a CSV text file"."""
    def fit(p, env=None):
        rc, out, err = run(["fit", "-y", "y", "--quiet", p], env=env)
        return rc, out, re.sub(r"^(csvreg: [^:]*):\d+:", r"\1:", err)

    def expect(p, got, at, where, why, what):
        msg = "csvreg: %s: corrupt %s data at compressed byte %d%s: %s\n" % (
            p, what, at, " (%s)" % where if where else "", why)
        check(got == (4, b"", msg), "offsets %s: %r, wanted %r" % (p, got, msg))

    if shutil.which("zstd"):
        good = compress("zst", d.csv)
        frame, blocks, csum, end = zstd_parts(good)
        check(end == len(good) and len(blocks) >= 3 and csum is not None, "zstd layout")
        # a byte of block 1's compressed literals, block 2's header made a
        # reserved type, the checksum, a reserved bit of the frame header
        cases = [(blocks[0] + 31, 0x55, blocks[0], "the start of block 1 of the frame at byte 0",
                  "Data corruption detected"),
                 (blocks[1], 0x02, blocks[1], "the start of block 2 of the frame at byte 0",
                  "Data corruption detected"),
                 (csum + 1, 0x01, csum, "the checksum of the frame at byte 0",
                  "Restored data doesn't match checksum"),
                 (4, 0x08, 0, "the header of the frame starting there",
                  "Unsupported frame parameter")]
        for flip, mask, at, where, why in cases:
            blob = bytearray(good)
            blob[flip] ^= mask
            p = d.write("off.zst", bytes(blob))
            for env in [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}]:
                expect(p, fit(p, env), at, where, why, "zstd")
        # the same block in a second frame: its offsets in the file
        blob = bytearray(good + good)
        blob[len(good) + blocks[1]] ^= 0x02
        p = d.write("off2.zst", bytes(blob))
        expect(p, fit(p), len(good) + blocks[1], "the start of block 2 of the frame at byte %d"
               % len(good), "Data corruption detected", "zstd")
        # a skippable frame before it is walked over; zeros after a frame
        # are no frame
        skip = struct.pack("<II", 0x184D2A5A, 5) + b"hello"
        blob = bytearray(skip + good)
        blob[len(skip) + blocks[1]] ^= 0x02
        p = d.write("off3.zst", bytes(blob))
        expect(p, fit(p), len(skip) + blocks[1], "the start of block 2 of the frame at byte %d"
               % len(skip), "Data corruption detected", "zstd")
        p = d.write("off4.zst", good + bytes(8))
        expect(p, fit(p), len(good), "the start of a frame", "Unknown frame descriptor", "zstd")
    # gzip: the check value of bgzip's third member, named by its start
    good = bgzf(d.csv)
    starts = bgzf_members(good)
    m3 = starts[2]
    m4 = starts[3]
    blob = bytearray(good)
    blob[m4 - 8] ^= 1  # the CRC-32 of member 3
    p = d.write("off.bgz", bytes(blob))
    where = "in the member that starts at byte %d" % m3
    rc, out, err = fit(p)
    expect(p, fit(p), m4, where, "CRC-32 or length mismatch", "gzip") if "mismatch" in err else \
        expect(p, (rc, out, err), m4 - 4, where, "incorrect data check", "gzip")
    expect(p, fit(p, {"CSVREG_GZIP": "zlib"}), m4 - 4, where, "incorrect data check", "gzip")
    # damage in a member's deflate data: where the decoder stopped, in that
    # member, at or after the damaged byte
    blob = bytearray(good)
    blob[m3 + 30] ^= 0x55
    p = d.write("off2.bgz", bytes(blob))
    for env in [{}, {"CSVREG_GZIP": "zlib"}]:
        rc, out, err = fit(p, env)
        m = re.fullmatch(r"csvreg: %s: corrupt gzip data at compressed byte (\d+) \(%s\): .+\n"
                         % (re.escape(p), where), err)
        check(rc == 4 and m and m3 + 30 <= int(m.group(1)) < m4, "off2.bgz %s: %d %r" % (env, rc, err))
    # bzip2: a second stream's damaged stream check value (its last bytes)
    good = compress("bz2", d.csv)
    blob = bytearray(good + good)
    blob[-2] ^= 1
    p = d.write("off.bz2", bytes(blob))
    rc, out, err = fit(p)
    m = re.fullmatch(r"csvreg: %s: corrupt bzip2 data at compressed byte (\d+) \(in the stream "
                     r"that starts at byte %d\): corrupt bzip2 data\n" % (re.escape(p), len(good)),
                     err)
    check(rc == 4 and m and len(blob) - 6 <= int(m.group(1)) <= len(blob),
          "off.bz2: %d %r" % (rc, err))
    # xz: the stream footer's magic ("YZ", the last two bytes): liblzma stops
    # at the end of the footer
    good = compress("xz", d.csv)
    blob = bytearray(good)
    blob[-1] ^= 1
    p = d.write("off.xz", bytes(blob))
    expect(p, fit(p), len(blob), None, "corrupt xz data", "xz")
    # binary-looking text whose check value fails: the archive's fault
    for fmt, crc_at in (("gz", -8), ("bz2", 10)):
        blob = bytearray(compress(fmt, bytes(64) + d.csv))
        blob[crc_at] ^= 1
        p = d.write("bin." + fmt, bytes(blob))
        rc, out, err = fit(p)
        check(rc == 4 and re.match(r"csvreg: %s: corrupt %s data at compressed byte \d+ "
                                   % (re.escape(p), NAME[fmt]), err), "bin %s: %d %r" % (fmt, rc, err))
        # sound, it is binary data as before
        p = d.make(fmt, bytes(64) + d.csv, "bin-ok." + fmt)
        rc, out, err = fit(p)
        check((rc, err) == (3, "csvreg: %s: not a CSV text file (%s-compressed; looks like binary "
                                "data: a NUL byte on line 1, byte 1 of the line, in the header)\n"
                            % (p, NAME[fmt])), "bin-ok %s: %d %r" % (fmt, rc, err))


def t_padding(d):
    """Zero bytes after the last member or stream (tar pads with them),
    read as each tool reads them: gzip and bzip2 end there cleanly (any
    count), xz reads its stream padding (multiples of 4 bytes), zstd
    refuses them; a byte other than zero after gzip's zeros is refused."""
    rc, want, _ = run(fit_json([d.path + "/d.csv"]))
    for fmt in FORMATS + ["bgz"]:
        good = compress(fmt, d.csv)
        for zeros in (1, 3, 4, 512, 10240):
            p = d.write("pad." + fmt, good + bytes(zeros))
            ok = NAME[fmt] in ("gzip", "bzip2") or (fmt == "xz" and zeros % 4 == 0)
            envs = [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}] + \
                ([{"CSVREG_GZIP": "zlib"}] if NAME[fmt] == "gzip" else [])
            for env in envs:
                for src, stdin, name in ((p, None, p), ("-", p, "<stdin>")):
                    rc, out, err = run(fit_json([src]), stdin=stdin, env=env)
                    if ok:
                        check((rc, out) == (0, want), "pad %s %d %s %s: %d %r" %
                              (fmt, zeros, name, env, rc, err))
                    else:
                        check(rc == 4 and out == b"" and
                              re.match(r"csvreg: %s(:\d+)?: corrupt %s data at compressed byte \d+"
                                       % (re.escape(name), NAME[fmt]), err),
                              "pad %s %d %s %s refused: %d %r" % (fmt, zeros, name, env, rc, err))
    for fmt in ("gz", "bz2"):
        good = compress(fmt, d.csv)
        p = d.write("padjunk." + fmt, good + bytes(100) + b"x" + bytes(10))
        for env in [{}, {"CSVREG_DECOMPRESS_THREAD": "0"}]:
            for src, stdin, name in ((p, None, p), ("-", p, "<stdin>")):
                rc, out, err = run(["fit", "-y", "y", "--quiet", src], stdin=stdin, env=env)
                got = re.sub(r"^(csvreg: [^:]*):\d+:", r"\1:", err)
                check((rc, out, got) == (4, b"", "csvreg: %s: corrupt %s data at compressed byte %d: "
                                         "a byte other than zero in the zero padding after the "
                                         "last %s\n" % (name, NAME[fmt], len(good) + 100,
                                                         UNIT[NAME[fmt]])),
                      "pad junk %s %s %s: %d %r" % (fmt, name, env, rc, err))


def t_limits(d):
    """An archive whose decoder would need more than 128 MiB (an xz
    dictionary of 256 MiB, a zstd window of 256 MiB) is refused before the
    allocation: exit 3, the limit and the way round it."""
    import lzma
    small = d.csv[:20000].rsplit(b"\n", 1)[0] + b"\n"
    x = lzma.compress(small, format=lzma.FORMAT_XZ, filters=[
        {"id": lzma.FILTER_LZMA2, "dict_size": 256 << 20, "mf": lzma.MF_HC3, "nice_len": 8}])
    xs = [("xz", d.write("big.xz", x), "its dictionary needs more than the 128 MiB of memory "
           "csvreg gives a decoder (xz -9 needs 65 MiB); decompress it first (xz -dc FILE | "
           "csvreg ... -)")]
    if shutil.which("zstd"):
        z = subprocess.run(["zstd", "-q", "--long=28", "-c"], input=small, capture_output=True,
                           check=True).stdout
        xs.append(("zstd", d.write("big.zst", z), "its window needs more than the 128 MiB of "
                   "memory csvreg gives a decoder (written with zstd --long=28 or more); "
                   "decompress it first (zstd -dc --long=31 FILE | csvreg ... -)"))
    for name, p, why in xs:
        for src, stdin, shown in ((p, None, p), ("-", p, "<stdin>")):
            rc, out, err = run(["fit", "-y", "y", "--quiet", src], stdin=stdin)
            got = re.sub(r"^(csvreg: [^:]*):\d+:", r"\1:", err)
            check(rc == 3 and out == b"" and
                  re.fullmatch(r"csvreg: %s: %s data at compressed byte \d+: %s\n"
                               % (re.escape(shown), name, re.escape(why)), got),
                  "limit %s %s: %d %r" % (name, shown, rc, err))
    # xz -9's 64 MiB dictionary is within the limit
    x9 = lzma.compress(small, format=lzma.FORMAT_XZ, preset=9)
    p = d.write("nine.xz", x9)
    _, want, _ = run(fit_json([d.write("small.csv", small)]))
    rc, out, err = run(fit_json([p]))
    check((rc, out) == (0, want), "xz -9: %d %r" % (rc, err))


def without_fold(model_bytes):
    m = json.loads(model_bytes)
    m.pop("folded", None)
    m.pop("checksum", None)
    return m


def t_model(d):
    """A model trained on compressed rows is the plain one's, byte for byte
    but for the record of the input read (fit -o records it since issue 15:
    the compressed file's name, size and digests);
    predict and eval on compressed input print the same bytes; --update
    with compressed rows equals with plain rows."""
    plain = d.path + "/d.csv"
    check(run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m0.json", plain])[0] == 0, "fit m0")
    m0 = open(d.path + "/m0.json", "rb").read()
    check(run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m0s.json", "-"], stdin=plain)[0] == 0,
          "fit m0s")
    m0s = open(d.path + "/m0s.json", "rb").read()
    _, pred0, _ = run(["predict", "--quiet", "-m", d.path + "/m0.json", plain])
    _, ev0, _ = run(["eval", "--quiet", "-m", d.path + "/m0.json", "--format", "json", plain])
    half = d.write("half.csv", b"".join(d.csv.splitlines(keepends=True)[:20001]))
    rest = d.write("rest.csv", d.csv.splitlines(keepends=True)[0] +
                   b"".join(d.csv.splitlines(keepends=True)[20001:]))
    run(["fit", "-y", "y", "--quiet", "-o", d.path + "/h.json", half])
    run(["fit", "--update", d.path + "/h.json", "--quiet", "-o", d.path + "/u0.json", rest])
    u0 = open(d.path + "/u0.json", "rb").read()
    for fmt in FORMATS:
        p = d.make(fmt)
        rc, _, err = run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m1.json", p])
        check(rc == 0 and without_fold(open(d.path + "/m1.json", "rb").read()) ==
              without_fold(m0), "model %s %s" % (fmt, err))
        # trained on standard input: the plain model trained on standard input
        rc, _, err = run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m2.json", "-"], stdin=p)
        check(rc == 0 and without_fold(open(d.path + "/m2.json", "rb").read()) ==
              without_fold(m0s), "model stdin %s %s" % (fmt, err))
        rc, out, err = run(["predict", "--quiet", "-m", d.path + "/m0.json", p])
        check((rc, out) == (0, pred0), "predict %s: %d %s" % (fmt, rc, err))
        rc, out, err = run(["predict", "--quiet", "-m", d.path + "/m0.json", "-"], stdin=p)
        check((rc, out) == (0, pred0), "predict stdin %s: %d %s" % (fmt, rc, err))
        for t in ["1", "2"]:
            rc, out, err = run(["eval", "--quiet", "--threads", t, "-m", d.path + "/m0.json",
                                "--format", "json", p])
            if t == "1":
                check((rc, out) == (0, ev0), "eval %s: %d %s" % (fmt, rc, err))
            else:
                a, b = json.loads(out), json.loads(ev0)
                check(rc == 0 and close_json(a, b, 1e-12), "eval threads %s: %d %s" % (fmt, rc, err))
        rp = d.make(fmt, open(rest, "rb").read(), "rest.csv." + fmt)
        rc, _, err = run(["fit", "--update", d.path + "/h.json", "--quiet", "-o",
                          d.path + "/u1.json", rp])
        # equal but for the record of what was folded (the compressed file's
        # name, size and digests: what a replay of that file is caught by)
        ok = rc == 0 and without_fold(open(d.path + "/u1.json", "rb").read()) == without_fold(u0)
        check(ok, "update %s %s" % (fmt, err))
    # predict --decompress none on gzip: the bytes as they are, as before
    rc, out, err = run(["predict", "--quiet", "--decompress", "none", "-m", d.path + "/m0.json",
                        d.path + "/d.csv.gz"])
    check(rc == 3 and "not a CSV text file" not in err, "predict none: %d %s" % (rc, err))


def close_json(a, b, tol):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close_json(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close_json(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tol * max(1.0, abs(a), abs(b))
    return a == b


def fit_numbers(out):
    """What threads must give as one thread does (to 1e-12): the terms, the
    residual and total sums, the counts (not the condition estimate)."""
    j = json.loads(out)
    return [[t["estimate"], t["std_error"]] for t in j["terms"]] + [j["rss"], j["residual_sd"]]


def t_threads(d):
    """--threads 2 on a compressed file reads the decompressed stream in
    blocks: the same bytes as a plain stream with --threads 2, and one
    thread's answer to 1e-12."""
    plain = d.path + "/d.csv"
    _, one, _ = run(fit_json([plain]))
    env = {"CSVREG_STDIN_BLOCK": "65536"}
    _, two_plain, _ = run(fit_json(["--threads", "2", "-"]), stdin=plain, env=env)
    for fmt in ["gz", "zst"]:
        p = d.make(fmt)
        for src in [[p], ["-"]]:
            rc, out, err = run(fit_json(["--threads", "2"] + src), stdin=p if src == ["-"] else None,
                               env=env)
            check(rc == 0 and out == two_plain, "threads %s %s: %d %s" % (fmt, src, rc, err))
            check(rc == 0 and close_json(fit_numbers(out), fit_numbers(one), 1e-12),
                  "threads vs one %s %s" % (fmt, src))


def t_state(d):
    """--emit-state of a compressed file: provenance says compressed, with
    the compressed file's bytes; solve gives the plain fit."""
    plain = d.path + "/d.csv"
    _, want, _ = run(["fit", "-y", "y", "--quiet", plain])
    for fmt in FORMATS:
        p = d.make(fmt)
        rc, out, err = run(["fit", "-y", "y", "--quiet", "--emit-state", p])
        check(rc == 0, "state %s: %s" % (fmt, err))
        meta = json.loads(out)["meta"]
        check(meta.get("compressed") == {"format": NAME[fmt], "bytes": os.path.getsize(p)} and
              meta["bytes"] + meta["header_bytes"] == len(d.csv) and "range" not in meta,
              "state meta %s: %s" % (fmt, meta))
        s = d.write("s.json", out)
        rc, out, err = run(["solve", s])
        check(rc == 0 and out == want, "solve %s: %d %s" % (fmt, rc, err))
    # a plain file's state has no "compressed"
    rc, out, _ = run(["fit", "-y", "y", "--quiet", "--emit-state", plain])
    check("compressed" not in json.loads(out)["meta"], "plain state meta")


def t_usage(d):
    """Byte ranges of a compressed file are a usage error naming the
    alternatives; --decompress takes auto or none, once."""
    for fmt in FORMATS + ["bgz"]:
        p = d.make(fmt)
        msg = ("csvreg: %s: %s-compressed input is not splittable: a byte range (--range, --bytes) "
               "cannot start mid-stream; use --threads N, which splits the decompressed stream, or "
               "pre-split the uncompressed file\n" % (p, NAME[fmt]))
        for r in [["--range", "1/2"], ["--bytes", "0:1000"]]:
            rc, out, err = run(["fit", "-y", "y"] + r + [p])
            check((rc, out, err) == (2, b"", msg), "range %s %s: %d %r" % (fmt, r, rc, err))
    p = d.make("gz")
    rc, out, err = run(["fit", "-y", "y", "--decompress", "gzip", p])
    check(rc == 2 and err.startswith("csvreg: --decompress: expected 'auto' or 'none', got 'gzip'"),
          "bad mode: %d %r" % (rc, err))
    rc, out, err = run(["fit", "-y", "y", "--decompress", "auto", "--decompress", "none", p])
    check(rc == 2 and "given twice" in err, "twice: %d %r" % (rc, err))
    rc, out, err = run(["eval", "-m", "x.json", "--decompress", "x", p])
    check(rc == 2 and "--decompress: expected 'auto' or 'none', got 'x'" in err, "eval bad mode")
    rc, out, err = run(["predict", "-m", "x.json", "--decompress=bad", p])
    check(rc == 2 and "--decompress: expected 'auto' or 'none', got 'bad'" in err,
          "predict bad mode")


def t_not_text(d):
    """Archives of other kinds and binary data: one line, exit 3."""
    plain = d.path + "/d.csv"
    z = d.path + "/d.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(plain, "d.csv")
    tgz = d.path + "/d.tar.gz"
    with tarfile.open(tgz, "w:gz") as f:
        f.add(plain, "d.csv")
    tar = d.path + "/d.tar"
    with tarfile.open(tar, "w") as f:
        f.add(plain, "d.csv")
    nul = d.write("nul.csv", b"x1,\0y\n1,2\n")
    ctl = d.write("ctl.bin", bytes(range(1, 9)) * 64)
    seven = d.write("d.7z", b"7z\xbc\xaf\x27\x1c\0\4" + b"\0" * 40)
    utf16 = d.write("u16.csv", "y,x\n1,2\n".encode("utf-16"))
    cases = [(z, "looks like a zip archive"), (tgz, "gzip-compressed; looks like a tar archive"),
             (tar, "looks like a tar archive"), (nul, "looks like binary data: a NUL byte on line 1, byte 4 of the line, in the header"),
             (ctl, "looks like binary data (control bytes)"), (seven, "looks like a 7-Zip archive"),
             (utf16, "looks like UTF-16 text: convert it to UTF-8")]
    check(run(["fit", "-y", "y", "--quiet", "-o", d.path + "/m0.json", plain])[0] == 0, "m0")
    for path, what in cases:
        msg = "csvreg: %s: not a CSV text file (%s)\n" % (path, what)
        rc, out, err = run(["fit", "-y", "y", path])
        check((rc, out, err) == (3, b"", msg), "not text %s: %d %r" % (path, rc, err))
        rc, out, err = run(["fit", "-y", "y", "-"], stdin=path)
        check((rc, err) == (3, msg.replace(path, "<stdin>")), "not text stdin %s: %d %r" % (path, rc, err))
        rc, out, err = run(["predict", "-m", d.path + "/m0.json", path])
        check((rc, out, err) == (3, b"", msg), "predict not text %s: %d %r" % (path, rc, err))
    # --decompress none checks nothing: the zip's bytes reach the reader
    rc, out, err = run(["fit", "-y", "y", "--decompress", "none", z])
    check(rc == 3 and "not a CSV text file" not in err, "none zip: %d %r" % (rc, err))
    # a header that starts like bzip2's magic, and a NUL after the first
    # line, are CSV as before
    bz = d.write("bz.csv", b"BZh9,y\n1,2\n2,3.5\n3,4\n")
    rc, out, err = run(["fit", "-y", "y", "--quiet", bz])
    check(rc == 0, "BZh header: %d %r" % (rc, err))
    late = d.write("late.csv", b"x,y\n1,2\n3\0,4\n5,7\n")
    rc, out, err = run(["fit", "-y", "y", late])
    check(rc == 3 and 'expected a number, found "3\\x00"' in err, "late NUL: %d %r" % (rc, err))


TESTS = {"formats": t_formats, "multi": t_multi, "multi_bgzip": t_multi_bgzip, "empty": t_empty, "truncated": t_truncated,
         "corrupt": t_corrupt, "model": t_model, "threads": t_threads, "state": t_state,
         "usage": t_usage, "not_text": t_not_text, "padding": t_padding, "limits": t_limits,
         "offsets": t_offsets}

if __name__ == "__main__":
    d = Dir()
    try:
        TESTS[TEST](d)
    finally:
        d.done()
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")
