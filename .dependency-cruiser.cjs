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
