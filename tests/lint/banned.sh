#!/usr/bin/env bash
# banned.sh - fail when src/ calls a libc function pane bans (see STYLE habit 9):
# unbounded copies, formatting without a size, tokenisers with hidden state,
# number parsers that cannot report errors, and non-reentrant time functions.
set -u
root="${PANE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
pattern='(^|[^_a-zA-Z0-9.>])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|atof|gets|gmtime|localtime|ctime|asctime)[[:space:]]*\('
hits=$(grep -rnE "$pattern" "$root/src" "$root/include" 2>/dev/null | grep -vE "^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)" || true)
if [ -n "$hits" ]; then
  echo "banned functions used (use pane_buf, pane_str_to_*, gmtime_r, snprintf instead):"
  echo "$hits"
  exit 1
fi
echo "no banned functions in src/ and include/"
