# Sourced by tools/setup.sh, each tools/setup.d/*.sh and tools/dates/on-qemu.sh: a setup
# step that has something to do prints one line (the time since setup began, the part,
# what it does) and runs quietly, its output shown only when it fails; a step with
# nothing to do prints nothing, so a machine that has everything stays silent.
#
#   setup_part NAME            names the part in the lines of the steps that follow
#   step "WHAT" COMMAND...     one line, then COMMAND with its output in a log
#
# PICOFORMER_SETUP_START (epoch seconds, set by the first script that sources this) keeps
# one clock across the parts; PICOFORMER_SETUP_STEPS counts the steps that ran, so that
# tools/setup.sh can close with the total time only when something was installed.
: "${PICOFORMER_SETUP_START:=$(date +%s)}"
export PICOFORMER_SETUP_START
setup_part_name=${setup_part_name:-setup}

setup_part() {
    setup_part_name=$1
}

setup_elapsed() { # "m:ss" since setup began
    local elapsed=$(($(date +%s) - PICOFORMER_SETUP_START))
    printf '%d:%02d' $((elapsed / 60)) $((elapsed % 60))
}

step() {
    local what=$1 log status=0
    shift
    echo "setup [$(setup_elapsed)] $setup_part_name: $what"
    [ -z "${PICOFORMER_SETUP_STEPS:-}" ] || echo "$what" >>"$PICOFORMER_SETUP_STEPS"
    log=$(mktemp)
    # `set -e` does not apply inside COMMAND here (bash ignores it under `||`): a shell
    # function run as a step returns its own failures (`|| return`).
    "$@" >"$log" 2>&1 </dev/null || status=$?
    if [ "$status" -ne 0 ]; then
        cat "$log" >&2
        echo "setup [$(setup_elapsed)] $setup_part_name: $what: FAILED (exit status $status)" >&2
    fi
    rm -f "$log"
    return "$status"
}
