import { CPUStat, SoftIRQStat, SystemStat } from '../../api/gen/machine/machine.js';
import { SysError } from '../errors.js';
import { PROC, USER_HZ, readText, u64 } from './util.js';

const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softIrq', 'steal', 'guest', 'guestNice'] as const;
const SOFTIRQ_FIELDS = ['hi', 'timer', 'netTx', 'netRx', 'block', 'blockIoPoll', 'tasklet', 'sched', 'hrtimer', 'rcu'] as const;

function cpuStat(values: string[], line: string): CPUStat {
  const stat = CPUStat.fromPartial({});
  CPU_FIELDS.forEach((name, i) => {
    const v = values[i];
    if (v === undefined) return;
    const n = Number(v);
    if (!/^\d+$/.test(v)) throw new SysError('BRONZE_SYS_PARSE', `stat: bad cpu time ${JSON.stringify(v)} in ${JSON.stringify(line)}`);
    stat[name] = n / USER_HZ;
  });
  return stat;
}

/**
 * Parses /proc/stat into SystemStat: CPU times in seconds (ticks / USER_HZ), per-CPU entries indexed by CPU number
 * (gaps for offline CPUs are filled with zeros), every interrupt counter of the `intr` line, the `softirq` line split
 * into its ten kinds, boot time in unix seconds and the process counters.
 */
export function parseSystemStat(text: string): SystemStat {
  const out = SystemStat.fromPartial({});
  const perCpu = new Map<number, CPUStat>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const key = f[0];
    if (!key) continue;
    const rest = f.slice(1);
    if (key === 'cpu') out.cpuTotal = cpuStat(rest, line);
    else if (/^cpu\d+$/.test(key)) perCpu.set(Number(key.slice(3)), cpuStat(rest, line));
    else if (key === 'intr') {
      out.irqTotal = u64(rest[0], 'stat intr');
      out.irq = rest.slice(1).map((v) => u64(v, 'stat intr'));
    } else if (key === 'ctxt') out.contextSwitches = u64(rest[0], 'stat ctxt');
    else if (key === 'btime') out.bootTime = u64(rest[0], 'stat btime');
    else if (key === 'processes') out.processCreated = u64(rest[0], 'stat processes');
    else if (key === 'procs_running') out.processRunning = u64(rest[0], 'stat procs_running');
    else if (key === 'procs_blocked') out.processBlocked = u64(rest[0], 'stat procs_blocked');
    else if (key === 'softirq') {
      out.softIrqTotal = u64(rest[0], 'stat softirq');
      const soft = SoftIRQStat.fromPartial({});
      SOFTIRQ_FIELDS.forEach((name, i) => (soft[name] = u64(rest[i + 1], `stat softirq ${name}`)));
      out.softIrq = soft;
    }
  }
  const max = Math.max(-1, ...perCpu.keys());
  for (let i = 0; i <= max; i++) out.cpu.push(perCpu.get(i) ?? CPUStat.fromPartial({}));
  return out;
}

export async function readSystemStat(proc = PROC): Promise<SystemStat> {
  return parseSystemStat(await readText(`${proc}/stat`));
}
