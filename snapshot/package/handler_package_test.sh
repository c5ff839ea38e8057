#!/usr/bin/env bash
# Checks the handler package as a VM receives it (see //snapshot:handler_package).
set -euo pipefail
ZIP="$1" VERSION="$2" SANITIZED="${3:-}"
fail() { echo "FAIL: $*" >&2; exit 1; }
D="${TEST_TMPDIR:-$(mktemp -d)}/pkg"
rm -rf "$D" && mkdir -p "$D"
/usr/bin/python3 - "$ZIP" "$D" <<'PY'
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for info in z.infolist():
    path = z.extract(info, sys.argv[2])
    os.chmod(path, (info.external_attr >> 16) & 0o777)
print("entries:", " ".join(sorted(z.namelist())))
PY
[ -f "$D/HandlerManifest.json" ] || fail "HandlerManifest.json is not at the package root"
[ -x "$D/vmsnapshot" ] || fail "vmsnapshot is missing or not executable"
case "$(basename "$ZIP")" in
  "Microsoft.Azure.RecoveryServices.VMSnapshotLinux-$VERSION.zip") ;;
  *) fail "package name $(basename "$ZIP") does not carry version $VERSION" ;;
esac
grep -q "<Version>$VERSION</Version>" "$D/manifest.xml" || fail "manifest.xml does not say version $VERSION"
got="$("$D/vmsnapshot" --version)"
[ "$got" = "Microsoft.Azure.RecoveryServices.VMSnapshot $VERSION" ] || fail "vmsnapshot --version says: $got"
# Every command the manifest names is the packaged binary.
for c in installCommand uninstallCommand updateCommand enableCommand disableCommand; do
  cmd="$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[0]['handlerManifest'][sys.argv[2]])" "$D/HandlerManifest.json" "$c")"
  [ "${cmd%% *}" = vmsnapshot ] || fail "$c runs \"$cmd\", not the packaged vmsnapshot"
done
# Shared libraries: only what every supported distribution ships.
needed="$(readelf -d "$D/vmsnapshot" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')"
echo "needed: $needed"
if [ "$SANITIZED" = sanitized ]; then
  # A sanitized build (--config=asan etc.) links everything dynamically with the sanitizer runtimes: what ships is
  # the plain build, whose libraries this test checks (tools/test.sh runs it in both).
  echo "sanitized build: the shipped-libraries check applies to the plain build only"
else
  for lib in $needed; do
    case "$lib" in
      libc.so.6|libm.so.6|ld-linux-x86-64.so.2|libpthread.so.0|libdl.so.2|librt.so.1|libcurl.so.4|libcrypto.so.3|libssl.so.3|libz.so.1) ;;
      *) fail "the packaged binary needs $lib, which a stock VM may not have (link it statically: snapshot/version.bzl)" ;;
    esac
  done
fi
echo "PASS: package $(basename "$ZIP")"
