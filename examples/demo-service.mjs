#!/usr/bin/env node
// The demo service of `thales dev`: a tiny HTTP server answering on $PORT with who it is.
// Health: GET /health answers 200 while healthy, 503 once POST /health/fail was called
// (POST /health/ok heals it); POST /health/close stops listening (TCP checks fail) while the
// process keeps running. DEMO_START_DELAY_MS delays listening (a slow start). It listens on
// $TASK_HOST (the agent's host), so each agent's tasks answer on that agent's address.
import http from 'node:http';
import { setInterval, setTimeout } from 'node:timers';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.TASK_HOST ?? '127.0.0.1';
const taskId = process.env.TASK_ID ?? 'local';
const startDelayMs = Number(process.env.DEMO_START_DELAY_MS ?? 0);
let served = 0;
let healthy = true;

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  const reply = (status, body) => {
    res.statusCode = status;
    res.end(JSON.stringify({ taskId, port, pid: process.pid, ...body }) + '\n');
  };
  if (req.url === '/health') return reply(healthy ? 200 : 503, { healthy });
  if (req.method === 'POST' && req.url === '/health/fail') {
    healthy = false;
    return reply(200, { healthy });
  }
  if (req.method === 'POST' && req.url === '/health/ok') {
    healthy = true;
    return reply(200, { healthy });
  }
  if (req.method === 'POST' && req.url === '/health/close') {
    reply(200, { listening: false });
    server.close();
    server.closeIdleConnections();
    // Keeps the process running with nothing listening (a hung service).
    setInterval(() => undefined, 60_000);
    console.log(`demo-service ${taskId} stopped listening`);
    return undefined;
  }
  served++;
  return reply(200, { served, path: req.url });
});

setTimeout(() => {
  server.listen(port, host, () => {
    console.log(`demo-service ${taskId} listening on ${host}:${port}`);
  });
}, startDelayMs);

const stop = () => {
  console.log(`demo-service ${taskId} stopping`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
