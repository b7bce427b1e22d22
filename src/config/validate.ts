/**
 * Validation of a whole machine config for a mode (`metal`, `cloud`, `container`), as `talosctl validate` and
 * ApplyConfiguration do: the v1alpha1 checks, the checks of each other document, and the cross-document conflicts.
 * Errors and warnings are returned separately, each naming its document and path.
 */
import type { ConfigDocument, MachineConfig, V1Alpha1Config } from './document.js';
import { ConfigError, type ConfigIssue, formatIssue } from './errors.js';
import { isAddrPort, isCIDR, isIP, parseBytes, parseGoURL, splitHostPort } from './net.js';
import { checkNodeMetadata, Findings, type RuntimeMode, validateV1Alpha1, wireguardKeyProblem } from './validate-v1alpha1.js';
import { parseGoDuration } from './decode.js';
import { parseCertificates } from '../pki/cert.js';
import { parsePrivateKey } from '../pki/keys.js';

export type ModeName = 'metal' | 'cloud' | 'container';

export const modes: Record<ModeName, RuntimeMode> = {
  metal: { name: 'metal', requiresInstall: true, inContainer: false },
  cloud: { name: 'cloud', requiresInstall: false, inContainer: false },
  container: { name: 'container', requiresInstall: false, inContainer: true },
};

export function parseMode(name: string): RuntimeMode {
  const m = modes[name as ModeName];
  if (!m) throw new ConfigError('BRONZE_CONFIG_INVALID', `unknown mode ${JSON.stringify(name)}: expected one of metal, cloud, container`);
  return m;
}

export interface ValidateOptions {
  /** turn warnings into errors (talosctl validate --strict) */
  strict?: boolean;
  /** for nodes that are already installed: install settings are not required (ApplyConfiguration) */
  installed?: boolean;
}

export interface ValidationResult {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

type V = Record<string, unknown>;
const s = (v: unknown): string => (typeof v === 'string' ? v : '');
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
const arr = <T = V>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const o = (v: unknown): V | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as V) : undefined);
const isZeroObj = (v: unknown): boolean => !o(v) || Object.values(o(v)!).every((x) => x === undefined || isZeroObj(x) || x === '' || x === 0 || x === false || (Array.isArray(x) && x.length === 0));

const volumeNameOK = (name: string) => /^[A-Za-z0-9-]*$/.test(name);
const durMs = (v: unknown) => (typeof v === 'string' ? (parseGoDuration(v) ?? 0) : 0);

/** A CEL expression as far as we check it: non-empty, balanced brackets and quotes. The full CEL grammar is not checked. */
export function celProblem(expr: string): string | undefined {
  if (expr.trim() === '') return 'empty expression';
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'") {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) return `unterminated string at offset ${i}`;
      i = end;
    } else if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs) {
      if (stack.pop() !== pairs[c]) return `unbalanced ${JSON.stringify(c)} at offset ${i}`;
    }
  }
  return stack.length ? `unclosed ${JSON.stringify(stack[stack.length - 1])}` : undefined;
}

function checkEncryption(f: Findings, p: string, e: V | undefined): void {
  if (!e || isZeroObj(e)) return;
  if (s(e.provider) !== 'luks2') f.error(`${p}.provider`, `unsupported encryption provider: ${s(e.provider)}`);
  const keys = arr(e.keys);
  if (!keys.length) f.error(`${p}.keys`, 'encryption keys are required');
  const slots = new Set<number>();
  keys.forEach((k, i) => {
    const slot = n(k.slot);
    if (slots.has(slot)) f.error(`${p}.keys[${i}].slot`, `duplicate key slot ${slot}`);
    slots.add(slot);
    if (!k.static && !k.nodeID && !k.kms && !k.tpm) f.error(`${p}.keys[${i}]`, `at least one encryption key type must be specified for slot ${slot}`);
    for (const pcr of arr<number>(o(o(k.tpm)?.options)?.pcrs)) if (pcr < 0 || pcr > 23) f.error(`${p}.keys[${i}].tpm.options.pcrs`, `TPM PCR ${pcr} is out of range (0-23)`);
  });
}

