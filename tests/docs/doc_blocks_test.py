#!/usr/bin/env python3
"""Runs the code blocks of a Markdown page, so that the docs cannot drift from the tools.

usage: doc_blocks_test.py JUNCTURE PAGE.md

Fenced blocks are read by their info string:
- `jny`: a whole program. `juncture lint` must accept it alone (warnings allowed).
- `jny file=NAME`, `json file=NAME`, `jsonl file=NAME`, ...: a file of the page's
  working folder (a temporary folder, one per page), written when the block is met;
  a `jny file=` block is checked with every `.jny` file written so far.
- `sh run`: commands, one per line starting with `$ `, run in the working folder with
  the `juncture` under test first on PATH, in order; each must exit 0, unless the
  line ends with `# exit N`. Output lines that follow a command in the block (up to
  the next `$ ` line) must each appear in its output, unless the block says
  `sh run no-output`.
Any other block is left alone. Exit 0 if every block passes; prints each failure.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

failures = []


def fail(where, what):
    failures.append(where)
    print("FAIL %s: %s" % (where, what))


def blocks(text):
    """(line number, info string, body) of every fenced block."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(.*)$", lines[i])
        if m:
            start, info, body = i + 1, m.group(1).strip(), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((start, info, "\n".join(body) + "\n"))
        i += 1
    return out


def lint(juncture, paths, cwd):
    return subprocess.run([juncture, "lint"] + paths, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def run_commands(juncture, body, cwd, where, check_output):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(juncture)) + os.pathsep + env["PATH"]
    commands = []  # (command, expected exit, expected lines)
    for line in body.split("\n"):
        if line.startswith("$ "):
            cmd = line[2:]
            code = 0
            m = re.search(r"\s+# exit (\d+)$", cmd)
            if m:
                code, cmd = int(m.group(1)), cmd[:m.start()]
            commands.append((cmd, code, []))
        elif line.strip() and commands:
            commands[-1][2].append(line.strip())
    for cmd, code, expected in commands:
        p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != code:
            fail(where, "`%s` exited %d, not %d:\n%s%s" % (cmd, p.returncode, code, p.stdout[-2000:],
                                                           p.stderr[-2000:]))
            continue
        if check_output:
            output = [l.strip() for l in (p.stdout + p.stderr).split("\n")]
            for want in expected:
                if want not in output and not any(want in l for l in output):
                    fail(where, "`%s` did not print: %s\nit printed:\n%s" % (cmd, want, p.stdout + p.stderr))


def main():
    juncture, page = os.path.abspath(sys.argv[1]), sys.argv[2]
    with open(page) as f:
        text = f.read()
    name = os.path.basename(page)
    checked = 0
    with tempfile.TemporaryDirectory() as work:
        for line, info, body in blocks(text):
            words = info.split()
            if not words:
                continue
            where = "%s:%d" % (name, line)
            attrs = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            if "file" in attrs:
                path = os.path.join(work, attrs["file"])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(body)
                checked += 1
                if words[0] == "jny":
                    jny = sorted(os.path.relpath(os.path.join(d, n), work)
                                 for d, _, ns in os.walk(work) for n in ns if n.endswith(".jny"))
                    p = lint(juncture, jny, work)
                    if p.returncode != 0:
                        fail(where, "the program so far does not compile:\n" + p.stderr)
            elif words[0] == "jny":
                with tempfile.TemporaryDirectory() as alone:
                    with open(os.path.join(alone, "block.jny"), "w") as f:
                        f.write(body)
                    p = lint(juncture, ["block.jny"], alone)
                    if p.returncode != 0:
                        fail(where, "the program does not compile:\n" + p.stderr)
                checked += 1
            elif words[0] == "sh" and "run" in words[1:]:
                run_commands(juncture, body, work, where, "no-output" not in words)
                checked += 1
    if checked == 0:
        fail(name, "no block to check")
    if failures:
        print("%d block(s) failed" % len(failures))
        return 1
    print("%d block(s) of %s passed" % (checked, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
