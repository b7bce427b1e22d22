/**
 * grpc-js passes the endpoint as the TLS server name even when it is an IP address (Talos endpoints usually are), and
 * Node warns about that once per process (DEP0123). The certificate is still checked against the address's IP SANs,
 * so the warning tells a CLI user nothing: this drops that one warning and prints every other warning as Node does.
 */
export function quietIPServerNameWarning(): void {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code === 'DEP0123') return;
    if (listeners.length === 0) process.stderr.write(`(node:${process.pid}) ${w.name}: ${w.message}\n`);
    for (const l of listeners) l.call(process, w);
  });
}