function sizeValue(v: unknown): { zero: boolean; value: number; relative: boolean; negative: boolean; bad?: string } {
  if (v === undefined || v === '' || v === 0) return { zero: true, value: 0, relative: false, negative: false };
  if (typeof v === 'number') return { zero: false, value: v, relative: false, negative: v < 0 };
  const t = String(v).trim();
  if (t.endsWith('%')) {
    const pct = Number(t.slice(0, -1));
    if (!Number.isFinite(pct) || pct <= 0 || pct > 100) return { zero: false, value: 0, relative: true, negative: false, bad: `invalid percentage ${JSON.stringify(t)}` };
    return { zero: false, value: pct, relative: true, negative: false };
  }
  const negative = t.startsWith('-');
  const b = parseBytes(negative ? t.slice(1) : t);
  if (b === undefined) return { zero: false, value: 0, relative: false, negative, bad: `invalid size ${JSON.stringify(t)}` };
  return { zero: false, value: b, relative: false, negative };
}

function checkProvisioning(f: Findings, p: string, prov: V | undefined, required: boolean, sizeSupported: boolean): void {
  const match = s(o(prov?.diskSelector)?.match);
  if (match) {
    const e = celProblem(match);
    if (e) f.error(`${p}.diskSelector.match`, `disk selector is invalid: ${e}`);
  } else if (required) f.error(`${p}.diskSelector.match`, 'disk selector is required');
  const min = sizeValue(prov?.minSize);
  const max = sizeValue(prov?.maxSize);
  if (min.bad) f.error(`${p}.minSize`, min.bad);
  if (max.bad) f.error(`${p}.maxSize`, max.bad);
  if (sizeSupported) {
    if (!min.zero && !max.zero && !max.relative && !max.negative) {
      if (min.value > max.value) f.error(`${p}.minSize`, 'min size is greater than max size');
    } else if (required && min.zero && max.zero) f.error(`${p}.maxSize`, 'min size or max size is required');
    if (min.negative) f.error(`${p}.minSize`, 'min size cannot be negative');
  } else if (!min.zero || !max.zero || prov?.grow !== undefined) f.error(p, 'min size, max size and grow are not supported');
}

function checkVolumeName(f: Findings, name: string, max?: number): void {
  if (name === '') f.error('.name', 'name is required');
  if (max !== undefined && (name.length < 1 || name.length > max)) f.error('.name', `name must be between 1 and ${max} characters long`);
  if (!volumeNameOK(name)) f.error('.name', 'name can only contain lowercase and uppercase ASCII letters, digits, and hyphens');
}

