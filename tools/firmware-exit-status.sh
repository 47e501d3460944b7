# Sourced by the firmware scripts: the exit statuses of the board glue, read from their one
# definition (`enum ExitStatus` in targets/board/src/lib.rs, one `Name = value,` a line),
# so no script writes a number of its own.
#
#   source tools/firmware-exit-status.sh
#   exit_status Panic      # prints 101
#   exit_status_name 101   # prints Panic ("" for a status the glue does not define)

firmware_exit_status_source=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/targets/board/src/lib.rs

exit_status() { # name: its value, or a failure when the enum has no such name
    local value
    value=$(awk -v name="$1" '
        /^pub enum ExitStatus/ { inside = 1 } inside && /^}/ { inside = 0 }
        inside && $1 == name && $2 == "=" { sub(/,$/, "", $3); print $3 }' \
        "$firmware_exit_status_source")
    [ -n "$value" ] || { echo "exit_status: no ExitStatus::$1 in $firmware_exit_status_source" >&2; return 1; }
    echo "$value"
}

exit_status_name() { # value: its name, or nothing
    awk -v value="$1" '
        /^pub enum ExitStatus/ { inside = 1 } inside && /^}/ { inside = 0 }
        inside && $2 == "=" && $3 == value "," { print $1 }' "$firmware_exit_status_source"
}
