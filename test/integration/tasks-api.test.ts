/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useZooKeeper } from '../harness/index.js';
import { callJson, startTasksApiServer } from '../harness/tasks-api-server.js';

const zk = useZooKeeper();

const request = { id: 'web', requestType: 'SERVICE', instances: 2 };
const deploy = {
  deploy: {
    requestId: 'web',
    id: 'd1',
    command: 'node',
    arguments: ['server.mjs'],
    env: { GREETING: 'hi' },
    resources: { cpus: 0.1, memoryMb: 32, diskMb: 10, numPorts: 1 },
  },
};

/** Every znode under the chroot, with its data: to prove bad input changed nothing. */
async function snapshot(server: Awaited<ReturnType<typeof startTasksApiServer>>) {
  const out: Record<string, string> = {};
  const walk = async (p: string): Promise<void> => {
    const node = await server.zk.getOrNull(p);
    if (node) out[p] = node.data.toString();
    for (const c of await server.zk.children(p).catch(() => [] as string[])) {
      await walk(p === '/' ? `/${c}` : `${p}/${c}`);
    }
  };
  await walk('/');
  return out;
}

describe('tasks API (any replica, real ZooKeeper)', () => {
  it('creates, reads, scales, pauses and deletes a request in Singularity shapes', async () => {
    const s = await startTasksApiServer(zk().connectString);
    const created = await callJson(`${s.url}/api/requests`, 'POST', {
      ...request,
      slavePlacement: 'SEPARATE',
      owners: ['a@example.com'],
    });
    expect(created.status).toBe(200);
    expect(created.body.request).toMatchObject({
      id: 'web',
      requestType: 'SERVICE',
      instances: 2,
      agentPlacement: 'SEPARATE',
      slavePlacement: 'SEPARATE',
    });
    expect(created.body.state).toBe('ACTIVE');

    const list = await callJson(`${s.url}/api/requests`, 'GET');
    expect(list.body.map((r: any) => r.request.id)).toEqual(['web']);

    const scaled = await callJson(`${s.url}/api/requests/request/web/scale`, 'PUT', {
      instances: 5,
    });
    expect(scaled.body.request.instances).toBe(5);
    const paused = await callJson(`${s.url}/api/requests/request/web/pause`, 'POST');
    expect(paused.body.state).toBe('PAUSED');
    expect(
      (await callJson(`${s.url}/api/requests/request/web/unpause`, 'POST', {})).body.state,
    ).toBe('ACTIVE');

    const d = await callJson(`${s.url}/api/deploys`, 'POST', deploy);
    expect(d.status).toBe(200);
    expect(d.body.pendingDeploy).toMatchObject({
      id: 'd1',
      command: 'node',
      arguments: ['server.mjs'],
    });
    const again = await callJson(`${s.url}/api/deploys`, 'POST', {
      deploy: { ...deploy.deploy, id: 'd2' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');

    const del = await callJson(`${s.url}/api/requests/request/web`, 'DELETE');
    expect(del.body.state).toBe('DELETING');
    const missing = await callJson(`${s.url}/api/requests/request/nope`, 'GET');
    expect(missing.status).toBe(404);
  });

  it('a concurrent change is a 409 CONFLICT, never a silent overwrite', async () => {
    const s = await startTasksApiServer(zk().connectString);
    await callJson(`${s.url}/api/requests`, 'POST', request);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => s.api.requests.scale('web', i + 10)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const conflicts = results.filter(
      (r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'CONFLICT',
    );
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + conflicts.length).toBe(8);
    const stored = await s.api.requests.get('web');
    // The stored count is one that a successful call wrote.
    const written = ok.map((r) => (r as PromiseFulfilledResult<any>).value.request.instances);
    expect(written).toContain(stored.value.request.instances);
  });

  const bad: [string, string, string, unknown, string][] = [
    ['unknown field', 'POST', '/api/requests', { ...request, colour: 'red' }, 'colour'],
    ['wrong type', 'POST', '/api/requests', { ...request, instances: 'two' }, 'instances'],
    ['negative instances', 'POST', '/api/requests', { ...request, instances: -1 }, 'instances'],
    ['missing id', 'POST', '/api/requests', { requestType: 'SERVICE' }, 'id'],
    [
      'bad request type',
      'POST',
      '/api/requests',
      { ...request, requestType: 'CRON' },
      'requestType',
    ],
    ['bad id', 'POST', '/api/requests', { ...request, id: 'a/b' }, 'id'],
    [
      'negative cpus',
      'POST',
      '/api/deploys',
      { deploy: { ...deploy.deploy, resources: { cpus: -1 } } },
      'deploy.resources.cpus',
    ],
    [
      'unknown deploy field',
      'POST',
      '/api/deploys',
      { deploy: { ...deploy.deploy, image: 'x' } },
      'deploy.image',
    ],
    [
      'unknown resource field',
      'POST',
      '/api/deploys',
      { deploy: { ...deploy.deploy, resources: { gpus: 1 } } },
      'deploy.resources.gpus',
    ],
    ['wrong scale type', 'PUT', '/api/requests/request/web/scale', { instances: 1.5 }, 'instances'],
    ['malformed JSON', 'POST', '/api/requests', '{"id": ', 'body'],
    ['not an object', 'POST', '/api/requests', '[1,2]', 'body'],
  ];
  for (const [name, method, path, body, field] of bad) {
    it(`refuses ${name} with 400 naming ${field}; nothing persisted`, async () => {
      const s = await startTasksApiServer(zk().connectString);
      await callJson(`${s.url}/api/requests`, 'POST', request);
      const before = await snapshot(s);
      const res = await callJson(`${s.url}${path}`, method, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_ARGUMENT');
      expect(res.body.error.message).toContain(field);
      expect(await snapshot(s)).toEqual(before);
    });
  }

  it('refuses a deploy of an unknown request with 404, persisting nothing', async () => {
    const s = await startTasksApiServer(zk().connectString);
    const before = await snapshot(s);
    const res = await callJson(`${s.url}/api/deploys`, 'POST', {
      deploy: { ...deploy.deploy, requestId: 'ghost' },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('ghost');
    expect(await snapshot(s)).toEqual(before);
  });

  it('refuses a 10 MB body with 413 naming the limit, without reading it all', async () => {
    const s = await startTasksApiServer(zk().connectString);
    const port = Number(new URL(s.url).port);
    // Declare 10 MB and send only the first kilobyte: the answer must come anyway.
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.write(
          'POST /api/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${10 * 1024 * 1024}\r\n\r\n` +
            '{"id":"' +
            'a'.repeat(1024),
        );
      });
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
        if (data.includes('\r\n\r\n') && data.includes('}}')) sock.destroy();
      });
      sock.on('close', () => resolve(data));
      sock.on('error', reject);
      sock.setTimeout(10_000, () => reject(new Error('no answer')));
    });
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
    expect(answer).toContain('1048576');
    const chunked = await callJson(`${s.url}/api/requests`, 'POST', {
      ...request,
      owners: Array.from({ length: 40 }, () => 'x'.repeat(30_000)),
    });
    expect(chunked.status).toBe(413);
    expect((await callJson(`${s.url}/api/requests`, 'GET')).body).toEqual([]);
  });

  it('agents: unknown agent is 404; tasks of an agent answer an empty list', async () => {
    const s = await startTasksApiServer(zk().connectString);
    expect((await callJson(`${s.url}/api/agents/agent/nope/freeze`, 'POST')).status).toBe(404);
    expect((await callJson(`${s.url}/api/tasks/active/slave/a1`, 'GET')).body).toEqual([]);
    expect((await callJson(`${s.url}/api/tasks/task/web-d1-1-1-a1`, 'GET')).status).toBe(404);
    expect((await callJson(`${s.url}/api/agents`, 'GET')).body).toEqual([]);
  });
});
