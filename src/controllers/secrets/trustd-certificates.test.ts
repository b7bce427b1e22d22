import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateBundle } from '../../config/generate/config.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import type { TrustdCertificatesSpec } from '../../resources/secrets/trustd-certificates.js';
import { MachineTypeController } from '../config/machine-type.js';
import { ControllerTest } from '../ctest.js';
import { ProcessNodeAddressController } from '../network/process-node-address.js';
import { APIServiceConfigController } from '../runtime/api-service-config.js';
import { APICertSANsController } from './api-cert-sans.js';
import { APICertificatesController } from './api-certificates.js';
import { OSRootController } from './os-root.js';
import { TrustdCertificatesController } from './trustd-certificates.js';

describe('trustd certificates, apid settings and process node addresses', () => {
  it('follow the config: issued on a control plane, gone on a worker and without a config', async () => {
    const bundle = await generateBundle({ clusterName: 'trustd', endpoint: 'https://127.9.0.2:6443' });
    const t = ControllerTest.start([
      new MachineTypeController(),
      new OSRootController(),
      new ProcessNodeAddressController('127.9.0.2'),
      new APICertSANsController(),
      // apid serves once its certificates exist (a worker asks 127.9.0.2:50001, where no trustd listens)
      new APICertificatesController({ retryMs: 60_000 }),
      new TrustdCertificatesController(),
      new APIServiceConfigController('127.9.0.2:50000'),
    ]);
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const trustd = { namespace: 'secrets', type: 'TrustdCertificates.secrets.talos.dev', id: 'trustd' };
    const apid = { namespace: 'runtime', type: 'APIServiceConfigs.runtime.talos.dev', id: 'apid' };
    try {
      assert.deepEqual(await t.expect({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'current' }), { addresses: ['127.9.0.2/32'], sortAlgorithm: 'v1' });
      // what the hostname pipeline reports; the certificates wait for it
      await t.create({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { hostname: 'cp-1', domainname: '' });
      await t.create(cfgPtr, { text: bundle.controlplane.toString() });
      const certs = await t.expect<TrustdCertificatesSpec>(trustd);
      const server = new X509Certificate(Buffer.from(certs.server!.crt, 'base64'));
      assert.match(server.subjectAltName!, /IP Address:127\.9\.0\.2/);
      assert.match(server.subjectAltName!, /DNS:cp-1/);
      assert.deepEqual(await t.expect(apid), { listenAddress: '127.9.0.2:50000', nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false });
      await t.update(cfgPtr, () => ({ text: bundle.worker.toString() }));
      await t.expectGone(trustd);
      await t.destroy(cfgPtr);
      await t.expectGone(apid);
    } finally {
      await t.stop();
    }
  });
});
