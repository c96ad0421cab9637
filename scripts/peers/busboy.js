// The Node.js peer of `make bench-peers`: the obvious callback handler on
// busboy, timed in this process so that asking it costs nothing.
//
// Usage: node busboy.js EVENT_FILE. For each line N read from standard
// input it handles the event N times and writes the nanoseconds they took.
// Each handling does what any handler must do with the event: parse it,
// decode the body, split a multipart body with busboy, hash each part with
// SHA-256 as it streams and keep its bytes (a text body: hash and keep it).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const readline = require('node:readline');
const busboy = require('busboy');

// headerOf returns the header named name (lower case) of an event.
function headerOf(ev, name) {
  for (const [k, v] of Object.entries(ev.headers || {})) {
    if (k.toLowerCase() === name) return v;
  }
  return '';
}

// keep hashes and keeps one attachment's bytes.
function keep(parts, name, bytes) {
  parts.push({ name, size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex'), bytes });
}

// handle handles one event and resolves to the parts it kept.
function handle(payload) {
  const ev = JSON.parse(payload);
  const body = Buffer.from(ev.body || '', ev.isBase64Encoded ? 'base64' : 'utf8');
  const contentType = headerOf(ev, 'content-type');
  const parts = [];
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    keep(parts, 'body', body);
    return Promise.resolve(parts);
  }
  return new Promise((resolve, reject) => {
    const bb = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: Infinity } });
    bb.on('file', (name, stream) => {
      const hash = crypto.createHash('sha256');
      const chunks = [];
      stream.on('data', (chunk) => { hash.update(chunk); chunks.push(chunk); });
      stream.on('end', () => {
        const bytes = Buffer.concat(chunks);
        parts.push({ name, size: bytes.length, sha256: hash.digest('hex'), bytes });
      });
    });
    // Parts without a filename come as fields, as strings.
    bb.on('field', (name, value) => keep(parts, name, Buffer.from(value, 'utf8')));
    bb.on('close', () => resolve(parts));
    bb.on('error', reject);
    bb.end(body);
  });
}

async function main() {
  const payload = fs.readFileSync(process.argv[2]);
  const parts = await handle(payload); // warm up, and check
  if (parts.length === 0) throw new Error('no parts');
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const n = Number(line);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await handle(payload);
    process.stdout.write(`${process.hrtime.bigint() - start}\n`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
