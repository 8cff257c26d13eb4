#!/usr/bin/env python3
"""Regenerates the generated parts of the docs, or checks that they are up to date.

A generated part sits between two markers that name the command producing it:

    <!-- BEGIN GENERATED: vigild --config-reference -->
    ...the command's output, as it is...
    <!-- END GENERATED -->

`make docs` rewrites every such part from the built binaries; the CTest `docs.generated`
runs this with --check, which fails (printing the difference and the command to run) when
a part differs from what the binary prints now: a configuration key added to the schema
and not to the docs fails the tests.
"""
import argparse
import difflib
import pathlib
import re
import shlex
import subprocess
import sys

BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<command>[^>]*?) -->\n)(?P<body>.*?)(<!-- END GENERATED -->)",
                   re.DOTALL)
# Every command here must have a generated part somewhere in the docs.
REQUIRED = {"vigild --config-reference"}
REGENERATE = "make docs"


def run(command, binaries):
    argv = shlex.split(command)
    if argv[0] not in binaries:
        sys.exit(f"docs/generate.py: unknown program '{argv[0]}' in a GENERATED marker "
                 f"(known: {', '.join(sorted(binaries))})")
    argv[0] = binaries[argv[0]]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vigild", required=True, help="the vigild binary to run")
    parser.add_argument("--check", action="store_true", help="change nothing; fail if out of date")
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent,
                        type=pathlib.Path, help="the source tree (default: this script's)")
    args = parser.parse_args()
    binaries = {"vigild": args.vigild}

    stale, seen = [], set()
    for path in sorted([args.root / "README.md", *(args.root / "docs").glob("*.md")]):
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")

        def replace(match):
            command = match.group("command").strip()
            seen.add(command)
            output = run(command, binaries)
            if output != match.group("body"):
                name = path.relative_to(args.root)
                stale.append(name)
                if args.check:
                    sys.stdout.writelines(difflib.unified_diff(
                        match.group("body").splitlines(keepends=True),
                        output.splitlines(keepends=True),
                        f"{name} (as written)", f"{command} (now)"))
            return match.group(1) + output + match.group(4)

        updated = BLOCK.sub(replace, text)
        if updated != text and not args.check:
            path.write_text(updated, encoding="utf-8")
            print(f"updated {path.relative_to(args.root)}")

    missing = REQUIRED - seen
    for command in sorted(missing):
        print(f"docs/generate.py: no GENERATED part for '{command}' in README.md or docs/*.md")
    if args.check and stale:
        print(f"\n{', '.join(map(str, stale))}: out of date with the code. Regenerate with "
              f"`{REGENERATE}` (or python3 docs/generate.py --vigild build/release/daemon/vigild) "
              "and commit the result.")
    return 1 if missing or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
