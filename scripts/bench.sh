#!/usr/bin/env bash
# Prints how long two lab steps take on this machine, with spirelab and by hand:
#
#   1. up -> every workload holds an SVID
#   2. fix of the wrong-selector fault -> a passing grade (which needs an SVID rotation)
#
# "By hand" means what an operator does without spirelab: the docker CLI, openssl and the
# SPIRE CLIs, reusing spirelab's images but none of its code. This script prints figures;
# it never asserts a timing. Progress goes to stderr, the table to stdout.
# Differences to keep in mind when reading the figures: spirelab's up also starts
# Prometheus (without waiting for it) and learns of SVIDs from the probes' logs; by hand
# there is no Prometheus and SVIDs are seen by polling `spire-agent api fetch x509`.
# Both poll once a second.
#
# Usage: scripts/bench.sh [--runs N] [--lab NAME] [--only spirelab|hand] [--keep-logs]
#   --runs N     repeat N times and print min / median
#   --lab NAME   the spirelab lab to use (default bench); it must not exist yet
#   --only SIDE  measure only spirelab or only the by-hand steps
#   --keep-logs  keep the log of every command run (it is kept anyway on failure)
#
# Everything the by-hand part creates is labelled io.spirelab.tool=spirelab-bench and is
# removed on exit, also on failure and Ctrl-C; the spirelab lab is removed with
# `spirelab down`.

set -euo pipefail
export LC_ALL=C # "." as the decimal point in $EPOCHREALTIME and awk

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPIRELAB=${SPIRELAB:-$ROOT/target/release/spirelab}

# The images spirelab uses (its own overrides apply here too), and SPIRE's paths in them.
IMAGE_SERVER=${SPIRELAB_IMAGE_SERVER:-spirelab/spire-server:1.13.3}
IMAGE_AGENT=${SPIRELAB_IMAGE_AGENT:-spirelab/spire-agent:1.13.3}
IMAGE_WORKLOAD=spirelab/workload:0.1.0
SERVER_BIN=/opt/spire/bin/spire-server
AGENT_BIN=/opt/spire/bin/spire-agent
PROBE_BIN=/usr/local/bin/spirelab-probe
SERVER_SOCKET=/tmp/spire-server/private/api.sock
SOCKET_DIR=/run/spire/sockets
SOCKET=$SOCKET_DIR/agent.sock

TD=lab.test
SVID_TTL=60 # seconds, as in spirelab's standard lab
POLL=1      # seconds between polls, as spirelab polls
TIMEOUT=90  # seconds any one wait may take

# The standard lab: agent-N serves workload-N, which runs as uid 100N.
AGENTS=(agent-1 agent-2)
declare -A WORKLOAD_UID=([workload-1]=1001 [workload-2]=1002)
declare -A WORKLOAD_AGENT=([workload-1]=agent-1 [workload-2]=agent-2)
WORKLOADS=(workload-1 workload-2)

RUNS=1
LAB=bench
ONLY=""
KEEP_LOGS=0

BENCH_ID="$$-$RANDOM"        # on every object the by-hand part makes
BENCH_LABEL=io.spirelab.tool=spirelab-bench
WORK=""                      # temporary directory: certs, configs, logs
LOG=/dev/null                # where command output goes; set in main
LAB_UP=0                     # 1 while the spirelab lab may exist
PREFIX=""                    # container/volume/network name prefix of the current by-hand run

# ---------------------------------------------------------------------------------------
# Helpers

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

