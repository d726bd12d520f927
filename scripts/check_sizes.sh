#!/usr/bin/env bash
# Size check of the C and C++ sources: lists every file over 500 lines and
# every function over 80 lines, and exits 1 when one of them is not in the
# allowlist (scripts/size_exceptions.txt). Function sizes come from pmccabe.
#
#   scripts/check_sizes.sh           list violations, fail on new ones
#   scripts/check_sizes.sh --stale   also fail on allowlist lines that no
#                                    longer match anything (to prune it)
#
# Allowlist lines (# starts a comment; the reason is required):
#   FILE -- reason                     a file over the file limit
#   FILE:FUNCTION -- reason            a function over the function limit
# FUNCTION is pmccabe's name (e.g. courier::cli::run_send) or, for gtest
# macros, TEST_F(Suite, Name). Generated code (build*/, *.pb.*) and clients/ts
# are not checked.
#
# pmccabe is a C parser: the sources are fed to it with C++ raw strings
# blanked (line count kept) and C++17 nested namespaces (a::b) joined, the
# two constructs it misreads. Functions with a trailing return type are not
# seen.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_FILE_LINES=${MAX_FILE_LINES:-500}
MAX_FUNCTION_LINES=${MAX_FUNCTION_LINES:-80}
ALLOW=scripts/size_exceptions.txt
STALE=false
[[ "${1:-}" == "--stale" ]] && STALE=true

command -v pmccabe >/dev/null || { echo "check_sizes: pmccabe is not installed (apt-get install pmccabe)" >&2; exit 2; }

MAX_FILE_LINES=$MAX_FILE_LINES MAX_FUNCTION_LINES=$MAX_FUNCTION_LINES ALLOW=$ALLOW STALE=$STALE python3 - <<'PY'
import os, re, subprocess, sys, tempfile

max_file = int(os.environ["MAX_FILE_LINES"])
max_fn = int(os.environ["MAX_FUNCTION_LINES"])
allow_path = os.environ["ALLOW"]
stale = os.environ["STALE"] == "true"

files = subprocess.run(["git", "ls-files", "*.cc", "*.h", "*.c", "*.cpp", "*.hpp"],
                       capture_output=True, text=True, check=True).stdout.split()
files = [f for f in files if os.path.exists(f) and not re.search(r"(^build[^/]*/|\.pb\.(h|cc)$|^clients/ts/)", f)]

RAW = re.compile(r'R"([^()\\ ]{0,16})\((.*?)\)\1"', re.S)
NESTED_NS = re.compile(r"\bnamespace\s+([A-Za-z_]\w*(?:::[A-Za-z_]\w*)+)\s*\{")

JOIN = "ZzJOINzZ"  # stands for "::" inside a joined namespace name

def for_pmccabe(text):
    text = RAW.sub(lambda m: '""' + "\n" * m.group(0).count("\n"), text)
    return NESTED_NS.sub(lambda m: "namespace " + m.group(1).replace("::", JOIN) + " {", text)

found = {}  # key -> description
with tempfile.TemporaryDirectory() as tmp:
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        lines = text.split("\n")
        n = text.count("\n")
        if n > max_file:
            found[f] = f"{f}: {n} lines (limit {max_file})"
        copy = os.path.join(tmp, f.replace("/", "__"))
        with open(copy, "w") as out:
            out.write(for_pmccabe(text))
        res = subprocess.run(["pmccabe", copy], capture_output=True, text=True)
        for row in res.stdout.splitlines():
            m = re.match(r"\s*\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)\s+\S+\(\d+\):\s*(.*)$", row)
            if not m:
                continue
            first, length, name = int(m.group(1)), int(m.group(2)), m.group(3).strip()
            if length <= max_fn:
                continue
            name = name.replace(JOIN, "::")
            if name.split("::")[-1] in ("TEST", "TEST_F", "TEST_P", "TYPED_TEST"):
                head = re.match(r"\s*(\w+\([^)]*\))", lines[first - 1]) if first - 1 < len(lines) else None
                name = re.sub(r"\s+", " ", head.group(1)) if head else f"{name}@{first}"
            name = name.replace("_anonymous_namespace_", "").replace("anonymous_namespace::", "")
            found[f"{f}:{name}"] = f"{f}:{first}: {name}: {length} lines (limit {max_fn})"

allowed = {}
if os.path.exists(allow_path):
    for i, raw in enumerate(open(allow_path), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        key, sep, reason = line.partition(" -- ")
        if not sep or not reason.strip():
            print(f"{allow_path}:{i}: needs 'KEY -- reason'", file=sys.stderr)
            sys.exit(2)
        allowed[key.strip()] = reason.strip()

new = [k for k in found if k not in allowed]
for k in sorted(found):
    print(("NEW     " if k in new else "allowed ") + found[k])
unused = [k for k in allowed if k not in found]
for k in unused:
    print(f"stale   {k} (in {allow_path}, now within the limits)")
print(f"check_sizes: {len(found)} over the limits, {len(new)} not in {allow_path}, {len(unused)} stale allowlist lines")
sys.exit(1 if new or (stale and unused) else 0)
PY
