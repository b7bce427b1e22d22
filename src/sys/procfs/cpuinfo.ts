import { CPUInfo } from '../../api/gen/machine/machine.js';
import { PROC, int, readText } from './util.js';

type Setter = (info: CPUInfo, value: string) => void;

const num = (key: string) => (value: string) => int(value, `cpuinfo ${key}`);
const list = (value: string) => (value === '' ? [] : value.split(/\s+/));

/** /proc/cpuinfo keys (x86 and arm64 spellings) and where they go in CPUInfo. */
const FIELDS: Record<string, Setter> = {
  processor: (i, v) => (i.processor = num('processor')(v)),
  vendor_id: (i, v) => (i.vendorId = v),
  'cpu family': (i, v) => (i.cpuFamily = v),
  model: (i, v) => (i.model = v),
  'model name': (i, v) => (i.modelName = v),
  stepping: (i, v) => (i.stepping = v),
  microcode: (i, v) => (i.microcode = v),
  'cpu MHz': (i, v) => (i.cpuMhz = num('cpu MHz')(v)),
  'cache size': (i, v) => (i.cacheSize = v),
  'physical id': (i, v) => (i.physicalId = v),
  siblings: (i, v) => (i.siblings = num('siblings')(v)),
  'core id': (i, v) => (i.coreId = v),
  'cpu cores': (i, v) => (i.cpuCores = num('cpu cores')(v)),
  apicid: (i, v) => (i.apicId = v),
  'initial apicid': (i, v) => (i.initialApicId = v),
  fpu: (i, v) => (i.fpu = v),
  fpu_exception: (i, v) => (i.fpuException = v),
  'cpuid level': (i, v) => (i.cpuIdLevel = num('cpuid level')(v)),
  wp: (i, v) => (i.wp = v),
  flags: (i, v) => (i.flags = list(v)),
  Features: (i, v) => (i.flags = list(v)),
  bugs: (i, v) => (i.bugs = list(v)),
  bogomips: (i, v) => (i.bogoMips = num('bogomips')(v)),
  BogoMIPS: (i, v) => (i.bogoMips = num('BogoMIPS')(v)),
  'clflush size': (i, v) => (i.clFlushSize = num('clflush size')(v)),
  cache_alignment: (i, v) => (i.cacheAlignment = num('cache_alignment')(v)),
  'address sizes': (i, v) => (i.addressSizes = v),
  'power management': (i, v) => (i.powerManagement = v),
  'CPU implementer': (i, v) => (i.vendorId = v),
  'CPU architecture': (i, v) => (i.cpuFamily = v),
  'CPU variant': (i, v) => (i.model = v),
  'CPU revision': (i, v) => (i.stepping = v),
};

/**
 * Parses /proc/cpuinfo: one CPUInfo per `processor` block. Unknown keys are ignored; on arm64 the implementer,
 * architecture, variant and revision take the places of vendor, family, model and stepping.
 */
export function parseCPUInfo(text: string): CPUInfo[] {
  const out: CPUInfo[] = [];
  let cur: CPUInfo | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') {
      cur = CPUInfo.fromPartial({});
      out.push(cur);
    }
    if (!cur) continue; // arm64 prints a header before the first processor block
    FIELDS[key]?.(cur, value);
  }
  return out;
}

export async function readCPUInfo(proc = PROC): Promise<CPUInfo[]> {
  return parseCPUInfo(await readText(`${proc}/cpuinfo`));
}
