#!/usr/bin/env python3
"""Runs README.md's shell examples as a new user would paste them, from the repository root.

What it checks:
  * every `$ ` command in a code block (with its `\\`-continued lines) runs with `retort` on the PATH and
    exits 0, or, when the README shows a `retort: error:` line, exits non-zero with that line on stderr;
    every output line the README shows (other than `…`, blank lines and timings) appears in what it printed;
  * a block marked `<!-- check_readme: output of the set-up command -->` is the output of the set-up
    block's first command, and is checked the same way;
  * every line of a `sh` block runs as a command and exits 0, except in two marked blocks:
    `<!-- check_readme: prerequisites -->` (installs system packages: not run; .ci/run must install each
    package it names) and `<!-- check_readme: set-up -->` (two commands: the first, the bundled example, is
    run; the second, the tests, must be the command .ci/run runs: it takes ten minutes and CI runs it);
  * every repository path the README names (formats/…, scripts/…, Sources/…, Tests/…, Fuzz/…, .ci/…)
    is a file or folder tracked by git, so nothing it refers to is missing from a fresh clone.

A code block is skipped only when the line before its fence is `<!-- check_readme: skip (REASON) -->`
(the benchmarks and studies that take minutes or need downloads); the reason is printed.

Usage: python3 scripts/check_readme.py [--retort .build/release/retort] [--only TEXT]
Exit status 0 when everything passes, 1 otherwise, with one line per failure.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"<!--\s*check_readme:\s*(.+?)\s*-->")
# Timings, which differ from run to run, are not compared.
VARYING = re.compile(r"^(took [\d.]+ s|fit seconds: .*)$")
PATH_TOKEN = re.compile(r"(?<![\w/.])((?:formats|scripts|Sources|Tests|Fuzz|\.ci)/[\w./*{}-]*[\w*}])")


def blocks(text):
    """(line number, info string, lines, the marker before it or None) for each fenced block."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            info = lines[i][3:].strip()
            start = i
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            previous = lines[start - 1] if start > 0 else ""
            marker = MARKER.search(previous)
            out.append((start + 1, info, lines[start + 1:j], marker.group(1) if marker else None))
            i = j + 1
        else:
            i += 1
    return out


def prompt_examples(body):
    """(command, shown output lines) for each `$ ` command of a block."""
    examples, k = [], 0
    while k < len(body):
        if not body[k].startswith("$ "):
            k += 1
            continue
        command = body[k][2:]
        while command.endswith("\\") and k + 1 < len(body):
            k += 1
            command = command[:-1] + " " + body[k].strip()
        k += 1
        shown = []
        while k < len(body) and not body[k].startswith("$ "):
            shown.append(body[k])
            k += 1
        examples.append((command, shown))
    return examples


def normalise(line):
    return " ".join(line.split())


