#!/usr/bin/env bash
# Keeps docs/examples/regd.toml and docs/examples/kubernetes.yaml honest: regd starts with the
# config file and with the Deployment's exact arguments (only root and listen rewritten), the
# probe paths answer as documented (readiness 503 once SIGTERM arrives), the manifests are
# consistent (RWX claim, grace period covering preStop + drain), and the GC CronJob's regctl
# command runs. (nginx.conf and haproxy.cfg are run by the lb_* and failover scripts.)
# Usage: docs_examples_test.sh PATH_TO_REGD [PATH_TO_REGCTL]
REGD=$1
REGCTL=${2:-}
source "$(dirname "$0")/lib.sh"
need_cmds curl jq python3
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"

step "regd.toml: regd starts with it (root and listen overridden by flags)"
start_regd toml "$SCALE_TMP/root-toml" --config "$EXAMPLES/regd.toml"
wait_status "http://127.0.0.1:${PORT[toml]}/readyz" 200
[[ $(jq -Rr 'fromjson? | select(.msg == "listening") | .read_only' "$SCALE_TMP/toml.log") == false ]] ||
  fail "regd.toml: unexpected read_only"

step "kubernetes.yaml: the objects and their consistency"
python3 - "$EXAMPLES/kubernetes.yaml" >"$SCALE_TMP/k8s.env" <<'EOF'
import shlex, sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
def need(cond, msg):
    if not cond:
        sys.exit("kubernetes.yaml: " + msg)
need(set(docs) >= {"PersistentVolumeClaim", "Deployment", "Service", "PodDisruptionBudget", "CronJob"}, "objects missing")
need("ReadWriteMany" in docs["PersistentVolumeClaim"]["spec"]["accessModes"], "claim is not RWX")
dep = docs["Deployment"]["spec"]
pod = dep["template"]["spec"]
c = pod["containers"][0]
args = dict(a.lstrip("-").split("=", 1) for a in c["args"])
grace = pod["terminationGracePeriodSeconds"]
pre = c["lifecycle"]["preStop"]["sleep"]["seconds"]
need(grace > pre + float(args["drain-delay"]) + float(args["drain-timeout"]), "grace period shorter than preStop + drain")
need(docs["PodDisruptionBudget"]["spec"]["minAvailable"] < dep["replicas"], "PDB blocks every disruption")
need(docs["Service"]["spec"].get("sessionAffinity", "None") == "None", "session affinity set")
mount = c["volumeMounts"][0]["mountPath"]
need(args["root"] == mount, "--root is not the volume's mount path")
gc = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
need(gc["volumeMounts"][0]["mountPath"] == mount, "GC job mounts the volume elsewhere")
print("REGD_ARGS=(%s)" % " ".join(shlex.quote(a) for a in c["args"]))
print("LIVENESS=%s" % c["livenessProbe"]["httpGet"]["path"])
print("READINESS=%s" % c["readinessProbe"]["httpGet"]["path"])
print("MOUNT=%s" % mount)
print("GC_ARGS=(%s)" % " ".join(shlex.quote(a) for a in gc["args"]))
EOF
source "$SCALE_TMP/k8s.env"

step "kubernetes.yaml: regd runs with the Deployment's arguments; probes answer"
args=()
for a in "${REGD_ARGS[@]}"; do
  case $a in
    --root=*) args+=("--root=$SCALE_TMP/root-k8s") ;;
    --listen=*) args+=("--listen=127.0.0.1:0") ;;
    *) args+=("$a") ;;
  esac
done
start_regd_args k8s "${args[@]}"
K8S=127.0.0.1:${PORT[k8s]}
wait_status "http://$K8S$LIVENESS" 200
wait_status "http://$K8S$READINESS" 200
kill -TERM "${PID[k8s]}"
wait_status "http://$K8S$READINESS" 503 20
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://$K8S$LIVENESS") == 200 ]] || fail "liveness while draining"
echo "   readiness 503 and liveness 200 while draining"

step "kubernetes.yaml: the GC CronJob's regctl command"
[[ -n $REGCTL ]] || skip "no regctl given: the GC CronJob's command was not checked (everything else passed)"
if ! grep -qE '^ +gc ' <<<"$("$REGCTL" --help 2>&1)"; then
  skip "regctl has no gc subcommand yet: the GC CronJob's command was not checked (everything else passed)"
fi
gc_args=()
for a in "${GC_ARGS[@]}"; do gc_args+=("${a/#$MOUNT/$SCALE_TMP/root-k8s}"); done
# Nothing was pushed to this instance, and regctl refuses a root without a registry tree (exit 7:
# an unmounted volume looks the same): create the tree first, as the first push would.
if "$REGCTL" --help 2>&1 | grep -q -- '--init'; then
  "$REGCTL" --root "$SCALE_TMP/root-k8s" --init ls >/dev/null || fail "regctl --init on root-k8s"
fi
timeout 120 "$REGCTL" "${gc_args[@]}" >"$SCALE_TMP/gc.out" 2>&1 || {
  cat "$SCALE_TMP/gc.out" >&2
  fail "regctl ${gc_args[*]}"
}
echo PASS
