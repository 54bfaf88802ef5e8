# shellcheck shell=sh
# ORCA on-instance agent (POSIX sh). Rendered into user data after a few settings
# (ORCA_CLUSTER, ORCA_LOG_GROUP, ORCA_PARAM_PREFIX); holds no pod data and no secrets.
# It waits for the pod assigned to this instance (SSM parameters under
# $ORCA_PARAM_PREFIX/<instance-id>/), runs its init containers, then its containers, ships their
# output to CloudWatch Logs, applies restartPolicy, watches IMDS for spot notices and for ORCA's
# stop request (the file $ORCA_HOME/stop, which ORCA creates through SSM Run Command), and reports
# state in this instance's own tags.
set -u
: "${ORCA_IMDS:=http://169.254.169.254}"
: "${ORCA_HOME:=/var/lib/orca}"
: "${ORCA_POLL_SECONDS:=5}"
ORCA_VOLUMES="$ORCA_HOME/volumes"
export ORCA_VOLUMES
mkdir -p "$ORCA_HOME/state" "$ORCA_VOLUMES"
cd "$ORCA_HOME" || exit 1

log() { printf '%s orca-agent: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
now() { date -u +%s; }

# IMDSv2 only: every read carries a session token.
imds_token() {
  TOKEN=$(curl -sf -X PUT "$ORCA_IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600') || TOKEN=''
  TOKEN_AT=$(now)
}
imds() {
  [ $(($(now) - TOKEN_AT)) -lt 20000 ] || imds_token
  curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" "$ORCA_IMDS/latest/$1"
}

# State goes into this instance's tags; ORCA reads every instance with one DescribeInstances.
put_tag() {
  aws ec2 create-tags --region "$REGION" --resources "$ID" --tags "[{\"Key\":\"$1\",\"Value\":\"$2\"}]" >/dev/null 2>&1 && return 0
  log "could not write tag $1"
  return 1
}
report() {
  file="state/tag.$(printf %s "$1" | tr '/' '_')"
  [ -f "$file" ] && [ "$(cat "$file")" = "$2" ] && return 0
  put_tag "$1" "$2" && printf %s "$2" >"$file"
}

# Per container: state reason exit restarts started finished, then the previous run's
# exit reason started finished, then the image id; '-' for none. One tag per container.
cset() { printf %s "$3" >"state/$1.$2"; }
cget() { if [ -f "state/$1.$2" ]; then cat "state/$1.$2"; else printf %s "${3:--}"; fi; }
report_container() {
  c=$1
  report "orca.research/c/$c" "$(cget "$c" state waiting) $(cget "$c" reason ContainerCreating) $(cget "$c" exit) $(cget "$c" restarts 0) $(cget "$c" started) $(cget "$c" finished) $(cget "$c" last_exit) $(cget "$c" last_reason) $(cget "$c" last_started) $(cget "$c" last_finished) $(cget "$c" image_id)"
}
report_pod() { report orca.research/state "v1 $1 $(cget pod notice) -"; }

fetch_assignment() {
  aws ssm get-parameters-by-path --region "$REGION" --path "$ORCA_PARAM_PREFIX/$ID/" --with-decryption \
    --query 'Parameters[].[Name,Value]' --output text 2>/dev/null | sort | cut -f2 | tr -d '\n' | base64 -d 2>/dev/null | gunzip 2>/dev/null
}

orca_file() {
  mkdir -p "$(dirname "$ORCA_VOLUMES/$1/$2")"
  printf %s "$4" | base64 -d >"$ORCA_VOLUMES/$1/$2"
  chmod "$3" "$ORCA_VOLUMES/$1/$2"
}
orca_login() { printf %s "$3" | docker login --username "$2" --password-stdin "$1" >/dev/null || log "login to $1 failed"; }
ecr_login() {
  case $1 in
    *.dkr.ecr.*.amazonaws.com/*)
      registry=${1%%/*}
      aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$registry" >/dev/null || log "ECR login to $registry failed" ;;
  esac
}

var() { eval "printf %s \"\${$1:-}\""; }
fn() { printf %s "$1" | tr '-' '_'; }

# Starts container $1 (run number = its restart count) detached, with its devices and log stream.
start_container() {
  c=$1
  n=$(fn "$c")
  run=$(cget "$c" restarts 0)
  image=$(var "orca_image_$n")
  ecr_login "$image"
  if ! docker pull "$image" >/dev/null 2>&1; then
    cset "$c" reason ErrImagePull
    report_container "$c"
    return 1
  fi
  set -- --name "orca-$c-$run" --network host --ipc host \
    --log-driver awslogs --log-opt "awslogs-region=$REGION" --log-opt "awslogs-group=$ORCA_LOG_GROUP" \
    --log-opt "awslogs-stream=$ORCA_POD_NAMESPACE/$ORCA_POD_NAME/$ORCA_POD_UID/$c/$run" --log-opt awslogs-create-group=true
  gpus=$(var "orca_gpus_$n")
  [ -n "$gpus" ] && set -- "$@" --gpus "\"device=$gpus\""
  for d in $(var "orca_neuron_$n"); do set -- "$@" --device "/dev/neuron$d"; done
  # stdin: true / tty: true (kubectl attach): a stdin kept open, a terminal.
  [ "$(var "orca_stdin_$n")" = true ] && set -- "$@" -i
  [ "$(var "orca_tty_$n")" = true ] && set -- "$@" -t
  i=0
  while [ "$i" -lt "$(var "orca_efa_$n")" ]; do set -- "$@" --device "/dev/infiniband/uverbs$i"; i=$((i + 1)); done
  "orca_run_$n" docker run -d "$@" >/dev/null || { cset "$c" reason RunContainerError; report_container "$c"; return 1; }
  cset "$c" image_id "$(docker inspect -f '{{.Image}}' "orca-$c-$run" 2>/dev/null | tr -dc 'a-z0-9:')"
  cset "$c" state running
  cset "$c" reason -
  cset "$c" started "$(now)"
  cset "$c" finished -
  cset "$c" exit -
  report_container "$c"
}

# 0 when container $1's current run has exited (its state files updated), 1 while it runs.
check_exited() {
  c=$1
  run=$(cget "$c" restarts 0)
  out=$(docker inspect -f '{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}' "orca-$c-$run" 2>/dev/null) || return 1
  # shellcheck disable=SC2086 # split the three fields
  set -- $out
  [ "$1" = true ] && return 1
  reason=Error
  [ "$2" = 0 ] && reason=Completed
  [ "$3" = true ] && reason=OOMKilled
  cset "$c" state terminated
  cset "$c" exit "$2"
  cset "$c" reason "$reason"
  cset "$c" finished "$(now)"
  report_container "$c"
  return 0
}

wants_restart() {
  case $ORCA_RESTART_POLICY in
    Always) return 0 ;;
    OnFailure) [ "$(cget "$1" exit 0)" != 0 ] ;;
    *) return 1 ;;
  esac
}

# Moves the finished run to lastState and counts the restart; back-off 10 s doubling to 300 s.
restart_later() {
  c=$1
  r=$(cget "$c" restarts 0)
  for f in exit reason started finished; do cset "$c" "last_$f" "$(cget "$c" "$f")"; done
  cset "$c" restarts $((r + 1))
  delay=$((10 << (r > 5 ? 5 : r)))
  [ "$delay" -gt 300 ] && delay=300
  cset "$c" state waiting
  cset "$c" reason CrashLoopBackOff
  cset "$c" exit -
  cset "$c" started -
  cset "$c" finished -
  cset "$c" not_before $(($(now) + delay))
  report_container "$c"
}

# Init containers one at a time: 0 when all succeeded, 1 when one failed for good, 2 on a stop
# request (the running one stopped as the app containers are).
run_init() {
  for c in $ORCA_INIT_CONTAINERS; do
    while :; do
      stop_requested && return 2
      start_container "$c" || { sleep "$ORCA_POLL_SECONDS"; continue; }
      while ! check_exited "$c"; do
        stop_requested && { stop_container "$c"; return 2; }
        sleep "$ORCA_POLL_SECONDS"
      done
      [ "$(cget "$c" exit)" = 0 ] && break
      [ "$ORCA_RESTART_POLICY" = Never ] && return 1
      restart_later "$c"
      until [ "$(now)" -ge "$(cget "$c" not_before)" ]; do stop_requested && return 2; sleep "$ORCA_POLL_SECONDS"; done
    done
  done
}

stop_requested() { [ -f "$ORCA_HOME/stop" ]; }

watch_notices() {
  notice=-
  # The notice is JSON ({"action": "terminate", "time": "..."}): report its action only.
  action=$(imds meta-data/spot/instance-action 2>/dev/null) && notice="spot-interruption:$(printf %s "$action" | sed -n 's/.*"action" *: *"\([a-z]*\)".*/\1/p')"
  [ "$notice" = - ] && imds meta-data/events/recommendations/rebalance >/dev/null 2>&1 && notice=rebalance
  cset pod notice "$notice"
}

# Usage for `kubectl top` (orca.research/usage, docs/agent.md): each container's current run from
# docker stats, the GPUs from nvidia-smi; two significant digits. Measured at most once a minute;
# the tag is rewritten when a value changed, or after 10 minutes (CreateTags is throttled).
usage_value() {
  awk -v now="$(now)" -v list="$1" '
    function sig(v, p) { if (v <= 0) return 0; if (v < 1) return 1; p = 1; while (v >= 100 * p) p *= 10; return int(v / p + 0.5) * p }
    function mib(v, n) { n = v + 0; if (v ~ /TiB/) return n * 1048576; if (v ~ /GiB/) return n * 1024; if (v ~ /MiB/) return n; if (v ~ /KiB/) return n / 1024; return n / 1048576 }
    $1 == "gpu" { if ($2 $3 $4 ~ /^[0-9.]+$/) { g++; u += $2; used += $3; total += $4 } next }
    { cpu[$1] = $2 * 10; mem[$1] = mib($3) }
    END {
      out = "u1 " now; if (g) out = out " nvidia:" g ":" int(u / g + 0.5) ":" sig(used) ":" int(total)
      n = split(list, c, " "); k = n > 10 ? 9 : n
      for (i = 1; i <= n; i++) {
        e = c[i]; ok = (e in mem) && mem[e] > 0
        if (i > k) { if (ok) { rc += cpu[e]; rm += mem[e] } continue }
        if (!ok) { out = out " -"; continue }
        r = e; sub(/.*-/, "", r); out = out " " r ":" sig(cpu[e]) ":" sig(mem[e])
      }
      if (n > k) out = out " +" (n - k) ":" sig(rc) ":" sig(rm)
      print out
    }'
}
measure_usage() {
  [ "$(now)" -ge "$(cget pod usage_next 0)" ] || return 0
  cset pod usage_next $(($(now) + 60))
  list='' names=''
  for c in $ORCA_CONTAINERS; do
    run="orca-$c-$(cget "$c" restarts 0)"
    if [ "$(cget "$c" state)" = running ]; then list="$list $run" names="$names $run"; else list="$list -"; fi
  done
  value=$({
    # shellcheck disable=SC2086 # one word per container name
    [ -n "$names" ] && docker stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}' $names 2>/dev/null
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits 2>/dev/null | sed 's/^/gpu /; s/,/ /g'
  } | usage_value "$list")
  old=$(cget pod usage)
  [ "${value#u1 * }" = "${old#u1 * }" ] && [ "$(now)" -lt "$(cget pod usage_refresh 0)" ] && return 0
  [ "${#value}" -le 256 ] || { log "usage of ${#value} characters not reported"; return 0; }
  report orca.research/usage "$value" && cset pod usage "$value" && cset pod usage_refresh $(($(now) + 600))
}

# SIGTERM to container $1's current run, SIGKILL after the grace period; records how it ended.
stop_container() {
  [ "$(cget "$1" state)" = running ] && docker stop -t "$ORCA_GRACE_SECONDS" "orca-$1-$(cget "$1" restarts 0)" >/dev/null 2>&1
  check_exited "$1" || true
}
stop_all() { for c in $ORCA_CONTAINERS; do stop_container "$c"; done; }

supervise() {
  # The first usage report comes 10 s after the containers start, so its CPU rate means something.
  cset pod usage_next $(($(now) + 10))
  while :; do
    watch_notices
    measure_usage
    if stop_requested; then stop_all; report_pod Stopped; return 0; fi
    active=0
    for c in $ORCA_CONTAINERS; do
      case $(cget "$c" state) in
        running) if check_exited "$c"; then wants_restart "$c" && restart_later "$c"; fi ;;
        waiting) [ "$(now)" -ge "$(cget "$c" not_before 0)" ] && start_container "$c" ;;
      esac
      [ "$(cget "$c" state)" = terminated ] || active=1
    done
    if [ "$active" = 0 ]; then report_pod Finished; return 0; fi
    report_pod Running
    sleep "$ORCA_POLL_SECONDS"
  done
}

main() {
  imds_token
  ID=$(imds meta-data/instance-id) || { log 'no instance id from IMDS'; exit 1; }
  REGION=$(imds meta-data/placement/region) || REGION=${AWS_REGION:-us-east-1}
  report orca.research/state 'v1 WaitingForAssignment - -'
  until fetch_assignment >assignment.sh && [ -s assignment.sh ]; do
    stop_requested && exit 0
    sleep "$ORCA_POLL_SECONDS"
  done
  # shellcheck disable=SC1091 # written by ORCA: variables and functions of single-quoted literals
  . ./assignment.sh
  for c in $ORCA_INIT_CONTAINERS $ORCA_CONTAINERS; do report_container "$c"; done
  for d in $ORCA_EMPTY_DIRS; do mkdir -p "$ORCA_VOLUMES/$d"; done
  orca_volume_files
  orca_registry_logins
  report_pod Initializing
  run_init
  case $? in
    0) ;;
    2) report_pod Stopped; exit 0 ;;
    *) report_pod InitFailed; exit 0 ;;
  esac
  for c in $ORCA_CONTAINERS; do start_container "$c" || cset "$c" not_before 0; done
  supervise
}

main "$@"
