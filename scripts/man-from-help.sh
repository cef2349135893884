#!/bin/sh
# Writes the man pages of privagg from the text its commands print for --help,
# so that a man page can never say something --help does not: privagg.1 from
# `privagg --help`, and privagg-<command>.1 from `privagg <command> --help` for
# every command that `privagg --help` lists.  Run at build time by CMake.
#   usage: scripts/man-from-help.sh PRIVAGG OUTDIR VERSION
# The help text is set as preformatted roff (.nf), split into SYNOPSIS (the
# lines up to the first blank one), DESCRIPTION, EXAMPLES (from a line
# "example:" or "examples:") and EXIT STATUS (from a line "exit status:", or the
# convention of every privagg command: 0 done, 1 failed, 2 bad usage).
set -eu
exe=$1 out=$2 version=$3
mkdir -p "$out"
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d 2>/dev/null || date -u +%Y-%m-%d)

# help text on stdin -> roff page on stdout; $1 page name, $2 one-line summary, $3 see-also
to_roff() {
  awk -v name="$1" -v summary="$2" -v seealso="$3" -v version="$version" -v date="$date" '
    function esc(s) {
      gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s)
      if (s ~ /^[.\x27]/) s = "\\&" s
      return s
    }
    function section(t) {
      if (open) print ".fi"
      print ".SH " t; print ".nf"; open = 1
    }
    { line[NR] = $0 }
    END {
      up = toupper(name)
      printf ".TH %s 1 \"%s\" \"privagg %s\" \"privagg manual\"\n", esc(up), date, version
      print ".SH NAME"; print esc(name) " \\- " esc(summary)
      section("SYNOPSIS"); st = "syn"; hasExit = 0
      for (i = 1; i <= NR; i++) {
        l = line[i]
        if (st == "syn" && l == "") { section("DESCRIPTION"); st = "desc"; continue }
        if (l ~ /^examples?:$/) { section("EXAMPLES"); st = "ex"; continue }
        if (l ~ /^exit status:$/) { section("EXIT STATUS"); st = "exit"; hasExit = 1; continue }
        print esc(l)
      }
      if (open) print ".fi"
      if (!hasExit) {
        print ".SH EXIT STATUS"
        print "0 done; 1 the work failed (standard error says why); 2 bad usage."
      }
      print ".SH SEE ALSO"; print seealso
    }'
}

"$exe" --help >"$out/.help"
# the command list: the lines after "commands:" up to the first blank one
cmds=$(awk '/^commands:$/ {on = 1; next} on && /^$/ {exit} on {print $1}' "$out/.help")
summary=$(sed -n 3p "$out/.help")
see=""
for c in $cmds; do see="$see${see:+,
}.BR privagg\\-$c (1)"; done
to_roff privagg "$summary" "$see" <"$out/.help" >"$out/privagg.1"
for c in $cmds; do
  line=$(awk -v c="$c" '/^commands:$/ {on = 1; next} on && $1 == c {sub(/^ *[^ ]+ +/, ""); print; exit}' "$out/.help")
  "$exe" "$c" --help >"$out/.help.$c"
  to_roff "privagg-$c" "$line" ".BR privagg (1)" <"$out/.help.$c" >"$out/privagg-$c.1"
  rm -f "$out/.help.$c"
done
rm -f "$out/.help"
