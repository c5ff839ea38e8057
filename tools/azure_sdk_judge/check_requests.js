#!/usr/bin/env node
// Checks recorded requests (proxy.js --record FILE.jsonl) against Microsoft's generated SDKs' operation specs:
//
//   NODE_PATH=tools/node/node_modules node check_requests.js [--answers] [--skip-tagged] [--failures-only] [--full] FILE.jsonl
//
// Each request is matched to the operation whose path template and method fit (literal segments compared without
// case, as ARM does):
//   Microsoft.ImportExport  @azure/arm-storageimportexport 2.1.0 (api-version 2021-01-01), every operation;
//   Microsoft.Storage       @azure/arm-storage 17.0.0 (api-version 2021-06-01), every operation (storageAccounts ...);
//   Microsoft Graph v1.0    /v1.0/applications: NOT SDK-judged (no SDK publishes Graph operation specs in this form);
//                           checked against a minimal rule written here and labelled so;
//   /internal/...           the simulator's private datacenter endpoint: listed as UNMATCHED, not a failure;
//   anything else           FAIL (no SDK operation has that path and method).
// Rules for an SDK-matched request (each printed PASS/FAIL):
//   api-version    present, and equal to the api-version of the operation's spec;
//   path           every path parameter non-empty and within the parameter mapper's constraints; for
//                  Microsoft.ImportExport job names also ARM's naming rule (resource-name-rules: jobs 2-64
//                  characters, alphanumerics and hyphens, start with a letter; the SDK states no pattern);
//   query          only parameters the spec has (plus $skiptoken on a list's next page), with the mapper's type;
//   body           for operations with a request body: JSON whose every key at every depth is in the request mapper
//                  (PutJobParameters, UpdateJobParameters, StorageAccountCreateParameters, ...) with the mapper's JSON
//                  type (numbers as JSON numbers, booleans, arrays), required properties present, no read-only
//                  (readOnly in the mapper) or server-owned properties (listed below with the swagger text they rest
//                  on), no "" for properties the mapper does not require; Content-Type application/json;
//                  for operations without one: no body;
//   auth           Authorization: Bearer ... present (ARM takes bearer tokens only).
// --answers also checks each recorded answer body against the response mapper of the operation's spec for its status.
// --failures-only prints only the FAIL lines; --full lists every problem of a body (else the first 8).
// --skip-tagged leaves out requests carrying "x-judge-case" (sdk_suite.js's deliberately bad input and its fixtures).
// Ends with "N passed, M failed" (rules); exits 1 if any rule failed.
"use strict";

const fs = require("fs");
const { loadAll, specApiVersion, checkAgainstMapper, responseMapper, templateRegex, describe } = require("./sdk_specs.js");

function usage(msg) {
  console.log(`usage: node check_requests.js [--answers] [--skip-tagged] [--failures-only] [--full] FILE.jsonl${msg ? "\n" + msg : ""}`);
  process.exit(2);
}
const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith("--")));
const files = argv.filter((a) => !a.startsWith("--"));
for (const f of flags) if (!["--answers", "--skip-tagged", "--failures-only", "--full"].includes(f)) usage(`unknown option ${f}`);
if (files.length !== 1) usage();

