#!/usr/bin/env bash
# Mutation testing (tests/mutation/README.md): applies each mutant of mutants.txt in turn to a
# scratch copy of the tree, rebuilds what changed in one persistent build and runs the tests
# named for it; a mutant must make one of them fail.
# Usage: tests/mutation/run.sh [name]   (or MUTANT=name; JOBS, MUTATE_DIR as below)
# Exit status 0 only if every mutant ran and was killed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
list="$top/tests/mutation/mutants.txt"
work="${MUTATE_DIR:-$top/build/mutate}"
mkdir -p "$work" && work=$(cd "$work" && pwd)
jobs="${JOBS:-2}"
only="${1:-${MUTANT:-}}"
tree="$work/tree"
bld="$work/build"
logs="$work/logs"
start=$(date +%s)

die() { echo "mutate: $*" >&2; exit 2; }

# ---- the list: [name], file:, sed: (one or more), tests:, build: (optional), breaks: ---------
names=() files=() seds=() tests=() targets=()
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    '#'* | '') ;;
    '['*']') names+=("${line:1:${#line}-2}"); files+=(""); seds+=(""); tests+=(""); targets+=("") ;;
    'file: '*) files[-1]="${line#file: }" ;;
    'sed: '*) seds[-1]+="${line#sed: }"$'\n' ;;
    'tests: '*) tests[-1]="${line#tests: }" ;;
    'build: '*) targets[-1]="${line#build: }" ;;
    'breaks: '*) ;;
    *) die "$list: unreadable line: $line" ;;
  esac
done < "$list"
for i in "${!names[@]}"; do
  [ -n "${files[i]}" ] && [ -n "${seds[i]}" ] && [ -n "${tests[i]}" ] ||
    die "mutant ${names[i]} needs file:, sed: and tests:"
  # what to build: the C test programs named in tests: (each its own target), unless build:
  # names the targets (a shell test needs the CLI it runs)
  [ -n "${targets[i]}" ] || targets[i]=${tests[i]}
done

picked=()
for i in "${!names[@]}"; do
  [ -z "$only" ] || [ "${names[i]}" = "$only" ] && picked+=("$i")
done
[ ${#picked[@]} -gt 0 ] || die "no mutant named '$only' in $list"

# ---- the scratch tree: a copy of the source files, a file copied only when it differs -------
# (unchanged files keep their time stamps, so the persistent build recompiles only what changed)
sync_tree() {
  mkdir -p "$tree"
  local want="$work/files.want" have="$work/files.have" f
  if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$top" ls-files -co --exclude-standard
  else
    (cd "$top" && find . \( -path ./build -o -path ./deps -o -path ./.git \) -prune -o -type f -print |
     sed 's|^\./||')
  fi | sort -u > "$want"
  while IFS= read -r f; do
    [ -f "$top/$f" ] || continue
    if ! cmp -s "$top/$f" "$tree/$f"; then
      mkdir -p "$tree/$(dirname "$f")"
      cp --preserve=mode "$top/$f" "$tree/$f" || die "cannot copy $f"
    fi
  done < "$want"
  (cd "$tree" && find . -type f | sed 's|^\./||' | sort) > "$have"
  comm -13 "$want" "$have" | while IFS= read -r f; do rm -f "$tree/$f"; done
}

# Runs the tests named in $1 (space-separated); prints the names of those that failed.
run_tests() {
  local re log="$2"
  re="^($(echo "$1" | tr -s ' ' '|'))\$"
  ctest --test-dir "$bld" -R "$re" -j "$jobs" --output-on-failure > "$log" 2>&1
  grep -E 'Test +#[0-9]+: ' "$log" | grep -v ' Passed ' |
    sed -E 's/.*Test +#[0-9]+: ([^ ]+).*/\1/' | tr '\n' ' ' | sed 's/ $//'
}

mkdir -p "$logs"
exec 9> "$work/lock"
flock -n 9 || die "another run is using $work"
sync_tree
cmake -S "$tree" -B "$bld" -DCMAKE_BUILD_TYPE=Release -DPQCOAP_SANITIZE=OFF -DPQCOAP_FUZZ=OFF \
  -DPQCOAP_WERROR=OFF -DPQCOAP_TESTS=ON -DPQCLEAN_DIR="$top/deps/pqclean" \
  > "$logs/configure.log" 2>&1 || die "cmake failed, see $logs/configure.log"

# Every test named must exist; the unmutated tree must pass them all.
all_tests=$(ctest --test-dir "$bld" -N | sed -nE 's/^ *Test +#[0-9]+: //p')
needed=$(for i in "${picked[@]}"; do echo "${tests[i]}"; done | tr ' ' '\n' | sort -u | tr '\n' ' ')
build_all=$(for i in "${picked[@]}"; do echo "${targets[i]}"; done | tr ' ' '\n' | sort -u |
            tr '\n' ' ')
for t in $needed; do
  grep -qx "$t" <<< "$all_tests" || die "no ctest test named $t"
done
echo "mutate: building the unmutated tree in $bld"
cmake --build "$bld" -j "$jobs" --target $build_all > "$logs/baseline.build.log" 2>&1 ||
  die "the unmutated tree does not build, see $logs/baseline.build.log"
failed=$(run_tests "$needed" "$logs/baseline.test.log")
[ -z "$failed" ] || die "without mutants these tests fail already: $failed (see $logs/baseline.test.log)"

# ---- the mutants, one at a time ------------------------------------------------------------
orig="$work/original"
current=""
restore() { [ -z "$current" ] || cp "$orig" "$tree/$current"; current=""; }
trap restore EXIT

killed=0 survived=0 unapplied=0 unbuilt=0
for i in "${picked[@]}"; do
  name=${names[i]} file=${files[i]}
  target="$tree/$file"
  if [ ! -f "$target" ]; then
    echo "$name: NOT APPLIED ($file does not exist)"; unapplied=$((unapplied + 1)); continue
  fi
  cp "$target" "$orig"
  current=$file
  applied=1
  while IFS= read -r expr; do
    cp "$target" "$work/before"
    sed -i -e "$expr" "$target" 2> "$logs/$name.sed.log" && ! cmp -s "$target" "$work/before" ||
      { applied=0; break; }
  done <<< "${seds[i]%$'\n'}"
  if [ $applied = 0 ]; then
    echo "$name: NOT APPLIED (a rule no longer changes $file: $expr)"
    unapplied=$((unapplied + 1)); restore; continue
  fi
  if ! cmake --build "$bld" -j "$jobs" --target ${targets[i]} > "$logs/$name.build.log" 2>&1; then
    echo "$name: NOT BUILT (see $logs/$name.build.log)"
    unbuilt=$((unbuilt + 1)); restore; continue
  fi
  failed=$(run_tests "${tests[i]}" "$logs/$name.test.log")
  if [ -n "$failed" ]; then
    echo "$name: KILLED by $failed"; killed=$((killed + 1))
  else
    echo "$name: SURVIVED (${tests[i]} still pass; see $logs/$name.test.log)"
    survived=$((survived + 1))
  fi
  restore
done

total=${#picked[@]}
summary="$total mutants: $killed killed, $survived survived"
[ $unapplied -eq 0 ] || summary+=", $unapplied not applied"
[ $unbuilt -eq 0 ] || summary+=", $unbuilt not built"
echo "$summary ($(( $(date +%s) - start )) s)"
[ $((survived + unapplied + unbuilt)) -eq 0 ]
