#!/usr/bin/env python3
"""serve's HTTP endpoints with a token and TLS (docs/serve.md, "The live page").

usage: http_security_test.py JUNCTURE EXAMPLES_DIR

Starts nats-server and `juncture serve --metrics --ui --http-token T --http-tls-cert C
--http-tls-key K` on 127.0.0.1 and ports they choose (read from their logs: a port
picked here could be taken before they bind it; a self-signed certificate made with
the openssl command), then checks, over HTTPS verified against that certificate:
/metrics and every route of the page answer 401 without the token or with a wrong
one, 200 with `Authorization: Bearer T` or `?token=T`; the event stream starts with a
snapshot; plain HTTP on those ports gets no answer. A certificate that cannot be read
stops serve at start with the reason. Stops both processes by PID.
Exit 0 if every check passes; prints each failure otherwise.
"""
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from checks import check, finish

TOKEN = "tok-42"


def port_in_log(path, pattern, seconds=30):
    """The first group of `pattern` in the file at `path` once it appears, else None."""
    found = []

    def probe():
        m = re.search(pattern, open(path, "rb").read())
        if m:
            found.append(int(m.group(1)))
        return bool(m)

    return found[0] if wait_for(probe, seconds) else None


def get(url, context, headers=None, read=True):
    """(status, body) of a GET; status 0 if the request fails."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=context, timeout=10) as r:
            return r.status, (r.read() if read else r.readline())
    except urllib.error.HTTPError as e:
        return e.code, b""
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return 0, b""


def wait_for(probe, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if probe():
            return True
        time.sleep(0.1)
    return False


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def main():
    juncture, examples = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                               "-keyout", key, "-out", cert], capture_output=True)
        if not check(made.returncode == 0, "openssl makes a certificate: %s" % made.stderr):
            return finish()
        nats_log = os.path.join(tmp, "nats.log")
        with open(nats_log, "wb") as out:
            nats = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", "-1"], stdout=out, stderr=out)
        try:
            nats_port = port_in_log(nats_log, rb"client connections on 127\.0\.0\.1:(\d+)")
            if not check(nats_port is not None, "nats-server starts: %s" % open(nats_log, "rb").read()):
                return finish()
            base = ["serve", examples, "--nats", "nats://127.0.0.1:%d" % nats_port,
                    "--metrics", "127.0.0.1:0", "--ui", "127.0.0.1:0", "--http-token", TOKEN]
            bad = subprocess.run([juncture] + base + ["--http-tls-cert", os.path.join(tmp, "none.pem"),
                                                      "--http-tls-key", key],
                                 capture_output=True, timeout=60)
            check(bad.returncode == 1 and b"cannot read" in bad.stderr and b"none.pem" in bad.stderr,
                  "an unreadable certificate stops serve at start: %s" % bad.stderr)

            serve_log = os.path.join(tmp, "serve.log")
            log = open(serve_log, "wb")
            serve = subprocess.Popen([juncture] + base + ["--http-tls-cert", cert, "--http-tls-key", key],
                                     stdout=log, stderr=log)
            try:
                # The start line names the ports serve bound.
                metrics_port = port_in_log(serve_log, rb"metrics on https://127\.0\.0\.1:(\d+)/metrics")
                ui_port = port_in_log(serve_log, rb"live page on https://127\.0\.0\.1:(\d+)/", 1)
                if not check(metrics_port and ui_port, "serve names its HTTPS ports: %s" %
                             open(serve_log, "rb").read()[-2000:]):
                    return finish()
                tls = ssl.create_default_context(cafile=cert)
                bearer = {"Authorization": "Bearer " + TOKEN}
                metrics = "https://127.0.0.1:%d/metrics" % metrics_port
                ui = "https://127.0.0.1:%d" % ui_port
                up = wait_for(lambda: get(metrics, tls, bearer)[0] == 200, 30)
                if not check(up, "serve answers over HTTPS: %s" %
                             open(os.path.join(tmp, "serve.log"), "rb").read()[-2000:]):
                    return finish()
                status, body = get(metrics, tls, bearer)
                check(status == 200 and b"# TYPE juncture_messages_total counter" in body,
                      "/metrics with the token: %r" % body[:200])
                check(get(metrics, tls)[0] == 401, "/metrics without a token: 401")
                check(get(metrics, tls, {"Authorization": "Bearer nope"})[0] == 401, "a wrong token: 401")
                check(get(metrics + "?token=" + TOKEN, tls)[0] == 200, "/metrics with ?token=")
                for route in ["/", "/journeys.svg", "/api/board"]:
                    check(get(ui + route, tls)[0] == 401, "%s without a token: 401" % route)
                    check(get(ui + route + "?token=x" + TOKEN, tls)[0] == 401, "%s, a wrong token: 401" % route)
                    status, body = get(ui + route + "?token=" + TOKEN, tls)
                    check(status == 200 and body, "%s with ?token=: %d" % (route, status))
                status, body = get(ui + "/", tls, bearer)
                check(status == 200 and b"Juncture: live journeys" in body, "the page with a bearer token")
                status, body = get(ui + "/events?token=" + TOKEN, tls, read=False)
                check(status == 200 and body.startswith(b"data: {"), "the event stream starts with a "
                      "snapshot: %r" % body[:40])
                plain = get("http://127.0.0.1:%d/metrics" % metrics_port, None, bearer)
                check(plain[0] == 0, "plain HTTP on the TLS port: no answer (%d)" % plain[0])
            finally:
                stop(serve)
                log.close()
        finally:
            stop(nats)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
