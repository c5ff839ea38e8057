// Produces testdata/blob/signing_vectors.tsv with Microsoft's own SDK (@azure/storage-blob), an implementation
// independent of ours: Shared Key string-to-sign and Authorization header for a set of requests, and service SAS
// string-to-sign and query strings. Run from the repository root after tools/setup.sh:
//
//   NODE_PATH=tools/node/node_modules node tools/vectors/make_signing_vectors.js > testdata/blob/signing_vectors.tsv
//
// Line format (tab-separated; fields with newlines are base64):
//   sharedkey <name> <method> <url> <b64 "name:value\n" headers, x-ms-date included> <b64 string-to-sign> <Authorization>
//   sas <name> <account> <container> <blob or -> <permissions> <start or -> <expiry> <version> <snapshot or -> <b64 string-to-sign> <query>
"use strict";
const blob = require("@azure/storage-blob");
const path = require("path");
const sdkDir = path.dirname(require.resolve("@azure/storage-blob"));  // .../dist/commonjs
const policyMod = require(path.join(sdkDir, "policies/StorageSharedKeyCredentialPolicy.js"));
const sasMod = require(path.join(sdkDir, "sas/BlobSASSignatureValues.js"));

// The legacy (core-http style) request shape StorageSharedKeyCredentialPolicy.signRequest reads.
class LegacyHeaders {
  constructor(init) { this.map = new Map(); for (const k of Object.keys(init)) this.set(k, init[k]); }
  set(k, v) { this.map.set(k.toLowerCase(), { name: k, value: String(v) }); }
  get(k) { const e = this.map.get(k.toLowerCase()); return e ? e.value : undefined; }
  headersArray() { return [...this.map.values()]; }
}

const ACCOUNT = "devstoreaccount1";
// Azurite's published development key (not a secret).
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const cred = new blob.StorageSharedKeyCredential(ACCOUNT, KEY);
const b64 = (s) => Buffer.from(s, "utf8").toString("base64");

function sharedKey(name, method, url, headers, body) {
  const request = { url, method, headers: new LegacyHeaders(headers), body };
  const policy = new policyMod.StorageSharedKeyCredentialPolicy(null, null, cred);
  let captured = null;
  const original = cred.computeHMACSHA256.bind(cred);
  cred.computeHMACSHA256 = (s) => { captured = s; return original(s); };
  policy.signRequest(request);
  cred.computeHMACSHA256 = original;
  const lines = [];
  for (const { name: k, value: v } of request.headers.headersArray()) {
    if (k.toLowerCase() !== "authorization") lines.push(`${k}:${v}\n`);
  }
  console.log(["sharedkey", name, method, url, b64(lines.join("")), b64(captured),
               request.headers.get("authorization")].join("\t"));
}

const base = `http://127.0.0.1:10000/${ACCOUNT}`;
const v = { "x-ms-version": "2021-08-06" };
sharedKey("create-container", "PUT", `${base}/vhds?restype=container`, { ...v, "Content-Length": "0" });
sharedKey("list-blobs", "GET", `${base}/vhds?restype=container&comp=list&include=snapshots,metadata&marker=abc%2Fdef&maxresults=2`, { ...v });
sharedKey("put-block-blob", "PUT", `${base}/bcdrextensionlogs/vm.Status.txt`,
          { ...v, "x-ms-blob-type": "BlockBlob", "Content-Type": "application/json", "Content-Length": "11",
            "x-ms-meta-taskId": "e07354cf_1" }, "hello world");
sharedKey("create-page-blob", "PUT", `${base}/vhds/disk%20one.vhd`,
          { ...v, "x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "1073741824", "Content-Length": "0" });
sharedKey("put-page", "PUT", `${base}/vhds/d.vhd?comp=page`,
          { ...v, "x-ms-page-write": "update", "x-ms-range": "bytes=0-511", "Content-Length": "512",
            "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==" }, "x".repeat(512));
sharedKey("get-range", "GET", `${base}/vhds/d.vhd?snapshot=2017-11-09T14%3A33%3A29.1234567Z`,
          { ...v, "x-ms-range": "bytes=512-1023" });
sharedKey("snapshot-meta", "PUT", `${base}/vhds/d.vhd?comp=snapshot`,
          { ...v, "Content-Length": "0", "x-ms-meta-b_key": "1", "x-ms-meta-a0": "2", "x-ms-meta-aB": "3",
            "x-ms-meta-a_1": "4", "x-ms-meta-Z9": "x  y" });
sharedKey("put-block-list", "PUT", `${base}/c/big.bin?comp=blocklist`,
          { ...v, "Content-Type": "application/xml", "Content-Length": "20", "If-Match": "\"0x8D\"" }, "<BlockList/>1234567x");
sharedKey("unicode-path", "HEAD", `${base}/c/%C3%A9t%C3%A9/f%C3%BC.txt`, { ...v });

function sas(name, container, blobName, permissions, start, expiry, snapshot) {
  const values = { containerName: container, permissions: blobName ? blob.BlobSASPermissions.parse(permissions)
                                                                   : blob.ContainerSASPermissions.parse(permissions),
                   expiresOn: new Date(expiry), version: "2021-08-06" };
  if (blobName) values.blobName = blobName;
  if (start) values.startsOn = new Date(start);
  if (snapshot) values.snapshotTime = snapshot;
  const out = sasMod.generateBlobSASQueryParametersInternal(values, cred);
  console.log(["sas", name, ACCOUNT, container, blobName || "-", permissions, start || "-", expiry, "2021-08-06",
               snapshot || "-", b64(out.stringToSign), out.sasQueryParameters.toString()].join("\t"));
}

sas("blob-rw", "vhds", "disk.vhd", "rw", "2017-11-09T14:23:28Z", "2017-11-09T17:38:28Z");
sas("blob-racwd-nostart", "bcdrextensionlogs", "vm.v2.Status.txt", "racwd", null, "2030-01-01T00:00:00Z");
sas("container-rl", "vhds", null, "rl", "2024-01-01T00:00:00Z", "2030-01-01T00:00:00Z");
sas("blob-space", "vhds", "dir/disk one.vhd", "r", null, "2030-01-01T00:00:00Z");
sas("snapshot", "vhds", "disk.vhd", "r", null, "2030-01-01T00:00:00Z", "2017-11-09T14:33:29.1234567Z");