// Properties of a new or updated job that only the service sets, though the SDK's mappers leave them writable. The
// swagger (storageimportexport 2021-01-01, JobDetails and DriveStatus) describes each as reporting the service's
// progress; examples/CreateJob.json sends none of them and gets them back.
const JOB_SERVER_OWNED = new Map([
  ["id", "resource id (readOnly in JobResponse; the service sets it; not part of PutJobParameters)"],
  ["name", "resource name (readOnly in JobResponse; it is the URL's jobName; not part of PutJobParameters)"],
  ["type", "resource type (readOnly in JobResponse; not part of PutJobParameters)"],
  ["systemData", "systemData (the service sets it)"],
  ["properties.state", 'server-owned on create: "Current state of the job" [swagger JobDetails.state]; a new job is Creating'],
  ["properties.provisioningState", 'server-owned: "Specifies the provisioning state of the job" [swagger JobDetails.provisioningState]'],
  ["properties.percentComplete", 'server-owned: "Overall percentage completed for the job" [swagger]'],
  ["properties.incompleteBlobListUri", "server-owned: the list of blobs the service could not export [swagger]"],
  ["properties.returnPackage", 'server-owned: "not included if the drives have not yet been returned" [swagger]'],
  ["properties.cancelRequested", "server-owned on create: cancelling is Jobs_Update {cancelRequested: true} [swagger]"],
]);
const DRIVE_SERVER_OWNED = [
  ["state", "\"The drive's current state\" [swagger DriveStatus.state]: the service sets it"],
  ["copyStatus", '"Detailed status about the data transfer process" [swagger]: the service sets it'],
  ["percentComplete", '"Percentage completed for the drive" [swagger]: the service sets it'],
  ["bytesSucceeded", '"Bytes successfully transferred for the drive" [swagger]: the service sets it'],
  ["verboseLogUri", "the service's verbose log blob [swagger]"],
  ["errorLogUri", "the service's error log blob [swagger]"],
  ["manifestUri", "the service's copy of the manifest [swagger]"],
];
function serverOwned(opId) {
  if (opId === "Jobs_Create") {
    const m = new Map(JOB_SERVER_OWNED);
    for (const [k, why] of DRIVE_SERVER_OWNED) m.set(`properties.driveList[].${k}`, why);
    return m;
  }
  if (opId === "Jobs_Update") {
    return new Map(DRIVE_SERVER_OWNED.map(([k, why]) => [`properties.driveList[].${k}`, why]));
  }
  return undefined;
}

// ARM's naming rule for Microsoft.ImportExport/jobs (learn.microsoft.com resource-name-rules).
const JOB_NAME = /^[A-Za-z][A-Za-z0-9-]{1,63}$/;

let passed = 0;
let failed = 0;
const failuresOnly = flags.has("--failures-only");
function rule(tag, name, ok, why) {
  if (ok) {
    passed++;
    if (!failuresOnly) console.log(`PASS: ${tag} ${name}`);
  } else {
    failed++;
    console.log(`FAIL: ${tag} ${name}${why ? ` (${why})` : ""}`);
  }
  return ok;
}

function queryParams(search) {
  const out = [];
  for (const [k, v] of new URLSearchParams(search)) out.push([k, v]);
  return out;
}

