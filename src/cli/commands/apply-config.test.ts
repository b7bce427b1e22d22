import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplyConfigurationRequest_Mode as Mode } from '../../api/gen/machine/machine.js';
import { generateBundle } from '../../config/generate/config.js';
import { loadConfig } from '../../config/loader.js';
import { configToApply, parseApplyMode } from './apply-config.js';

describe('apply-config', () => {
  it('knows talosctl’s modes and names the flag for others', () => {
    assert.equal(parseApplyMode('no-reboot'), Mode.NO_REBOOT);
    assert.equal(parseApplyMode('try'), Mode.TRY);
    assert.throws(() => parseApplyMode('soon'), /invalid argument "soon" for "-m, --mode" flag: possible options are: auto, no-reboot, reboot, staged, try/);
  });

  it('reads the file as it is, or with the patches applied', async () => {
    const text = (await generateBundle({ clusterName: 'c', endpoint: 'https://127.0.0.1:6443' })).worker.toString();
    const files: Record<string, string> = { '/w.yaml': text, '/p.yaml': 'machine:\n  sysctls:\n    vm.swappiness: "10"\n', '/empty.yaml': '' };
    const read = (p: string) => {
      if (!(p in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return files[p]!;
    };
    assert.equal(configToApply('/w.yaml', [], read).toString(), text);
    const patched = loadConfig(configToApply('/w.yaml', ['@/p.yaml'], read).toString());
    assert.deepEqual(patched.v1alpha1?.machine?.sysctls, { 'vm.swappiness': '10' });
    assert.throws(() => configToApply(undefined, [], read), /no filename supplied for configuration/);
    assert.throws(() => configToApply('/nope.yaml', [], read), /failed to read configuration from "\/nope.yaml": open \/nope.yaml: no such file or directory/);
    assert.throws(() => configToApply('/empty.yaml', [], read), /no configuration data read/);
  });
});
