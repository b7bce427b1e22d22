import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { createCA, toBase64Pair } from '../../pki/index.js';
import { MachineTypeID, MachineTypeType } from '../../resources/config/machine-type.js';
import { HostnameID, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressAccumulativeID, NodeAddressType } from '../../resources/network/node-address.js';
import { ApiCertificatesID, type ApiCertificatesSpec, ApiCertificatesType } from '../../resources/secrets/api-certificates.js';
import { OSRootID, OSRootType } from '../../resources/secrets/os-root.js';
import { APIServiceConfigController } from '../runtime/api-service-config.js';
import { APIServiceConfigID, type APIServiceConfigSpec, APIServiceConfigType } from '../../resources/runtime/api-service-config.js';
import { MaintenanceID, MaintenanceServiceConfigType, MaintenanceServiceRequestType } from '../../resources/runtime/maintenance.js';
import { APICertSANsController, apiCertSANs } from './api-cert-sans.js';
import { MaintenanceCertSANsController } from './maintenance-cert-sans.js';
import { MaintenanceRootController } from './maintenance-root.js';
import { API_CERT_VALIDITY_MS, APICertificatesController, certificateFacts } from './api-certificates.js';

const certPtr = { namespace: 'secrets', type: ApiCertificatesType, id: ApiCertificatesID };

