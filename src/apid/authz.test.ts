import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Role } from '../api/roles.js';
import { AuthError, authorize, callRoles } from './authz.js';

const denied = (fn: () => void) =>
  assert.throws(fn, (e: unknown) => e instanceof AuthError && e.grpcCode === status.PERMISSION_DENIED && e.message === 'not authorized');

describe('call roles', () => {
  it('an impersonating apid speaks for the roles it names, in one header, several, or comma-separated', () => {
    const peer = [Role.Impersonator];
    assert.deepEqual(callRoles(peer, 'os:reader'), ['os:reader']);
    assert.deepEqual(callRoles(peer, ['os:reader', 'os:operator']), ['os:operator', 'os:reader']);
    assert.deepEqual(callRoles(peer, ' os:reader , os:operator'), ['os:operator', 'os:reader']);
    // asked again: the same answer (and the same list)
    assert.equal(callRoles(peer, 'os:reader,os:operator'), callRoles(peer, ['os:reader', 'os:operator']));
    // no header: the certificate's own roles; a header naming nothing (or only unknown roles) grants nothing
    assert.equal(callRoles(peer, undefined), peer);
    assert.equal(callRoles(peer, []), peer);
    assert.deepEqual(callRoles(peer, ''), []);
    assert.deepEqual(callRoles(peer, ' , '), []);
    assert.deepEqual(callRoles(peer, 'os:nobody'), ['os:nobody']);
    denied(() => authorize('/machine.MachineService/Version', callRoles(peer, ''), false));
  });

  it('a caller without os:impersonator keeps its own roles whatever it claims', () => {
    const reader = [Role.Reader];
    assert.equal(callRoles(reader, 'os:admin'), reader);
  });

  it('authorizes by the role table, the same for a list seen before', () => {
    const reader = [Role.Reader];
    for (let i = 0; i < 2; i++) {
      authorize('/machine.MachineService/Version', reader, false);
      denied(() => authorize('/machine.MachineService/Reboot', reader, false));
    }
    // ApplyConfiguration: a reader only in maintenance mode
    authorize('/machine.MachineService/ApplyConfiguration', reader, true);
    denied(() => authorize('/machine.MachineService/ApplyConfiguration', reader, false));
    authorize('/machine.MachineService/Reboot', callRoles([Role.Impersonator], 'os:admin'), false);
    denied(() => authorize('/machine.MachineService/Reboot', callRoles([Role.Impersonator], 'os:reader'), false));
  });
});
