#!/usr/bin/env node
// A recording reverse proxy, http or https, for judging what is said to the Import/Export control plane:
//
//   node proxy.js --upstream http://127.0.0.1:PORT --record FILE.jsonl [--tls-cert C --tls-key K] [--port 0]
//
// Every request is forwarded as it came (method, path and query, headers, body) to the upstream, and the upstream's
// answer is sent back as it came. One JSON line per exchange is appended to FILE:
//   {time, method, url (path+query), headers (Authorization as "Bearer <redacted>"), body (parsed JSON if it is
//    JSON, else text, null if empty), status, responseHeaders (content-type, location, www-authenticate,
//    azure-asyncoperation, retry-after), responseBody (parsed likewise)}
// With --tls-cert/--tls-key it serves https (the TLS terminator in front of the plain-http simulator: Microsoft's SDK
// refuses to send a bearer token over http). Prints "listening on <url>" once ready. Binds 127.0.0.1 only.
//
// The only headers added are the usual reverse-proxy ones, X-Forwarded-Proto / X-Forwarded-Host / X-Forwarded-For,
// so that a server can build absolute nextLink URLs that lead back through the proxy; Host is passed unchanged.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const zlib = require("zlib");

function parseArgs(argv) {
  const o = { port: "0" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      o.help = true;
      continue;
    }
    const m = /^--(upstream|record|tls-cert|tls-key|port)$/.exec(a);
    if (!m || i + 1 >= argv.length) throw new Error(`unexpected argument ${a} (see --help)`);
    o[m[1]] = argv[++i];
  }
  return o;
}

const USAGE =
  "usage: node proxy.js --upstream http://127.0.0.1:PORT --record FILE.jsonl [--tls-cert C --tls-key K] [--port 0]\n";

// The body as sent on the wire may be compressed (the SDK asks for gzip); the record holds it decoded.
function decode(buf, encoding) {
  try {
    if (/\bgzip\b/i.test(encoding || "")) return zlib.gunzipSync(buf);
    if (/\bdeflate\b/i.test(encoding || "")) return zlib.inflateSync(buf);
    if (/\bbr\b/i.test(encoding || "")) return zlib.brotliDecompressSync(buf);
  } catch (_) {
    // kept as it came
  }
  return buf;
}

function parseBody(buf, contentType) {
  if (!buf || buf.length === 0) return null;
  const text = buf.toString("utf8");
  if (/json/i.test(contentType || "") || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (_) {
      // not JSON after all: kept as text
    }
  }
  return text;
}

// Secrets in bodies (the drives' BitLocker recovery passwords) never reach the record: the value is replaced by a
// placeholder of the same JSON type, so the judge still sees the field and its type.
const SECRET_KEYS = new Set(["bitLockerKey"]);
function redactBody(v) {
  if (Array.isArray(v)) return v.map(redactBody);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEYS.has(k) && typeof x === "string" ? "<redacted>" : redactBody(x);
    return out;
  }
  // A body that is not whole JSON (a request cut off when its sender was killed) is kept as text: its secret values
  // are blanked there too, however far the text got.
  if (typeof v === "string") {
    let t = v;
    for (const k of SECRET_KEYS) t = t.replace(new RegExp(`("${k}"\\s*:\\s*")[^"]*`, "g"), "$1<redacted>");
    return t;
  }
  return v;
}

function redact(headers) {
  const h = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === "authorization") {
      h[k] = /^bearer\s/i.test(String(v)) ? "Bearer <redacted>" : "<redacted>";
    } else {
      h[k] = v;
    }
  }
  return h;
}

function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`proxy: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!o.upstream || !o.record) {
    process.stderr.write(`proxy: --upstream and --record are required\n${USAGE}`);
    process.exit(2);
  }
  if (!!o["tls-cert"] !== !!o["tls-key"]) {
    process.stderr.write("proxy: --tls-cert and --tls-key go together\n");
    process.exit(2);
  }
  const up = new URL(o.upstream);
  if (up.protocol !== "http:" && up.protocol !== "https:") {
    process.stderr.write(`proxy: --upstream must be an http(s) URL, not ${o.upstream}\n`);
    process.exit(2);
  }
  const upBase = up.pathname.replace(/\/$/, "");
  const upLib = up.protocol === "https:" ? https : http;
  const agent = new upLib.Agent({ keepAlive: true });
  const tls = !!o["tls-cert"];
  fs.closeSync(fs.openSync(o.record, "a"));

  const handler = (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      delete headers.connection;
      delete headers["keep-alive"];
      headers["x-forwarded-proto"] = tls ? "https" : "http";
      if (req.headers.host) headers["x-forwarded-host"] = req.headers.host;
      headers["x-forwarded-for"] = req.socket.remoteAddress || "127.0.0.1";
      const record = {
        time: new Date().toISOString(),
        method: req.method,
        url: req.url,
        headers: redact(req.headers),
        body: redactBody(parseBody(decode(body, req.headers["content-encoding"]), req.headers["content-type"])),
      };
      const finish = (status, rheaders, rbody) => {
        record.status = status;
        const keep = {};
        for (const k of ["content-type", "content-encoding", "location", "www-authenticate", "azure-asyncoperation", "retry-after"]) {
          if (rheaders[k] !== undefined) keep[k] = rheaders[k];
        }
        record.responseHeaders = keep;
        record.responseBody = redactBody(parseBody(decode(rbody, rheaders["content-encoding"]), rheaders["content-type"]));
        fs.appendFileSync(o.record, JSON.stringify(record) + "\n");
      };
      const upReq = upLib.request(
        {
          protocol: up.protocol,
          hostname: up.hostname,
          port: up.port,
          method: req.method,
          path: upBase + req.url,
          headers,
          agent,
        },
        (upRes) => {
          const rchunks = [];
          upRes.on("data", (c) => rchunks.push(c));
          upRes.on("end", () => {
            const rbody = Buffer.concat(rchunks);
            const rh = { ...upRes.headers };
            delete rh.connection;
            delete rh["keep-alive"];
            delete rh["transfer-encoding"];
            rh["content-length"] = String(rbody.length);
            finish(upRes.statusCode, upRes.headers, rbody);
            res.writeHead(upRes.statusCode, rh);
            res.end(rbody);
          });
        },
      );
      upReq.on("error", (e) => {
        const rbody = Buffer.from(
          JSON.stringify({ error: { code: "ProxyUpstreamError", message: `proxy: upstream ${o.upstream}: ${e.message}` } }),
        );
        finish(502, { "content-type": "application/json" }, rbody);
        res.writeHead(502, { "content-type": "application/json", "content-length": String(rbody.length) });
        res.end(rbody);
      });
      upReq.end(body);
    });
  };

  const server = tls
    ? https.createServer({ cert: fs.readFileSync(o["tls-cert"]), key: fs.readFileSync(o["tls-key"]) }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 5000;
  server.listen(Number(o.port), "127.0.0.1", () => {
    const { port } = server.address();
    process.stdout.write(`listening on ${tls ? "https" : "http"}://127.0.0.1:${port}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
