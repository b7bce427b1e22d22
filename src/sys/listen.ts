/** `host:port`, with an IPv6 host in brackets. */
export const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Go's `:50000` (every address) as gRPC binds it: `[::]:50000`, which takes IPv4 as well. */
export const anyHost = (listen: string) => (listen.startsWith(':') ? `[::]${listen}` : listen);