def run(command, env, timeout):
    started = time.monotonic()
    try:
        p = subprocess.run(
            ["bash", "-c", "set -o pipefail; " + command], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - started
    except subprocess.TimeoutExpired:
        return None, "", "", time.monotonic() - started


def check_paths(text, failures):
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    files = set(tracked)
    folders = {os.path.dirname(f) for f in tracked}
    for f in list(folders):
        while f:
            f = os.path.dirname(f)
            folders.add(f)
    for number, line in enumerate(text.split("\n"), 1):
        for token in PATH_TOKEN.findall(line):
            path = token.rstrip(".")
            if "*" in path or "{" in path:
                pattern = re.escape(path).replace(r"\*", "[^/]*")
                pattern = re.sub(r"\\\{([^}]*)\\\}", lambda m: "(" + m.group(1).replace(",", "|") + ")", pattern)
                if not any(re.fullmatch(pattern, f) for f in files | folders):
                    failures.append(f"README.md:{number}: `{path}` matches no file in the repository")
            elif path not in files and path.rstrip("/") not in folders:
                failures.append(f"README.md:{number}: `{path}` is not a file or folder in the repository")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build/release/retort"),
                        help="the retort executable the examples call (default: the release build)")
    parser.add_argument("--only", help="run only the commands containing this text")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per command")
    args = parser.parse_args()
    retort = os.path.abspath(args.retort)
    if not os.access(retort, os.X_OK):
        sys.exit(f"check_readme: {retort}: no retort executable (build it: swift build -c release --product retort)")
    env = dict(os.environ)
    # The README puts .build/release on the PATH; the folder of the executable given stands for it.
    env["PATH"] = os.path.dirname(retort) + os.pathsep + env.get("PATH", "")

    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    failures = []
    check_paths(text, failures)

    ci = open(os.path.join(ROOT, ".ci/run"), encoding="utf-8").read()
    ran = 0
    setup_command = None
    has_setup_output = "<!-- check_readme: output of the set-up command -->" in text
    for number, info, body, marker in blocks(text):
        commands = []
        skip = marker[len("skip ("):-1] if marker and marker.startswith("skip (") else None
        if info == "sh":
            # Commands without prompts, each line one command (comment lines aside).
            plain = [l for l in body if l.strip() and not l.lstrip().startswith("#")]
            if marker == "prerequisites":
                # Not run (they install system packages); .ci/run must install the same.
                for command in plain:
                    words = [w for w in shlex.split(command) if not w.startswith("-") and w not in ("sudo", "apt-get", "install", "python3", "pip")]
                    for word in words:
                        if word not in ci:
                            failures.append(f"README.md:{number}: `{word}` ({command}) is not installed by .ci/run")
                print(f"check README.md:{number}: prerequisites, as .ci/run installs them")
                continue
            if marker == "set-up":
                setup_command = plain[0] if plain else None
                if len(plain) != 2:
                    failures.append(f"README.md:{number}: the set-up block should hold two commands, not {len(plain)}")
                    continue
                if plain[1] not in ci.split("\n"):
                    failures.append(f"README.md:{number}: .ci/run does not run the README's test command `{plain[1]}`")
                print(f"check README.md:{number}: {plain[1][:90]} (the test command, as .ci/run runs it)")
                # The first runs where the README shows its output, if it does.
                plain = [] if has_setup_output else plain[:1]
            commands = [(command, []) for command in plain]
        elif marker == "output of the set-up command":
            if setup_command is None:
                failures.append(f"README.md:{number}: output of the set-up command, but no set-up block before it")
                continue
            commands = [(setup_command, body)]
        elif any(l.startswith("$ ") for l in body):
            commands = prompt_examples(body)
        else:
            continue
        if skip:
            for command, _ in commands:
                print(f"skip  README.md:{number}: {command[:90]} ({skip})")
            continue
        for command, shown in commands:
            if args.only and args.only not in command:
                continue
            status, out, err, seconds = run(command, env, args.timeout)
            ran += 1
            printed = [normalise(l) for l in (out + "\n" + err).split("\n")]
            expected_error = next((l for l in shown if l.startswith("retort: error:")), None)
            problem = None
            if status is None:
                problem = f"did not finish in {args.timeout:.0f} s"
            elif expected_error is not None:
                if status == 0:
                    problem = "succeeded, but the README shows an error"
                elif normalise(expected_error) not in printed:
                    problem = f"printed another error: {err.strip()[:300]}"
            elif status != 0:
                problem = f"exit status {status}: {err.strip()[-300:]}"
            else:
                missing = [
                    l for l in shown
                    if l.strip() and normalise(l) != "…" and not VARYING.match(l) and normalise(l) not in printed]
                if missing:
                    problem = f"{len(missing)} line(s) shown in the README were not printed, first: {missing[0].strip()[:200]}"
            print(f"{'FAIL' if problem else 'ok'}    README.md:{number}: {command[:90]} ({seconds:.1f} s)")
            if problem:
                failures.append(f"README.md:{number}: `{command}`: {problem}")

    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"check_readme: {ran} commands run, {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
