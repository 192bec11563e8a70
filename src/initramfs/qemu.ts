/**
 * Boots a kernel + initramfs + disk under qemu TCG and captures the serial
 * console. Every run has a timeout; a hung qemu is killed by its own pid.
 * Used by the boot tests and the boot demonstration, not by weld itself.
 */
import { startTool } from '../util/exec.js';

export interface BootOptions {
  kernel: string;
  initrd: string;
  disk: string;
  /** more read-only virtio disks (vdb, vdc, …): how a guest with no network gets data */
  extraDisks?: string[];
  /** kernel command line */
  append: string;
  timeoutMs: number;
  memoryMiB?: number;
  /** stop early once this appears in the log (qemu is then killed) */
  until?: RegExp;
}

export interface BootResult {
  log: string;
  /** qemu's exit code; null when it was killed */
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  /** wall-clock seconds from spawn until each `marks` regexp first matched */
  marks: Record<string, number>;
}

function qemuArgs(o: BootOptions): string[] {
  return [
    '-machine', 'accel=tcg', '-cpu', 'max', '-m', String(o.memoryMiB ?? 512),
    '-nographic', '-no-reboot', '-monitor', 'none',
    '-kernel', o.kernel, '-initrd', o.initrd, '-append', o.append,
    ...[o.disk, ...(o.extraDisks ?? [])].flatMap((d) => ['-drive', `file=${d},if=virtio,format=raw,readonly=on`]),
  ];
}

export function bootQemu(o: BootOptions, marks: Record<string, RegExp> = {}): Promise<BootResult> {
  const t0 = performance.now();
  const { child, closed } = startTool(['qemu-system-x86_64', ...qemuArgs(o)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const seen: Record<string, number> = {};
  let timedOut = false;
  const kill = () => {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, o.timeoutMs);
  const onData = (b: Buffer) => {
    log += b.toString('utf8');
    const now = (performance.now() - t0) / 1000;
    for (const [k, re] of Object.entries(marks)) if (seen[k] === undefined && re.test(log)) seen[k] = Number(now.toFixed(2));
    if (o.until && o.until.test(log)) kill();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return closed
    .finally(() => clearTimeout(timer))
    .then(({ status }) => ({ log: log.replace(/\r/g, ''), exitCode: status, timedOut, seconds: Number(((performance.now() - t0) / 1000).toFixed(2)), marks: seen }));
}
