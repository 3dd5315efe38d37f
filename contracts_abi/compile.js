#!/usr/bin/env node
// Compile porv's Solidity contracts with solcjs (npm `solc`, pinned in package-lock.json) and
// write verifier/chain/contracts/<Name>.json = {abi, bytecode, deployedBytecode}, deterministically:
// fixed compiler settings, no metadata hash, no CBOR trailer, sorted keys, LF endings. CI reruns
// this script and fails if the committed output differs.
//
// Third-party contracts porv deploys on local chains but does not compile (Safe, EAS) are taken
// from their npm packages' published build artifacts (versions pinned in package-lock.json) and
// written the same way, with the package, version and licence recorded in each artifact.
//
// Usage: node contracts_abi/compile.js   (from anywhere)
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..');
const OUT = path.join(ROOT, 'verifier', 'chain', 'contracts');
const solc = require(require.resolve('solc', { paths: [ROOT] }));

// The contracts porv ships (interfaces and libraries are compiled but not written out).
const CONTRACTS = [
  'Multicall3',
  'MerkleProofCheck',
  'ReserveAttestationRegistry',
  'TestContractWallet',
  'TestStablecoin',
  'GuardedStablecoin',
  'TestAggregatorV3',
];

// [output name, npm package, artifact path inside it]: deployed as published, never recompiled.
const NPM_ARTIFACTS = [
  ['Safe', '@safe-global/safe-contracts', 'build/artifacts/contracts/Safe.sol/Safe.json'],
  [
    'SafeProxyFactory',
    '@safe-global/safe-contracts',
    'build/artifacts/contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json',
  ],
  [
    'CompatibilityFallbackHandler',
    '@safe-global/safe-contracts',
    'build/artifacts/contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json',
  ],
  [
    'SchemaRegistry',
    '@ethereum-attestation-service/eas-contracts',
    'artifacts/contracts/SchemaRegistry.sol/SchemaRegistry.json',
  ],
  ['EAS', '@ethereum-attestation-service/eas-contracts', 'artifacts/contracts/EAS.sol/EAS.json'],
];

const EXPECTED_SOLC = '0.8.28';
if (!solc.version().startsWith(EXPECTED_SOLC + '+')) {
  console.error(`compile.js: expected solc ${EXPECTED_SOLC}, found ${solc.version()}`);
  process.exit(1);
}

const sources = {};
for (const file of fs.readdirSync(HERE).filter((f) => f.endsWith('.sol')).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(HERE, file), 'utf8') };
}

function findImports(importPath) {
  const candidates = [path.join(HERE, importPath), path.join(ROOT, 'node_modules', importPath)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, 'utf8') };
  }
  return { error: `not found: ${importPath}` };
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: {
      '*': {
        '*': [
          'abi',
          'evm.bytecode.object',
          'evm.deployedBytecode.object',
          'evm.deployedBytecode.immutableReferences',
        ],
      },
    },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

fs.mkdirSync(OUT, { recursive: true });
for (const name of CONTRACTS) {
  const file = `${name}.sol`;
  const c = output.contracts[file] && output.contracts[file][name];
  if (!c) {
    console.error(`compile.js: ${name} not found in ${file}`);
    process.exit(1);
  }
  const fields = {
    abi: c.abi,
    bytecode: '0x' + c.evm.bytecode.object,
    contractName: name,
    deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    compiler: `solc ${solc.version()}`,
  };
  // Byte ranges of the runtime code that the constructor fills in (immutables): a reader that
  // checks deployed code against this artifact compares with those ranges masked.
  const refs = Object.values(c.evm.deployedBytecode.immutableReferences || {}).flat();
  if (refs.length) {
    fields.immutableReferences = refs
      .map((r) => [r.start, r.length])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }
  const artifact = sortKeys(fields);
  fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
}
for (const [name, pkg, rel] of NPM_ARTIFACTS) {
  const pkgDir = path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }));
  const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const art = JSON.parse(fs.readFileSync(path.join(pkgDir, rel), 'utf8'));
  const linked = Object.keys(art.linkReferences || {}).length;
  if (art.contractName !== name || linked || !/^0x[0-9a-f]+$/.test(art.bytecode)) {
    console.error(`compile.js: ${pkg}/${rel} is not a linked-free artifact of ${name}`);
    process.exit(1);
  }
  const artifact = sortKeys({
    abi: art.abi,
    bytecode: art.bytecode,
    contractName: name,
    deployedBytecode: art.deployedBytecode,
    npm: { license: meta.license, package: pkg, path: rel, version: meta.version },
  });
  fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
}
console.error(`compile.js: wrote ${CONTRACTS.length} artifacts and ${NPM_ARTIFACTS.length} from npm to ${path.relative(ROOT, OUT)}/`);