function checkCommonLink(f: Findings, v: V): void {
  arr(v.addresses).forEach((a, i) => {
    const addr = s(a.address);
    if (addr === '') f.error(`.addresses[${i}].address`, `address ${i} must be specified`);
    else if (!isCIDR(addr)) f.error(`.addresses[${i}].address`, `address ${i} must be a valid IP prefix`);
    else if (/^(0\.0\.0\.0|::)\//.test(addr)) f.error(`.addresses[${i}].address`, `address ${i} must be a valid IP address`);
  });
  arr(v.routes).forEach((r, i) => {
    if (r.destination && /^(0\.0\.0\.0|::)\/[1-9]/.test(s(r.destination))) f.error(`.routes[${i}].destination`, `route ${i} destination must be a valid IP prefix`);
    if (r.gateway && /^(0\.0\.0\.0|::)$/.test(s(r.gateway))) f.error(`.routes[${i}].gateway`, `route ${i} gateway must be a valid IP address`);
    if (r.source && /^(0\.0\.0\.0|::)$/.test(s(r.source))) f.error(`.routes[${i}].source`, `route ${i} source must be a valid IP address`);
  });
}

function nameRequired(f: Findings, v: V, message = 'name must be specified'): void {
  if (s(v.name) === '') f.error('.name', message);
}

function checkPortRanges(f: Findings, ports: unknown[]): void {
  const ranges: { lo: number; hi: number; text: string }[] = [];
  ports.forEach((p, i) => {
    let lo: number;
    let hi: number;
    if (typeof p === 'number') lo = hi = p;
    else {
      const m = /^(\d+)-(\d+)$/.exec(String(p));
      if (!m) {
        f.error(`.portSelector.ports[${i}]`, `invalid port range: ${JSON.stringify(String(p))}`);
        return;
      }
      lo = Number(m[1]);
      hi = Number(m[2]);
    }
    if (lo > 65535 || hi > 65535 || lo < 0) {
      f.error(`.portSelector.ports[${i}]`, `invalid port range: ${JSON.stringify(String(p))}`);
      return;
    }
    ranges.push({ lo, hi, text: lo === hi ? String(lo) : `${lo}-${hi}` });
  });
  ranges.sort((a, b) => a.lo - b.lo);
  ranges.forEach((r, i) => {
    if (r.lo > r.hi) f.error('.portSelector.ports', `invalid port range: ${r.text}`);
    if (i > 0 && r.lo <= ranges[i - 1]!.hi) f.error('.portSelector.ports', `invalid port range: ${r.text}, overlaps with ${ranges[i - 1]!.text}`);
  });
}

function checkURLScheme(f: Findings, path: string, raw: string, schemes: string[], what: string, requirePort = false): void {
  const u = parseGoURL(raw);
  if (typeof u === 'string' || raw === '') {
    f.error(path, `${what} is required`);
    return;
  }
  if (!schemes.includes(u.scheme)) f.error(path, `${what} scheme must be ${schemes.map((x) => `${x}://`).join(' or ')}`);
  else if (u.path !== '' && u.path !== '/') f.error(path, `${what} path must be empty`);
  else if (requirePort && u.port === '') f.error(path, `${what} port is required`);
}

function checkPEMCerts(text: string): string | undefined {
  try {
    parseCertificates(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Per-kind checks of Talos's document Validate methods. */
const kindChecks: Record<string, (f: Findings, v: V) => void> = {
  VolumeConfig(f, v) {
    const name = s(v.name);
    if (!['STATE', 'EPHEMERAL', 'IMAGECACHE'].includes(name)) {
      f.error('.name', 'only ["STATE" "EPHEMERAL" "IMAGECACHE"] volumes are supported');
      return;
    }
    if (name === 'STATE') {
      if (!isZeroObj(v.provisioning)) f.error('.provisioning', 'provisioning config is not allowed for the "STATE" volume');
      arr(o(v.encryption)?.keys).forEach((k, i) => {
        if (k.lockToState) f.error(`.encryption.keys[${i}].lockToState`, 'state-locked key is not allowed for the "STATE" volume');
      });
    }
    checkProvisioning(f, '.provisioning', o(v.provisioning), false, true);
    checkEncryption(f, '.encryption', o(v.encryption));
  },
  UserVolumeConfig(f, v) {
    checkVolumeName(f, s(v.name), 34);
    const type = s(v.volumeType) || 'partition';
    const fsType = s(o(v.filesystem)?.type);
    const checkFS = () => {
      if (!['', 'none', 'xfs', 'ext4'].includes(fsType)) f.error('.filesystem.type', `unsupported filesystem type: ${fsType}`);
      else if (o(v.filesystem)?.projectQuotaSupport && fsType !== 'xfs') f.error('.filesystem.projectQuotaSupport', 'project quota support is only available for xfs filesystem');
    };
    switch (type) {
      case 'directory':
        for (const k of ['provisioning', 'encryption', 'filesystem', 'mount']) if (!isZeroObj(v[k])) f.error(`.${k}`, `${k === 'filesystem' ? 'filesystem' : k} spec is invalid for volumeType directory`);
        break;
      case 'disk':
      case 'partition':
        checkProvisioning(f, '.provisioning', o(v.provisioning), true, type === 'partition');
        checkFS();
        checkEncryption(f, '.encryption', o(v.encryption));
        break;
      default:
        f.error('.volumeType', `unsupported volume type ${JSON.stringify(type)}`);
    }
  },
  RawVolumeConfig(f, v) {
    checkVolumeName(f, s(v.name), 34);
    checkProvisioning(f, '.provisioning', o(v.provisioning), true, true);
    checkEncryption(f, '.encryption', o(v.encryption));
  },
  SwapVolumeConfig(f, v) {
    checkVolumeName(f, s(v.name), 34);
    checkProvisioning(f, '.provisioning', o(v.provisioning), true, true);
    checkEncryption(f, '.encryption', o(v.encryption));
  },
  ExistingVolumeConfig(f, v) {
    checkVolumeName(f, s(v.name));
    const match = s(o(o(v.discovery)?.volumeSelector)?.match);
    if (!match) f.error('.discovery.volumeSelector.match', 'volume selector is required');
    else {
      const e = celProblem(match);
      if (e) f.error('.discovery.volumeSelector.match', `volume selector is invalid: ${e}`);
    }
  },
  ExternalVolumeConfig(f, v) {
    checkVolumeName(f, s(v.name), 34);
    if (s(v.filesystemType) !== 'virtiofs') f.error('.filesystemType', `invalid filesystem type: ${s(v.filesystemType)}`);
    else {
      const vfs = o(o(v.mount)?.virtiofs);
      if (!vfs) f.error('.mount.virtiofs', 'virtiofs mount spec is required');
      else if (!s(vfs.tag)) f.error('.mount.virtiofs.tag', 'virtiofs tag is required');
    }
  },
  ZswapConfig(f, v) {
    if (v.maxPoolPercent !== undefined && (n(v.maxPoolPercent) < 0 || n(v.maxPoolPercent) > 100)) f.error('.maxPoolPercent', 'maxPoolPercent must be between 0 and 100');
  },
  RegistryMirrorConfig(f, v) {
    nameRequired(f, v);
    arr(v.endpoints).forEach((ep, i) => {
      const u = parseGoURL(s(ep.url));
      if (!s(ep.url) || typeof u === 'string') f.error(`.endpoints[${i}].url`, `endpoints[${i}].url must be specified`);
      else if (u.scheme !== 'http' && u.scheme !== 'https') f.error(`.endpoints[${i}].url`, `endpoints[${i}].url has unsupported scheme: ${JSON.stringify(u.scheme)}`);
    });
  },
  RegistryAuthConfig(f, v) {
    nameRequired(f, v);
    const user = s(v.username) !== '';
    const token = s(v.identityToken) !== '';
    const auth = s(v.auth) !== '';
    if (user && token) f.error('.identityToken', 'only one of username/password or identityToken authentication can be specified');
    if (auth && (user || token)) f.error('.auth', 'only one of auth, username/password or identityToken authentication can be specified');
  },
  RegistryTLSConfig(f, v) {
    nameRequired(f, v);
    if (s(v.ca) && checkPEMCerts(s(v.ca))) f.error('.ca', 'ca must be a valid PEM-encoded certificate');
    const id = o(v.clientIdentity);
    if (id) {
      const ce = checkPEMCerts(s(id.cert));
      if (ce) f.error('.clientIdentity.cert', `client identity certificate is invalid: ${ce}`);
      try {
        parsePrivateKey(s(id.key), 'client identity key');
      } catch (e) {
        f.error('.clientIdentity.key', `client identity key is invalid: ${(e as Error).message}`);
      }
    }
  },
  PCIDriverRebindConfig(f, v) {
    nameRequired(f, v, 'name is required');
    if (!s(v.targetDriver)) f.error('.targetDriver', 'targetDriver is required');
  },
  BlackholeRouteConfig(f, v) {
    nameRequired(f, v);
    if (!isCIDR(s(v.name))) f.error('.name', `name must be a valid address prefix: netip.ParsePrefix(${JSON.stringify(s(v.name))}): invalid prefix`);
  },
  BondConfig(f, v) {
    nameRequired(f, v);
    if (!arr(v.links).length) f.error('.links', 'at least one link must be specified');
    if (v.bondMode === undefined) f.error('.bondMode', 'bond mode must be specified');
    else if (v.bondMode === '802.3ad') {
      if (v.miimon === undefined) f.warn('.miimon', 'miimon was not specified for 802.3ad bond');
      if (v.updelay === undefined) f.warn('.updelay', 'updelay was not specified for 802.3ad bond');
      if (v.downdelay === undefined) f.warn('.downdelay', 'downdelay was not specified for 802.3ad bond');
    }
    checkCommonLink(f, v);
  },
  BridgeConfig(f, v) {
    nameRequired(f, v);
    checkCommonLink(f, v);
  },
  DHCPv4Config: checkDHCP,
  DHCPv6Config: checkDHCP,
  DummyLinkConfig(f, v) {
    nameRequired(f, v);
    checkCommonLink(f, v);
  },
  EthernetConfig(f, v) {
    nameRequired(f, v, 'name is required');
  },
  HCloudVIPConfig(f, v) {
    if (!s(v.name)) f.error('.name', 'name must be specified');
    else if (!isIP(s(v.name))) f.error('.name', `name must be a valid IP address: ParseAddr(${JSON.stringify(s(v.name))}): unable to parse IP`);
    if (!s(v.link)) f.error('.link', 'link must be specified');
    if (!s(v.apiToken)) f.error('.apiToken', 'apiToken must be specified');
  },
  HostnameConfig(f, v) {
    const auto = v.auto as string | undefined;
    const hostname = s(v.hostname);
    if (auto === undefined && hostname === '') f.error('.', "either 'auto' or 'hostname' must be set");
    if ((auto ?? 'off') !== 'off' && hostname !== '') f.error('.hostname', "'auto' and 'hostname' cannot be set at the same time");
    if (auto !== undefined && auto !== 'off' && auto !== 'stable') f.error('.auto', `invalid value for 'auto': ${auto}`);
    if (hostname) {
      if (hostname.length > 253) f.error('.hostname', `fqdn is too long: ${hostname.length}`);
      const short = hostname.split('.')[0]!;
      if (short.length === 0 || short.length > 63) f.error('.hostname', `invalid hostname ${JSON.stringify(short)}`);
    }
  },
  KubeSpanConfig(f, v) {
    if (v.mtu !== undefined && n(v.mtu) < 1280) f.error('.mtu', 'kubespan link MTU must be at least 1280');
    for (const e of arr<string>(o(v.filters)?.endpoints)) {
      const c = String(e).replace(/^!/, '');
      if (!(c.includes('/') ? isCIDR(c) : isIP(c))) f.error('.filters.endpoints', `KubeSpan endpoint filter is not valid: ${JSON.stringify(c)}`);
    }
  },
  Layer2VIPConfig(f, v) {
    if (!s(v.name)) f.error('.name', 'name must be specified');
    else if (!isIP(s(v.name))) f.error('.name', `name must be a valid IP address: ParseAddr(${JSON.stringify(s(v.name))}): unable to parse IP`);
    if (!s(v.link)) f.error('.link', 'link must be specified');
  },
  LinkConfig(f, v) {
    nameRequired(f, v);
    checkCommonLink(f, v);
  },
  LinkAliasConfig(f, v) {
    const name = s(v.name);
    if (!name) f.error('.name', 'name must be specified');
    else if (name.includes('%')) {
      const [prefix, suffix] = [name.slice(0, name.indexOf('%')), name.slice(name.indexOf('%') + 1)];
      if (suffix !== 'd' || prefix === '') f.error('.name', `name ${JSON.stringify(name)} contains an invalid format verb, use %d suffix`);
    }
    const match = s(o(v.selector)?.match);
    if (!match) f.error('.selector.match', 'link selector is required');
    else {
      const e = celProblem(match);
      if (e) f.error('.selector.match', `link selector is invalid: ${e}`);
    }
  },
  RoutingRuleConfig(f, v) {
    const name = s(v.name);
    if (!name) f.error('.name', 'name must be specified');
    const prio = /^\d+$/.test(name) ? Number(name) : Number.NaN;
    if (!Number.isInteger(prio) || prio > 4294967295) f.error('.name', `invalid name: must be priority parsable unsigned integer: strconv.ParseUint: parsing ${JSON.stringify(name)}: invalid syntax`);
    else if ([0, 32500, 32766, 32767].includes(prio)) f.error('.name', 'priority must be between 1 and 32765 (excluding reserved priorities [0 32500 32766 32767])');
    const table = s(v.table);
    const action = s(v.action);
    if ((table === '' || table === 'unspec') && (action === '' || action === 'unspec' || action === 'unicast')) f.error('.table', 'either table or a non-unicast action must be specified');
    if (n(v.fwMask) !== 0 && n(v.fwMark) === 0) f.error('.fwMask', 'fwMask requires fwMark to be set');
  },
  NetworkRuleConfig(f, v) {
    if (!s(v.name)) {
      f.error('.name', 'name is required');
      return;
    }
    const ports = arr<unknown>(o(v.portSelector)?.ports);
    if (!ports.length) {
      f.error('.portSelector.ports', 'portSelector.ports is required');
      return;
    }
    checkPortRanges(f, ports);
  },
  StaticHostConfig(f, v) {
    if (!s(v.name)) f.error('.name', 'name is required');
    if (!isIP(s(v.name))) f.error('.name', 'name must be a valid IP address');
    if (!arr(v.hostnames).length) f.error('.hostnames', 'at least one hostname is required');
  },
  TCPProbeConfig(f, v) {
    if (!s(v.name)) f.error('.name', 'probe name is required');
    if (!s(v.endpoint)) f.error('.endpoint', 'TCP probe endpoint is required');
    if (durMs(v.timeout) < 0) f.error('.timeout', `TCP probe timeout cannot be negative: ${s(v.timeout)}`);
    if (durMs(v.interval) < 0) f.error('.interval', `probe interval cannot be negative: ${s(v.interval)}`);
    if (n(v.failureThreshold) < 0) f.error('.failureThreshold', `probe failure threshold cannot be negative: ${n(v.failureThreshold)}`);
  },
  TimeSyncConfig(f, v) {
    if (durMs(v.bootTimeout) < 0) f.error('.bootTimeout', 'bootTimeout cannot be negative');
    if (v.ntp && v.ptp) f.error('.', 'only one of ntp or ptp configuration can be specified');
  },
  VLANConfig(f, v) {
    nameRequired(f, v);
    if (n(v.vlanID) === 0 || n(v.vlanID) > 4094) f.error('.vlanID', 'vlanID must be specified and between 1 and 4094');
    if (!s(v.parent)) f.error('.parent', 'parent must be specified');
    checkCommonLink(f, v);
  },
  VRFConfig(f, v) {
    nameRequired(f, v);
    const t = s(v.table);
    if (['', 'unspec', 'local', 'main', 'default'].includes(t)) f.error('.table', `cannot create vrf with reserved table ${t || 'unspec'}`);
    checkCommonLink(f, v);
  },
  WireguardConfig(f, v) {
    nameRequired(f, v);
    if (!s(v.privateKey)) f.error('.privateKey', 'wireguard private key must be specified');
    else {
      const e = wireguardKeyProblem(s(v.privateKey));
      if (e) f.error('.privateKey', `wireguard private key is invalid: ${e}`);
    }
    if (n(v.listenPort) < 0 || n(v.listenPort) > 65535) f.error('.listenPort', 'wireguard listen port must be between 0 and 65535');
    arr(v.peers).forEach((peer, i) => {
      if (!s(peer.publicKey)) f.error(`.peers[${i}].publicKey`, `wireguard peer public key must be specified (peer index ${i})`);
      else {
        const e = wireguardKeyProblem(s(peer.publicKey));
        if (e) f.error(`.peers[${i}].publicKey`, `wireguard peer public key is invalid (peer index ${i}): ${e}`);
      }
      if (s(peer.presharedKey)) {
        const e = wireguardKeyProblem(s(peer.presharedKey));
        if (e) f.error(`.peers[${i}].presharedKey`, `wireguard peer preshared key is invalid (peer index ${i}): ${e}`);
      }
      if (durMs(peer.persistentKeepaliveInterval) < 0) f.error(`.peers[${i}].persistentKeepaliveInterval`, `wireguard peer persistent keepalive interval cannot be negative (peer index ${i})`);
    });
    checkCommonLink(f, v);
  },
  EnvironmentConfig(f, v) {
    for (const k of Object.keys(o(v.variables) ?? {})) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) f.error(`.variables[${JSON.stringify(k)}]`, `invalid environment variable name: ${JSON.stringify(k)}`);
  },
  EventSinkConfig(f, v) {
    const hp = splitHostPort(s(v.endpoint));
    if (typeof hp === 'string') f.error('.endpoint', `event sink endpoint: ${hp}`);
  },
  KmsgLogConfig(f, v) {
    if (!s(v.name)) {
      f.error('.name', 'name is required');
      return;
    }
    checkURLScheme(f, '.url', s(v.url), ['tcp', 'udp'], 'url', true);
  },
  OOMConfig(f, v) {
    for (const k of ['triggerExpression', 'cgroupRankingExpression']) {
      if (!s(v[k])) continue;
      const e = celProblem(s(v[k]));
      if (e) f.error(`.${k}`, `OOM ${k === 'triggerExpression' ? 'trigger' : 'cgroup scoring'} expression is invalid: ${e}`);
    }
    if (durMs(v.sampleInterval) < 0) f.error('.sampleInterval', 'OOM sample interval must be longer than 0');
  },
  WatchdogTimerConfig(f, v) {
    if (!s(v.device)) f.error('.device', 'watchdog device: empty value');
    const t = durMs(v.timeout);
    if (t !== 0 && t < 10_000) f.error('.timeout', 'watchdog timeout: minimum value is 10s');
  },
  ExtensionServiceConfig(f, v) {
    const name = s(v.name);
    if (!name) {
      f.error('.name', 'name is required');
      return;
    }
    const files = arr(v.configFiles);
    if (!files.length && !arr(v.environment).length) {
      f.error('.configFiles', `no config files found for extension ${JSON.stringify(name)}`);
      return;
    }
    files.forEach((file, i) => {
      if (!s(file.content)) f.error(`.configFiles[${i}].content`, `extension content is required for extension ${JSON.stringify(name)}`);
      if (!s(file.mountPath)) f.error(`.configFiles[${i}].mountPath`, `extension mount path is required for extension ${JSON.stringify(name)}`);
    });
  },
  ImageVerificationConfig(f, v) {
    arr(v.rules).forEach((r, i) => {
      const p = `.rules[${i}]`;
      const img = s(r.image);
      if (!img) f.error(`${p}.image`, `rule ${i}: imagePattern must be specified`);
      if (img.includes('@')) f.warn(`${p}.image`, `rule ${i}: imagePattern contains '@' but matching only applies to the image registry and repository, not the tag or digest`);
      const slash = img.indexOf('/');
      if (slash >= 0 && img.slice(slash + 1).includes(':')) f.warn(`${p}.image`, `rule ${i}: imagePattern contains ':' but matching only applies to the image registry and repository, not the tag or digest`);
      if (img && !img.includes('/') && img !== '*') f.warn(`${p}.image`, `rule ${i}: imagePattern does not contain a '/', image references like 'nginx' are matched as 'docker.io/nginx' (normalized)`);
      const skip = r.skip === true;
      const deny = r.deny === true;
      const has = r.keyless !== undefined || r.publicKey !== undefined;
      if (skip && deny) f.error(p, `rule ${i}: skip and deny cannot both be true`);
      if ((skip || deny) && has) f.error(p, `rule ${i}: verifiers cannot be configured if skip or deny is true`);
      if (!skip && !deny && !has) f.error(p, `rule ${i}: at least one verifier must be configured`);
      if (r.keyless && r.publicKey) f.error(p, `rule ${i}: only one of keyless or publicKey verifier can be configured`);
      const kl = o(r.keyless);
      if (kl) {
        if (!s(kl.issuer)) f.error(`${p}.keyless.issuer`, `rule ${i}: verifier OIDC issuer must be specified`);
        if (!s(kl.subject) && !s(kl.subjectRegex)) f.error(`${p}.keyless`, `rule ${i}: verifier subject or subjectRegex must be specified`);
      }
      const pk = o(r.publicKey);
      if (pk && !s(pk.certificate)) f.error(`${p}.publicKey.certificate`, `rule ${i}: verifier certificates must be specified`);
    });
  },
  TrustedRootsConfig(f, v) {
    nameRequired(f, v, 'name is required');
    const e = checkPEMCerts(s(v.certificates));
    if (e) f.error('.certificates', `certificates are invalid: ${e}`);
  },
  SideroLinkConfig(f, v) {
    checkURLScheme(f, '.apiUrl', s(v.apiUrl), ['https', 'grpc'], 'apiUrl');
  },
  KubeSpanEndpointsConfig(f, v) {
    arr<string>(v.extraAnnouncedEndpoints).forEach((e, i) => {
      if (!isAddrPort(String(e))) f.error(`.extraAnnouncedEndpoints[${i}]`, `invalid endpoint ${JSON.stringify(e)}: expected address:port`);
    });
  },
};

function checkDHCP(f: Findings, v: V): void {
  nameRequired(f, v);
  const ci = v.clientIdentifier as string | undefined;
  if (s(v.duidRaw) && ci !== 'duid') f.error('.duidRaw', "duidRaw can only be set if clientIdentifier is 'duid'");
  if (ci === 'duid' && !s(v.duidRaw)) f.error('.duidRaw', "duidRaw must be set if clientIdentifier is 'duid'");
}

/** Checks of a document against the v1alpha1 document it sits with (Talos's V1Alpha1ConflictValidate). */
function conflictChecks(doc: ConfigDocument, v1: V1Alpha1Config, f: Findings): void {
  const m = v1.machine;
  const net = m?.network;
  const v = doc.value;
  switch (doc.kind) {
    case 'HostnameConfig':
      if (net?.hostname) f.error('.', 'static hostname is already set in v1alpha1 config');
      else if (m?.features?.stableHostname) f.error('.', 'stable hostname is already set in v1alpha1 config');
      break;
    case 'KubeSpanConfig':
      if (net?.kubespan) f.error('.', 'kubespan is already configured in v1alpha1 machine.network.kubespan');
      break;
    case 'ResolverConfig':
      if (net?.searchDomains !== undefined) f.error('.', '.machine.network.searchDomains is already set in v1alpha1 config');
      else if (net?.nameservers !== undefined) f.error('.', '.machine.network.nameservers is already set in v1alpha1 config');
      else if (net?.disableSearchDomain) f.error('.', '.machine.network.disableSearchDomain is already set in v1alpha1 config');
      break;
    case 'TimeSyncConfig': {
      const t = m?.time;
      if (!t) break;
      if (t.disabled) f.error('.', 'time sync cannot be disabled in both v1alpha1 and new-style configuration');
      else if (t.servers?.length) f.error('.', 'time servers cannot be specified in both v1alpha1 and new-style configuration');
      else if (t.bootTimeout && durMs(t.bootTimeout) !== 0) f.error('.', 'boot timeout cannot be specified in both v1alpha1 and new-style configuration');
      break;
    }
    case 'VolumeConfig': {
      const name = s(v.name);
      if (!['STATE', 'EPHEMERAL'].includes(name) || isZeroObj(v.encryption)) break;
      const legacy = name === 'STATE' ? m?.systemDiskEncryption?.state : m?.systemDiskEncryption?.ephemeral;
      if (legacy) f.error('.encryption', `system disk encryption for ${JSON.stringify(name)} is configured in both v1alpha1.Config and VolumeConfig`);
      break;
    }
  }
}

function toIssues(document: string, items: { path: string; message: string }[], line?: number): ConfigIssue[] {
  return items.map((i) => ({ document, path: i.path, message: i.message, line: i.path === '.' ? line : undefined }));
}

/** Validates a machine config for a mode; errors and warnings are kept apart. */
export function validateConfig(cfg: MachineConfig, mode: RuntimeMode | ModeName, opts: ValidateOptions = {}): ValidationResult {
  const rm = typeof mode === 'string' ? parseMode(mode) : mode;
  const effective: RuntimeMode = opts.installed ? { ...rm, requiresInstall: false } : rm;
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const v1doc = cfg.v1alpha1Document;
  if (v1doc) {
    const f = validateV1Alpha1(v1doc.v1alpha1, effective);
    errors.push(...toIssues('v1alpha1', f.errors, v1doc.line));
    warnings.push(...toIssues('v1alpha1', f.warnings, v1doc.line));
  }
  for (const doc of cfg.documents) {
    if (doc.isV1Alpha1) continue;
    const f = new Findings();
    kindChecks[doc.kind]?.(f, doc.value);
    errors.push(...toIssues(doc.id, f.errors, doc.line));
    warnings.push(...toIssues(doc.id, f.warnings, doc.line));
  }
  if (v1doc) {
    for (const doc of cfg.documents) {
      if (doc.isV1Alpha1) continue;
      const f = new Findings();
      conflictChecks(doc, v1doc.v1alpha1, f);
      errors.push(...toIssues(doc.id, f.errors, doc.line));
    }
  }
  if (opts.strict) {
    errors.push(...warnings.map((w) => ({ ...w, message: `warning: ${w.message}` })));
    return { errors, warnings: [] };
  }
  return { errors, warnings };
}

/** Validates and throws a ConfigError (BRONZE_CONFIG_INVALID) listing every error; returns the warnings. */
export function assertValid(cfg: MachineConfig, mode: RuntimeMode | ModeName, opts: ValidateOptions = {}): ConfigIssue[] {
  const r = validateConfig(cfg, mode, opts);
  if (r.errors.length) {
    const list = r.errors.map((e) => `\t* ${formatIssue(e)}`).join('\n');
    throw new ConfigError('BRONZE_CONFIG_INVALID', `${r.errors.length} error${r.errors.length > 1 ? 's' : ''} occurred:\n${list}`, r.errors);
  }
  return r.warnings;
}

export { checkNodeMetadata };