usage() {
    sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

now() { printf '%s\n' "$EPOCHREALTIME"; }

# seconds START END -> seconds between two now() values, one decimal.
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Shows the end of the log, for a step that failed.
show_log_tail() {
    log "last lines of $LOG:"
    tail -n 25 "$LOG" >&2 || true
}

# Runs a command with its output in the log; on failure shows the log and stops.
run() {
    printf '+ %s\n' "$*" >>"$LOG"
    "$@" >>"$LOG" 2>&1 || {
        local rc=$?
        show_log_tail
        die "'$*' failed with exit $rc"
    }
}

# poll_until WHAT CMD...: runs CMD every $POLL s until it succeeds, at most $TIMEOUT s.
poll_until() {
    local what=$1 deadline
    shift
    deadline=$((SECONDS + TIMEOUT))
    printf '+ until %s: %s\n' "$what" "$*" >>"$LOG"
    until "$@" >>"$LOG" 2>&1; do
        ((SECONDS < deadline)) || {
            show_log_tail
            die "timed out after ${TIMEOUT}s waiting for $what"
        }
        sleep "$POLL"
    done
}

# median and min of the numbers given as arguments.
stats() {
    printf '%s\n' "$@" | sort -g | awk '
        { v[NR] = $1 }
        END {
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.1f %.1f", v[1], med
        }'
}

# ---------------------------------------------------------------------------------------
# Arguments, checks, clean-up

parse_args() {
    while (($#)); do
        case $1 in
        --runs)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"
            RUNS=$2
            shift 2
            ;;
        --lab)
            [[ -n ${2:-} ]] || die "--lab needs a name"
            LAB=$2
            shift 2
            ;;
        --only)
            [[ ${2:-} == spirelab || ${2:-} == hand ]] || die "--only needs spirelab or hand"
            ONLY=$2
            shift 2
            ;;
        --keep-logs) KEEP_LOGS=1 && shift ;;
        -h | --help) usage && exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
        esac
    done
}

preflight() {
    command -v docker >/dev/null || die "no docker CLI"
    command -v openssl >/dev/null || die "no openssl"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/install-docker.sh)"
    local image
    for image in "$IMAGE_SERVER" "$IMAGE_AGENT" "$IMAGE_WORKLOAD"; do
        docker image inspect "$image" >/dev/null 2>&1 || die "no image $image (make images)"
    done
    if [[ $ONLY != hand ]]; then
        [[ -x $SPIRELAB ]] || die "no $SPIRELAB (cargo build --release --bins)"
        local lab_filter=(--filter "label=io.spirelab.lab=$LAB")
        [[ -z $(docker ps -aq "${lab_filter[@]}")$(docker volume ls -q "${lab_filter[@]}") ]] ||
            die "lab '$LAB' exists; remove it with: $SPIRELAB down --lab $LAB"
    fi
    if [[ -n $(docker ps -aq --filter "label=$BENCH_LABEL") ]]; then
        log "warning: containers of an earlier bench run exist (label $BENCH_LABEL)"
    fi
    local others
    others=$(docker ps -q | wc -l)
    ((others == 0)) || log "warning: $others other containers are running; figures may be noisy"
}

# Removes every container, volume and network this invocation made by hand.
remove_by_hand_objects() {
    local filter=(--filter "label=$BENCH_LABEL" --filter "label=io.spirelab.bench.id=$BENCH_ID")
    local ids
    ids=$(docker ps -aq "${filter[@]}")
    # shellcheck disable=SC2086 # one ID per word
    [[ -z $ids ]] || docker rm -f -v $ids >>"$LOG" 2>&1 || true
    ids=$(docker volume ls -q "${filter[@]}")
    # shellcheck disable=SC2086
    [[ -z $ids ]] || docker volume rm -f $ids >>"$LOG" 2>&1 || true
    ids=$(docker network ls -q "${filter[@]}")
    # shellcheck disable=SC2086
    [[ -z $ids ]] || docker network rm $ids >>"$LOG" 2>&1 || true
}

# Warns about anything of this invocation still present.
check_nothing_left() {
    local filter=(--filter "label=io.spirelab.bench.id=$BENCH_ID") left
    left=$(docker ps -aq "${filter[@]}")$(docker volume ls -q "${filter[@]}")
    left+=$(docker network ls -q "${filter[@]}")
    ((LAB_UP == 0)) || left+=$(docker ps -aq --filter "label=io.spirelab.lab=$LAB")
    [[ -z $left ]] || log "warning: not everything was removed; see: docker ps -a"
}

