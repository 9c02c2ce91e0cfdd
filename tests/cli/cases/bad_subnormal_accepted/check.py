# bad_subnormal_accepted: subnormals (2.5e-324 rounds up to the least one) give the same fit as the plain input.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

same_output_as("subnormals (2.5e-324 rounds up to the least one)", sys.argv[1], ["fit", "-y", "y", "-", "--format", "csv"],
               b"y,x,u\n1,1,4.9406564584124654e-324\n2,3,1\n3,4,4.9406564584124654e-324\n4,4.5,2\n5,7,0.5\n")
finish()
