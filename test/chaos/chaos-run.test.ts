/**
 * A short seeded Jepsen-style chaos run (test/chaos/jepsen, docs/chaos.md): a 3-node
 * ZooKeeper ensemble, 3 replicas, 3 real agents, an lb-agent with nginx and a load-balanced
 * service, under concurrent clients and a seeded nemesis. The checker must find no violation
 * of DESIGN.md's invariants and no lost acknowledged write, and must have had something to
 * check (faults, leader changes, routed answers, cleanup runs…). The run stops every process
 * it started, pass or fail; its files are kept when the test fails.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir } from '../harness/index.js';
import { sweepRunProcesses } from './jepsen/cluster/process-sweep.js';
import { DEFAULT_OPTIONS } from './jepsen/options.js';
import { runChaos } from './jepsen/run.js';

describe('a short seeded chaos run', () => {
  it('keeps invariants 1-7 and every acknowledged write through leader, ZooKeeper, agent and lb-agent faults', async () => {
    const dir = makeTempDir('thales-chaos-');
    // The run stops what it started; if the test is abandoned (a timeout), this does.
    onTestFinished(() => void sweepRunProcesses(dir));
    const result = await runChaos(
      {
        ...DEFAULT_OPTIONS,
        name: 'short',
        // Seed 31 plans seven faults in 45 s, one of each kind: an agent SIGKILLed, a link cut,
        // the lb-agent SIGKILLed, the leader SIGKILLed twice, paused past its session, and a
        // ZooKeeper member SIGKILLed.
        seed: 31,
        minutes: 0.75,
        faultGapMs: [1_500, 4_000],
        // Agents come back before they could be declared lost: agent loss is exercised by the
        // long runs, where it currently breaks invariants 3 and 5 (docs/chaos.md, findings).
        agentDownMs: [1_000, 8_000],
        agentLostMs: 20_000,
        agentReconnectGraceMs: 30_000,
        dir,
        convergeMs: 60_000,
        // Probes of open issues belong in the long runs, whose reports list them.
        knownIssues: false,
      },
      (line) => process.stderr.write(`${line}\n`),
    );
    const { checks, summary } = result;
    expect(checks.replayMismatches).toEqual([]);
    expect(checks.violations).toEqual([]);
    expect(summary.lost_acked_writes).toBe(0);
    // The run exercised what it claims to check.
    expect(summary.faults).toBeGreaterThanOrEqual(3);
    expect(summary.leader_changes).toBeGreaterThanOrEqual(1);
    expect(summary.operations).toBeGreaterThan(200);
    expect(checks.coverage.nginxRoutedAnswers).toBeGreaterThan(10);
    expect(checks.coverage.lbMemberSamples).toBeGreaterThan(10);
    expect(checks.coverage.fencedWrites).toBeGreaterThan(100);
    expect(checks.coverage.hostileProbes).toBeGreaterThan(5);
  }, 240_000);
});
