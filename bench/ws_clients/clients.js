// Many WebSocket clients in one Node process, driven by bench/gateway.py over stdin/stdout.
//
//   node clients.js fanout URL N     N clients; "ready" once every one has its caught_up frame
//   node clients.js idle URL N1,N2   open N1 clients, report, wait for "next", open up to N2...
//   node clients.js replay URL       one client: filing frames until caught_up, records/s
//   node clients.js replays URL N    N clients replaying over and over: each from URL until
//                                    caught_up, then again at once (after a 4430 refusal, after
//                                    its retry_after_s); "report" on stdin: how many so far
//
// Commands on stdin (one per line):  "wait PHASE EXPECTED TIMEOUT_S"  (fanout: report the
// records of PHASE once every client has EXPECTED of them, or at the timeout), "next" (idle),
// "exit". Reports on stdout, one JSON object per line.
//
// Records carry their publish time: the frame contains "bench:PHASE:MICROSECONDS" (the
// publisher's wall clock, put in analyzer.note); latency = receive time - publish time, both
// wall clock on the same machine. Frames are not JSON-parsed: a substring search is enough,
// and keeps this process far from being the bottleneck.
'use strict';

const readline = require('node:readline');
const { performance } = require('node:perf_hooks');
const WebSocket = require('ws');

const MARKER = Buffer.from('"bench:');
const FILING = Buffer.from('{"type":"filing"');
const CAUGHT_UP = Buffer.from('{"type":"caught_up"');
const ERROR = Buffer.from('{"type":"error"');
const OPENING_AT_ONCE = 200;

const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const startsWith = (buf, prefix) =>
  buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

class Samples {
  constructor() {
    this.values = new Float64Array(1 << 16);
    this.length = 0;
    this.firstUs = Infinity;
    this.lastUs = 0;
    this.firstPublishUs = Infinity;
  }
  add(latencyUs, receivedUs, publishedUs) {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = latencyUs;
    if (receivedUs < this.firstUs) this.firstUs = receivedUs;
    if (receivedUs > this.lastUs) this.lastUs = receivedUs;
    if (publishedUs < this.firstPublishUs) this.firstPublishUs = publishedUs;
  }
  summary() {
    const sorted = this.values.slice(0, this.length).sort();
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000 : null);
    return {
      count: this.length,
      p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), p999_ms: at(0.999),
      max_ms: sorted.length ? sorted[sorted.length - 1] / 1000 : null,
      first_to_last_receive_s: this.length ? (this.lastUs - this.firstUs) / 1e6 : null,
      first_publish_to_last_receive_s: this.length ? (this.lastUs - this.firstPublishUs) / 1e6 : null,
    };
  }
}

const phases = new Map(); // phase -> Samples
const perClient = []; // per client: Map phase -> count
let closedEarly = 0;
const closeCodes = {};

function onFrame(index, data, state) {
  if (startsWith(data, FILING)) {
    const received = nowUs();
    const at = data.indexOf(MARKER);
    if (at < 0) return;
    const end = data.indexOf(0x22 /* " */, at + MARKER.length);
    const [phase, published] = data.toString('latin1', at + MARKER.length, end).split(':');
    const publishedUs = Number(published);
    let samples = phases.get(phase);
    if (samples === undefined) phases.set(phase, (samples = new Samples()));
    samples.add(received - publishedUs, received, publishedUs);
    const counts = perClient[index];
    counts.set(phase, (counts.get(phase) || 0) + 1);
  } else if (startsWith(data, CAUGHT_UP)) {
    state.caughtUp = true;
    state.onCaughtUp();
  }
}

function openClient(url, index) {
  return new Promise((resolve, reject) => {
    perClient[index] = new Map();
    const state = { caughtUp: false, onCaughtUp: () => resolve(ws) };
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    ws.on('message', (data) => onFrame(index, data, state));
    ws.on('error', (err) => { if (!state.caughtUp) reject(err); });
    ws.on('close', (code) => {
      closeCodes[code] = (closeCodes[code] || 0) + 1;
      if (!exiting) closedEarly += 1;
      if (!state.caughtUp) reject(new Error(`client ${index} closed with ${code} before caught_up`));
    });
  });
}

async function openMany(url, from, to, sockets) {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const index = next++;
      sockets[index] = await openClient(url, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, to - from) }, worker));
}

let exiting = false;
function exitAll(sockets) {
  exiting = true;
  for (const ws of sockets) if (ws) ws.terminate();
  setTimeout(() => process.exit(0), 100);
}

