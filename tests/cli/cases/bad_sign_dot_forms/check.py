# bad_sign_dot_forms: '+' signs, trailing points and zeros give the same fit as the plain input.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

same_output_as("'+' signs, trailing points and zeros", sys.argv[1], ["fit", "-y", "y", "-", "--format", "csv"],
               b"y,x\n1,1\n2,3\n3,4\n4,4.5\n5,7\n")
finish()
