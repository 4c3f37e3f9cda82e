#!/usr/bin/env python3
"""capi.python_example: examples/python/juncture_example.py (ctypes over libjuncture.so)
prints the decisions and the dead letter it should, on both back ends, with the
library given as an argument or in $JUNCTURE_LIBRARY.

    python_example_test.py EXAMPLE LIBJUNCTURE VERSION
"""
import os
import sys

from package_util import check_python_output, run


def main():
    example, library, version = sys.argv[1:4]
    python = sys.executable
    check_python_output(run([python, example, library]), version, "jit, library as argument")
    env = dict(os.environ, JUNCTURE_LIBRARY=library)
    check_python_output(run([python, example, "--no-jit"], env=env), version,
                        "interpreter, library from $JUNCTURE_LIBRARY")
    print("capi.python_example: ok")


if __name__ == "__main__":
    main()
