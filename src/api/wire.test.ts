import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Data, EmptyResponse, Metadata as CommonMetadata } from './gen/common/common.js';
import { ResourceDefinitionSpec, ResourceDefinitionSpec_Sensitivity as Sensitivity } from './gen/cosi/meta.js';
import { LabelTerm_Operation } from './gen/cosi/resource.js';
import { EventType, GetResponse, ListRequest, WatchResponse } from './gen/cosi/state.js';
import { ControllerRuntimeDependenciesResponse, DependencyEdgeType } from './gen/inspect/inspect.js';
import {
  ApplyConfigurationRequest,
  ApplyConfigurationRequest_Mode,
  Event,
  EventsRequest,
  HostnameResponse,
  LogsRequest,
  MemoryResponse,
  ReadRequest,
  RebootRequest,
  RebootRequest_Mode,
  ServiceListResponse,
  VersionResponse,
} from './gen/machine/machine.js';
import { HostnameStatusSpec } from './gen/resource/definitions/network/network.js';
import { CertificateRequest, CertificateResponse } from './gen/security/security.js';
import { ContainerDriver } from './gen/common/common.js';

/** The parts of a ts-proto message codec these tests use. */
interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

interface Case<T> {
  name: string;
  codec: Codec<T>;
  value: T;
  /** expected bytes, written out by hand from the field numbers and wire types (spaces ignored) */
  hex: string;
}

const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');

