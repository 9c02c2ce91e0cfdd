"""eval's warning for unseen levels agrees in number: one row 'was' not
scored, two rows 'were' (the message said 'were' for one row)."""
import os, subprocess, sys, tempfile

csvreg = os.environ["CSVREG"]
tmp = tempfile.mkdtemp()
model = os.path.join(tmp, "m.json")
p = subprocess.run([csvreg, "fit", "y ~ x + g", "report_factors.csv", "-o", model],
                   capture_output=True, text=True)
if p.returncode != 0:
    sys.exit("fit: %d %s" % (p.returncode, p.stderr))
for rows, want in ((["1,2,zz"], "1 row with a level the model never saw was not scored"),
                   (["1,2,zz", "2,3,zz"], "2 rows with a level the model never saw were not scored")):
    new = os.path.join(tmp, "new.csv")
    with open(new, "w") as f:
        f.write("y,x,g\n3,1,b\n5,2,c\n" + "\n".join(rows) + "\n")
    e = subprocess.run([csvreg, "eval", "-m", model, new], capture_output=True, text=True)
    if e.returncode != 0:
        sys.exit("eval: %d %s" % (e.returncode, e.stderr))
    if want not in e.stderr:
        sys.exit("eval stderr %r lacks %r" % (e.stderr, want))
print("ok")