function waitForPhase(phase, expected, timeoutS, clients) {
  const started = nowUs();
  return new Promise((resolve) => {
    const check = () => {
      let complete = 0;
      let minCount = Infinity;
      for (let i = 0; i < clients; i++) {
        const c = perClient[i].get(phase) || 0;
        if (c >= expected) complete += 1;
        if (c < minCount) minCount = c;
      }
      if (complete === clients || nowUs() - started > timeoutS * 1e6) {
        resolve({ complete, minCount });
      } else {
        setTimeout(check, 20);
      }
    };
    check();
  });
}

async function fanout(url, clients) {
  const sockets = [];
  const t0 = nowUs();
  await openMany(url, 0, clients, sockets);
  emit({ event: 'ready', clients, connect_s: (nowUs() - t0) / 1e6 });
  let cpu = process.cpuUsage();
  let cpuSince = nowUs();
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, phase, expected, timeoutS] = line.trim().split(/\s+/);
    if (command === 'mark') { // start of a phase: CPU use is counted from here
      cpu = process.cpuUsage();
      cpuSince = nowUs();
    } else if (command === 'wait') {
      const { complete, minCount } = await waitForPhase(phase, Number(expected), Number(timeoutS), clients);
      const used = process.cpuUsage(cpu);
      const samples = phases.get(phase) || new Samples();
      emit({
        event: 'phase', phase, clients, expected_per_client: Number(expected),
        clients_complete: complete, min_per_client: minCount, closed_early: closedEarly,
        close_codes: closeCodes, cpu_percent: (100 * (used.user + used.system)) / (nowUs() - cpuSince),
        ...samples.summary(),
      });
    } else if (command === 'exit') {
      break;
    }
  }
  exitAll(sockets);
}

async function idle(url, steps) {
  const sockets = [];
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  let open = 0;
  for (const target of steps) {
    const t0 = nowUs();
    await openMany(url, open, target, sockets);
    open = target;
    emit({ event: 'open', clients: open, connect_s: (nowUs() - t0) / 1e6, closed_early: closedEarly });
    const { value, done } = await lines.next();
    if (done || value.trim() === 'exit') break;
  }
  exitAll(sockets);
}

async function replay(url) {
  const t0 = nowUs();
  let filings = 0;
  let bytes = 0;
  let welcomeUs = null;
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    ws.on('message', (data) => {
      if (welcomeUs === null) welcomeUs = nowUs();
      if (startsWith(data, FILING)) {
        filings += 1;
        bytes += data.length;
      } else if (startsWith(data, CAUGHT_UP)) {
        const end = nowUs();
        emit({
          event: 'replayed', filings, bytes, seconds: (end - t0) / 1e6,
          seconds_after_welcome: (end - welcomeUs) / 1e6,
          records_per_s: filings / ((end - t0) / 1e6),
        });
        ws.terminate();
        resolve();
      }
    });
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`closed with ${code} before caught_up`)));
  });
  process.exit(0);
}

async function replays(url, clients) {
  const counts = { replays_done: 0, refused: 0, failed: 0, records: 0 };
  const sockets = new Set();
  let stopping = false;
  const once = () => new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    sockets.add(ws);
    let waitMs = 0;
    let caughtUp = false;
    ws.on('message', (data) => {
      if (startsWith(data, FILING)) {
        counts.records += 1;
      } else if (startsWith(data, CAUGHT_UP)) {
        caughtUp = true;
        counts.replays_done += 1;
        ws.terminate();
      } else if (startsWith(data, ERROR)) {
        const frame = JSON.parse(data.toString());
        if (frame.code === 'too_many_replays') {
          counts.refused += 1;
          waitMs = 1000 * (Number(frame.retry_after_s) || 1);
        }
      }
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      sockets.delete(ws);
      if (!caughtUp && code !== 4430 && !stopping) counts.failed += 1;
      resolve(waitMs || (caughtUp ? 0 : 1000));
    });
  });
  const loop = async () => {
    while (!stopping) {
      const waitMs = await once();
      if (waitMs && !stopping) await new Promise((r) => setTimeout(r, waitMs));
    }
  };
  const loops = Array.from({ length: clients }, loop);
  emit({ event: 'started', clients });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const command = line.trim();
    if (command === 'report') emit({ event: 'report', ...counts });
    else if (command === 'exit') break;
  }
  stopping = true;
  for (const ws of sockets) ws.terminate();
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

const [mode, url, arg] = process.argv.slice(2);
const fail = (err) => { emit({ event: 'error', message: String(err && err.stack || err) }); process.exit(1); };
if (mode === 'fanout') fanout(url, Number(arg)).catch(fail);
else if (mode === 'idle') idle(url, arg.split(',').map(Number)).catch(fail);
else if (mode === 'replay') replay(url).catch(fail);
else if (mode === 'replays') replays(url, Number(arg)).catch(fail);
else fail(`unknown mode ${mode}: use fanout, idle, replay or replays`);
