"""What the package tests share: running commands, building examples/embed against an
installed Juncture, and the decisions the examples must print.

examples/embed (C++) and examples/python (ctypes) run the same journey on the same
messages, so they must print the same four decisions and one dead letter.
"""
import json
import os
import subprocess
import sys

# (outcome, template) of each decision, in order.
EXPECTED_DECISIONS = [("entered", None), ("sent", "cart_reminder"), ("sent", "thank_you"),
                      ("completed", None)]


def run(cmd, env=None, cwd=None):
    """Runs cmd; on failure prints its output and stops the test. Returns stdout."""
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        fail(f"{' '.join(map(str, cmd))} exited {p.returncode}\n--- stdout\n{p.stdout}"
             f"\n--- stderr\n{p.stderr}")
    return p.stdout


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def check_decisions(json_lines, what):
    """json_lines: the decision lines an example printed (JSON objects)."""
    decisions = [json.loads(line) for line in json_lines]
    got = [(d["outcome"], d.get("template")) for d in decisions]
    check(got == EXPECTED_DECISIONS, f"{what}: decisions {got}, expected {EXPECTED_DECISIONS}")
    check(all(d["customer"] == "ana" and d["journey"] == "cart_rescue" for d in decisions),
          f"{what}: decisions for the wrong customer or journey: {decisions}")
    check(decisions[1]["params"] == {"value": 120}, f"{what}: params {decisions[1]}")
    check(decisions[1]["at"] == "2026-12-01T10:30:00.000Z", f"{what}: the wait of 30m: {decisions[1]}")


def check_embed_output(out, backend):
    lines = out.splitlines()
    decisions = [line for line in lines if line.startswith("{")]
    check_decisions(decisions, f"embed_example ({backend})")
    dead = [line for line in lines if line.startswith("dead letter")]
    check(len(dead) == 1 and dead[0].startswith("dead letter (invalid JSON") and
          dead[0].endswith(": this is not a message"), f"embed_example: dead letters {dead}")
    check(lines[-1] == f"4 messages, 4 decisions, 1 dead letter ({backend})",
          f"embed_example: summary {lines[-1]!r}")


def check_python_output(out, version, what):
    """What examples/python/juncture_example.py prints."""
    lines = out.splitlines()
    check(lines[0] == f"libjuncture {version}", f"{what}: first line {lines[0]!r}")
    decisions = [line[len("decision "):] for line in lines if line.startswith("decision ")]
    check_decisions(decisions, what)
    dead = [line for line in lines if line.startswith("dead letter")]
    check(len(dead) == 1 and dead[0].startswith("dead letter (invalid JSON") and
          dead[0].endswith(': {"type":"track","event":"cart_updated"'),
          f"{what}: dead letters {dead}")
    check(len(lines) == 1 + 4 + 1, f"{what}: unexpected lines:\n{out}")


def build_and_run_embed(source_dir, prefix, work):
    """Configures and builds examples/embed with CMAKE_PREFIX_PATH=prefix only, checks
    that find_package(Juncture) found the package under `prefix`, runs it on both back
    ends and checks what it prints."""
    build = os.path.join(work, "embed-build")
    run(["cmake", "-S", os.path.join(source_dir, "examples", "embed"), "-B", build, "-G", "Ninja",
         f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF",
         "-DCMAKE_BUILD_TYPE=Release"])
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        found = [line.split("=", 1)[1].strip() for line in f if line.startswith("Juncture_DIR:")]
    check(found and os.path.realpath(found[0]).startswith(os.path.realpath(prefix) + os.sep),
          f"find_package(Juncture) found {found}, not the package under {prefix}")
    run(["cmake", "--build", build])
    exe = os.path.join(build, "embed_example")
    check_embed_output(run([exe]), "jit")
    check_embed_output(run([exe, "--no-jit"]), "interpreter")
    return found[0]


def build_and_run_pkgconfig_smoke(here, pc_dir, lib_dir, work, version):
    """Compiles pkgconfig_smoke.c as C99 with `pkg-config --cflags --libs juncture`
    (found in pc_dir) and runs it against libjuncture.so in lib_dir."""
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
    check(run(["pkg-config", "--modversion", "juncture"], env=env).strip() == version,
          "pkg-config --modversion juncture")
    flags = run(["pkg-config", "--cflags", "--libs", "juncture"], env=env).split()
    exe = os.path.join(work, "pkgconfig_smoke")
    run(["cc", "-std=c99", "-pedantic-errors", "-Wall", "-Werror",
         os.path.join(here, "pkgconfig_smoke.c"), "-o", exe] + flags)
    out = run([exe], env=dict(os.environ, LD_LIBRARY_PATH=lib_dir))
    check(out.splitlines()[0] == f"libjuncture {version}", f"pkgconfig_smoke: {out!r}")
    check("broken.jny:1:9: error:" in out, f"pkgconfig_smoke: no positioned error in {out!r}")
    check(out.splitlines()[-1] == "decisions: 3", f"pkgconfig_smoke: {out!r}")
