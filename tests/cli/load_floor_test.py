#!/usr/bin/env python3
"""The load tool's floors (bench/load: `juncture-load --mode echo` and `--mode
jetstream-echo`) against a real nats-server with JetStream: each gets a reply for every
event it sends, loses none, and reports its latency.

usage: load_floor_test.py JUNCTURE_LOAD

Starts nats-server on 127.0.0.1 and a port it chooses (read from its log), with its
JetStream store in a temp dir; stops it by PID. Exit 0 if every check passes.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, finish


def main():
    load = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "nats.log")
        with open(log_path, "wb") as log:
            nats = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", "-1", "-js",
                                     "-sd", os.path.join(tmp, "js")], stdout=log, stderr=log)
        try:
            port = None
            for _ in range(100):
                m = re.search(rb"client connections on 127\.0\.0\.1:(\d+)", open(log_path, "rb").read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.1)
            if not check(port is not None, "nats-server starts: %s" % open(log_path, "rb").read()):
                return finish()
            for mode in ["echo", "jetstream-echo"]:
                run = subprocess.run([load, "--mode", mode, "--nats", "nats://127.0.0.1:%d" % port,
                                      "--rate", "1000", "--duration", "1", "--warmup", "0"],
                                     capture_output=True, timeout=120)
                out = run.stdout.decode() + run.stderr.decode()
                check(run.returncode == 0, "%s exits 0: %s" % (mode, out))
                m = re.search(r"sent (\d+), replies (\d+) \(late \d+\), lost (\d+)", out)
                if check(m is not None, "%s reports what it sent: %s" % (mode, out)):
                    sent, replies, lost = int(m.group(1)), int(m.group(2)), int(m.group(3))
                    check(sent == 1000 and replies == sent and lost == 0,
                          "%s: a reply for each of the 1000 events: %s" % (mode, out))
                check(re.search(r"event->action latency: p50 \d+ us", out) is not None,
                      "%s reports its latency: %s" % (mode, out))
        finally:
            nats.send_signal(signal.SIGTERM)
            try:
                nats.wait(timeout=20)
            except subprocess.TimeoutExpired:
                nats.kill()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