// Each expected encoding below is spelled out as tag byte (field number << 3 | wire type), length and payload.
const cases: Case<never>[] = [
  {
    name: 'common.Metadata with a google.rpc.Status',
    codec: CommonMetadata,
    value: { hostname: 'n1', error: 'boom', status: { code: 14, message: 'down', details: [] } },
    // 1:string "n1" | 2:string "boom" | 3:message { 1:varint 14 | 2:string "down" }
    hex: `0a02${ascii('n1')} 1204${ascii('boom')} 1a08 080e 1204${ascii('down')}`,
  },
  {
    name: 'common.Data',
    codec: Data,
    value: { metadata: { hostname: 'n1', error: '', status: undefined }, bytes: Buffer.from([0x00, 0xff]) },
    hex: `0a04 0a02${ascii('n1')} 1202 00ff`,
  },
  {
    name: 'common.EmptyResponse with the one empty element machined always sends',
    codec: EmptyResponse,
    value: { messages: [{ metadata: undefined }] },
    hex: '0a00',
  },
  {
    name: 'machine.VersionResponse',
    codec: VersionResponse,
    value: {
      messages: [
        {
          metadata: undefined,
          version: { tag: 'v1.13.9', sha: '', built: '', goVersion: '', os: 'linux', arch: 'amd64' },
          platform: { name: 'metal', mode: 'metal' },
          features: { rbac: true },
        },
      ],
    },
    // messages[0] (45 bytes) = 2:VersionInfo(23) 3:PlatformInfo(14) 4:FeaturesInfo(2)
    hex: `0a2d 1217 0a07${ascii('v1.13.9')} 2a05${ascii('linux')} 3205${ascii('amd64')} 1a0e 0a05${ascii('metal')} 1205${ascii('metal')} 2202 0801`,
  },
  {
    name: 'machine.ServiceListResponse',
    codec: ServiceListResponse,
    value: {
      messages: [
        {
          metadata: undefined,
          services: [{ id: 'apid', state: 'Running', events: undefined, health: { unknown: false, healthy: true, lastMessage: '', lastChange: undefined } }],
        },
      ],
    },
    hex: `0a15 1213 0a04${ascii('apid')} 1207${ascii('Running')} 2202 1001`,
  },
  {
    name: 'machine.HostnameResponse with apid-filled metadata',
    codec: HostnameResponse,
    value: { messages: [{ metadata: { hostname: '10.5.0.2', error: '', status: undefined }, hostname: 'talos-cp-1' }] },
    hex: `0a18 0a0a 0a08${ascii('10.5.0.2')} 120a${ascii('talos-cp-1')}`,
  },
  {
    name: 'machine.MemoryResponse with 64-bit counters',
    codec: MemoryResponse,
    value: { messages: [{ metadata: undefined, meminfo: { memtotal: '8589934592', memfree: '300' } }] },
    // memtotal = 2^33: varint 80 80 80 80 20; memfree = 300: varint ac 02
    hex: '0a0b 1209 08 8080808020 10 ac02',
  },
  {
    name: 'machine.LogsRequest with a negative tail',
    codec: LogsRequest,
    value: { namespace: 'system', id: 'apid', driver: ContainerDriver.CRI, follow: true, tailLines: -1 },
    // a negative int32 is a ten-byte varint
    hex: `0a06${ascii('system')} 1204${ascii('apid')} 1801 2001 28ffffffffffffffffff01`,
  },
  {
    name: 'machine.ApplyConfigurationRequest',
    codec: ApplyConfigurationRequest,
    value: { data: Buffer.from('x'), mode: ApplyConfigurationRequest_Mode.NO_REBOOT, dryRun: true, tryModeTimeout: { seconds: '60', nanos: 0 } },
    hex: '0a0178 2002 2801 3202 083c',
  },
  {
    name: 'machine.Event carrying an Any',
    codec: Event,
    value: {
      metadata: undefined,
      data: { typeUrl: 'talos/runtime/machine.SequenceEvent', value: Buffer.from(`0a04${ascii('boot')}`, 'hex') },
      id: 'x1',
      actorId: 'a1',
    },
    hex: `122d 0a23${ascii('talos/runtime/machine.SequenceEvent')} 1206 0a04${ascii('boot')} 1a02${ascii('x1')} 2202${ascii('a1')}`,
  },
  {
    name: 'machine.EventsRequest',
    codec: EventsRequest,
    value: { tailEvents: 5, tailId: 'x', tailSeconds: 0, withActorId: 'a' },
    hex: '0805 120178 220161',
  },
  {
    name: 'machine.RebootRequest',
    codec: RebootRequest,
    value: { mode: RebootRequest_Mode.POWERCYCLE },
    hex: '0801',
  },
  {
    name: 'machine.ReadRequest',
    codec: ReadRequest,
    value: { path: '/etc/hosts' },
    hex: `0a0a${ascii('/etc/hosts')}`,
  },
  {
    name: 'cosi.resource.ListRequest with label and id queries',
    codec: ListRequest,
    value: {
      namespace: 'network',
      type: 'HostnameStatuses.net.talos.dev',
      options: { labelQuery: [{ terms: [{ key: 'k', op: LabelTerm_Operation.EQUAL, value: ['v'], invert: false }] }], idQuery: { regexp: '^a' } },
    },
    hex: `0a07${ascii('network')} 121e${ascii('HostnameStatuses.net.talos.dev')} 1a12 0a0a 0a08 0a016b 1001 1a0176 1204 0a025e61`,
  },
  {
    name: 'cosi.resource.GetResponse',
    codec: GetResponse,
    value: {
      resource: {
        metadata: {
          namespace: 'network',
          type: 'T',
          id: 'hostname',
          version: '1',
          owner: '',
          phase: 'running',
          created: undefined,
          updated: undefined,
          finalizers: [],
          labels: {},
          annotations: {},
        },
        spec: { protoSpec: Buffer.alloc(0), yamlSpec: 'hostname: a\n' },
      },
    },
    hex: `0a34 0a22 0a07${ascii('network')} 120154 1a08${ascii('hostname')} 220131 3207${ascii('running')} 120e 120c${ascii('hostname: a\n')}`,
  },
  {
    name: 'cosi.resource.WatchResponse with a bootstrapped tombstone and an empty spec',
    codec: WatchResponse,
    value: {
      event: [
        {
          resource: {
            metadata: {
              namespace: 'n',
              type: 'T',
              id: '',
              version: 'undefined',
              owner: '',
              phase: '',
              created: undefined,
              updated: undefined,
              finalizers: [],
              labels: {},
              annotations: {},
            },
            spec: { protoSpec: Buffer.alloc(0), yamlSpec: '' },
          },
          old: undefined,
          error: undefined,
          eventType: EventType.BOOTSTRAPPED,
          bookmark: Buffer.from([1, 2]),
        },
      ],
    },
    // the empty Spec still encodes as 12 00: talosctl fails on a resource without a spec
    hex: `0a1d 0a15 0a11 0a016e 120154 2209${ascii('undefined')} 1200 1003 2a020102`,
  },
  {
    name: 'cosi.resource.meta.ResourceDefinitionSpec',
    codec: ResourceDefinitionSpec,
    value: {
      resourceType: 'A.b',
      displayType: 'A',
      defaultNamespace: 'n',
      aliases: ['a'],
      allAliases: [],
      printColumns: [{ name: 'X', jsonPath: '{.x}' }],
      sensitivity: Sensitivity.SENSITIVE,
    },
    hex: `0a03${ascii('A.b')} 120141 1a016e 220161 3209 0a0158 1204${ascii('{.x}')} 3801`,
  },
  {
    name: 'inspect.ControllerRuntimeDependenciesResponse',
    codec: ControllerRuntimeDependenciesResponse,
    value: {
      messages: [
        {
          metadata: undefined,
          edges: [{ controllerName: 'c', edgeType: DependencyEdgeType.INPUT_WEAK, resourceNamespace: 'n', resourceType: 't', resourceId: '' }],
        },
      ],
    },
    hex: '0a0d 120b 0a0163 1002 1a016e 220174',
  },
  {
    name: 'securityapi.CertificateRequest',
    codec: CertificateRequest,
    value: { csr: Buffer.from('abc') },
    hex: `0a03${ascii('abc')}`,
  },
  {
    name: 'securityapi.CertificateResponse',
    codec: CertificateResponse,
    value: { ca: Buffer.from('c'), crt: Buffer.from('d') },
    hex: '0a0163 120164',
  },
  {
    name: 'talos.resource.definitions.network.HostnameStatusSpec',
    codec: HostnameStatusSpec,
    value: { hostname: 'a', domainname: 'b' },
    hex: '0a0161 120162',
  },
] as unknown as Case<never>[];

const clean = (hex: string) => hex.replace(/\s+/g, '');

/** Normalises Buffers to plain byte arrays so decoded values compare with the originals. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('wire encoding matches the Talos field numbers and wire types', () => {
  it('covers messages of every package', () => {
    assert.ok(cases.length >= 15);
    const packages = new Set(cases.map((c) => c.name.split(' ')[0]!.split('.').slice(0, -1).join('.')));
    for (const p of ['common', 'machine', 'cosi.resource', 'cosi.resource.meta', 'inspect', 'securityapi', 'talos.resource.definitions.network']) {
      assert.ok(packages.has(p), `no case for package ${p}`);
    }
  });

  for (const c of cases) {
    it(c.name, () => {
      const bytes = c.codec.encode(c.codec.fromPartial(c.value as never)).finish();
      assert.equal(Buffer.from(bytes).toString('hex'), clean(c.hex), 'encoded bytes');
      const decoded = c.codec.decode(Buffer.from(clean(c.hex), 'hex'));
      assert.deepEqual(plain(decoded), plain(c.codec.fromPartial(c.value as never)), 'decoded message');
    });
  }
});
