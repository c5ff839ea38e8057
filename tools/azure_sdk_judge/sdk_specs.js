// The judges' shared part: Microsoft's generated SDKs' own operation specs and model mappers, and a checker of JSON
// values against those mappers. Nothing here describes the API by hand: every path template, method, parameter,
// api-version, request body and response mapper comes out of the pinned packages (tools/node/package.json):
//   @azure/arm-storageimportexport 2.1.0  Microsoft.ImportExport, api-version 2021-01-01
//   @azure/arm-storage 17.0.0              Microsoft.Storage, api-version 2021-06-01 (storageAccounts and the rest)
//
// How the specs are read: each generated operation method ends in client.sendOperationRequest(args, operationSpec),
// where operationSpec is the plain object literal of dist-esm/src/operations/<group>.js (path, httpMethod,
// queryParameters, urlParameters, requestBody, responses, serializer). Those literals are module-private, so the
// package's own entry point (its CommonJS build of the same generated code) is loaded and every operation method of
// every operation group is called once against a client whose sendOperationRequest only records the spec it is
// handed. The operation id is "<Group>_<Method>" as in the swagger (jobs.listBySubscription -> Jobs_ListBySubscription).
"use strict";

const CAPTURED = Symbol("captured");

function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// Every operation of one generated client: [{id, group, method, sdk, spec}].
async function loadOperations(client, sdkName) {
  let last = null;
  client.sendOperationRequest = (_args, spec) => {
    last = spec;
    const e = new Error("captured");
    e[CAPTURED] = true;
    return Promise.reject(e);
  };
  const bySpec = new Map();
  const groups = Object.keys(client).filter((k) => {
    const v = client[k];
    return v && typeof v === "object" && v.client === client;
  });
  for (const g of groups) {
    const impl = client[g];
    const proto = Object.getPrototypeOf(impl);
    const names = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && typeof proto[n] === "function");
    for (const n of names) {
      if (/Paging(Page|All)$/.test(n)) continue;  // the paging helpers wrap _list* below
      if (!n.startsWith("_") && names.includes("_" + n)) continue;  // the public pager of a _list* operation
      last = null;
      try {
        const r = impl[n]("arg0", "arg1", "arg2", "arg3", "arg4", "arg5", {});
        // Every generated method reaches sendOperationRequest at once or in its first awaited step (pagers on next()).
        if (r && typeof r.then === "function") await r;
        else if (r && typeof r.next === "function") await r.next();
      } catch (e) {
        if (!e[CAPTURED]) continue;
      }
      const spec = last;
      if (!spec) continue;
      let m = n.replace(/^_/, "").replace(/^begin/, "").replace(/AndWait$/, "");
      m = m.charAt(0).toLowerCase() + m.slice(1);
      const id = `${cap(g)}_${cap(m)}`;
      const prev = bySpec.get(spec);
      // An LRO has begin<X> and begin<X>AndWait for one spec; keep the shortest name.
      if (!prev || id.length < prev.id.length) bySpec.set(spec, { id, group: g, method: m, sdk: sdkName, spec });
    }
  }
  return [...bySpec.values()];
}

let cache = null;

// All operations of both SDKs: [{id, sdk, group, method, spec}], plus helpers.
async function loadAll() {
  if (cache) return cache;
  const ie = require("@azure/arm-storageimportexport");
  const st = require("@azure/arm-storage");
  const cred = { getToken: async () => ({ token: "x", expiresOnTimestamp: Date.now() + 3600e3 }) };
  const ieClient = new ie.StorageImportExport(cred, "00000000-0000-0000-0000-000000000000");
  const stClient = new st.StorageManagementClient(cred, "00000000-0000-0000-0000-000000000000");
  const ops = [
    ...(await loadOperations(ieClient, "@azure/arm-storageimportexport@2.1.0")),
    ...(await loadOperations(stClient, "@azure/arm-storage@17.0.0")),
  ];
  cache = { ops, byId: new Map(ops.map((o) => [`${o.sdk}|${o.id}`, o])) };
  return cache;
}

function ieOp(all, id) {
  return all.byId.get(`@azure/arm-storageimportexport@2.1.0|${id}`);
}
function storageOp(all, id) {
  return all.byId.get(`@azure/arm-storage@17.0.0|${id}`);
}