describe('apid certificates', () => {
  it('gather SANs from the config, the addresses and the hostname', () => {
    const sans = apiCertSANs(
      { acceptedCAs: [], certSANIPs: ['192.168.1.10'], certSANDNSNames: ['api.example.org'], token: '' },
      { hostname: 'cp-1', domainname: 'example.org' },
      { addresses: ['10.5.0.2/24', 'fd00::2/64'], sortAlgorithm: 'v1' },
    );
    assert.deepEqual(sans, { ips: ['10.5.0.2', '127.0.0.1', '192.168.1.10', '::1', 'fd00::2'], dnsNames: ['api.example.org', 'cp-1', 'cp-1.example.org'], fqdn: 'cp-1.example.org' });
  });

  it('are issued by the OS CA, renewed when the SANs change and before they expire', async () => {
    let t = Date.now();
    let pending: { at: number; fn: () => void } | undefined;
    const clock = {
      now: () => new Date(t),
      schedule: (ms: number, fn: () => void) => {
        pending = { at: t + ms, fn };
        return () => (pending = undefined);
      },
    };
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new APICertSANsController());
    rt.register(new APICertificatesController(clock));
    const ca = await createCA('ed25519', { organization: ['talos'] });
    const dir = mkdtempSync(join(tmpdir(), 'bronze-apicert-'));
    rt.start();
    try {
      const pair = toBase64Pair(ca);
      await state.create(newResource({ namespace: 'secrets', type: OSRootType, id: OSRootID }, { issuingCA: pair, acceptedCAs: [{ crt: pair.crt }], certSANIPs: [], certSANDNSNames: [], token: 't' }));
      await state.create(newResource({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, { type: 'controlplane' }));
      await state.create(newResource({ namespace: 'network', type: HostnameStatusType, id: HostnameID }, { hostname: 'cp-1', domainname: '' }));
      await state.create(newResource({ namespace: 'network', type: NodeAddressType, id: NodeAddressAccumulativeID }, { addresses: ['10.5.0.2/24'], sortAlgorithm: 'v1' }));
      const spec = async (pred: (s: ApiCertificatesSpec) => boolean) => (await state.watchFor(certPtr, (r) => r !== undefined && pred(r.spec as ApiCertificatesSpec)))!.spec as ApiCertificatesSpec;

      const first = await spec((s) => !!s.server);
      const f1 = certificateFacts(first.server!.crt);
      assert.deepEqual(f1.ips, ['10.5.0.2', '127.0.0.1', '::1']);
      assert.deepEqual(f1.dns, ['cp-1']);
      assert.equal(f1.notAfter.getTime() - f1.notBefore.getTime(), API_CERT_VALIDITY_MS);
      writeFileSync(join(dir, 'ca.crt'), Buffer.from(pair.crt, 'base64'));
      writeFileSync(join(dir, 'server.crt'), Buffer.from(first.server!.crt, 'base64'));
      writeFileSync(join(dir, 'client.crt'), Buffer.from(first.client!.crt, 'base64'));
      execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.crt'), join(dir, 'client.crt')]);
      const client = new X509Certificate(Buffer.from(first.client!.crt, 'base64'));
      assert.match(client.subject, /O=os:impersonator/);
      assert.deepEqual(first.acceptedCAs, [{ crt: pair.crt }]);

      // a new address: a new certificate at once
      await state.updateWithConflicts({ namespace: 'network', type: NodeAddressType, id: NodeAddressAccumulativeID }, (r) => {
        (r.spec as { addresses: string[] }).addresses = ['10.5.0.2/24', '10.5.0.9/24'];
      });
      const second = await spec((s) => certificateFacts(s.server!.crt).ips.includes('10.5.0.9'));
      assert.notEqual(second.server!.crt, first.server!.crt);

      // half a day later the renewal timer fires and a fresh certificate replaces it
      assert.ok(pending, 'a renewal was scheduled');
      // certificate times have whole seconds
      assert.ok(Math.abs(pending!.at - t - API_CERT_VALIDITY_MS / 2) < 1000, `renewal in ${pending!.at - t} ms`);
      t += API_CERT_VALIDITY_MS / 2 + 1000;
      pending!.fn();
      const third = await spec((s) => certificateFacts(s.server!.crt).notBefore.getTime() > f1.notBefore.getTime() + 3_600_000);
      assert.deepEqual(certificateFacts(third.server!.crt).ips, ['10.5.0.2', '10.5.0.9', '127.0.0.1', '::1']);
    } finally {
      await rt.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in maintenance come from a throwaway CA without client verification, and apid serves the maintenance API until the real ones exist', async () => {
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new APICertSANsController());
    rt.register(new MaintenanceRootController());
    rt.register(new MaintenanceCertSANsController());
    rt.register(new APICertificatesController());
    rt.register(new APIServiceConfigController('10.5.0.2:50000'));
    rt.start();
    try {
      await state.create(newResource({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, { type: 'unknown' }));
      await state.create(newResource({ namespace: 'network', type: HostnameStatusType, id: HostnameID }, { hostname: 'talos-abc', domainname: '' }));
      await state.create(newResource({ namespace: 'network', type: NodeAddressType, id: NodeAddressAccumulativeID }, { addresses: ['10.5.0.2/24'], sortAlgorithm: 'v1' }));
      const request = { namespace: 'runtime', type: MaintenanceServiceRequestType, id: MaintenanceID };
      await state.create(newResource(request, {}));
      await state.create(newResource({ namespace: 'runtime', type: MaintenanceServiceConfigType, id: MaintenanceID }, { listenAddress: ':50000', reachableAddresses: ['10.5.0.2'] }));
      const spec = async (pred: (s: ApiCertificatesSpec) => boolean) => (await state.watchFor(certPtr, (r) => r !== undefined && pred(r.spec as ApiCertificatesSpec)))!.spec as ApiCertificatesSpec;
      const configPtr = { namespace: 'runtime', type: APIServiceConfigType, id: APIServiceConfigID };
      const apiConfig = async (pred: (s: APIServiceConfigSpec | undefined) => boolean) => (await state.watchFor(configPtr, (r) => pred(r?.spec as APIServiceConfigSpec | undefined)))?.spec as APIServiceConfigSpec | undefined;

      const maint = await spec((s) => !!s.skipVerifyingClientCert);
      assert.equal(maint.client, undefined);
      assert.deepEqual(maint.acceptedCAs, []);
      const cert = new X509Certificate(Buffer.from(maint.server!.crt, 'base64'));
      assert.equal(cert.subject, 'CN=maintenance-service.talos.dev');
      assert.equal(cert.subjectAltName, 'DNS:talos-abc, IP Address:10.5.0.2, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      assert.deepEqual(await apiConfig((s) => s !== undefined), { listenAddress: ':50000', nodeRoutingDisabled: true, readonlyRoleMode: true, skipVerifyingClientCert: true });

      // the config arrives: the request goes, the real certificates replace the maintenance ones, apid serves mTLS
      await state.destroy(request);
      const ca = toBase64Pair(await createCA('ed25519', { organization: ['talos'] }));
      await state.create(newResource({ namespace: 'secrets', type: OSRootType, id: OSRootID }, { issuingCA: ca, acceptedCAs: [{ crt: ca.crt }], certSANIPs: [], certSANDNSNames: [], token: 't' }));
      await state.updateWithConflicts({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, (r) => {
        (r.spec as { type: string }).type = 'controlplane';
      });
      const real = await spec((s) => !s.skipVerifyingClientCert && !!s.client);
      assert.deepEqual(real.acceptedCAs, [{ crt: ca.crt }]);
      assert.deepEqual(await apiConfig((s) => s?.readonlyRoleMode === false), { listenAddress: '10.5.0.2:50000', nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false });
    } finally {
      await rt.stop();
    }
  });
});
