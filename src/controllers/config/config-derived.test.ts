import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { generateBundle } from '../../config/generate/config.js';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { MachineTypeID, MachineTypeType } from '../../resources/config/machine-type.js';
import { OSRootID, type OSRootSpec, OSRootType } from '../../resources/secrets/os-root.js';
import { OSRootController } from '../secrets/os-root.js';
import { MachineTypeController } from './machine-type.js';

describe('controllers fed by the machine config', () => {
  it('derive the machine type and the OS root secrets, and follow config changes and removal', async () => {
    const bundle = await generateBundle({ clusterName: 'demo', endpoint: 'https://10.5.0.2:6443', additionalSANs: ['10.9.9.9', 'api.demo.example'] });
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new MachineTypeController());
    rt.register(new OSRootController());
    rt.start();
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const typePtr = { namespace: 'config', type: MachineTypeType, id: MachineTypeID };
    const rootPtr = { namespace: 'secrets', type: OSRootType, id: OSRootID };
    try {
      // without a config the type is unknown
      await state.watchFor(typePtr, (r) => (r?.spec as { type?: string } | undefined)?.type === 'unknown');
      await state.create(newResource(cfgPtr, { text: bundle.controlplane.toString() }));
      await state.watchFor(typePtr, (r) => (r?.spec as { type?: string } | undefined)?.type === 'controlplane');
      const root = (await state.watchFor(rootPtr, (r) => r !== undefined))!.spec as OSRootSpec;
      const machine = bundle.controlplane.v1alpha1!.machine!;
      const ca = machine.ca as { crt: string; key: string };
      assert.equal(root.issuingCA!.crt, ca.crt);
      assert.equal(root.issuingCA!.key, ca.key);
      assert.equal(root.token, machine.token);
      assert.deepEqual(root.acceptedCAs, [{ crt: ca.crt }]);
      assert.deepEqual(root.certSANIPs, ['10.9.9.9']);
      assert.deepEqual(root.certSANDNSNames, ['api.demo.example']);
      // the worker config carries no CA key
      await state.updateWithConflicts(cfgPtr, (r) => {
        (r.spec as { text: string }).text = bundle.worker.toString();
      });
      await state.watchFor(typePtr, (r) => (r?.spec as { type?: string } | undefined)?.type === 'worker');
      await state.watchFor(rootPtr, (r) => (r?.spec as OSRootSpec | undefined)?.issuingCA?.key === '');
      await state.destroy(cfgPtr);
      await state.watchFor(rootPtr, (r) => r === undefined);
      await state.watchFor(typePtr, (r) => (r?.spec as { type?: string } | undefined)?.type === 'unknown');
    } finally {
      await rt.stop();
    }
  });
});
