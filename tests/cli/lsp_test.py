#!/usr/bin/env python3
"""`juncture lsp` driven by a scripted client, as an editor would (docs/editors.md).

usage: lsp_test.py JUNCTURE

In a fresh workspace of two files (a schema and a journey): initialize; open the
journey with an error and get its diagnostic (code, range, related information);
change it to fix it and get an empty list; hover a field, a profile trait, a segment,
a function and a send's channel (its guardrails and approval state); go to the
definition of a field and of a segment in the other file; complete after `event.`
(the fields of the event bound there), `profile.` and `send `; format a document;
list its symbols; rename a segment across both files; then malformed messages (not
JSON, no Content-Length, an unknown method, a request before initialize, bad
params) each get a JSON-RPC error and the server keeps answering; shutdown and exit
end it with code 0.
Exit 0 if every check passes; prints each failure otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import queue

from checks import check, finish

SCHEMA = """event cart_updated { cart_value: float  item_count: int }
event purchase { amount: float  order_id: string }
profile { first_name: string = ""  email_opt_in: bool = false  timezone: string = "UTC" }
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 2 per 1d  approval legal }
segment big_cart = count(cart_updated within 7d) >= 1
"""

JOURNEY_BAD = """journey rescue {
  on cart_updated when event.cart_valu >= 50
  eligible big_cart
  wait 30m
  send email "reminder" { name: lower(profile.first_name) }
  wait until purchase within 1d {
    send email "thanks" { order: event.order_id }
  }
}
"""
JOURNEY = JOURNEY_BAD.replace("cart_valu ", "cart_value ")


class Client:
    def __init__(self, juncture, cwd):
        self.proc = subprocess.Popen([juncture, "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
        self.messages = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.decode().strip()
                if not line:
                    break
                key, _, value = line.partition(":")
                headers[key.lower()] = value.strip()
            body = out.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        ident = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident)

    def wait(self, match, timeout=60):
        """The next message that matches (others are kept aside)."""
        aside = []
        try:
            while True:
                m = self.messages.get(timeout=timeout)
                if m is None:
                    return None
                if match(m):
                    return m
                aside.append(m)
        except queue.Empty:
            return None
        finally:
            for m in aside:
                self.messages.put(m)

    def diagnostics_for(self, uri):
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri)


def uri_of(path):
    return "file://" + path


def pos(text, needle, offset=0):
    """The LSP position of `needle` (plus `offset` characters) in `text`."""
    i = text.index(needle) + offset
    line = text.count("\n", 0, i)
    return {"line": line, "character": i - (text.rfind("\n", 0, i) + 1)}


def hover_text(client, uri, text, needle, offset=0):
    r = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                              "position": pos(text, needle, offset)})
    res = (r or {}).get("result") or {}
    return res.get("contents", {}).get("value", "")


def main():
    juncture = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.realpath(tmp)
        schema = os.path.join(root, "schema.jny")
        journey = os.path.join(root, "rescue.jny")
        with open(schema, "w") as f:
            f.write(SCHEMA)
        with open(journey, "w") as f:
            f.write(JOURNEY_BAD)
        c = Client(juncture, root)
        r = c.request("initialize", {"processId": os.getpid(), "rootUri": uri_of(root),
                                     "capabilities": {}})
        caps = (r or {}).get("result", {}).get("capabilities", {})
        check(caps.get("hoverProvider") and caps.get("definitionProvider") and
              caps.get("documentFormattingProvider") and caps.get("renameProvider") and
              caps.get("completionProvider", {}).get("triggerCharacters") == ["."],
              "initialize announces the features: %s" % caps)
        c.notify("initialized", {})

        ju = uri_of(journey)
        c.notify("textDocument/didOpen", {"textDocument": {"uri": ju, "languageId": "juncture",
                                                           "version": 1, "text": JOURNEY_BAD}})
        d = c.diagnostics_for(ju)
        diags = [x for x in (d or {}).get("params", {}).get("diagnostics", []) if x["severity"] == 1]
        check(len(diags) == 1 and diags[0]["code"] == "unknown-field"
              and "cart_valu" in diags[0]["message"] and "did you mean 'cart_value'" in diags[0]["message"]
              and diags[0]["range"]["start"] == pos(JOURNEY_BAD, "cart_valu")
              and diags[0]["range"]["end"] == pos(JOURNEY_BAD, "cart_valu", len("cart_valu")),
              "the error as you type, with its code and place: %s" % diags)
        c.notify("textDocument/didChange", {"textDocument": {"uri": ju, "version": 2},
                                            "contentChanges": [{"text": JOURNEY}]})
        d = c.diagnostics_for(ju)
        left = (d or {}).get("params", {}).get("diagnostics", [])
        check(d is not None and sorted(x["code"] for x in left) == ["unapproved", "wait-without-exit"]
              and all(x["severity"] == 2 for x in left),
              "fixed: the error is gone, the warnings stay: %s" % d)

        h = hover_text(c, ju, JOURNEY, "cart_value >=", 2)
        check("cart_value: float" in h and "cart_updated" in h, "hover on a field: %s" % h)
        h = hover_text(c, ju, JOURNEY, "first_name", 1)
        check("profile.first_name: string" in h, "hover on a trait: %s" % h)
        h = hover_text(c, ju, JOURNEY, "big_cart", 1)
        check("segment big_cart = count(cart_updated within 7d) >= 1" in h, "hover on a segment: %s" % h)
        h = hover_text(c, ju, JOURNEY, "lower(", 1)
        check("lower(string) -> string" in h, "hover on a function: %s" % h)
        h = hover_text(c, ju, JOURNEY, "email \"reminder\"", 1)
        check("consent `profile.email_opt_in`" in h and "cap 2 per 1d" in h and
              "quiet 21:00 .. 08:00 local" in h and "not approved" in h and "legal" in h,
              "hover on a send's channel: guardrails and approval state: %s" % h)

        r = c.request("textDocument/definition", {"textDocument": {"uri": ju},
                                                  "position": pos(JOURNEY, "big_cart", 2)})
        loc = (r or {}).get("result") or {}
        check(loc.get("uri") == uri_of(schema) and loc.get("range", {}).get("start") ==
              pos(SCHEMA, "big_cart"), "definition of a segment in the other file: %s" % loc)
        r = c.request("textDocument/definition", {"textDocument": {"uri": ju},
                                                  "position": pos(JOURNEY, "order_id", 1)})
        loc = (r or {}).get("result") or {}
        check(loc.get("range", {}).get("start") == pos(SCHEMA, "order_id"),
              "definition of a field: %s" % loc)

        def complete(text, needle, offset):
            c.notify("textDocument/didChange", {"textDocument": {"uri": ju, "version": 3},
                                                "contentChanges": [{"text": text}]})
            r = c.request("textDocument/completion", {"textDocument": {"uri": ju},
                                                      "position": pos(text, needle, offset)})
            return [i["label"] for i in (r or {}).get("result") or []]

        typing = JOURNEY.replace("event.order_id", "event.")
        labels = complete(typing, "order: event.", len("order: event."))
        check("order_id" in labels and "amount" in labels and "cart_value" not in labels,
              "after `event.` in a wait until: the awaited event's fields: %s" % labels)
        typing = JOURNEY.replace("event.cart_value >= 50", "event.")
        labels = complete(typing, "when event.", len("when event."))
        check("cart_value" in labels and "item_count" in labels and "order_id" not in labels,
              "after `event.` in a trigger: its event's fields: %s" % labels)
        # In a `wait until`'s else block, `event` is what it was before the wait; after
        # the whole step, any of them: only the fields they all have (here none). (A
        # text that parses: completion at `event.|customer`.)
        typing = JOURNEY.replace('    send email "thanks" { order: event.order_id }\n  }\n',
                                 '    send email "thanks" { order: event.order_id }\n  } else {\n'
                                 '    send email "nudge" { v: event.customer }\n  }\n')
        labels = complete(typing, "v: event.", len("v: event."))
        check("cart_value" in labels and "order_id" not in labels,
              "in a wait until's else block: the event before the wait: %s" % labels)
        typing = JOURNEY.replace('  }\n}\n', '  }\n  send email "after" { v: event.customer }\n}\n')
        labels = complete(typing, "v: event.", len("v: event."))
        check("cart_value" not in labels and "order_id" not in labels and "customer" in labels,
              "after a wait until: the fields every possible event has: %s" % labels)
        labels = complete(JOURNEY, "profile.first_name", len("profile."))
        check({"first_name", "email_opt_in", "timezone"} <= set(labels), "after `profile.`: %s" % labels)
        typing = JOURNEY.replace('send email "thanks"', "send ")
        labels = complete(typing, "    send ", len("    send "))
        check(labels == ["email"], "after `send `: the channels: %s" % labels)
        labels = complete(JOURNEY, "  wait 30m", 2)
        check("wait" in labels and "lower" in labels and "big_cart" in labels,
              "elsewhere: keywords, functions, segments: %s" % labels[:20])
        c.notify("textDocument/didChange", {"textDocument": {"uri": ju, "version": 4},
                                            "contentChanges": [{"text": JOURNEY}]})
        c.diagnostics_for(ju)

        ugly = SCHEMA.replace("event purchase { amount: float  order_id: string }",
                              "event   purchase {amount:float order_id:string}  // kept")
        su = uri_of(schema)
        c.notify("textDocument/didOpen", {"textDocument": {"uri": su, "languageId": "juncture",
                                                           "version": 1, "text": ugly}})
        r = c.request("textDocument/formatting", {"textDocument": {"uri": su},
                                                  "options": {"tabSize": 2, "insertSpaces": True}})
        edits = (r or {}).get("result") or []
        check(len(edits) == 1 and "event purchase {\n  amount: float\n  order_id: string\n}  // kept"
              in edits[0]["newText"] and edits[0]["range"]["end"] == {"line": 5, "character": 0},
              "formatting: one edit, canonical, comment kept: %s" % edits)

        r = c.request("textDocument/documentSymbol", {"textDocument": {"uri": ju}})
        syms = (r or {}).get("result") or []
        names = [s["name"] for s in syms]
        steps = [s["name"] for s in (syms[0].get("children", []) if syms else [])]
        check(names == ["rescue"] and steps[:2] == ["s1 wait 30m", 's2 send email "reminder"'] and
              any(s.startswith("s3 wait until purchase") for s in steps),
              "symbols: the journey and its steps: %s %s" % (names, steps))

        r = c.request("textDocument/rename", {"textDocument": {"uri": ju},
                                              "position": pos(JOURNEY, "big_cart", 1),
                                              "newName": "cart_lover"})
        changes = ((r or {}).get("result") or {}).get("changes", {})
        check(sorted(changes) == sorted([su, ju]) and all(
            e["newText"] == "cart_lover" for es in changes.values() for e in es),
              "rename a segment in both files: %s" % changes)
        r = c.request("textDocument/rename", {"textDocument": {"uri": ju},
                                              "position": pos(JOURNEY, "big_cart", 1),
                                              "newName": "when"})
        check((r or {}).get("error", {}).get("code") == -32602, "rename to a keyword: refused: %s" % r)

        # A file outside the workspace joins the program while it is open; once closed,
        # its problems are cleared.
        outside_dir = tempfile.mkdtemp()
        outside = os.path.join(os.path.realpath(outside_dir), "other.jny")
        ou = uri_of(outside)
        c.notify("textDocument/didOpen", {"textDocument": {"uri": ou, "languageId": "juncture",
                                                           "version": 1, "text": "segment big_cart = true\n"}})
        d = c.diagnostics_for(ou)
        errs = [x for x in (d or {}).get("params", {}).get("diagnostics", []) if x["severity"] == 1]
        check(len(errs) == 1 and errs[0]["code"] == "duplicate", "an outside file's error: %s" % d)
        c.notify("textDocument/didClose", {"textDocument": {"uri": ou}})
        d = c.diagnostics_for(ou)
        check(d is not None and d["params"]["diagnostics"] == [], "closed: its problems cleared: %s" % d)

        # Bad input: an error each, and the server goes on.
        c.send_raw(b"Content-Length: 9\r\n\r\n{not json")
        r = c.wait(lambda m: "error" in m and m.get("id") is None)
        check(r is not None and r["error"]["code"] == -32700, "not JSON: parse error: %s" % r)
        c.send_raw(b"X-Nothing: 1\r\n\r\n")
        r = c.wait(lambda m: "error" in m and m.get("id") is None)
        check(r is not None and r["error"]["code"] == -32600, "no Content-Length: %s" % r)
        r = c.request("textDocument/nothing", {})
        check(r is not None and r["error"]["code"] == -32601, "an unknown method: %s" % r)
        r = c.request("textDocument/hover", {"textDocument": {}})
        check(r is not None and r["error"]["code"] == -32602, "bad params: %s" % r)
        h = hover_text(c, ju, JOURNEY, "cart_value >=", 2)
        check("cart_value: float" in h, "the server still answers: %s" % h)

        r = c.request("shutdown", None)
        check(r is not None and r.get("result", "x") is None, "shutdown: %s" % r)
        c.notify("exit", None)
        try:
            code = c.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            c.proc.kill()
            code = None
        check(code == 0, "exit after shutdown: code 0, got %s" % code)

        # A server told to exit without shutdown exits with 1; one spoken to before
        # initialize answers with an error.
        c2 = Client(juncture, root)
        r = c2.request("textDocument/hover", {"textDocument": {"uri": ju}, "position": {"line": 0, "character": 0}})
        check(r is not None and r["error"]["code"] == -32002, "before initialize: %s" % r)
        c2.notify("exit", None)
        check(c2.proc.wait(timeout=30) == 1, "exit without shutdown: code 1")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
