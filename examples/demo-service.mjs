#!/usr/bin/env node
// The demo service of `thales dev`: a tiny HTTP server answering on $PORT with who it is.
import http from 'node:http';
import { setTimeout } from 'node:timers';

const port = Number(process.env.PORT ?? 8080);
const taskId = process.env.TASK_ID ?? 'local';
let served = 0;
const server = http.createServer((req, res) => {
  served++;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ taskId, port, pid: process.pid, served, path: req.url }) + '\n');
});
server.listen(port, '127.0.0.1', () => {
  console.log(`demo-service ${taskId} listening on 127.0.0.1:${port}`);
});
const stop = () => {
  console.log(`demo-service ${taskId} stopping`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
