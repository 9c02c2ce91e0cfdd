# bad_crlf_bom: CRLF line ends and a UTF-8 BOM give the same fit as the plain input.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

same_output_as("CRLF line ends and a UTF-8 BOM", sys.argv[1], ["fit", "-y", "y", "-x", "x", "-", "--format", "csv"],
               b"y,x\n1,1\n2,3\n3,4\n4,4.5\n5,7\n")
finish()
