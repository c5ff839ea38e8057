#!/usr/bin/env node
// The storage side of the guest-agent end-to-end test, written only with Microsoft's @azure/storage-blob SDK (none of
// the project's code), against the blob endpoint in $ENDPOINT (Azurite, account devstoreaccount1).
//
//   node blobs.js setup CONTAINER [DISKS] [DISK_MIB]
//       creates CONTAINER with DISKS page blobs (default 2, DISK_MIB MiB each, default 4) holding some data, an empty
//       status block blob and logs block blob for the extension and one for the guest agent's own VM status; prints
//       JSON {container, disks:[{name, sasUri}], statusBlobUri, logsBlobUri, vmStatusBlobUri}: the disks' SAS grant
//       read+write+create, the others write+create (the agent's VM status blob also read), all expiring in a day.
//   node blobs.js count-snapshots CONTAINER
//       prints JSON {blobName: snapshotCount} for every blob of CONTAINER (listBlobsFlat with includeSnapshots).
//   node blobs.js get-blob URL
//       writes the blob's content (base blob, shared-key access; any query in URL is ignored) to stdout.
//
// The account key is the well-known development key unless $ACCOUNT_KEY is set. Nothing secret is printed except
// the SAS URIs of `setup` (the caller keeps them to itself and redacts sig= when printing).
"use strict";

const {
  BlobServiceClient,
  StorageSharedKeyCredential,
  BlobSASPermissions,
  SASProtocol,
  generateBlobSASQueryParameters,
} = require("@azure/storage-blob");

const ACCOUNT = process.env.ACCOUNT_NAME || "devstoreaccount1";
const KEY =
  process.env.ACCOUNT_KEY ||
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

function fail(message) {
  process.stderr.write(`blobs.js: ${message}\n`);
  process.exit(2);
}

function endpoint() {
  const e = process.env.ENDPOINT;
  if (!e) fail("ENDPOINT is not set (e.g. http://127.0.0.1:10000/devstoreaccount1)");
  return e.replace(/\/+$/, "");
}

const credential = new StorageSharedKeyCredential(ACCOUNT, KEY);

function service() {
  return new BlobServiceClient(endpoint(), credential);
}

function sasUri(blobClient, containerName, blobName, permissions) {
  const startsOn = new Date(Date.now() - 5 * 60 * 1000);
  const expiresOn = new Date(Date.now() + 24 * 60 * 60 * 1000);
  const sas = generateBlobSASQueryParameters(
    {
      containerName,
      blobName,
      permissions: BlobSASPermissions.parse(permissions),
      startsOn,
      expiresOn,
      protocol: SASProtocol.HttpsAndHttp,
    },
    credential,
  ).toString();
  return `${blobClient.url}?${sas}`;
}

// Deterministic non-zero content: each 64 KiB chunk written at a few offsets carries the disk name and offset.
function chunk(name, offset) {
  const buf = Buffer.alloc(64 * 1024);
  const text = Buffer.from(`${name}@${offset};`);
  for (let i = 0; i < buf.length; i += text.length) text.copy(buf, i);
  return buf;
}

async function setup(containerName, disks, diskMib) {
  const container = service().getContainerClient(containerName);
  await container.createIfNotExists();
  const out = { container: containerName, disks: [] };
  const size = diskMib * 1024 * 1024;
  for (let i = 0; i < disks; i++) {
    const name = `disk${i}.vhd`;
    const page = container.getPageBlobClient(name);
    await page.create(size);
    for (const offset of [0, Math.floor(size / 2 / 512) * 512, size - 64 * 1024]) {
      await page.uploadPages(chunk(name, offset), offset, 64 * 1024);
    }
    out.disks.push({ name, sasUri: sasUri(page, containerName, name, "rwc") });
  }
  for (const [key, name, perms] of [
    ["statusBlobUri", "extension.status.txt", "wc"],
    ["logsBlobUri", "extension.logs.txt", "wc"],
    ["vmStatusBlobUri", "vm.agent.status", "rwc"],
  ]) {
    const block = container.getBlockBlobClient(name);
    await block.upload("", 0);
    out[key] = sasUri(block, containerName, name, perms);
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

async function countSnapshots(containerName) {
  const container = service().getContainerClient(containerName);
  const counts = {};
  for await (const item of container.listBlobsFlat({ includeSnapshots: true })) {
    if (!(item.name in counts)) counts[item.name] = 0;
    if (item.snapshot) counts[item.name] += 1;
  }
  process.stdout.write(JSON.stringify(counts) + "\n");
}

async function getBlob(url) {
  const u = new URL(url);
  const base = endpoint();
  const prefix = new URL(base).pathname.replace(/\/+$/, "");
  let path = decodeURIComponent(u.pathname);
  if (prefix && path.startsWith(prefix + "/")) path = path.slice(prefix.length + 1);
  else path = path.replace(/^\/+/, "");
  const slash = path.indexOf("/");
  if (slash < 0) fail(`not a blob URL: ${u.origin}${u.pathname}`);
  const blob = service().getContainerClient(path.slice(0, slash)).getBlobClient(path.slice(slash + 1));
  const data = await blob.downloadToBuffer();
  process.stdout.write(data);
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === "setup") {
    if (!args[0]) fail("setup needs a container name");
    await setup(args[0], Number(args[1] || 2), Number(args[2] || 4));
  } else if (cmd === "count-snapshots") {
    if (!args[0]) fail("count-snapshots needs a container name");
    await countSnapshots(args[0]);
  } else if (cmd === "get-blob") {
    if (!args[0]) fail("get-blob needs a URL");
    await getBlob(args[0]);
  } else {
    fail("usage: blobs.js setup CONTAINER [DISKS] [DISK_MIB] | count-snapshots CONTAINER | get-blob URL");
  }
}

main().catch((e) => {
  // The SDK's error text can carry request URLs; strip SAS signatures before printing.
  const text = String((e && (e.stack || e.message)) || e).replace(/sig=[^&\s"']*/g, "sig=REDACTED");
  process.stderr.write(`blobs.js: ${text}\n`);
  process.exit(1);
});