// The api-version a spec sends (its constant query parameter), or undefined.
function specApiVersion(spec) {
  for (const p of spec.queryParameters || []) {
    if (p.mapper.serializedName === "api-version") return p.mapper.defaultValue;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Checking a JSON value against a core-client mapper.
//
// A Composite mapper's modelProperties name their JSON places with serializedName, where "a.b" (an unescaped dot)
// means the key b inside the object at key a (x-ms-client-flatten), and "a\\.b" a key with a dot in it. The checker
// builds that tree and walks the value with it, reporting: keys the mapper does not know (at any depth), JSON types
// that do not match (String, Number, Boolean, DateTime/Date as strings that parse, Sequence as arrays, Dictionary and
// Composite as objects), required properties that are missing, and constraints (Pattern, lengths, ranges, items).
// In request mode it also reports read-only properties and strings left empty where the mapper does not require them.

function splitSerializedName(n) {
  const parts = [];
  let cur = "";
  for (let i = 0; i < n.length; i++) {
    if (n[i] === "\\" && n[i + 1] === ".") {
      cur += ".";
      i++;
    } else if (n[i] === ".") {
      parts.push(cur);
      cur = "";
    } else {
      cur += n[i];
    }
  }
  parts.push(cur);
  return parts;
}

function resolveComposite(mapper, modelMappers) {
  let t = mapper.type;
  if (!t.modelProperties && t.className && modelMappers[t.className]) t = modelMappers[t.className].type;
  return t;
}

// All modelProperties of a composite, following uberParent/className inheritance the way core-client does.
function modelProperties(mapper, modelMappers) {
  const t = resolveComposite(mapper, modelMappers);
  return t.modelProperties || {};
}

function tree(mapper, modelMappers) {
  const root = { children: new Map(), mapper: null };
  const props = modelProperties(mapper, modelMappers);
  for (const [clientName, pm] of Object.entries(props)) {
    if (!pm.serializedName) continue;
    const parts = splitSerializedName(pm.serializedName);
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      if (!node.children.has(parts[i])) node.children.set(parts[i], { children: new Map(), mapper: null });
      node = node.children.get(parts[i]);
    }
    node.mapper = pm;
    node.clientName = clientName;
  }
  const t = resolveComposite(mapper, modelMappers);
  root.additional = t.additionalProperties || null;
  root.className = t.className || mapper.type.className;
  return root;
}

function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function describe(v) {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

// opts: {mode: "request"|"response", serverOwned: Set of JSON paths (with [] for array items) to refuse in requests}
function checkValue(value, mapper, path, modelMappers, opts, out) {
  const name = mapper.type.name;
  const where = path || "(body)";
  if (value === null || value === undefined) {
    if (value === null && !mapper.nullable && opts.mode === "request") {
      out.push({ path: where, problem: `null where the mapper has ${name} (not nullable)` });
    }
    return;
  }
  const t = jsonType(value);
  const c = mapper.constraints || {};
  switch (name) {
    case "String":
    case "Uuid":
    case "Base64Url":
    case "ByteArray":
    case "TimeSpan":
      if (t !== "string") {
        out.push({ path: where, problem: `JSON ${t} ${describe(value)} where the mapper has ${name} (a JSON string)` });
        return;
      }
      if (name === "Uuid" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
        out.push({ path: where, problem: `${describe(value)} is not a UUID` });
      }
      if (opts.mode === "request" && value === "" && !mapper.required && !mapper.isConstant) {
        out.push({
          path: where,
          problem: `empty string for an optional property (leave it out: "" is a value to Azure, not "unset")`,
        });
      }
      break;
    case "Enum":
      if (t !== "string" && t !== "number") {
        out.push({ path: where, problem: `JSON ${t} where the mapper has Enum` });
      } else if (mapper.type.allowedValues && !mapper.type.allowedValues.includes(value)) {
        out.push({ path: where, problem: `${describe(value)} not one of ${mapper.type.allowedValues.join(", ")}` });
      }
      break;
    case "Number":
    case "UnixTime":
      if (t !== "number") {
        out.push({ path: where, problem: `JSON ${t} ${describe(value)} where the mapper has ${name} (a JSON number)` });
        return;
      }
      break;
    case "Boolean":
      if (t !== "boolean") {
        out.push({ path: where, problem: `JSON ${t} ${describe(value)} where the mapper has Boolean (true/false)` });
      }
      break;
    case "DateTime":
    case "DateTimeRfc1123":
    case "Date":
      if (t !== "string" || Number.isNaN(Date.parse(value))) {
        out.push({ path: where, problem: `${describe(value)} where the mapper has ${name} (a date string)` });
      } else if (name === "Date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        out.push({ path: where, problem: `${describe(value)} is not a yyyy-mm-dd Date` });
      }
      break;
    case "Sequence":
      if (t !== "array") {
        out.push({ path: where, problem: `JSON ${t} where the mapper has Sequence (a JSON array)` });
        return;
      }
      value.forEach((v, i) => checkValue(v, mapper.type.element, `${path}[${i}]`, modelMappers, opts, out));
      if (c.MaxItems !== undefined && value.length > c.MaxItems) {
        out.push({ path: where, problem: `${value.length} items, more than MaxItems ${c.MaxItems}` });
      }
      if (c.MinItems !== undefined && value.length < c.MinItems) {
        out.push({ path: where, problem: `${value.length} items, fewer than MinItems ${c.MinItems}` });
      }
      break;
    case "Dictionary":
      if (t !== "object") {
        out.push({ path: where, problem: `JSON ${t} where the mapper has Dictionary (a JSON object)` });
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        checkValue(v, mapper.type.value, `${path}.${k}`, modelMappers, opts, out);
      }
      break;
    case "Composite":
      if (t !== "object") {
        out.push({ path: where, problem: `JSON ${t} ${describe(value)} where the mapper has ${mapper.type.className || "an object"}` });
        return;
      }
      checkObject(value, tree(mapper, modelMappers), path, modelMappers, opts, out);
      break;
    case "any":
    case "Object":
    case "Stream":
      break;
    default:
      out.push({ path: where, problem: `mapper type ${name} is not known to this checker` });
  }
  if (t === "string") {
    if (c.MaxLength !== undefined && value.length > c.MaxLength) {
      out.push({ path: where, problem: `length ${value.length} over MaxLength ${c.MaxLength}` });
    }
    if (c.MinLength !== undefined && value.length < c.MinLength) {
      out.push({ path: where, problem: `length ${value.length} under MinLength ${c.MinLength}` });
    }
    if (c.Pattern && !new RegExp(c.Pattern).test(value)) {
      out.push({ path: where, problem: `${describe(value)} does not match Pattern ${c.Pattern}` });
    }
  }
  if (t === "number") {
    if (c.InclusiveMaximum !== undefined && value > c.InclusiveMaximum) out.push({ path: where, problem: `over ${c.InclusiveMaximum}` });
    if (c.InclusiveMinimum !== undefined && value < c.InclusiveMinimum) out.push({ path: where, problem: `under ${c.InclusiveMinimum}` });
    if (c.ExclusiveMaximum !== undefined && value >= c.ExclusiveMaximum) out.push({ path: where, problem: `not under ${c.ExclusiveMaximum}` });
    if (c.ExclusiveMinimum !== undefined && value <= c.ExclusiveMinimum) out.push({ path: where, problem: `not over ${c.ExclusiveMinimum}` });
  }
}

function schemaPath(path) {
  return path.replace(/\[\d+\]/g, "[]");
}

function checkObject(obj, node, path, modelMappers, opts, out) {
  for (const [k, v] of Object.entries(obj)) {
    const p = path ? `${path}.${k}` : k;
    const child = node.children.get(k);
    if (opts.mode === "request" && opts.serverOwned && opts.serverOwned.has(schemaPath(p))) {
      out.push({ path: p, problem: opts.serverOwned.get(schemaPath(p)) });
      continue;
    }
    if (!child) {
      if (node.additional) {
        checkValue(v, node.additional, p, modelMappers, opts, out);
        continue;
      }
      const known = [...node.children.keys()].join(", ");
      out.push({ path: p, problem: `unknown property (${node.className || "this object"} has: ${known || "nothing"})` });
      continue;
    }
    if (opts.mode === "request" && child.mapper && child.mapper.readOnly) {
      out.push({ path: p, problem: "read-only property (readOnly in the SDK's mapper): the server sets it" });
      continue;
    }
    if (child.mapper) {
      checkValue(v, child.mapper, p, modelMappers, opts, out);
      if (child.children.size > 0 && jsonType(v) === "object") checkObject(v, child, p, modelMappers, opts, out);
    } else if (jsonType(v) !== "object") {
      out.push({ path: p, problem: `JSON ${jsonType(v)} where the mapper nests properties (a JSON object)` });
    } else {
      checkObject(v, child, p, modelMappers, opts, out);
    }
  }
  for (const [k, child] of node.children) {
    if (child.mapper && child.mapper.required && !child.mapper.readOnly && !(k in obj)) {
      if (opts.mode === "response" || !child.mapper.isConstant) {
        out.push({ path: path ? `${path}.${k}` : k, problem: "required property (required in the SDK's mapper) is missing" });
      }
    }
  }
}

// Problems of one JSON value against a mapper: [{path, problem}].
function checkAgainstMapper(value, mapper, modelMappers, opts = {}) {
  const out = [];
  checkValue(value, mapper, "", modelMappers, { mode: opts.mode || "response", serverOwned: opts.serverOwned }, out);
  return out;
}

// The response mapper a spec gives for a status (its "default" for errors), or undefined.
function responseMapper(spec, status) {
  const r = spec.responses[status] || (status >= 400 || !spec.responses[status] ? spec.responses.default : undefined);
  return r ? r.bodyMapper : undefined;
}

// A path template as a regular expression (literal segments case-insensitive, as ARM treats them) with parameter
// names; undefined for templates that are not paths ("{nextLink}").
function templateRegex(template) {
  if (!template.startsWith("/")) return undefined;
  const names = [];
  const src = template
    .split("/")
    .map((seg) => {
      const m = /^\{([^}]+)\}$/.exec(seg);
      if (m) {
        names.push(m[1]);
        return "([^/]+)";
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { re: new RegExp(`^${src}/?$`, "i"), names, literals: template.split("/").filter((s) => s && !s.startsWith("{")).length };
}

module.exports = {
  loadAll,
  ieOp,
  storageOp,
  specApiVersion,
  checkAgainstMapper,
  responseMapper,
  templateRegex,
  tree,
  describe,
};
