#!/usr/bin/env python3
"""Juncture from Python through the C API (libjuncture.so, juncture.h) with ctypes.

Compiles a journey, feeds one customer's messages and a broken one, prints the
decisions and the dead letter. docs/embedding.md explains each call.

    python3 juncture_example.py [path/to/libjuncture.so] [--no-jit]

The library is the first argument, else $JUNCTURE_LIBRARY, else the installed
libjuncture.so.0 (found by the dynamic loader).
"""
import ctypes
import os
import sys

SHOP = b"""
event cart_updated { cart_value: float }
event purchase { order_id: string }
profile { email_opt_in: bool = false }
channel email { consent profile.email_opt_in }
"""

JOURNEY = b"""
journey cart_rescue {
  on cart_updated when event.cart_value >= 50
  wait 30m
  send email "cart_reminder" { value: round(event.cart_value) }
  wait until purchase within 1d {
    send email "thank_you" { order: event.order_id }
  }
}
"""

MESSAGES = [
    b'{"type":"identify","messageId":"i1","userId":"ana","timestamp":"2026-12-01T09:00:00Z","traits":{"email_opt_in":true}}',
    b'{"type":"track","event":"cart_updated","messageId":"m1","userId":"ana","timestamp":"2026-12-01T10:00:00Z","properties":{"cart_value":120}}',
    b'{"type":"track","event":"purchase","messageId":"m2","userId":"ana","timestamp":"2026-12-01T18:00:00Z","properties":{"order_id":"o-1"}}',
    b'{"type":"track","event":"cart_updated"',  # cut short: a dead letter
]

JIT, INTERPRETER = 0, 1  # juncture_backend
OK = 0  # juncture_status


class Source(ctypes.Structure):  # juncture_source
    _fields_ = [("name", ctypes.c_char_p), ("text", ctypes.c_char_p), ("length", ctypes.c_size_t)]


DECISION_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t)
DEAD_LETTER_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.c_char_p)


class Callbacks(ctypes.Structure):  # juncture_callbacks
    _fields_ = [("on_decision", DECISION_FN), ("on_dead_letter", DEAD_LETTER_FN),
                ("user", ctypes.c_void_p)]


def load(path):
    lib = ctypes.CDLL(path)
    lib.juncture_version.restype = ctypes.c_char_p
    lib.juncture_last_error.restype = ctypes.c_char_p
    lib.juncture_compile.argtypes = [ctypes.POINTER(Source), ctypes.c_size_t, ctypes.c_char_p,
                                     ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
    lib.juncture_program_free.argtypes = [ctypes.c_void_p]
    lib.juncture_engine_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(Callbacks),
                                        ctypes.POINTER(ctypes.c_void_p)]
    lib.juncture_engine_free.argtypes = [ctypes.c_void_p]
    lib.juncture_engine_process.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.juncture_engine_advance_to.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.juncture_engine_now.argtypes = [ctypes.c_void_p]
    lib.juncture_engine_now.restype = ctypes.c_int64
    return lib


def check(lib, status):
    if status != OK:
        sys.exit(f"juncture error {status}:\n{lib.juncture_last_error().decode()}")


def main():
    args = [a for a in sys.argv[1:] if a != "--no-jit"]
    backend = INTERPRETER if "--no-jit" in sys.argv else JIT
    lib = load(args[0] if args else os.environ.get("JUNCTURE_LIBRARY", "libjuncture.so.0"))
    print("libjuncture", lib.juncture_version().decode())

    sources = (Source * 2)(Source(b"shop.jny", SHOP, len(SHOP)),
                           Source(b"cart_rescue.jny", JOURNEY, len(JOURNEY)))
    program = ctypes.c_void_p()
    check(lib, lib.juncture_compile(sources, 2, None, backend, ctypes.byref(program)))

    # The callbacks must stay referenced as long as the engine may call them.
    on_decision = DECISION_FN(lambda user, json, length: print("decision", json.decode()))
    on_dead_letter = DEAD_LETTER_FN(lambda user, message, length, reason: print(
        f"dead letter ({reason.decode()}):", ctypes.string_at(message, length).decode()))
    callbacks = Callbacks(on_decision, on_dead_letter, None)
    engine = ctypes.c_void_p()
    check(lib, lib.juncture_engine_new(program, ctypes.byref(callbacks), ctypes.byref(engine)))

    for message in MESSAGES:
        check(lib, lib.juncture_engine_process(engine, message, len(message)))
    # Nothing more comes in: run the clock on a day so that every wait ends.
    day_us = 24 * 3600 * 1_000_000
    check(lib, lib.juncture_engine_advance_to(engine, lib.juncture_engine_now(engine) + day_us))

    lib.juncture_engine_free(engine)
    lib.juncture_program_free(program)


if __name__ == "__main__":
    main()
