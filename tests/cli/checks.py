"""What every command-line test here shares: checks that record failures, and the
summary that ends a test (its exit code)."""

failures = []


def check(ok, what):
    """Records `what` as failed (and prints it) unless `ok`; returns `ok`."""
    if not ok:
        failures.append(what)
        print("FAIL: " + what)
    return ok


def finish():
    """Prints the summary; returns the test's exit code (0 if every check passed)."""
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0
