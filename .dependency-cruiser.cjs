/** Import rules for Bronze: no cycles, and the machinery never reaches into the node's processes. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make start-up order and testing fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'machinery-stays-machinery',
      severity: 'error',
      comment:
        'src/resources, src/api, src/config, src/pki and src/client are the machinery: they must not import the processes or the CLI.',
      from: { path: '^src/(resources|api|config|pki|client)/' },
      to: { path: '^src/(machined|controllers|apid|trustd|cli)/' },
    },
    {
      name: 'small-service-roles',
      severity: 'error',
      comment:
        'apid and trustd are processes of their own on every node: what they load stays resident, so they must not reach the generated code of every API service nor the modules that load @peculiar/x509 (they use StateClient, the method table, src/pki/issue.ts and csr.ts). npm packages are outside this graph: src/bin/role-footprint.test.ts checks those.',
      from: { path: '^src/bin/role-(apid|trustd)\\.ts$' },
      to: {
        reachable: true,
        path: ['^src/api/services\\.ts$', '^src/client/client\\.ts$', '^src/api/gen/machine/', '^src/pki/(cert|index)\\.ts$'],
      },
    },
    {
      name: 'no-orphans-in-tests-only',
      severity: 'ignore',
      from: { orphan: true, path: '^src/' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs'] },
  },
};
