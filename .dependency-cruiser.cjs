/**
 * Layer rules for src/ (docs: ../shared/DESIGN.md "Layers"). `npm run check:layers`.
 *
 * A module may import from its own layer and the layers below it, never from
 * one above. Type-only imports count: a type import upward still ties the
 * lower layer to the upper one.
 *
 * src/log.ts sits lower than DESIGN.md draws it, at the bottom with src/util/:
 * it imports nothing from src/ and store/hsm/pki log. Moving a module down
 * only narrows what it may import.
 */

const CONTRACT = '^src/kmip/(hooks\\.ts|operations/types\\.ts|operations/support/streams\\.ts)$';

/** Bottom first. Each entry: a name and the path patterns of its modules. */
const LAYERS = [
  { name: 'foundation', paths: ['^src/log\\.ts$', '^src/util/'] },
  { name: 'base', paths: ['^src/(crypto|store|hsm|pki)/'] },
  { name: 'ttlv', paths: ['^src/kmip/ttlv/'] },
  { name: 'spec', paths: ['^src/kmip/spec/', '^src/kmip/errors\\.ts$', '^src/config/'] },
  { name: 'messages', paths: ['^src/kmip/(messages|payloads)/'] },
  { name: 'model', paths: ['^src/kmip/model/'] },
  // what auth/audit and the operations share: the hook types the executor
  // calls them through, and the operation context/service types (the stream
  // registry is one of the services)
  { name: 'contract', paths: [CONTRACT] },
  { name: 'auth-audit', paths: ['^src/(auth|audit)/'] },
  { name: 'operations', paths: ['^src/kmip/operations/'] },
  { name: 'policy-edge', paths: ['^src/(policy|edge)/'] },
  { name: 'server', paths: ['^src/kmip/server/'] },
  { name: 'http', paths: ['^src/http/'] },
  { name: 'app', paths: ['^src/app\\.ts$'] },
  { name: 'cli', paths: ['^src/cli/'] },
];

/** A layer's patterns as one expression. */
function layerPath(layer) {
  return `(${layer.paths.join('|')})`;
}

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1);
  if (above.length === 0) return [];
  const from = { path: layerPath(layer) };
  if (layer.name === 'operations') from.pathNot = CONTRACT;
  const to = { path: `(${above.map(layerPath).join('|')})` };
  // operations/ holds the contract modules, which are lower: between the two, only
  // the rest of operations/ is above
  const aboveHas = (name) => above.some((l) => l.name === name);
  if (aboveHas('operations') && !aboveHas('contract')) to.pathNot = CONTRACT;
  return [
    {
      name: `layer-${layer.name}`,
      comment: `${layer.name} may not import from the layers above it (${above.map((l) => l.name).join(', ')})`,
      severity: 'error',
      from,
      to,
    },
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles in src/ (type-only ones included)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'operation-imports-operation',
      comment:
        'an operation module imports no other operation module; shared code goes in operations/support/ (index.ts lists them all)',
      severity: 'error',
      from: { path: '^src/kmip/operations/', pathNot: '^src/kmip/operations/index\\.ts$' },
      to: {
        path: '^src/kmip/operations/[^/]+\\.ts$',
        pathNot: '^src/kmip/operations/(types|index)\\.ts$',
      },
    },
    {
      name: 'crypto-imports-kmip',
      comment: 'crypto/ knows nothing of KMIP',
      severity: 'error',
      from: { path: '^src/crypto/' },
      to: { path: '^src/kmip/' },
    },
    {
      name: 'store-hsm-import-upper',
      comment: 'store/ and hsm/ know nothing of KMIP, access control, audit or the CLI',
      severity: 'error',
      from: { path: '^src/(store|hsm)/' },
      to: { path: '^src/(kmip|auth|audit|cli)/' },
    },
    {
      name: 'operation-imports-index',
      comment: 'operations/index.ts lists the operations; nothing below the server imports it',
      severity: 'error',
      from: { path: '^src/kmip/operations/', pathNot: '^src/kmip/operations/index\\.ts$' },
      to: { path: '^src/kmip/operations/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
