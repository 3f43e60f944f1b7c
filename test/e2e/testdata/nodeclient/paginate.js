#!/usr/bin/env node
// Lists every workspace membership of one workspace through Asana's official
// Node client (npm "asana", pinned to 3.2.0 in package.json), against any
// Asana-compatible server. See README.md.
//
// Env: ASANA_BASE_URL (e.g. http://127.0.0.1:PORT/api/1.0), ASANA_TOKEN,
//      ASANA_WORKSPACE_GID, ASANA_OPT_FIELDS (optional), ASANA_LIMIT (optional),
//      ASANA_OUTPUT=counts (optional: classify into seat counts, as the
//      exporter does, instead of printing every record; for benchmarks).
// Stdout (success, exit 0): {"pages": N, "memberships": [{gid, is_active, ...}]}
//   or, with ASANA_OUTPUT=counts: {"pages": N, "seats": {...}, "listing_ms": T,
//   "listing_cpu_us": C}, where T and C cover the listing alone, not Node's
//   start-up or loading the library.
// Stderr (failure, exit 1): one line.
'use strict';

const Asana = require('asana');

const FIELDS = ['gid', 'is_active', 'is_guest', 'is_admin', 'is_view_only'];
// Safety net so a server that never ends pagination fails the run instead of
// hanging it; far above anything a test needs.
const MAX_PAGES = 10000;

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

async function main() {
  const baseUrl = requiredEnv('ASANA_BASE_URL');
  const token = requiredEnv('ASANA_TOKEN');
  const workspaceGid = requiredEnv('ASANA_WORKSPACE_GID');
  const optFields = process.env.ASANA_OPT_FIELDS || 'is_active,is_guest,is_admin,is_view_only';
  const limitText = process.env.ASANA_LIMIT || '100';
  // Any integer is passed through, so a test can also check the server rejects
  // out-of-range limits (Asana accepts 1..100).
  if (!/^-?\d+$/.test(limitText)) throw new Error(`ASANA_LIMIT must be an integer, got ${JSON.stringify(limitText)}`);

  const client = new Asana.ApiClient();
  client.basePath = baseUrl.replace(/\/+$/, ''); // paths are appended as "/workspaces/..."
  client.authentications.token.accessToken = token; // sent as "Authorization: Bearer <token>"
  const api = new Asana.WorkspaceMembershipsApi(client);

  // Note: the library keeps this very object as the request's query params and,
  // on nextPage(), sets opts.offset = next_page.offset and re-sends all of it, so
  // limit and opt_fields are repeated on every page.
  const opts = { limit: Number(limitText), opt_fields: optFields };

  // With client.RETURN_COLLECTION (true by default) list calls resolve to a
  // Collection: .data is the response's "data" array, exactly as parsed from the
  // JSON (no model classes), and .nextPage() fetches the following page.
  const countsOnly = process.env.ASANA_OUTPUT === 'counts';
  const seats = { licensed: 0, view_only: 0, guest: 0, inactive: 0, admins: 0 };
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let page = await api.getWorkspaceMembershipsForWorkspace(workspaceGid, opts);
  let pages = 0;
  const memberships = [];
  // nextPage() resolves to a new Collection while next_page is a non-null object
  // AND the current page's data is non-empty; otherwise it resolves to the plain
  // object {data: null} (not to null, despite its doc comment). So "no more
  // pages" is page.data === null.
  while (page.data !== null) {
    pages++;
    if (pages > MAX_PAGES) throw new Error(`gave up after ${MAX_PAGES} pages: server never ended pagination`);
    for (const record of page.data) {
      if (countsOnly) {
        classify(seats, record);
        continue;
      }
      const m = {};
      for (const f of FIELDS) m[f] = record[f]; // absent fields are left out of the JSON
      memberships.push(m);
    }
    page = await page.nextPage();
  }
  if (countsOnly) {
    const cpu = process.cpuUsage(cpuStarted);
    process.stdout.write(JSON.stringify({
      pages, seats, listing_ms: performance.now() - started, listing_cpu_us: cpu.user + cpu.system,
    }) + '\n');
    return;
  }
  process.stdout.write(JSON.stringify({ pages, memberships }) + '\n');
}

// classify follows asana/seats.go: inactive first, then guest, view-only,
// licensed; admins are counted among the active.
function classify(seats, m) {
  if (!m.is_active) {
    seats.inactive++;
    return;
  }
  if (m.is_admin) seats.admins++;
  if (m.is_guest) seats.guest++;
  else if (m.is_view_only) seats.view_only++;
  else seats.licensed++;
}

// Failures come from superagent (used by ApiClient.callApi): for a non-2xx
// answer err.status is the HTTP status and err.response.body the parsed JSON
// error ({"errors":[{"message":...}]}); network errors carry err.code (e.g.
// ECONNREFUSED) and timeouts err.timeout (ApiClient default: 60000 ms).
function describe(err) {
  if (!err || typeof err !== 'object') return String(err);
  const parts = [];
  if (err.status) parts.push(`HTTP ${err.status}`);
  const res = err.response;
  const errors = res && res.body && Array.isArray(res.body.errors) ? res.body.errors : null;
  if (errors && errors.length) {
    parts.push(errors.map((e) => (e && e.message) || JSON.stringify(e)).join('; '));
  } else if (res && typeof res.text === 'string' && res.text) {
    parts.push(`body: ${res.text.slice(0, 300)}`);
  } else {
    parts.push(err.message || String(err));
  }
  if (err.code && !parts.some((p) => p.includes(err.code))) parts.push(`(${err.code})`);
  return parts.join(': ');
}

main().catch((err) => {
  let line = `paginate.js: ${describe(err)}`.replace(/\s+/g, ' ');
  // The token only travels in the Authorization header and is never put into
  // the message; this guards against a server echoing it back. (Skipped for
  // very short test tokens, which would mangle ordinary words.)
  const token = process.env.ASANA_TOKEN;
  if (token && token.length >= 8) line = line.split(token).join('[REDACTED]');
  process.stderr.write(line + '\n');
  process.exitCode = 1;
});