function header(h, name) {
  if (!h) return undefined;
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function shortJson(v, n = 200) {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > n ? s.slice(0, n - 3) + "..." : s;
}

function problemsText(problems) {
  if (flags.has("--full")) return problems.map((p) => `${p.path}: ${p.problem}`).join("; ");
  return problems.slice(0, 8).map((p) => `${p.path}: ${p.problem}`).join("; ") + (problems.length > 8 ? `; and ${problems.length - 8} more` : "");
}

// A minimal rule for Microsoft Graph v1.0 application calls, NOT derived from an SDK: Graph publishes no operation
// specs of this form. From the Graph v1.0 reference (List applications with $filter, Create application, the
// application and keyCredential resource types): lookups are GET /v1.0/applications?$filter=displayName eq '...'
// answered {"value":[...]}; creation is POST /v1.0/applications with a JSON application (displayName a non-empty
// string; no id or appId, which the directory assigns; keyCredentials entries with type AsymmetricX509Cert, usage
// Verify and a key) answered 201 with id and appId.
function checkGraph(tag, rec, u, withAnswers) {
  const label = "[Graph v1.0, not SDK-judged: minimal rule]";
  const path = u.pathname.replace(/\/$/, "");
  const q = queryParams(u.search);
  rule(tag, `${label} Authorization: Bearer present`, /^Bearer\b/i.test(header(rec.headers, "authorization") || ""), "no bearer token");
  rule(tag, `${label} no api-version (Graph versions by path, /v1.0)`, !q.some(([k]) => k === "api-version"), "api-version sent to Graph");
  if (/^\/v1\.0\/applications$/i.test(path) && rec.method === "GET") {
    const unknown = q.filter(([k]) => !["$filter", "$select", "$top", "$count", "$orderby", "$search"].includes(k)).map(([k]) => k);
    rule(tag, `${label} only OData query options ($filter, $select, $top, ...)`, unknown.length === 0, `unknown query parameters ${unknown.join(", ")}`);
    const f = q.find(([k]) => k === "$filter");
    rule(tag, `${label} lookup by name is $filter=displayName eq '<name>'`, !!f && /^displayName eq '([^']|'')*'$/.test(f[1]),
      f ? `$filter=${f[1]}` : `no $filter (query: ${u.search || "none"})`);
    if (withAnswers && rec.status === 200) {
      rule(tag, `${label} answer is {"value":[applications]}`, isObject(rec.responseBody) && Array.isArray(rec.responseBody.value), `answer ${shortJson(rec.responseBody)}`);
    } else if (withAnswers) {
      rule(tag, `${label} a lookup that finds nothing is 200 {"value":[]}, not an error`, rec.status === 200, `HTTP ${rec.status} ${shortJson(rec.responseBody)}`);
    }
    return;
  }
  if (/^\/v1\.0\/applications$/i.test(path) && rec.method === "POST") {
    const b = rec.body;
    rule(tag, `${label} body is a JSON application with a non-empty displayName`, isObject(b) && typeof b.displayName === "string" && b.displayName !== "",
      `body ${shortJson(b)}`);
    const owned = isObject(b) ? ["id", "appId", "publisherDomain", "createdDateTime", "deletedDateTime"].filter((k) => k in b) : [];
    rule(tag, `${label} no service-assigned properties (id, appId, ...: the directory assigns them)`, owned.length === 0,
      `body carries ${owned.map((k) => `${k}=${shortJson(b[k], 40)}`).join(", ")}`);
    if (isObject(b) && b.keyCredentials !== undefined) {
      const kc = Array.isArray(b.keyCredentials) ? b.keyCredentials : null;
      const bad = (kc || []).filter((k) => !isObject(k) || k.type !== "AsymmetricX509Cert" || k.usage !== "Verify" || typeof k.key !== "string" || !k.key);
      rule(tag, `${label} keyCredentials: each {type: AsymmetricX509Cert, usage: Verify, key: base64 certificate}`, kc && bad.length === 0,
        kc ? `${bad.length} of ${kc.length} entries lack type/usage/key, e.g. ${shortJson(bad[0])}` : "keyCredentials is not an array");
      const known = new Set(["customKeyIdentifier", "displayName", "endDateTime", "key", "keyId", "startDateTime", "type", "usage"]);
      const unknown = (kc || []).flatMap((k) => (isObject(k) ? Object.keys(k).filter((x) => !known.has(x)) : []));
      rule(tag, `${label} keyCredentials entries have only keyCredential properties`, unknown.length === 0, `unknown ${[...new Set(unknown)].join(", ")}`);
    }
    rule(tag, `${label} Content-Type application/json`, /application\/json/i.test(header(rec.headers, "content-type") || ""), `Content-Type ${header(rec.headers, "content-type")}`);
    if (withAnswers && rec.status < 300) {
      const a = rec.responseBody;
      rule(tag, `${label} answer 201 with id and appId`, rec.status === 201 && isObject(a) && a.id && a.appId, `HTTP ${rec.status} ${shortJson(a)}`);
    }
    return;
  }
  if (/^\/v1\.0\/applications\/[^/]+(\/(addKey|removeKey))?$/i.test(path) && ["GET", "PATCH", "DELETE", "POST"].includes(rec.method)) {
    rule(tag, `${label} ${rec.method} ${path.replace(/applications\/[^/]+/, "applications/{id}")} is a Graph application call`, true);
    return;
  }
  rule(tag, `${label} a known Graph v1.0 applications call`, false, `${rec.method} ${path} is not one`);
}

function matchOperation(all, method, pathname) {
  const hits = [];
  const pathOnly = [];
  for (const op of all.ops) {
    const t = templateRegex(op.spec.path || "");
    if (!t) continue;
    const m = t.re.exec(pathname);
    if (!m) continue;
    if (op.spec.httpMethod.toUpperCase() === method.toUpperCase()) {
      const params = {};
      t.names.forEach((n, i) => (params[n] = m[i + 1]));
      hits.push({ op, params, literals: t.literals });
    } else {
      pathOnly.push(op);
    }
  }
  hits.sort((a, b) => b.literals - a.literals);
  return { hit: hits[0], pathOnly };
}

