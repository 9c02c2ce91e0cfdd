# bad_leading_zeros_exponent: leading zeros, exponents, a bare point give the same fit as the plain input.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

same_output_as("leading zeros, exponents, a bare point", sys.argv[1], ["fit", "-y", "y", "-", "--format", "csv"],
               b"y,x\n1,1\n2,3\n3,4\n4,4.5\n5,7\n")
finish()
