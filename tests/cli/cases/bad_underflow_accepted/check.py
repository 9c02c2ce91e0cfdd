# bad_underflow_accepted: values below the least subnormal read as zero give the same fit as the plain input.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

same_output_as("values below the least subnormal read as zero", sys.argv[1], ["fit", "-y", "y", "-", "--format", "csv"],
               b"y,x,u\n1,1,0\n2,3,1\n3,4,-0\n4,4.5,2\n5,7,0.5\n")
finish()