function decodeParam(s) {
  try {
    return decodeURIComponent(s);
  } catch (_) {
    return s;
  }
}

function checkSdk(tag, rec, u, hit, withAnswers) {
  const { op, params } = hit;
  const spec = op.spec;
  const sdkLabel = `[${op.sdk} ${op.id}]`;
  const q = queryParams(u.search);

  // api-version
  const want = specApiVersion(spec);
  const got = q.filter(([k]) => k === "api-version").map(([, v]) => v);
  rule(tag, `${sdkLabel} api-version present`, got.length > 0, "no api-version query parameter (ARM answers 400 MissingApiVersionParameter)");
  if (got.length > 0) {
    rule(tag, `${sdkLabel} api-version=${want} as in the SDK's spec`, got.length === 1 && got[0] === want, `api-version=${got.join(",")}`);
  }

  // path parameters
  const pathProblems = [];
  for (const p of spec.urlParameters || []) {
    const name = p.mapper.serializedName;
    if (name === "$host" || name === "nextLink") continue;
    const raw = params[name];
    if (raw === undefined) continue;
    const v = decodeParam(raw);
    if (v === "") pathProblems.push(`${name} is empty`);
    checkAgainstMapper(v, p.mapper, spec.serializer.modelMappers, { mode: "request" }).forEach((x) => pathProblems.push(`${name} ${describe(v)}: ${x.problem}`));
    if (op.sdk.includes("importexport") && name === "jobName" && !JOB_NAME.test(v)) {
      pathProblems.push(`jobName ${describe(v)} breaks ARM's rule for Microsoft.ImportExport/jobs: 2-64 characters, alphanumerics and hyphens, start with a letter`);
    }
  }
  rule(tag, `${sdkLabel} path parameters (${(spec.urlParameters || []).map((p) => p.mapper.serializedName).filter((n) => n !== "$host").join(", ")})`, pathProblems.length === 0, pathProblems.join("; "));

  // query parameters
  const known = new Map((spec.queryParameters || []).map((p) => [p.mapper.serializedName, p]));
  const isList = /List/.test(op.id);
  const qProblems = [];
  for (const [k, v] of q) {
    if (k === "api-version") continue;
    if (isList && /^\$skip[Tt]oken$/.test(k)) continue;
    const p = known.get(k);
    if (!p) {
      qProblems.push(`unknown query parameter ${k}=${v} (the spec has: ${[...known.keys()].join(", ")})`);
      continue;
    }
    if (p.mapper.type.name === "Number" && !/^-?\d+$/.test(v)) qProblems.push(`${k}=${v} is not an integer`);
    if (p.mapper.type.name === "Boolean" && !/^(true|false)$/.test(v)) qProblems.push(`${k}=${v} is not true/false`);
  }
  for (const [k, p] of known) {
    if (p.mapper.required && !p.mapper.isConstant && !q.some(([x]) => x === k)) qProblems.push(`required query parameter ${k} missing`);
  }
  rule(tag, `${sdkLabel} query parameters known to the spec`, qProblems.length === 0, qProblems.join("; "));

  // body
  if (spec.requestBody) {
    const mapper = spec.requestBody.mapper;
    const cls = mapper.type.className || "the request body";
    if (rec.body === null || rec.body === undefined || typeof rec.body === "string") {
      rule(tag, `${sdkLabel} body is JSON ${cls}`, false, rec.body ? `not JSON: ${shortJson(rec.body, 120)}` : "no body");
    } else {
      const problems = checkAgainstMapper(rec.body, mapper, spec.serializer.modelMappers, { mode: "request", serverOwned: serverOwned(op.id) });
      rule(tag, `${sdkLabel} body matches the SDK's ${cls} mapper (known keys at every depth, JSON types, required, no read-only/server-owned, no "" for optional)`,
        problems.length === 0, problemsText(problems));
      rule(tag, `${sdkLabel} Content-Type application/json`, /^application\/json/i.test(header(rec.headers, "content-type") || ""), `Content-Type ${header(rec.headers, "content-type") || "(none)"}`);
    }
  } else {
    rule(tag, `${sdkLabel} no request body (the spec has none)`, rec.body === null || rec.body === undefined || rec.body === "", `body ${shortJson(rec.body, 120)}`);
  }

  // auth
  rule(tag, `${sdkLabel} Authorization: Bearer present`, /^Bearer\b/i.test(header(rec.headers, "authorization") || ""), "no bearer token");

  if (withAnswers) {
    const m = responseMapper(spec, rec.status);
    if (!m) {
      rule(tag, `${sdkLabel} answer ${rec.status}: no body, as the spec says`, rec.responseBody === null, `body ${shortJson(rec.responseBody, 120)}`);
    } else if (rec.responseBody === null || typeof rec.responseBody === "string") {
      rule(tag, `${sdkLabel} answer ${rec.status} is JSON ${m.type.className}`, false, rec.responseBody === null ? "empty body" : `not JSON: ${shortJson(rec.responseBody, 120)}`);
    } else {
      const problems = checkAgainstMapper(rec.responseBody, m, spec.serializer.modelMappers, { mode: "response" });
      rule(tag, `${sdkLabel} answer ${rec.status} matches the SDK's ${m.type.className} mapper`, problems.length === 0, problemsText(problems));
    }
    const known = Object.keys(spec.responses).filter((k) => k !== "default");
    if (rec.status < 400) {
      rule(tag, `${sdkLabel} answer status ${rec.status} is one the spec lists (${known.join(", ")})`, known.includes(String(rec.status)), `HTTP ${rec.status}`);
    }
  }
}

