// The reference for the gateway's fan-out: a Node `ws` server doing nothing else.
//
//   node server.js      listens on a free port of 127.0.0.1, prints {"event":"listening","port":P}
//
// Each client gets a caught_up frame on connecting; each line on stdin (a complete `filing`
// frame, publish time inside) is sent as is to every connected client.
'use strict';

const readline = require('node:readline');
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => ws.send('{"type":"caught_up","cursor":"0:0"}'));
wss.on('listening', () => {
  process.stdout.write(JSON.stringify({ event: 'listening', port: wss.address().port }) + '\n');
});
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (frame) => {
  for (const client of wss.clients) client.send(frame);
});
lines.on('close', () => wss.close(() => process.exit(0)));