# On every exit: remove the spirelab lab if it may exist, then what was made by hand.
cleanup() {
    local rc=$?
    trap - EXIT
    trap '' INT TERM # a second Ctrl-C must not stop the clean-up
    if ((LAB_UP)); then
        log "removing spirelab lab '$LAB'"
        "$SPIRELAB" --lab "$LAB" down >>"$LOG" 2>&1 || log "warning: spirelab down failed"
    fi
    remove_by_hand_objects
    check_nothing_left
    if [[ -n $WORK ]]; then
        if ((KEEP_LOGS)) || ((rc != 0)); then
            log "log kept in $LOG"
            rm -rf "$WORK"/hand-* # certificates, keys and configs
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}

# ---------------------------------------------------------------------------------------
# spirelab: up, then break / solve / grade, then down

sl() { run "$SPIRELAB" --lab "$LAB" "$@"; }

# Sets SL_UP and SL_FIX to the seconds of the two steps.
bench_spirelab() {
    local t0 t1 t2 t3
    log "spirelab: up --lab $LAB"
    LAB_UP=1
    t0=$(now)
    sl up
    t1=$(now)
    log "spirelab: break wrong-selector"
    sl break wrong-selector
    log "spirelab: solve, then grade (waits for a rotation)"
    t2=$(now)
    sl solve wrong-selector
    sl grade wrong-selector
    t3=$(now)
    log "spirelab: down"
    sl down
    LAB_UP=0
    SL_UP=$(seconds "$t0" "$t1")
    SL_FIX=$(seconds "$t2" "$t3")
    log "spirelab: up $SL_UP s, solve -> grade $SL_FIX s"
}

# ---------------------------------------------------------------------------------------
# By hand: docker CLI, openssl and the SPIRE CLIs only

# Every object made by hand carries these labels; the image's own
# io.spirelab.tool=spirelab label is overridden so spirelab never takes them for a lab.
hand_labels() {
    printf '%s\n' --label "$BENCH_LABEL" --label "io.spirelab.bench.id=$BENCH_ID"
}

server() { docker exec "$PREFIX-server" "$SERVER_BIN" "$@" -socketPath "$SERVER_SOCKET"; }

# fetch WORKLOAD: one Workload API fetch as the workload's uid, through its agent.
fetch() {
    local workload=$1
    docker exec -u "${WORKLOAD_UID[$workload]}" "$PREFIX-$workload" \
        "$AGENT_BIN" api fetch x509 -socketPath "$SOCKET"
}

# serial WORKLOAD: the serial of the workload's current X509-SVID.
serial() {
    docker exec -u "${WORKLOAD_UID[$1]}" "$PREFIX-$1" sh -ec '
        dir=$(mktemp -d)
        trap "rm -rf $dir" EXIT
        '"$AGENT_BIN"' api fetch x509 -socketPath '"$SOCKET"' -write "$dir" >/dev/null
        openssl x509 -noout -serial -in "$dir/svid.0.pem" | sed "s/^serial=//"'
}

hand_network_and_volumes() {
    local labels agent
    mapfile -t labels < <(hand_labels)
    run docker network create "${labels[@]}" "$PREFIX-net"
    run docker volume create "${labels[@]}" "$PREFIX-server-data"
    for agent in "${AGENTS[@]}"; do
        run docker volume create "${labels[@]}" "$PREFIX-$agent-data"
        run docker volume create "${labels[@]}" "$PREFIX-$agent-socket"
    done
}

# The x509pop CA the server trusts, and per agent a key and a certificate with CN=<agent>.
hand_pki() {
    local dir=$1 agent
    mkdir -p "$dir"
    run openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key.pem" -out "$dir/ca.pem" -days 1 -subj "/CN=bench x509pop CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' >"$dir/leaf.ext"
    for agent in "${AGENTS[@]}"; do
        run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$dir/$agent.key.pem" -out "$dir/$agent.csr" -subj "/CN=$agent"
        run openssl x509 -req -in "$dir/$agent.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key.pem" \
            -CAcreateserial -days 1 -extfile "$dir/leaf.ext" -out "$dir/$agent.crt.pem"
        chmod 600 "$dir/$agent.key.pem"
    done
}

