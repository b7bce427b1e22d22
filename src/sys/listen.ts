/** Go's `:50000` (every address) as gRPC binds it: `[::]:50000`, which takes IPv4 as well. */
export const anyHost = (listen: string) => (listen.startsWith(':') ? `[::]${listen}` : listen);
