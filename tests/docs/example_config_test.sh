#!/usr/bin/env bash
# docs/examples/regd.toml lists every option regd has, and nothing else: each long option of
# `regd --help` (but --help, --version, --config and the actions) is a key of the example, active
# or commented out, and each key of the example is such an option. Then the whole file is what
# scripts/gen-example-config.sh makes today (descriptions and defaults included).
# Usage: example_config_test.sh SOURCE_DIR REGD
set -euo pipefail
src=$(cd "$1" && pwd)
REGD=$2
example=$src/docs/examples/regd.toml
failed=0
bad() { echo "FAIL: $1" >&2; failed=1; }

mapfile -t options < <("$REGD" --help | sed -nE 's/^ +(-[a-z],)?(--[a-z][a-z0-9-]*).*/\2/p' | sed 's/^--//' |
  grep -vxE 'help|version|config|print-config|check-config|example-config' | sort -u)
((${#options[@]} > 20)) || { echo "FAIL: only ${#options[@]} options in $REGD --help" >&2; exit 1; }
mapfile -t keys < <(sed -nE 's/^(# )?([a-z][a-z0-9-]*) = .*/\2/p' "$example" | sort -u)

while IFS= read -r option; do
  bad "--$option (regd --help) is missing from docs/examples/regd.toml: run scripts/gen-example-config.sh"
done < <(comm -23 <(printf '%s\n' "${options[@]}") <(printf '%s\n' "${keys[@]}"))
while IFS= read -r key; do
  bad "docs/examples/regd.toml names '$key', which is no option of regd --help"
done < <(comm -13 <(printf '%s\n' "${options[@]}") <(printf '%s\n' "${keys[@]}"))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
generated=$work/regd.toml
bash "$src/scripts/gen-example-config.sh" "$REGD" - >"$generated"
if ! diff -u "$example" "$generated" >&2; then
  bad "docs/examples/regd.toml differs from what scripts/gen-example-config.sh makes (above): run it"
fi
# The example is a configuration regd takes.
"$REGD" --check-config --config "$example" --root "$work/root" >/dev/null ||
  bad "regd --check-config refuses docs/examples/regd.toml"

((failed == 0)) || exit 1
echo "ok: docs/examples/regd.toml lists the ${#options[@]} options of regd --help, as generated"
