#!/usr/bin/env bash
# Builds strata's image (deploy/Dockerfile) with podman on a machine that reaches no
# image registry, then runs it on the embedded SQLite store and checks that it answers
# /health/ready and that its HEALTHCHECK (`strata probe`) passes.
#
#   deploy/build-image.sh [tag]        # tag: strata:0.1.0
#
# The bases come from Debian's archive, not from a registry:
#   - the runtime base: `debootstrap --variant=minbase bookworm`, imported with
#     `podman import` (what debian:bookworm-slim holds, give or take);
#   - the build base: the same with gcc and libc6-dev, plus this machine's Rust
#     toolchain (`rustc --print sysroot`, copied in): Debian's rustc is too old.
# Crates are fetched from crates.io during the build (--network host).
#
# It installs podman, runc and debootstrap (apt) when missing, and writes a
# containers.conf with limits a sandboxed machine allows (podman's defaults for open
# files and processes are above the hard limits there, and runc refuses to start the
# container) and no systemd (podman then logs that it cannot schedule health-check
# timers; `podman healthcheck run` below runs the check itself). The work (root file
# systems, about 2 GB) goes to ${CARGO_TARGET_DIR:-target}/image-work. A first build
# compiles strata in release mode inside the build stage: 17 minutes in all, bases
# included, on a 2-core machine. .ci/run does not run it; tests/deploy/run checks the
# Dockerfile with hadolint instead.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-strata:0.1.0}
work=$(realpath -m "${CARGO_TARGET_DIR:-target}/image-work")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
runtime_base=localhost/strata-runtime-base:$suite
build_base=localhost/strata-build-base:$suite

missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

mkdir -p "$work"
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]
pids_limit = 4096
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
export CONTAINERS_CONF=$work/containers.conf

# A minbase root file system of $suite in $1, with the packages $2 (comma-separated),
# and without apt's lists and caches.
bootstrap() {
    local root=$1 include=${2:-}
    rm -rf "$root"
    debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$root" "$mirror"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
        "$root"/usr/share/man/* "$root"/usr/share/locale/*
}

if ! podman image exists "$runtime_base"; then
    echo "== the runtime base ($runtime_base): debootstrap, podman import"
    bootstrap "$work/runtime-root"
    tar -C "$work/runtime-root" -c . | podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$runtime_base"
    rm -rf "$work/runtime-root"
fi

if ! podman image exists "$build_base"; then
    echo "== the build base ($build_base): debootstrap, gcc, the Rust toolchain $(rustc --version)"
    bootstrap "$work/build-root" gcc,libc6-dev,make,ca-certificates
    cp -a "$(rustc --print sysroot)" "$work/build-root/usr/local/rust"
    # The build fetches crates over HTTPS: trust what this machine trusts (a proxy's
    # own CA among them, where the network has one).
    cp /etc/ssl/certs/ca-certificates.crt "$work/build-root/etc/ssl/certs/ca-certificates.crt"
    tar -C "$work/build-root" -c . | podman import \
        --change 'ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'CMD ["bash"]' - "$build_base"
    rm -rf "$work/build-root"
fi

echo "== podman build $tag"
# --format docker keeps HEALTHCHECK (the OCI format has no health check).
podman build --network host --format docker \
    --ignorefile deploy/Dockerfile.dockerignore \
    --build-arg BUILD_IMAGE="$build_base" \
    --build-arg RUNTIME_IMAGE="$runtime_base" \
    -f deploy/Dockerfile -t "$tag" .
podman image ls "$tag"

echo "== the container on SQLite answers /health/ready"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=$(podman run -d --network host -e STRATA_HOST=127.0.0.1 -e STRATA_PORT="$port" "$tag")
cleanup() {
    podman rm -f "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health/ready"
echo
echo "user in the container: $(podman exec "$container" sh -c 'id -u'):$(podman exec "$container" sh -c 'id -g')"
podman healthcheck run "$container" && echo "HEALTHCHECK (strata probe): healthy"
podman stop -t 15 "$container" >/dev/null
status=$(podman inspect -f '{{.State.ExitCode}}' "$container")
echo "stopped with SIGTERM: exit $status"
[ "$status" -eq 0 ]
echo "image $tag: built, ready on SQLite, healthy, stopped cleanly"