# server.conf, shaped as spirelab renders it (src/lab/render.rs).
write_server_conf() {
    cat >"$1" <<EOF
server {
    bind_address = "0.0.0.0"
    bind_port = "8081"
    socket_path = "$SERVER_SOCKET"
    trust_domain = "$TD"
    data_dir = "/var/lib/spire/server"
    log_level = "DEBUG"
    ca_ttl = "3600s"
    default_x509_svid_ttl = "${SVID_TTL}s"
    default_jwt_svid_ttl = "${SVID_TTL}s"
    agent_ttl = "${SVID_TTL}s"
}

plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = "/var/lib/spire/server/datastore.sqlite3"
        }
    }
    KeyManager "disk" {
        plugin_data {
            keys_path = "/var/lib/spire/server/keys.json"
        }
    }
    NodeAttestor "x509pop" {
        plugin_data {
            ca_bundle_path = "/etc/spire/x509pop-ca.pem"
        }
    }
}

health_checks {
    listener_enabled = true
    bind_address = "0.0.0.0"
    bind_port = "8080"
    live_path = "/live"
    ready_path = "/ready"
}

telemetry {
    Prometheus {
        host = "0.0.0.0"
        port = 9988
    }
}
EOF
}

# agent.conf, shaped as spirelab renders it (src/lab/render.rs).
write_agent_conf() {
    cat >"$1" <<EOF
agent {
    data_dir = "/var/lib/spire/agent"
    log_level = "DEBUG"
    server_address = "server"
    server_port = "8081"
    socket_path = "$SOCKET"
    trust_bundle_path = "/etc/spire/bundle.pem"
    trust_domain = "$TD"
}

plugins {
    NodeAttestor "x509pop" {
        plugin_data {
            private_key_path = "/etc/spire/agent.key.pem"
            certificate_path = "/etc/spire/agent.crt.pem"
        }
    }
    KeyManager "disk" {
        plugin_data {
            directory = "/var/lib/spire/agent"
        }
    }
    WorkloadAttestor "unix" {
        plugin_data {}
    }
}

health_checks {
    listener_enabled = true
    bind_address = "0.0.0.0"
    bind_port = "8080"
    live_path = "/live"
    ready_path = "/ready"
}

telemetry {
    Prometheus {
        host = "0.0.0.0"
        port = 9988
    }
}
EOF
}

# create_and_start NAME ETC_DIR DOCKER_CREATE_ARGS...: create, copy ETC_DIR's files to
# /etc/spire (skipped when ETC_DIR is empty), start.
create_and_start() {
    local name=$1 etc=$2 labels
    shift 2
    mapfile -t labels < <(hand_labels)
    run docker create --name "$name" "${labels[@]}" "$@"
    [[ -z $etc ]] || run docker cp "$etc/." "$name:/etc/spire"
    run docker start "$name"
}

hand_start_server() {
    local etc=$1/server
    mkdir -p "$etc"
    write_server_conf "$etc/server.conf"
    cp "$1/pki/ca.pem" "$etc/x509pop-ca.pem"
    create_and_start "$PREFIX-server" "$etc" \
        --network "$PREFIX-net" --network-alias server --hostname server --init -u 0 \
        -v "$PREFIX-server-data:/var/lib/spire/server" \
        --entrypoint "$SERVER_BIN" "$IMAGE_SERVER" run -config /etc/spire/server.conf
    poll_until "the server to be healthy" server healthcheck
}

# Node aliases by x509pop CN; one workload entry per workload under its agent's alias.
hand_register() {
    local agent workload
    for agent in "${AGENTS[@]}"; do
        run server entry create -node -spiffeID "spiffe://$TD/node/$agent" \
            -selector "x509pop:subject:cn:$agent"
    done
    for workload in "${WORKLOADS[@]}"; do
        run server entry create -parentID "spiffe://$TD/node/${WORKLOAD_AGENT[$workload]}" \
            -spiffeID "spiffe://$TD/$workload" -selector "unix:uid:${WORKLOAD_UID[$workload]}" \
            -x509SVIDTTL "$SVID_TTL"
    done
}

