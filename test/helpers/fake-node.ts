import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { MachineServiceService } from '../../src/api/gen/machine/machine.js';
import { makeTestPKI, type TestPKI } from './openssl-pki.js';
import { bronzectl, type CLIResult } from './bronzectl.js';

/**
 * An mTLS MachineService server with the handlers a CLI test gives, and a talosconfig pointing at it: what the CLI
 * tests that only check formatting run against (the full node comes from the process provisioner).
 */
export class FakeNode {
  pki!: TestPKI;
  server!: Server;
  dir!: string;
  port = 0;

  async start(handlers: Partial<UntypedServiceImplementation>): Promise<void> {
    this.pki = makeTestPKI();
    this.dir = mkdtempSync(join(tmpdir(), 'bronze-fake-'));
    this.server = new Server();
    this.server.addService(MachineServiceService, handlers as UntypedServiceImplementation);
    const creds = ServerCredentials.createSsl(Buffer.from(this.pki.caCrt), [{ cert_chain: Buffer.from(this.pki.serverCrt), private_key: Buffer.from(this.pki.serverKey) }], true);
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(
      this.talosconfig,
      `context: test\ncontexts:\n  test:\n    endpoints:\n      - 127.0.0.1:${this.port}\n    ca: ${b64(this.pki.caCrt)}\n    crt: ${b64(this.pki.clientCrt)}\n    key: ${b64(this.pki.clientKey)}\n`,
    );
  }

  get talosconfig(): string {
    return join(this.dir, 'talosconfig');
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.tryShutdown(() => r()));
    this.pki.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs bronzectl in-process against this node, capturing its output. */
  bronzectl(...args: string[]): Promise<CLIResult> {
    return bronzectl(['--talosconfig', this.talosconfig, ...args], { HOME: this.dir });
  }
}
