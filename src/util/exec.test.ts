import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWeldError } from '../errors.js';
import { hasTool, pipeTool, runTool, runToolAsync, startTool } from './exec.js';

async function caught(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('runTool', () => {
  it('passes input and returns stdout', () => {
    expect(runTool(['cat'], { input: 'hello' }).stdout.toString()).toBe('hello');
  });
  it('fails with a tool error naming the tool, argv and the tail of stderr', async () => {
    const e = await caught(() => runTool(['sh', '-c', 'echo one >&2; echo two >&2; exit 3'], { what: 'Cannot frob' }));
    expect(isWeldError(e) && e.kind).toBe('tool');
    const w = e as import('../errors.js').WeldError;
    expect(w.message).toBe('Cannot frob: sh exited 3: one | two');
    expect(w.data).toMatchObject({ tool: 'sh', argv: ['sh', '-c', 'echo one >&2; echo two >&2; exit 3'], status: 3, stderr: 'one | two' });
  });
  it('names a missing tool', async () => {
    const e = (await caught(() => runTool(['weld-no-such-tool-x']))) as Error;
    expect(e.message).toBe('Cannot run weld-no-such-tool-x: weld-no-such-tool-x not found');
  });
  it('caps the output', async () => {
    const e = (await caught(() => runTool(['head', '-c', '100000', '/dev/zero'], { maxOutput: 1000 }))) as Error;
    expect(e.message).toMatch(/head output exceeds the cap/);
  });
  it('writes stdout into a descriptor', () => {
    const file = path.join(os.tmpdir(), `weld-exec-${process.pid}`);
    const fd = fs.openSync(file, 'w');
    try {
      runTool(['echo', 'into the file'], { stdout: fd });
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('into the file\n');
    fs.rmSync(file);
  });
  it('returns a failure unchecked when asked', () => {
    expect(runTool(['false'], { check: false }).status).toBe(1);
  });
  it('knows which tools exist', () => {
    expect(hasTool('cat')).toBe(true);
    expect(hasTool('weld-no-such-tool-x')).toBe(false);
  });
});

describe('runToolAsync', () => {
  it('passes input, caps output and fails like runTool', async () => {
    expect((await runToolAsync(['cat'], { input: 'hi' })).stdout.toString()).toBe('hi');
    expect(((await caught(runToolAsync(['head', '-c', '100000', '/dev/zero'], { maxOutput: 1000 }))) as Error).message).toMatch(/output exceeds the cap/);
    expect(((await caught(runToolAsync(['sh', '-c', 'echo bad >&2; exit 2']))) as Error).message).toBe('Cannot run sh: sh exited 2: bad');
  });
});

describe('pipeTool', () => {
  it('streams input through the tool', async () => {
    async function* input() {
      for (let i = 0; i < 100; i++) yield new TextEncoder().encode(`${i}\n`);
    }
    const out: Uint8Array[] = [];
    for await (const c of pipeTool(['wc', '-l'], input())) out.push(c);
    expect(Buffer.concat(out).toString().trim()).toBe('100');
  });
  it('fails with a tool error when the tool does', async () => {
    async function* input() {
      yield new Uint8Array(10);
    }
    const run = async () => {
      for await (const _ of pipeTool(['sh', '-c', 'cat >/dev/null; echo nope >&2; exit 4'], input(), { what: 'Cannot filter' }));
    };
    expect(((await caught(run())) as Error).message).toBe('Cannot filter: sh exited 4: nope');
  });
});

describe('startTool', () => {
  it('reports the exit, and a tool that cannot start as a tool error', async () => {
    expect(await startTool(['sh', '-c', 'exit 5'], { stdio: 'ignore' }).exit).toEqual({ status: 5, signal: null });
    const e = await caught(startTool(['weld-no-such-tool-x'], { stdio: 'ignore' }).exit);
    expect(isWeldError(e) && e.kind === 'tool' && e.message).toBe('Cannot start weld-no-such-tool-x: weld-no-such-tool-x not found');
  });
});