hand_start_agent() {
    local agent=$2 etc=$1/$2
    mkdir -p "$etc"
    write_agent_conf "$etc/agent.conf"
    cp "$1/bundle.pem" "$etc/bundle.pem"
    cp "$1/pki/$agent.crt.pem" "$etc/agent.crt.pem"
    cp "$1/pki/$agent.key.pem" "$etc/agent.key.pem"
    create_and_start "$PREFIX-$agent" "$etc" \
        --network "$PREFIX-net" --network-alias "$agent" --hostname "$agent" --init -u 0 \
        -v "$PREFIX-$agent-data:/var/lib/spire/agent" -v "$PREFIX-$agent-socket:$SOCKET_DIR" \
        --entrypoint "$AGENT_BIN" "$IMAGE_AGENT" run -config /etc/spire/agent.conf
}

agent_healthy() { docker exec "$PREFIX-$1" "$AGENT_BIN" healthcheck -socketPath "$SOCKET"; }

# The workload: spirelab's probe watching the Workload API, as its uid, in its agent's
# PID namespace (so the unix attestor can see it), with the agent's socket volume.
hand_start_workload() {
    local workload=$1 agent=${WORKLOAD_AGENT[$1]} uid=${WORKLOAD_UID[$1]}
    create_and_start "$PREFIX-$workload" "" \
        --network "$PREFIX-net" --network-alias "$workload" --hostname "$workload" \
        --pid "container:$PREFIX-$agent" -u "$uid:$uid" --restart unless-stopped \
        -v "$PREFIX-$agent-socket:$SOCKET_DIR" -e "SPIFFE_ENDPOINT_SOCKET=unix://$SOCKET" \
        --entrypoint "$PROBE_BIN" "$IMAGE_WORKLOAD" watch --name "$workload"
}

# The ID of the (single) entry issuing spiffe://$TD/WORKLOAD.
entry_id() {
    server entry show -spiffeID "spiffe://$TD/$1" | awk '/^Entry ID/ { print $NF; exit }'
}

# set_uid_selector WORKLOAD UID: rewrites the workload's entry to select unix:uid:UID.
set_uid_selector() {
    local workload=$1 uid=$2 id
    id=$(entry_id "$workload")
    [[ -n $id ]] || die "no entry for spiffe://$TD/$workload"
    run server entry update -entryID "$id" \
        -parentID "spiffe://$TD/node/${WORKLOAD_AGENT[$workload]}" \
        -spiffeID "spiffe://$TD/$workload" -selector "unix:uid:$uid" -x509SVIDTTL "$SVID_TTL"
}

# Succeeds when the workload's fetch fails with "no identity issued".
fetch_denied() {
    local out
    if out=$(fetch "$1" 2>&1); then return 1; fi
    printf '%s\n' "$out"
    grep -qi "no identity issued" <<<"$out"
}

# Succeeds when the workload's SVID serial is known and differs from $2.
serial_changed() {
    local current
    current=$(serial "$1") || return 1
    printf 'serial now %s\n' "$current"
    [[ -n $current && $current != "$2" ]]
}

# up, by hand: from the first docker command to every workload fetching an SVID.
hand_up() {
    local dir=$1 agent workload
    hand_network_and_volumes
    hand_pki "$dir/pki"
    hand_start_server "$dir"
    server bundle show -format pem >"$dir/bundle.pem" 2>>"$LOG" ||
        die "could not read the server's bundle"
    hand_register
    for agent in "${AGENTS[@]}"; do hand_start_agent "$dir" "$agent"; done
    for agent in "${AGENTS[@]}"; do poll_until "$agent to be healthy" agent_healthy "$agent"; done
    for workload in "${WORKLOADS[@]}"; do hand_start_workload "$workload"; done
    for workload in "${WORKLOADS[@]}"; do
        poll_until "$workload to fetch an SVID" fetch "$workload"
    done
}

