#!/usr/bin/env python3
"""package.embed: `cmake --install` into a fresh prefix holds a working Juncture.

    embed_test.py SOURCE_DIR BUILD_DIR VERSION

Installs BUILD_DIR into a temporary prefix, checks the layout (public headers only, no
path of the build machine in the CMake package or juncture.pc), runs the installed
`juncture`, builds examples/embed against that prefix alone (find_package(Juncture)
with CMAKE_PREFIX_PATH=<prefix>) and runs it on both back ends, and builds a C99
program with `pkg-config juncture` against libjuncture.so.
"""
import glob
import os
import sys
import tempfile

from package_util import build_and_run_embed, build_and_run_pkgconfig_smoke, check, run

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    source_dir, build_dir, version = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="juncture-install-") as work:
        prefix = os.path.join(work, "prefix")
        run(["cmake", "--install", build_dir, "--prefix", prefix])

        def installed(pattern):
            return glob.glob(os.path.join(prefix, pattern), recursive=True)

        for must in ["bin/juncture", "lib*/libjuncture.so", "lib*/libjuncture.so.0",
                     "lib*/libjuncture_runtime.a", "lib*/libjuncture_jit.a",
                     "include/juncture.h", "include/juncture/runtime/runtime.h",
                     "include/juncture/compiler/backend.h", "include/juncture/abi/abi.h",
                     "lib*/cmake/Juncture/JunctureConfig.cmake",
                     "lib*/cmake/Juncture/JunctureConfigVersion.cmake",
                     "lib*/pkgconfig/juncture.pc"]:
            check(installed(must), f"not installed: {must}")
        # Internal headers (the AST, the IR, ANTLR's generated parser) stay out.
        headers = [os.path.relpath(h, prefix) for h in installed("include/**/*.h")]
        check(not [h for h in headers if "/ast/" in h or "/ir/" in h or "Juncture" in h],
              f"internal headers installed: {headers}")
        # Relocatable, and consumers inherit no include path of ours but the prefix's.
        for f in installed("lib*/cmake/Juncture/*.cmake") + installed("lib*/pkgconfig/*.pc"):
            text = open(f).read()
            for path in (build_dir, source_dir):
                check(os.path.realpath(path) not in text and path not in text,
                      f"{f} names {path}")
            check("include/antlr4-runtime" not in text, f"{f} exports ANTLR's include path")

        out = run([os.path.join(prefix, "bin", "juncture"), "--version"]).strip()
        check(out == f"juncture {version}", f"juncture --version said {out!r}")
        run([os.path.join(prefix, "bin", "juncture"), "lint", os.path.join(source_dir, "examples")])

        build_and_run_embed(source_dir, prefix, work)
        lib_dir = os.path.dirname(installed("lib*/libjuncture.so.0")[0])
        build_and_run_pkgconfig_smoke(HERE, os.path.join(lib_dir, "pkgconfig"), lib_dir, work,
                                      version)
    print("package.embed: ok")


if __name__ == "__main__":
    main()
