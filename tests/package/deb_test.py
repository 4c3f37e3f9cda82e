#!/usr/bin/env python3
"""package.deb: `cpack -G DEB` makes the juncture and juncture-dev packages, and they work.

    deb_test.py SOURCE_DIR BUILD_DIR VERSION

Builds both .deb files from BUILD_DIR and checks their metadata and contents. As root
(CI) it installs them with dpkg -i, runs /usr/bin/juncture (--version, lint on
examples/), builds examples/embed and a pkg-config C program against /usr, then
removes them. Otherwise it extracts them with dpkg-deb -x and does the same from there.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from package_util import (build_and_run_embed, build_and_run_pkgconfig_smoke, check,
                          check_python_output, fail, run)

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ["juncture", "juncture-dev"]


def field(deb, name):
    return run(["dpkg-deb", "--field", deb, name]).strip()


def check_debs(debs, version):
    runtime, dev = debs["juncture"], debs["juncture-dev"]
    for deb in debs.values():
        check(field(deb, "Version") == version, f"{deb}: version {field(deb, 'Version')}")
    # dpkg-shlibdeps filled in the runtime libraries of the command and libjuncture.so.
    depends = field(runtime, "Depends")
    for lib in ["libc6", "libllvm19", "libantlr4-runtime4.9", "librocksdb", "libnats"]:
        check(lib in depends, f"juncture Depends lacks {lib}: {depends}")
    dev_depends = field(dev, "Depends")
    check(f"juncture (= {version})" in dev_depends and "llvm-19-dev" in dev_depends,
          f"juncture-dev Depends: {dev_depends}")
    runtime_files = run(["dpkg-deb", "--contents", runtime])
    dev_files = run(["dpkg-deb", "--contents", dev])
    for path in ["./usr/bin/juncture", "/libjuncture.so.0 ", f"/libjuncture.so.{version}"]:
        check(path in runtime_files, f"juncture lacks {path}:\n{runtime_files}")
    for path in ["./usr/include/juncture.h", "/cmake/Juncture/JunctureConfig.cmake",
                 "/pkgconfig/juncture.pc", "/libjuncture_runtime.a", "/libjuncture.so "]:
        check(path in dev_files, f"juncture-dev lacks {path}:\n{dev_files}")
    check("/include/" not in runtime_files, "headers in the runtime package")
    shlibs = run(["dpkg-deb", "--info", runtime, "shlibs"])
    check(f"libjuncture 0 juncture (>= {version})" in shlibs, f"juncture shlibs: {shlibs!r}")


def smoke(root, source_dir, version, work, python_env):
    """The installed (root "/usr") or extracted (root "<dir>/usr") files work.
    python_env: the environment in which the Python example finds libjuncture."""
    juncture = os.path.join(root, "bin", "juncture")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, "lib"))
    out = run([juncture, "--version"], env=env).strip()
    check(out == f"juncture {version}", f"{juncture} --version said {out!r}")
    p = subprocess.run([juncture, "lint", os.path.join(source_dir, "examples")], env=env,
                       capture_output=True, text=True)
    check(p.returncode == 0 and "0 error(s), 0 warning(s)" in p.stderr,
          f"juncture lint examples/: exit {p.returncode}, {p.stdout}{p.stderr}")
    broken = os.path.join(work, "broken.jny")
    with open(broken, "w") as f:
        f.write("journey typo {\n  on nothing_here\n}\n")
    p = subprocess.run([juncture, "lint", broken], env=env, capture_output=True, text=True)
    check(p.returncode == 1 and "broken.jny:2:6: error:" in p.stdout + p.stderr,
          f"juncture lint of a broken file: exit {p.returncode}, {p.stdout}{p.stderr}")
    build_and_run_embed(source_dir, root, work)
    lib_dir = os.path.join(root, "lib")
    build_and_run_pkgconfig_smoke(HERE, os.path.join(lib_dir, "pkgconfig"), lib_dir, work, version)
    example = os.path.join(source_dir, "examples", "python", "juncture_example.py")
    check_python_output(run([sys.executable, example], env=python_env), version,
                        "the Python example on the packaged libjuncture")


def main():
    source_dir, build_dir, version = sys.argv[1:4]
    for tool in ["cpack", "dpkg-deb"]:
        check(shutil.which(tool), f"{tool} not found")
    with tempfile.TemporaryDirectory(prefix="juncture-deb-") as work:
        run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"),
             "-B", os.path.join(work, "out")])
        debs = {}
        for name in PACKAGES:
            found = glob.glob(os.path.join(work, "out", f"{name}_{version}_*.deb"))
            check(len(found) == 1, f"{name}_{version}_*.deb: {found}")
            debs[name] = found[0]
        check_debs(debs, version)

        if os.geteuid() == 0:
            installed_before = subprocess.run(["dpkg-query", "-W", "juncture"],
                                              capture_output=True).returncode == 0
            if installed_before:
                print("package.deb: juncture was installed already; it is replaced, then removed")
            run(["dpkg", "-i", debs["juncture"], debs["juncture-dev"]])
            try:
                # The example's default: libjuncture.so.0 through the dynamic loader.
                env = {k: v for k, v in os.environ.items() if k != "JUNCTURE_LIBRARY"}
                smoke("/usr", source_dir, version, work, env)
            finally:
                run(["dpkg", "--purge", "juncture-dev", "juncture"])
            check(not os.path.exists("/usr/bin/juncture") and
                  not glob.glob("/usr/lib*/cmake/Juncture"), "files left after dpkg --purge")
        else:
            root = os.path.join(work, "root")
            for deb in debs.values():
                run(["dpkg-deb", "-x", deb, root])
            lib = os.path.join(root, "usr", "lib", "libjuncture.so.0")
            smoke(os.path.join(root, "usr"), source_dir, version, work,
                  dict(os.environ, JUNCTURE_LIBRARY=lib))
    print("package.deb: ok")


if __name__ == "__main__":
    try:
        main()
    except subprocess.SubprocessError as e:
        fail(str(e))