# Sets HAND_UP and HAND_FIX to the seconds of the two steps.
bench_by_hand() {
    local run_no=$1 dir t0 t1 t2 t3 before
    PREFIX="benchhand-$BENCH_ID-$run_no"
    dir="$WORK/hand-$run_no"
    mkdir -p "$dir"

    log "by hand: network, volumes, certs, server, entries, agents, workloads ($PREFIX-*)"
    t0=$(now)
    hand_up "$dir"
    t1=$(now)

    log "by hand: break (workload-1's entry selects unix:uid:1000)"
    set_uid_selector workload-1 1000
    poll_until "workload-1's fetch to fail with 'no identity issued'" fetch_denied workload-1

    log "by hand: fix (back to unix:uid:1001), then wait for an SVID and a rotation"
    t2=$(now)
    set_uid_selector workload-1 1001
    poll_until "workload-1 to fetch an SVID again" fetch workload-1
    before=$(serial workload-1)
    log "by hand: first serial after the fix $before; waiting for a rotation"
    TIMEOUT=$((2 * SVID_TTL)) poll_until "workload-1's SVID to rotate" \
        serial_changed workload-1 "$before"
    t3=$(now)
    HAND_UP=$(seconds "$t0" "$t1")
    HAND_FIX=$(seconds "$t2" "$t3")

    SPIRE_VERSION=$(docker exec "$PREFIX-server" "$SERVER_BIN" --version 2>&1 | tail -n 1)
    log "by hand: up $HAND_UP s, fix -> rotation $HAND_FIX s; removing $PREFIX-*"
    remove_by_hand_objects
}

# ---------------------------------------------------------------------------------------
# Report

# cell VALUES...: one value, "min / median" of several, "-" for none.
cell() {
    if (($# == 0)); then
        printf -- '-'
    elif (($# == 1)); then
        printf '%s s' "$1"
    else
        local min med
        read -r min med < <(stats "$@")
        printf '%s / %s s' "$min" "$med"
    fi
}

report() {
    local what="" mem_kib
    ((RUNS == 1)) || what=" (min / median of $RUNS runs)"
    mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
    printf '%-36s %16s %16s\n' "step$what" spirelab "by hand"
    printf '%-36s %16s %16s\n' "up -> every workload has an SVID" \
        "$(cell "${SL_UPS[@]}")" "$(cell "${HAND_UPS[@]}")"
    printf '%-36s %16s %16s\n' "solve -> passing grade (rotation)" \
        "$(cell "${SL_FIXES[@]}")" "$(cell "${HAND_FIXES[@]}")"
    printf 'machine: %s CPUs, %s GiB RAM, Linux %s, Docker %s; SPIRE %s (%s)\n' \
        "$(nproc)" "$(awk -v k="$mem_kib" 'BEGIN { printf "%.1f", k / 1048576 }')" \
        "$(uname -r)" "$(docker version --format '{{.Server.Version}}' 2>/dev/null)" \
        "${SPIRE_VERSION:-?}" "$IMAGE_SERVER"
}

main() {
    parse_args "$@"
    preflight
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/spirelab-bench.XXXXXX")
    LOG=$WORK/bench.log
    trap cleanup EXIT
    trap 'log interrupted; exit 130' INT
    trap 'exit 143' TERM

    SL_UPS=() SL_FIXES=() HAND_UPS=() HAND_FIXES=()
    local i
    for ((i = 1; i <= RUNS; i++)); do
        log "run $i of $RUNS"
        if [[ $ONLY != hand ]]; then
            bench_spirelab
            SL_UPS+=("$SL_UP") SL_FIXES+=("$SL_FIX")
        fi
        if [[ $ONLY != spirelab ]]; then
            bench_by_hand "$i"
            HAND_UPS+=("$HAND_UP") HAND_FIXES+=("$HAND_FIX")
        fi
    done
    report
}

main "$@"