async function main() {
  const all = await loadAll();
  const lines = fs.readFileSync(files[0], "utf8").split("\n").filter((l) => l.trim());
  const unmatchedInternal = [];
  let requests = 0;
  let skipped = 0;
  const perRequest = [];
  for (let i = 0; i < lines.length; i++) {
    let rec;
    try {
      rec = JSON.parse(lines[i]);
    } catch (e) {
      rule(`#${i + 1}`, "the record is JSON", false, e.message);
      continue;
    }
    if (flags.has("--skip-tagged") && header(rec.headers, "x-judge-case")) {
      skipped++;
      continue;
    }
    const u = new URL(rec.url, "http://recorded.invalid");
    const tag = `#${i + 1} ${rec.method} ${u.pathname}${u.search}`.slice(0, 220);
    const before = failed;
    if (/^\/internal\//.test(u.pathname)) {
      unmatchedInternal.push(`${rec.method} ${u.pathname}`);
      continue;
    }
    requests++;
    if (/^\/v1\.0\//i.test(u.pathname)) {
      checkGraph(tag, rec, u, flags.has("--answers"));
    } else {
      const { hit, pathOnly } = matchOperation(all, rec.method, u.pathname);
      if (hit) {
        checkSdk(tag, rec, u, hit, flags.has("--answers"));
      } else if (pathOnly.length) {
        rule(tag, "method known for this path", false,
          `the SDK has ${pathOnly.map((o) => `${o.spec.httpMethod} (${o.id})`).join(", ")} for this path, not ${rec.method}`);
      } else {
        rule(tag, "matches an SDK operation (Microsoft.ImportExport 2021-01-01 or Microsoft.Storage 2021-06-01)", false,
          "no operation of either SDK has this path and method, and it is not Graph or /internal/");
      }
    }
    perRequest.push(failed === before);
  }
  const clean = perRequest.filter(Boolean).length;
  console.log(`# requests: ${requests} judged (${clean} clean, ${perRequest.length - clean} with failures)` +
    `${skipped ? `, ${skipped} tagged x-judge-case left out` : ""}, ${unmatchedInternal.length} to /internal/`);
  if (unmatchedInternal.length) {
    const counts = new Map();
    for (const r of unmatchedInternal) counts.set(r.replace(/\/jobs\/.*/, "/jobs/..."), (counts.get(r.replace(/\/jobs\/.*/, "/jobs/...")) || 0) + 1);
    for (const [r, n] of counts) console.log(`UNMATCHED (simulator-private /internal/, not judged, not a failure): ${r} x${n}`);
  }
  console.log("# Graph v1.0 calls are not SDK-judged: they are checked against the minimal rule in check_requests.js only.");
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL: check_requests.js stopped: ${e && e.stack ? e.stack : e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
